// mobilenetv3small from the reference builder (src/zoo) against onnxruntime-node, requantization 'float': QOperator and
// QDQ forms identical (the int8 ones with qdqFusion 'ort', which folds what onnxruntime folds), FP32 within 1e-4 (see zoo-util.ts).
import { test } from 'uvu';
import { compareWithOrt } from './zoo-util.js';

for (const form of ['fp32', 'qop-u8', 'qop-s8', 'qdq-ort-u8', 'qdq-pt-u8', 'qdq-ort-s8', 'qdq-pt-s8'] as const) {
  test(`mobilenetv3small ${form} matches onnxruntime`, () => compareWithOrt('mobilenetv3small', form));
}

test.run();
