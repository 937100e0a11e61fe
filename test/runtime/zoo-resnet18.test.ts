// resnet18 from the reference builder (src/zoo) against onnxruntime-node, requantization 'float': QOperator and
// QDQ forms identical (the int8 ones with qdqFusion 'ort', which folds what onnxruntime folds), FP32 within 1e-4 (see zoo-util.ts).
import { test } from 'uvu';
import { compareWithOrt } from './zoo-util.js';

for (const form of ['qop-u8', 'qdq-ort-u8', 'qdq-ort-s8', 'qdq-pt-s8'] as const) {
  test(`resnet18 ${form} matches onnxruntime`, () => compareWithOrt('resnet18', form));
}

test.run();
