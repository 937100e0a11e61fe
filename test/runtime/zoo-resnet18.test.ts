// resnet18 from the reference builder (src/zoo) against onnxruntime-node, requantization 'float': QOperator and
// uint8 QDQ forms identical (the int8 QDQ forms: zoo-resnet18-s8.test.ts), FP32 within 1e-4 (see zoo-util.ts).
import { test } from 'uvu';
import { compareWithOrt } from './zoo-util.js';

for (const form of ['qop-u8', 'qdq-ort-u8'] as const) {
  test(`resnet18 ${form} matches onnxruntime`, () => compareWithOrt('resnet18', form));
}

test.run();
