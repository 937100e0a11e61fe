// f32 kernels of the relaxed feature level (see assembly/relaxed.ts): f32x4.relaxed_madd (fused on FMA hosts).
import { f32_gemm_pack_b } from './gemm-scalar';
import { f32_gemm_rows_4x8__relaxed } from './gemm-gen-relaxed';
export * from './gemm-gen-relaxed';

/** sgemm (see f32_sgemm__scalar) with the 4x8 relaxed tile. */
export function f32_sgemm__relaxed(
  transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32,
  B: usize, ldb: i32, beta: f32, C: usize, ldc: i32, scratch: usize,
): void {
  f32_gemm_pack_b(transB, N, K, B, ldb, 0, scratch);
  const a_rs: usize = transA ? 4 : (<usize>lda) << 2;
  const a_cs: usize = transA ? (<usize>lda) << 2 : 4;
  f32_gemm_rows_4x8__relaxed(0, M, N, K, A, a_rs, a_cs, scratch, C, (<usize>ldc) << 2, alpha, beta, -Infinity, Infinity);
}
export * from './dwconv-relaxed';
