// Thin host API over the FP32 wasm kernels for training (src/train/). Tensors live in one wasm memory;
// the caller allocates them with alloc()/put() and passes byte offsets (numbers). Layouts:
//   - matrices row-major with leading dimensions in elements (BLAS conventions);
//   - images NCHW for the training kernels (im2col/col2im, depthwise, pooling, batch norm), matching the
//     engine's TrainKernels contract (src/train/kernels.ts); kernels in assembly/f32/train-scalar.ts.
// f32TrainKernels(ft) adapts the offset API to TrainKernels (Float32Array in, copies in and out).
// Temporary scratch (packing buffers) is taken above the caller's allocations and released before returning,
// so the allocator is a stack: mark() / release(mark) for per-step temporaries.
import { WasmKernels, type BuildLevel } from '../runtime/wasm.js';
import { choosePath } from '../runtime/select.js';
import { buildOf, type KernelPath } from './types.js';
import { F32_GEMM_VARIANTS, selectVariant, type F32GemmVariant } from './f32.js';
import type { TrainKernels, ConvGeom } from '../train/kernels.js';

export class F32Train {
  private top: number;
  private readonly gemm: F32GemmVariant;
  private readonly k: Record<string, any>;

  private constructor(readonly wasm: WasmKernels, readonly path: KernelPath) {
    this.top = wasm.heapBase;
    this.k = wasm.exports;
    this.gemm = selectVariant(
      F32_GEMM_VARIANTS.filter((v) => v.sgemm),
      { path },
    );
  }

  /** Loads the build for `path` ('auto' = best this host runs, honouring OCTET_KERNELS). */
  static async create(path: KernelPath | 'auto' = 'auto', opts: { maxBytes?: number } = {}): Promise<F32Train> {
    const p = (await choosePath(path)).path;
    const level: BuildLevel = buildOf(p);
    const wasm = await WasmKernels.create(level, { initialBytes: 1 << 24, maxBytes: opts.maxBytes });
    return new F32Train(wasm, p);
  }

  /** Name of the GEMM variant in use. */
  get gemmVariant(): string {
    return this.gemm.name;
  }

  // ---- memory -------------------------------------------------------------------------------------------
  /** Allocates n floats (16-byte aligned, zeroed), returns the byte offset. */
  alloc(n: number): number {
    const at = (this.top + 15) & ~15;
    const end = at + Math.max(0, n) * 4;
    this.wasm.ensure(end);
    this.top = end;
    new Float32Array(this.wasm.memory.buffer, at, n).fill(0);
    return at;
  }
  /** Copies data into fresh memory, returns its offset. */
  put(data: ArrayLike<number>): number {
    const at = this.alloc(data.length);
    this.view(at, data.length).set(data);
    return at;
  }
  /** A Float32Array view (invalidated when memory grows: create views right before use). */
  view(off: number, n: number): Float32Array {
    return new Float32Array(this.wasm.memory.buffer, off, n);
  }
  /** Copy out. */
  get(off: number, n: number): Float32Array {
    return this.view(off, n).slice();
  }
  mark(): number {
    return this.top;
  }
  release(mark: number): void {
    this.top = mark;
  }

