// Internal layout conversions inserted by the layout pass (src/graph/passes.ts): logical (ONNX, NCHW) to
// channels-last (NHWC) and back. Rank >= 3 with 1- or 4-byte elements run in wasm (x8/x32_swap_cs, assembly/layout:
// no copy out of and back into wasm memory; 0.43 -> 0.05 ms for a 3x224x224 input, bench/profile.ts); other cases
// are host-side transposes on the step's physical tensors (rank 3 and 4 a direct loop, other ranks the generic one).
// When no byte moves (one channel, or one spatial position: e.g. a 1-channel image input, or a Flatten output
// reshaped to [N, K, 1, 1] for a Gemm run as a 1x1 conv) there is no step: the output shares the input's buffer.
import { transposeData, makeTensor, DTYPE_BYTES, type HostTensor } from '../graph/tensor.js';
import { inputAt, clPerm, invPerm, physDims, type OpDef, type LowerCtx, type LoweredStep, type ValueState } from './types.js';
import { kernelFromCalls } from '../kernels/types.js';

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

/** Spatial positions per work item of the wasm conversions (the kernel walks tiles of 64). */
const SWAP_BLOCK = 256;

/** The wasm form of both conversions: [N, C, S] <-> [N, S, C] on the physical tensors. */
function lowerSwap(lc: LowerCtx, toCL: boolean): LoweredStep[] | null {
  const x = lc.inputs[0], y = lc.outputs[0];
  if (!x || x.const || !y) return null;
  const es = DTYPE_BYTES[x.dtype];
  const d = physDims(x);
  if (d.length < 3 || (es !== 1 && es !== 4)) return null;
  const N = d[0], C = toCL ? d[1] : d[d.length - 1];
  const total = d.reduce((a, b) => a * b, 1);
  const S = total / Math.max(N * C, 1);
  if (!Number.isInteger(S) || total === 0) return null;
  const fn = es === 1 ? 'x8_swap_cs__scalar' : 'x32_swap_cs__scalar';
  // Work items: blocks of SWAP_BLOCK spatial positions (of every image), so the worker pool can split the copy.
  const items = Math.ceil(S / SWAP_BLOCK);
  const kernel = kernelFromCalls({
    variant: fn, constants: new Uint8Array(0), scratchBytes: 0, workItems: items, cost: total,
    calls: (io, b, e) => [{ fn, args: [io.inputs[0], io.outputs[0], N, C, S, toCL ? 1 : 0, b * SWAP_BLOCK, Math.min(S, e * SWAP_BLOCK)] }],
  });
  return [{ kernel, inputs: [x.name], outputs: [y.name] }];
}

/** No byte moves when there is one channel or one spatial position (logical dims [N, C, spatial...]). */
function identityInMemory(ins: (ValueState | undefined)[]): boolean {
  const x = ins[0];
  if (!x || x.dims.length < 3) return false;
  return x.dims[1] === 1 || x.dims.slice(2).every((d) => d === 1);
}

export const LAYOUT_OPS: OpDef[] = [
  {
    op: '_ToChannelsLast',
    infer: (ctx) => [{ dtype: inputAt(ctx, 0).dtype, dims: inputAt(ctx, 0).dims.slice() }],
    eval: (_n, [x]) => [x!.dims.length >= 3 && !(x!.data instanceof BigInt64Array) ? swapCS(x!, true) : transposeData(x!, clPerm(x!.dims.length))],
    lower: (lc) => lowerSwap(lc, true),
    aliasWhen: identityInMemory,
    noFold: true,
  },
  {
    op: '_ToLogical',
    infer: (ctx) => [{ dtype: inputAt(ctx, 0).dtype, dims: inputAt(ctx, 0).dims.slice() }],
    eval: (_n, [x]) => [x!.dims.length >= 3 && !(x!.data instanceof BigInt64Array) ? swapCS(x!, false) : transposeData(x!, invPerm(clPerm(x!.dims.length)))],
    lower: (lc) => lowerSwap(lc, false),
    aliasWhen: identityInMemory,
    noFold: true,
  },
];
