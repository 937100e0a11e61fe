// Which inputs of an operator must be present (ONNX operator schemas; com.microsoft contrib ops as onnxruntime
// defines them). typeGraph (src/graph/infer.ts) checks them before an op sees its inputs, so a node with a required
// input dropped or given as '' (ONNX's "absent optional input") fails with a message naming the node and the input,
// instead of inside the op. Only what the schemas require: optional inputs (zero points, Clip bounds, Resize's roi
// and scales from opset 13 ...) stay optional. Ops not listed require nothing here (their infer checks).

const FIRST = [0];
const TWO = [0, 1];
const BY_OP: Record<string, number[] | ((opset: number) => number[])> = {
  // one data input (variadic ones: at least one)
  Abs: FIRST, Cast: FIRST, Ceil: FIRST, Clip: FIRST, Erf: FIRST, Exp: FIRST, Flatten: FIRST, Floor: FIRST,
  HardSigmoid: FIRST, HardSwish: FIRST, Identity: FIRST, LeakyRelu: FIRST, LogSoftmax: FIRST, Neg: FIRST,
  Reciprocal: FIRST, Relu: FIRST, Shape: FIRST, Sigmoid: FIRST, Size: FIRST, Softmax: FIRST, Sqrt: FIRST, Tanh: FIRST,
  Transpose: FIRST, ReduceMax: FIRST, ReduceMean: FIRST, ReduceMin: FIRST, ReduceSum: FIRST, Squeeze: FIRST,
  GlobalAveragePool: FIRST, GlobalMaxPool: FIRST, AveragePool: FIRST, MaxPool: FIRST, DynamicQuantizeLinear: FIRST,
  ConstantOfShape: FIRST, Concat: FIRST, Sum: FIRST, Max: FIRST, Min: FIRST, Resize: FIRST,
  // two
  Add: TWO, Sub: TWO, Mul: TWO, Div: TWO, Pow: TWO, MatMul: TWO, MatMulInteger: TWO, ConvInteger: TWO, Expand: TWO,
  Gather: TWO, Conv: TWO, ConvTranspose: TWO, Gemm: TWO, QuantizeLinear: TWO, DequantizeLinear: TWO, Upsample: TWO,
  // more
  BatchNormalization: [0, 1, 2, 3, 4],
  Range: [0, 1, 2],
  QLinearConv: [0, 1, 2, 3, 4, 5, 6, 7],
  QLinearMatMul: [0, 1, 2, 3, 4, 5, 6, 7],
  Reshape: (opset) => (opset >= 5 ? TWO : FIRST),
  Pad: (opset) => (opset >= 11 ? TWO : FIRST),
  Slice: (opset) => (opset >= 10 ? [0, 1, 2] : FIRST),
  Unsqueeze: (opset) => (opset >= 13 ? TWO : FIRST),
};
// com.microsoft: A, A_scale, A_zero_point (optional), B, B_scale, B_zero_point (optional), C_scale, C_zero_point (optional)
const MS: Record<string, number[]> = {
  QLinearAdd: [0, 1, 3, 4, 6], QLinearMul: [0, 1, 3, 4, 6],
  // X, X_scale, X_zero_point (optional), Y_scale, Y_zero_point (optional)
  QLinearAveragePool: [0, 1, 3], QLinearGlobalAveragePool: [0, 1, 3], QLinearLeakyRelu: [0, 1, 3], QLinearSigmoid: [0, 1, 3],
  // Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) per input
  QLinearConcat: [0, 1, 2, 3, 4],
};

/** Indices of the inputs `op` (in `domain`, at `opset`) cannot do without. */
export function requiredInputs(domain: string, op: string, opset: number): readonly number[] {
  const dom = domain === 'ai.onnx' ? '' : domain;
  const r = dom === 'com.microsoft' ? MS[op] ?? BY_OP[op] : dom === '' ? BY_OP[op] : undefined;
  if (!r) return [];
  return typeof r === 'function' ? r(opset) : r;
}