  // ---- GEMM ---------------------------------------------------------------------------------------------
  /**
   * C = alpha * op(A) op(B) + beta * C, row-major, strides in elements (BLAS sgemm).
   * op(A) is M x K (transA: A is K x M), op(B) is K x N (transB: B is N x K). beta = 0 never reads C.
   */
  sgemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: number, lda: number, B: number, ldb: number, beta: number, C: number, ldc: number,
  ): void {
    if (M <= 0 || N <= 0) return;
    const m = this.mark();
    const scratch = this.alloc(this.k.f32_sgemm_scratch_bytes(N, K) / 4);
    this.k[this.gemm.sgemm!](transA ? 1 : 0, transB ? 1 : 0, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, scratch);
    this.release(m);
  }

  // ---- training kernels (offsets; NCHW) -------------------------------------------------------------------
  private geo(g: ConvGeom): number[] {
    return [g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.OH, g.OW];
  }
  /** col[(ci*kh+ki)*kw+kj][n*OH*OW + p] from channels [c0, c0+cg) of x (N, C, H, W). */
  im2col(x: number, g: ConvGeom, c0: number, cg: number, col: number): void {
    this.k.f32_train_im2col_nchw(x, g.N, g.C, g.H, g.W, ...this.geo(g), c0, cg, col);
  }
  /** dx += col2im(col) (adjoint of im2col). */
  col2im(col: number, g: ConvGeom, c0: number, cg: number, dx: number): void {
    this.k.f32_train_col2im_nchw(col, g.N, g.C, g.H, g.W, ...this.geo(g), c0, cg, dx);
  }
  dwconvForward(x: number, w: number, g: ConvGeom, y: number): void {
    this.k.f32_train_dwconv_fwd(x, w, g.N, g.C, g.H, g.W, ...this.geo(g), y);
  }
  dwconvBackwardData(dy: number, w: number, g: ConvGeom, dx: number): void {
    this.k.f32_train_dwconv_bwd_data(dy, w, g.N, g.C, g.H, g.W, ...this.geo(g), dx);
  }
  dwconvBackwardFilter(x: number, dy: number, g: ConvGeom, dw: number): void {
    this.k.f32_train_dwconv_bwd_filter(x, dy, g.N, g.C, g.H, g.W, ...this.geo(g), dw);
  }
  /** idx: offset of `planes*OH*OW` int32. */
  maxpoolForward(x: number, planes: number, g: ConvGeom, y: number, idx: number): void {
    this.k.f32_train_maxpool_fwd(x, planes, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, y, idx);
  }
  maxpoolBackward(dy: number, idx: number, count: number, dx: number): void {
    this.k.f32_train_maxpool_bwd(dy, idx, count, dx);
  }
  avgpoolForward(x: number, planes: number, g: ConvGeom, y: number): void {
    this.k.f32_train_avgpool_fwd(x, planes, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, y);
  }
  avgpoolBackward(dy: number, planes: number, g: ConvGeom, dx: number): void {
    this.k.f32_train_avgpool_bwd(dy, planes, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, dx);
  }
  /** Batch norm with batch statistics (NCHW, HW = H*W); writes mean, invstd and unbiased var per channel. */
  batchNormForward(x: number, N: number, C: number, HW: number, gamma: number, beta: number, eps: number, y: number, mean: number, invstd: number, varOut: number): void {
    this.k.f32_train_bn_fwd(x, N, C, HW, gamma, beta, eps, y, mean, invstd, varOut);
  }
  batchNormBackward(x: number, dy: number, N: number, C: number, HW: number, gamma: number, mean: number, invstd: number, dx: number, dgamma: number, dbeta: number): void {
    this.k.f32_train_bn_bwd(x, dy, N, C, HW, gamma, mean, invstd, dx, dgamma, dbeta);
  }
  /** dx = dy where 0 < x < hi (ReLU: hi = Infinity; ReLU6: 6). */
  reluBackward(x: number, dy: number, dx: number, n: number, hi = Infinity): void {
    this.k.f32_train_relu_bwd(x, dy, dx, n, hi);
  }
  /** db[c] = sum over n, hw of dy (NCHW; HW = 1 for a fully connected layer). */
  biasGrad(dy: number, N: number, C: number, HW: number, db: number): void {
    this.k.f32_train_bias_grad(dy, N, C, HW, db);
  }
  /** Mean softmax cross-entropy over N rows of K logits; labels: offset of N int32; writes dlogits. */
  softmaxCrossEntropy(logits: number, labels: number, N: number, K: number, dlogits: number): number {
    return this.k.f32_train_softmax_ce(logits, labels, N, K, dlogits);
  }
  sgdStep(w: number, g: number, v: number, n: number, lr: number, momentum: number, weightDecay = 0, nesterov = false): void {
    this.k.f32_train_sgd(w, g, v, n, lr, momentum, weightDecay, nesterov ? 1 : 0);
  }
  /** Adam (decoupled = AdamW); t is the 1-based step. */
  adamStep(w: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number, weightDecay: number, t: number, decoupled = false): void {
    this.k.f32_train_adam(w, g, m, v, n, lr, b1, b2, eps, weightDecay, t, decoupled ? 1 : 0);
  }
  /**
   * Fake quantization forward; per tensor when C = 1, else per channel (channel of element i = (i / inner) % C).
   * scales, zps: offsets of C floats. mask: offset of n bytes (1 = inside the range) or 0.
   */
  fakeQuantForward(x: number, y: number, mask: number, n: number, C: number, inner: number, scales: number, zps: number, qmin: number, qmax: number): void {
    this.k.f32_train_fakequant_fwd(x, y, mask, n, C, inner, scales, zps, qmin, qmax);
  }
  /** Clipped-STE backward; with dscale != 0 also accumulates gradScale * the LSQ scale gradient per channel. */
  fakeQuantBackward(x: number, dy: number, dx: number, n: number, C: number, inner: number, scales: number, zps: number, qmin: number, qmax: number, dscale = 0, gradScale = 1): void {
    this.k.f32_train_fakequant_bwd(x, dy, dx, n, C, inner, scales, zps, qmin, qmax, dscale, gradScale);
  }
}

