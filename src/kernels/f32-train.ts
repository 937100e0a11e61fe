// Thin host API over the FP32 wasm kernels for training (src/train/). Tensors live in one wasm memory;
// the caller allocates them with alloc()/put() and passes byte offsets (numbers). Layouts:
//   - matrices row-major with leading dimensions in elements (BLAS conventions);
//   - images NCHW for the training kernels (im2col/col2im, pooling, batch-norm), see each method.
// Temporary scratch (packing buffers) is taken above the caller's allocations and released before returning,
// so the allocator is a stack: mark() / release(mark) for per-step temporaries.
import { WasmKernels, type BuildLevel } from '../runtime/wasm.js';
import { choosePath } from '../runtime/select.js';
import { buildOf, type KernelPath } from './types.js';
import { F32_GEMM_VARIANTS, selectVariant, type F32GemmVariant } from './f32.js';

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
    const scratch = this.alloc(Math.ceil(N / 8) * (K + 1) * 8);
    this.k[this.gemm.sgemm!](transA ? 1 : 0, transB ? 1 : 0, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, scratch);
    this.release(m);
  }
}
