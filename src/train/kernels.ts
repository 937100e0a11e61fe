// The kernel interface the training engine calls for its heavy work (NCHW, float32, row-major), and the
// switch between the wasm build (default) and the plain TypeScript oracle (src/train/kernels-ts.ts).
// Element-wise work (ReLU, BatchNorm statistics, optimizer steps) stays in the autograd ops; everything that
// is O(MACs) goes through here.

export interface ConvGeom {
  N: number; C: number; H: number; W: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
  OH: number; OW: number;
}

export interface TrainKernels {
  readonly name: string;
  /** C[M,N] = op(A) op(B) + beta C; op(A) is [M,K] (A stored [K,M] when transA), op(B) is [K,N] (B stored [N,K] when transB). */
  sgemm(transA: boolean, transB: boolean, M: number, N: number, K: number, A: Float32Array, B: Float32Array, C: Float32Array, beta: number): void;
  /** col[(ci*kh+ki)*kw+kj][n*OH*OW + oh*OW + ow] = x[n][c0+ci][ih][iw] (0 in the padding), ci < cg. */
  im2col(x: Float32Array, g: ConvGeom, c0: number, cg: number, col: Float32Array): void;
  /** The adjoint of im2col: accumulates col into dx. */
  col2im(col: Float32Array, g: ConvGeom, c0: number, cg: number, dx: Float32Array): void;
  /** Depthwise convolution, one filter per channel (w: [C, kh, kw]), no bias. */
  dwconvForward(x: Float32Array, w: Float32Array, g: ConvGeom, y: Float32Array): void;
  /** dx = adjoint of the depthwise convolution applied to dy (overwrites dx). */
  dwconvBackwardData(dy: Float32Array, w: Float32Array, g: ConvGeom, dx: Float32Array): void;
  /** dw[c][ki][kj] = sum over n, oh, ow of x * dy (overwrites dw). */
  dwconvBackwardFilter(x: Float32Array, dy: Float32Array, g: ConvGeom, dw: Float32Array): void;
  /** Max pooling over `planes` planes of HxW; idx receives the flat input index of each maximum. */
  maxpoolForward(x: Float32Array, planes: number, g: ConvGeom, y: Float32Array, idx: Int32Array): void;
  /** dx[idx[i]] += dy[i]. */
  maxpoolBackward(dy: Float32Array, idx: Int32Array, count: number, dx: Float32Array): void;
  /** Average pooling, padding excluded from the count (ONNX count_include_pad = 0). */
  avgpoolForward(x: Float32Array, planes: number, g: ConvGeom, y: Float32Array): void;
  /** Accumulates the adjoint of avgpoolForward into dx. */
  avgpoolBackward(dy: Float32Array, planes: number, g: ConvGeom, dx: Float32Array): void;

  // Optional element-wise entries: when a build provides them the ops use them, else their own TypeScript loops.
  /** Batch norm with batch statistics over (n, hw) per channel; writes y, mean, invstd and the unbiased variance. */
  bnForward?(x: Float32Array, N: number, C: number, HW: number, gamma: Float32Array, beta: Float32Array, eps: number,
    y: Float32Array, mean: Float32Array, invstd: Float32Array, varUnbiased: Float32Array): void;
  /** Its backward (training mode): overwrites dx, dgamma, dbeta. */
  bnBackward?(x: Float32Array, dy: Float32Array, N: number, C: number, HW: number, gamma: Float32Array, mean: Float32Array,
    invstd: Float32Array, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array): void;
  /** dx = dy where 0 < x < hi, else 0. */
  reluBackward?(x: Float32Array, dy: Float32Array, dx: Float32Array, hi: number): void;
  /** Fake quantization, channel of element i = floor(i / inner) % C; mask[i] = 1 inside the range. */
  fakeQuantForward?(x: Float32Array, y: Float32Array, mask: Uint8Array, C: number, inner: number, scales: Float32Array,
    zeroPoints: Float32Array, qmin: number, qmax: number): void;
}

import { tsKernels } from './kernels-ts.js';

let current: TrainKernels = tsKernels;

/** The kernels the engine uses now. */
export function kernels(): TrainKernels {
  return current;
}

/** Switches the engine's kernels (tests use this to compare wasm against the TS oracle). */
export function setKernels(k: TrainKernels): void {
  current = k;
}

export { tsKernels };
