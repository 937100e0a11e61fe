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

/** Cache blocking of the sgemm drivers: a KC x NB block of op(B) is packed (~128 KB, L2-resident) and reused by
 * every row tile; C accumulates over the K blocks. */
export const F32_SGEMM_KC = 256;
export const F32_SGEMM_NB = 128;

/** Columns per packed block for depth block kb: about 128 KB of packed B, at least F32_SGEMM_NB (wide blocks
 * when K is small keep C rows contiguous: a 128-column block over a wide C strides by whole rows). */
export function f32_sgemm_nb(kb: i32): i32 {
  return max(F32_SGEMM_NB, (32768 / (kb + 1)) & ~7);
}

/** Scratch bytes the sgemm drivers need for N columns and depth K (one packed block). */
export function f32_sgemm_scratch_bytes(N: i32, K: i32): i32 {
  const kb = min(K, F32_SGEMM_KC);
  return ((min(N, f32_sgemm_nb(kb)) + 7) >> 3) * (kb + 1) * 32;
}

/**
 * Packs columns [n0, n0 + nb) and depths [k0, k0 + kb) of op(B) into the panel layout with a zero bias
 * (op(B)[k, n] = transB ? B[n*ldb + k] : B[k*ldb + n]).
 */
export function f32_gemm_pack_b_block(transB: i32, n0: i32, nb: i32, k0: i32, kb: i32, B: usize, ldb: i32, dst: usize): void {
  const ldbB = (<usize>ldb) << 2;
  for (let p = 0; p < nb; p += 8) {
    memory.fill(dst, 0, 32);
    dst += 32;
    const w = min(8, nb - p);
    const n = n0 + p;
    if (!transB) {
      let src = B + ((<usize>k0 * <usize>ldb + <usize>n) << 2);
      for (let k = 0; k < kb; k++) {
        if (w == 8) {
          store<u64>(dst, load<u64>(src)); store<u64>(dst, load<u64>(src, 8), 8);
          store<u64>(dst, load<u64>(src, 16), 16); store<u64>(dst, load<u64>(src, 24), 24);
        } else {
          for (let j = 0; j < 8; j++) store<f32>(dst + ((<usize>j) << 2), j < w ? load<f32>(src + ((<usize>j) << 2)) : 0);
        }
        src += ldbB;
        dst += 32;
      }
    } else {
      const src = B + ((<usize>n * <usize>ldb + <usize>k0) << 2);
      for (let k = 0; k < kb; k++) {
        const s = src + ((<usize>k) << 2);
        for (let j = 0; j < 8; j++) store<f32>(dst + ((<usize>j) << 2), j < w ? load<f32>(s + <usize>j * ldbB) : 0);
        dst += 32;
      }
    }
  }
}

/**
 * BLAS-style sgemm (row-major): C = alpha * op(A) op(B) + beta * C. Strides in elements. beta == 0 never reads C.
 * Blocked: for each KC block of depth and NB block of columns, op(B) is packed into `scratch`
 * (f32_sgemm_scratch_bytes(N, K) bytes) and every row tile runs over it; later depth blocks accumulate into C.
 */
export function f32_sgemm__scalar(
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
      f32_gemm_rows_1x8__scalar(0, M, nb, kb, A + <usize>k0 * a_cs, a_rs, a_cs, scratch, C + ((<usize>n0) << 2), (<usize>ldc) << 2, alpha, be, -Infinity, Infinity);
    }
    k0 += F32_SGEMM_KC;
  } while (k0 < K);
}
