// Internal layout conversions inserted by the layout pass (src/graph/passes.ts): logical (ONNX, NCHW) to
// channels-last (NHWC) and back. Host-side transposes on the step's physical tensors.
import { transposeData } from '../graph/tensor.js';
import { inputAt, clPerm, invPerm, type OpDef } from './types.js';

export const LAYOUT_OPS: OpDef[] = [
  {
    op: '_ToChannelsLast',
    infer: (ctx) => [{ dtype: inputAt(ctx, 0).dtype, dims: inputAt(ctx, 0).dims.slice() }],
    eval: (_n, [x]) => [transposeData(x!, clPerm(x!.dims.length))],
    noFold: true,
  },
  {
    op: '_ToLogical',
    infer: (ctx) => [{ dtype: inputAt(ctx, 0).dtype, dims: inputAt(ctx, 0).dims.slice() }],
    eval: (_n, [x]) => [transposeData(x!, invPerm(clPerm(x!.dims.length)))],
    noFold: true,
  },
];
