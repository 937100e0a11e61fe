// qs8 GEMM, SIMD128 kernels. Calling convention and epilogues: ./epilogue.ts. MR = 4 rows, NR = 8 columns.
// Rows beyond `rows` in the last tile alias the previous row (they recompute and rewrite the same values).
//
// x86 path, qs8_gemm_4x8c2__simd128_dot16 (FBGEMM/XNNPACK dot16-like): A rows widened to int16 8 bytes at a
//   time (v128.load8x8_s/_u: uint8 A needs no conversion) into a scratch with the 4 rows interleaved per k-pair
//   (./dot16.ts), each k-pair broadcast (a 32-bit splat load) and
//   multiplied with i32x4.dot_i16x8_s (pmaddwd) against pre-widened weights. Packed `dot16` layout:
//   16-byte header (unused), then per block of 8 columns: int32 init[8] (bias - za*colsum), then ceil(k/2)
//   k-pairs of 16 int16 [c0k0 c0k1 c1k0 c1k1 c2k0 c2k1 c3k0 c3k1 | c4k0 c4k1 ... c7k0 c7k1], zero padded.
//   Weights are stored minus their zero point (int16), so uint8 weights with any zero point work here.
//
// ARM path, qs8_gemm_4x8c2__simd128_extmul (QNNPACK-like): a k-pair of A (int8; uint8 is xor'ed with 0x80 and
//   its zero point shifted by 128 on the host) broadcast as an i16 lane, i16x8.extmul_{low,high}_i8x16_s with
//   the int8 weights (smull/smull2), i32x4.extadd_pairwise_i16x8_s (saddlp) and add. Packed `extmul` layout:
//   16-byte header (unused), per block of 8 columns: int32 init[8], then ceil(k/2) k-pairs of 16 int8
//   [c0k0 c0k1 c1k0 c1k1 ... c7k0 c7k1], zero padded. Weights minus zero point must fit int8.
import { epi_store4x8 } from './epilogue_simd';
import { dot16_blocks, dot16_blocks1, widen8x4, store_a, DOT16_WCHUNK } from './dot16';

// Column-chunk size for cache blocking of the extmul kernel: about 256 KiB of packed weights stay hot while all rows
// stream by (dot16: DOT16_WCHUNK in ./dot16.ts).
const WCHUNK: i32 = 262144;



// Widens rows a0..a3 (k bytes each) to int16 into scratch, the 4 rows interleaved per k-pair (layout: ./dot16.ts), so
// that the inner loop broadcasts each row's k-pair with a v128.load32_splat (a load, not a shuffle) as MLAS does.
// Odd k: the pad element of the last pair is 0 (its weight is 0 too).
@inline function widen4<T>(a0: usize, a1: usize, a2: usize, a3: usize, k: i32, s: usize): void {
  const k8 = k & ~7;
  let kk = 0;
  for (; kk < k8; kk += 8) {
    const o = <usize>kk;
    if (isSigned<T>()) widen8x4(s + (o << 3), v128.load8x8_s(a0 + o), v128.load8x8_s(a1 + o), v128.load8x8_s(a2 + o), v128.load8x8_s(a3 + o));
    else widen8x4(s + (o << 3), v128.load8x8_u(a0 + o), v128.load8x8_u(a1 + o), v128.load8x8_u(a2 + o), v128.load8x8_u(a3 + o));
  }
  for (; kk < k; kk++) {
    const o = <usize>kk;
    store_a(s, 0, kk, <i32>load<T>(a0 + o));
    store_a(s, 1, kk, <i32>load<T>(a1 + o));
    store_a(s, 2, kk, <i32>load<T>(a2 + o));
    store_a(s, 3, kk, <i32>load<T>(a3 + o));
  }
  if (k & 1) for (let r = 0; r < 4; r++) store_a(s, r, k, 0);
}

export function qs8_gemm_4x8c2__simd128_dot16(
  rows: i32, n: i32, k: i32, a: usize, a_stride: i32, a_unsigned: i32, w: usize,
  c: usize, c_stride: i32, kind: i32, table: usize, table2: usize, zp: i32, qmin: i32, qmax: i32, scratch: usize,
): void {
  // one function for int8 and uint8 A (only the widening differs; a second copy of the kernel would add ~10 KB)
  const kp = (k + 1) >> 1;
  const bstride = 32 + kp * 32;
  const nblocks = (n + 7) >> 3;
  let chunk = DOT16_WCHUNK / bstride;
  if (chunk < 1) chunk = 1;
  for (let cb = 0; cb < nblocks; cb += chunk) {
    const cbe = cb + chunk < nblocks ? cb + chunk : nblocks;
    for (let m = 0; m < rows; m += 4) {
      const a0 = a + <usize>(m * a_stride);
      const a1 = rows - m > 1 ? a0 + <usize>a_stride : a0;
      const a2 = rows - m > 2 ? a1 + <usize>a_stride : a1;
      const a3 = rows - m > 3 ? a2 + <usize>a_stride : a2;
      const c0 = c + <usize>(m * c_stride);
      const c1 = rows - m > 1 ? c0 + <usize>c_stride : c0;
      const c2 = rows - m > 2 ? c1 + <usize>c_stride : c1;
      const c3 = rows - m > 3 ? c2 + <usize>c_stride : c2;
      if (a_unsigned) widen4<u8>(a0, a1, a2, a3, k, scratch);
      else widen4<i8>(a0, a1, a2, a3, k, scratch);
      if (rows - m == 1) dot16_blocks1(cb, cbe, n, kp, w, scratch, c0, kind, table, table2, zp, qmin, qmax);
      else dot16_blocks(cb, cbe, n, kp, w, scratch, c0, c1, c2, c3, kind, table, table2, zp, qmin, qmax);
    }
  }
}

