// Internal layout conversions inserted by the layout pass (src/graph/passes.ts): logical (ONNX, NCHW) to
// channels-last (NHWC) and back. Host-side transposes on the step's physical tensors; rank 3 and 4 take a
// direct loop (the graph-boundary conversions of CNN inputs), other ranks the generic transpose.
import { transposeData, makeTensor, type HostTensor } from '../graph/tensor.js';
import { inputAt, clPerm, invPerm, type OpDef } from './types.js';

/** [N, C, S] <-> [N, S, C] with S = product of spatial dims: toCL moves C last, else C back to axis 1. */
function swapCS(x: HostTensor, toCL: boolean): HostTensor {
  const r = x.dims.length;
  const N = x.dims[0];
  const C = toCL ? x.dims[1] : x.dims[r - 1];
  const S = x.data.length / Math.max(N * C, 1);
  const dims = toCL ? clPerm(r).map((a) => x.dims[a]) : invPerm(clPerm(r)).map((a) => x.dims[a]);
  const out = makeTensor(x.dtype, dims);
  const src = x.data as Float32Array, dst = out.data as Float32Array;
  for (let n = 0; n < N; n++) {
    const base = n * C * S;
    if (toCL) {
      for (let c = 0; c < C; c++) for (let s = 0, i = base + c * S, o = base + c; s < S; s++, i++, o += C) dst[o] = src[i];
    } else {
      for (let c = 0; c < C; c++) for (let s = 0, o = base + c * S, i = base + c; s < S; s++, o++, i += C) dst[o] = src[i];
    }
  }
  return out;
}

/** Channels-last physical tensor -> logical (ONNX) layout. */
export function fromChannelsLast(t: HostTensor): HostTensor {
  return t.dims.length >= 3 && !(t.data instanceof BigInt64Array) ? swapCS(t, false) : transposeData(t, invPerm(clPerm(t.dims.length)));
}

export const LAYOUT_OPS: OpDef[] = [
  {
    op: '_ToChannelsLast',
    infer: (ctx) => [{ dtype: inputAt(ctx, 0).dtype, dims: inputAt(ctx, 0).dims.slice() }],
    eval: (_n, [x]) => [x!.dims.length >= 3 && !(x!.data instanceof BigInt64Array) ? swapCS(x!, true) : transposeData(x!, clPerm(x!.dims.length))],
    noFold: true,
  },
  {
    op: '_ToLogical',
    infer: (ctx) => [{ dtype: inputAt(ctx, 0).dtype, dims: inputAt(ctx, 0).dims.slice() }],
    eval: (_n, [x]) => [x!.dims.length >= 3 && !(x!.data instanceof BigInt64Array) ? swapCS(x!, false) : transposeData(x!, invPerm(clPerm(x!.dims.length)))],
    noFold: true,
  },
];
