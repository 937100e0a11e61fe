// resnet18 from the reference builder (src/zoo), int8-activation QDQ forms (onnxruntime-quantizer and PyTorch styles)
// against onnxruntime-node with requantization 'float' and qdqFusion 'ort': identical (see zoo-util.ts). Their own
// suite: 'ort' runs onnxruntime's float Convs on the host in MLAS order, which takes seconds per form.
import { test } from 'uvu';
import { compareWithOrt } from './zoo-util.js';

for (const form of ['qdq-ort-s8', 'qdq-pt-s8'] as const) {
  test(`resnet18 ${form} matches onnxruntime`, () => compareWithOrt('resnet18', form));
}

test.run();