export function qs8_gemm_4x8c2__simd128_extmul(
  rows: i32, n: i32, k: i32, a: usize, a_stride: i32, a_unsigned: i32, w: usize,
  c: usize, c_stride: i32, kind: i32, table: usize, table2: usize, zp: i32, qmin: i32, qmax: i32, scratch: usize,
): void {
  const kp = (k + 1) >> 1;
  const bstride = 32 + kp * 16;
  const k2 = k & ~1;
  const xr: i32 = a_unsigned ? 0x8080 : 0;
  const nblocks = (n + 7) >> 3;
  let chunk = WCHUNK / bstride;
  if (chunk < 1) chunk = 1;
  for (let cb = 0; cb < nblocks; cb += chunk) {
    const cbe = cb + chunk < nblocks ? cb + chunk : nblocks;
    for (let m = 0; m < rows; m += 4) {
      const a0 = a + <usize>(m * a_stride);
      const a1 = rows - m > 1 ? a0 + <usize>a_stride : a0;
      const a2 = rows - m > 2 ? a1 + <usize>a_stride : a1;
      const a3 = rows - m > 3 ? a2 + <usize>a_stride : a2;
      const c0 = c + <usize>(m * c_stride);
      const c1 = rows - m > 1 ? c0 + <usize>c_stride : c0;
      const c2 = rows - m > 2 ? c1 + <usize>c_stride : c1;
      const c3 = rows - m > 3 ? c2 + <usize>c_stride : c2;
      for (let nb = cb; nb < cbe; nb++) {
        let wp = w + 16 + <usize>(nb * bstride);
        let acc00 = v128.load(wp), acc01 = v128.load(wp, 16);
        let acc10 = acc00, acc11 = acc01, acc20 = acc00, acc21 = acc01, acc30 = acc00, acc31 = acc01;
        wp += 32;
        let kk = 0;
        for (; kk < k2; kk += 2) {
          const b = v128.load(wp);
          let x = i16x8.splat(<i16>(<i32>load<u16>(a0 + <usize>kk) ^ xr));
          acc00 = i32x4.add(acc00, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, b)));
          acc01 = i32x4.add(acc01, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, b)));
          x = i16x8.splat(<i16>(<i32>load<u16>(a1 + <usize>kk) ^ xr));
          acc10 = i32x4.add(acc10, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, b)));
          acc11 = i32x4.add(acc11, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, b)));
          x = i16x8.splat(<i16>(<i32>load<u16>(a2 + <usize>kk) ^ xr));
          acc20 = i32x4.add(acc20, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, b)));
          acc21 = i32x4.add(acc21, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, b)));
          x = i16x8.splat(<i16>(<i32>load<u16>(a3 + <usize>kk) ^ xr));
          acc30 = i32x4.add(acc30, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, b)));
          acc31 = i32x4.add(acc31, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, b)));
          wp += 16;
        }
        if (kk < k) {
          // odd k: the last A byte alone (its pair partner's weight is zero padding)
          const b = v128.load(wp);
          const xb = xr & 0xff;
          let x = i16x8.splat(<i16>((<i32>load<u8>(a0 + <usize>kk) ^ xb)));
          acc00 = i32x4.add(acc00, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, b)));
          acc01 = i32x4.add(acc01, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, b)));
          x = i16x8.splat(<i16>((<i32>load<u8>(a1 + <usize>kk) ^ xb)));
          acc10 = i32x4.add(acc10, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, b)));
          acc11 = i32x4.add(acc11, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, b)));
          x = i16x8.splat(<i16>((<i32>load<u8>(a2 + <usize>kk) ^ xb)));
          acc20 = i32x4.add(acc20, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, b)));
          acc21 = i32x4.add(acc21, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, b)));
          x = i16x8.splat(<i16>((<i32>load<u8>(a3 + <usize>kk) ^ xb)));
          acc30 = i32x4.add(acc30, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, b)));
          acc31 = i32x4.add(acc31, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, b)));
        }
        const n0 = nb << 3;
        const cols = n - n0 < 8 ? n - n0 : 8;
        epi_store4x8(acc00, acc01, acc10, acc11, acc20, acc21, acc30, acc31, n0, cols, c0, c1, c2, c3, kind, table, table2, zp, qmin, qmax);
      }
    }
  }
}

