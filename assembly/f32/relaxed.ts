// f32 kernels of the relaxed feature level (see assembly/relaxed.ts): f32x4.relaxed_madd (fused on FMA hosts).
import { f32_gemm_pack_b_block, f32_sgemm_nb, F32_SGEMM_KC } from './gemm-scalar';
import { f32_gemm_rows_4x8__relaxed } from './gemm-gen-relaxed';
export * from './gemm-gen-relaxed';

/** sgemm (see f32_sgemm__scalar: same blocking) with the 4x8 relaxed tile. */
export function f32_sgemm__relaxed(
  transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32,
  B: usize, ldb: i32, beta: f32, C: usize, ldc: i32, scratch: usize,
): void {
  const a_rs: usize = transA ? 4 : (<usize>lda) << 2;
  const a_cs: usize = transA ? (<usize>lda) << 2 : 4;
  let k0 = 0;
  do {
    const kb = min(F32_SGEMM_KC, K - k0);
    const be: f32 = k0 == 0 ? beta : 1;
    const NBk = f32_sgemm_nb(kb);
    for (let n0 = 0; n0 < N; n0 += NBk) {
      const nb = min(NBk, N - n0);
      f32_gemm_pack_b_block(transB, n0, nb, k0, kb, B, ldb, scratch);
      f32_gemm_rows_4x8__relaxed(0, M, nb, kb, A + <usize>k0 * a_cs, a_rs, a_cs, scratch, C + ((<usize>n0) << 2), (<usize>ldc) << 2, alpha, be, -Infinity, Infinity);
    }
    k0 += F32_SGEMM_KC;
  } while (k0 < K);
}
export * from './dwconv-gen-relaxed'; // generated from dwconv-simd128.ts (scripts/gen-f32-gemm.mjs)
