// FP32 GEMM, scalar build: the B packer (shared by every ISA), the 1x8 scalar micro-kernel and the
// sgemm driver. Packed B layout (see scripts/gen-f32-gemm.mjs): ceil(N/8) panels of [bias[8]][K][8] floats,
// columns past N zero. Accumulation order = the oracle's (bias, then k = 0..K-1), so results match bit for bit.

/**
 * Packs op(B) (K x N; op(B)[k, n] = transB ? B[n*ldb + k] : B[k*ldb + n], strides in elements) and an optional
 * bias (0 = none) into the panel layout at dst ((K + 1) * 8 * ceil(N/8) floats).
 */
export function f32_gemm_pack_b(transB: i32, N: i32, K: i32, B: usize, ldb: i32, bias: usize, dst: usize): void {
  for (let n0 = 0; n0 < N; n0 += 8) {
    for (let j = 0; j < 8; j++) {
      const n = n0 + j;
      store<f32>(dst + ((j as usize) << 2), n < N && bias ? load<f32>(bias + ((n as usize) << 2)) : 0);
    }
    dst += 32;
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < 8; j++) {
        const n = n0 + j;
        let v: f32 = 0;
        if (n < N) v = load<f32>(B + (((transB ? n * ldb + k : k * ldb + n) as usize) << 2));
        store<f32>(dst + ((j as usize) << 2), v);
      }
      dst += 32;
    }
  }
}

/** Bytes f32_gemm_pack_b writes for N columns and depth K. */
export function f32_gemm_packed_bytes(N: i32, K: i32): i32 {
  return ((N + 7) >> 3) * (K + 1) * 32;
}

/** 1x8 scalar tile: rows [0, mr) of C (one at a time), all nc columns. Same contract as f32_gemm_4x8__simd128. */
export function f32_gemm_1x8__scalar(
  mr: i32, nc: i32, kc: i32, a: usize, a_rs: usize, a_cs: usize, w: usize,
  c: usize, c_rs: usize, alpha: f32, beta: f32, lo: f32, hi: f32,
): void {
  for (let m = 0; m < mr; m++) {
    let wp = w;
    const ar = a + <usize>m * a_rs;
    const cr = c + <usize>m * c_rs;
    for (let n0 = 0; n0 < nc; n0 += 8) {
      let s0 = load<f32>(wp), s1 = load<f32>(wp, 4), s2 = load<f32>(wp, 8), s3 = load<f32>(wp, 12);
      let s4 = load<f32>(wp, 16), s5 = load<f32>(wp, 20), s6 = load<f32>(wp, 24), s7 = load<f32>(wp, 28);
      wp += 32;
      let p = ar;
      for (let k = 0; k < kc; k++) {
        const x = load<f32>(p);
        p += a_cs;
        s0 += x * load<f32>(wp); s1 += x * load<f32>(wp, 4); s2 += x * load<f32>(wp, 8); s3 += x * load<f32>(wp, 12);
        s4 += x * load<f32>(wp, 16); s5 += x * load<f32>(wp, 20); s6 += x * load<f32>(wp, 24); s7 += x * load<f32>(wp, 28);
        wp += 32;
      }
      const cp = cr + ((n0 as usize) << 2);
      const left = nc - n0;
      out1(cp, 0, s0, left, alpha, beta, lo, hi); out1(cp, 1, s1, left, alpha, beta, lo, hi);
      out1(cp, 2, s2, left, alpha, beta, lo, hi); out1(cp, 3, s3, left, alpha, beta, lo, hi);
      out1(cp, 4, s4, left, alpha, beta, lo, hi); out1(cp, 5, s5, left, alpha, beta, lo, hi);
      out1(cp, 6, s6, left, alpha, beta, lo, hi); out1(cp, 7, s7, left, alpha, beta, lo, hi);
    }
  }
}

@inline function out1(cp: usize, j: i32, s: f32, left: i32, alpha: f32, beta: f32, lo: f32, hi: f32): void {
  if (j < left) {
    const p = cp + ((j as usize) << 2);
    let v = alpha != 1 ? s * alpha : s;
    if (beta != 0) v += beta * load<f32>(p);
    store<f32>(p, v < lo ? lo : v > hi ? hi : v);
  }
}

/** Rows [m_begin, m_end) with the scalar tile. */
export function f32_gemm_rows_1x8__scalar(
  m_begin: i32, m_end: i32, nc: i32, kc: i32, a: usize, a_rs: usize, a_cs: usize, w: usize,
  c: usize, c_rs: usize, alpha: f32, beta: f32, lo: f32, hi: f32,
): void {
  if (m_end > m_begin) {
    f32_gemm_1x8__scalar(m_end - m_begin, nc, kc, a + <usize>m_begin * a_rs, a_rs, a_cs, w, c + <usize>m_begin * c_rs, c_rs, alpha, beta, lo, hi);
  }
}

/**
 * BLAS-style sgemm (row-major): C = alpha * op(A) op(B) + beta * C, with op(B) packed into `scratch`
 * (f32_gemm_packed_bytes(N, K) bytes) first. Strides in elements. beta == 0 never reads C.
 */
export function f32_sgemm__scalar(
  transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32,
  B: usize, ldb: i32, beta: f32, C: usize, ldc: i32, scratch: usize,
): void {
  f32_gemm_pack_b(transB, N, K, B, ldb, 0, scratch);
  const a_rs: usize = transA ? 4 : (<usize>lda) << 2;
  const a_cs: usize = transA ? (<usize>lda) << 2 : 4;
  f32_gemm_rows_1x8__scalar(0, M, N, K, A, a_rs, a_cs, scratch, C, (<usize>ldc) << 2, alpha, beta, -Infinity, Infinity);
}