/**
 * The engine's TrainKernels (src/train/kernels.ts) on the wasm build: every entry copies its Float32Array operands
 * into wasm memory (stack-allocated, released on return), runs the kernel and copies the result out.
 */
export function f32TrainKernels(ft: F32Train): TrainKernels {
  const run = <T>(fn: () => T): T => {
    const m = ft.mark();
    try {
      return fn();
    } finally {
      ft.release(m);
    }
  };
  const colLen = (g: ConvGeom, cg: number) => cg * g.kh * g.kw * g.N * g.OH * g.OW;
  return {
    name: `wasm-${ft.path} (${ft.gemmVariant})`,
    sgemm(transA, transB, M, N, K, A, B, C, beta) {
      if (M <= 0 || N <= 0) return;
      run(() => {
        const a = ft.put(A.subarray(0, M * K)), b = ft.put(B.subarray(0, K * N));
        const c = beta === 0 ? ft.alloc(M * N) : ft.put(C.subarray(0, M * N));
        ft.sgemm(transA, transB, M, N, K, 1, a, transA ? M : K, b, transB ? K : N, beta, c, N);
        C.set(ft.view(c, M * N));
      });
    },
    im2col(x, g, c0, cg, col) {
      run(() => {
        const px = ft.put(x.subarray(0, g.N * g.C * g.H * g.W)), pc = ft.alloc(colLen(g, cg));
        ft.im2col(px, g, c0, cg, pc);
        col.set(ft.view(pc, colLen(g, cg)));
      });
    },
    col2im(col, g, c0, cg, dx) {
      run(() => {
        const n = g.N * g.C * g.H * g.W;
        const pc = ft.put(col.subarray(0, colLen(g, cg))), pd = ft.put(dx.subarray(0, n));
        ft.col2im(pc, g, c0, cg, pd);
        dx.set(ft.view(pd, n));
      });
    },
    dwconvForward(x, w, g, y) {
      run(() => {
        const n = g.N * g.C * g.OH * g.OW;
        const px = ft.put(x.subarray(0, g.N * g.C * g.H * g.W)), pw = ft.put(w.subarray(0, g.C * g.kh * g.kw)), py = ft.alloc(n);
        ft.dwconvForward(px, pw, g, py);
        y.set(ft.view(py, n));
      });
    },
    dwconvBackwardData(dy, w, g, dx) {
      run(() => {
        const n = g.N * g.C * g.H * g.W;
        const pd = ft.put(dy.subarray(0, g.N * g.C * g.OH * g.OW)), pw = ft.put(w.subarray(0, g.C * g.kh * g.kw)), px = ft.alloc(n);
        ft.dwconvBackwardData(pd, pw, g, px);
        dx.set(ft.view(px, n));
      });
    },
    dwconvBackwardFilter(x, dy, g, dw) {
      run(() => {
        const n = g.C * g.kh * g.kw;
        const px = ft.put(x.subarray(0, g.N * g.C * g.H * g.W)), pd = ft.put(dy.subarray(0, g.N * g.C * g.OH * g.OW)), pw = ft.alloc(n);
        ft.dwconvBackwardFilter(px, pd, g, pw);
        dw.set(ft.view(pw, n));
      });
    },
    maxpoolForward(x, planes, g, y, idx) {
      run(() => {
        const n = planes * g.OH * g.OW;
        const px = ft.put(x.subarray(0, planes * g.H * g.W)), py = ft.alloc(n), pi = ft.alloc(n);
        ft.maxpoolForward(px, planes, g, py, pi);
        y.set(ft.view(py, n));
        idx.set(new Int32Array(ft.wasm.memory.buffer, pi, n));
      });
    },
    maxpoolBackward(dy, idx, count, dx) {
      run(() => {
        const pd = ft.put(dy.subarray(0, count)), pi = ft.alloc(count);
        new Int32Array(ft.wasm.memory.buffer, pi, count).set(idx.subarray(0, count));
        const px = ft.put(dx);
        ft.maxpoolBackward(pd, pi, count, px);
        dx.set(ft.view(px, dx.length));
      });
    },
    avgpoolForward(x, planes, g, y) {
      run(() => {
        const n = planes * g.OH * g.OW;
        const px = ft.put(x.subarray(0, planes * g.H * g.W)), py = ft.alloc(n);
        ft.avgpoolForward(px, planes, g, py);
        y.set(ft.view(py, n));
      });
    },
    avgpoolBackward(dy, planes, g, dx) {
      run(() => {
        const n = planes * g.H * g.W;
        const pd = ft.put(dy.subarray(0, planes * g.OH * g.OW)), px = ft.put(dx.subarray(0, n));
        ft.avgpoolBackward(pd, planes, g, px);
        dx.set(ft.view(px, n));
      });
    },
  };
}
