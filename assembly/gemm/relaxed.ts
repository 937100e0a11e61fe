// qs8 GEMM, relaxed-SIMD kernel: the relaxed i8 x i7 dot product kept bit-exact on every engine.
// Calling convention and epilogues: ./epilogue.ts. MR = 4, NR = 8, KR = 4.
//
// Engines differ when the second (i7) operand has its top bit set (x86 lowers to pmaddubsw: unsigned x signed,
// saturating pairs; ARM sdot: signed x signed). So the weights go in as two 7-bit halves: with an offset
// o = 127 (when no weight is -128) or 128 (when no weight is 127), u = w + o is in 0..254 and splits into
// ua = u >> 1 and ub = u - ua, both in 0..127. Then sum_k A*w = dot(A, ua) + dot(A, ub) - o * rowsum(A):
// two relaxed dots and one row-sum correction per row tile (pairs of products stay within int16 on either
// lowering: 2*128*127 < 2^15).
// The dot is i16x8.relaxed_dot_i8x16_i7x16_s + i32x4.extadd_pairwise_i16x8_s, not the fused
// i32x4.relaxed_dot_i8x16_i7x16_add_s: Node 20's V8 (x64) returns wrong sums for the fused form depending on
// register allocation (measured: dot(-3 x 16, 5 x 16) + 10 gave -120 instead of -50), see test/kernels/isa.test.ts. A is int8 (uint8 is xor'ed with 0x80, zero point shifted
// by 128 on the host). Matrices holding both -128 and 127 cannot use this kernel (the host picks dot16).
//
// Packed `rdot` layout: 16-byte header { i32 o, 0, 0, 0 }, then per block of 8 columns: int32 init[8]
// (bias - za*colsum), then ceil(k/4) k-quads of 64 bytes: ua[c0..c3 x 4k], ua[c4..c7 x 4k], ub[c0..c3],
// ub[c4..c7], each 16-byte group holding column j's 4 consecutive k at bytes 4j..4j+3; zero padded (u = 0).
import { epi_store4x8 } from './epilogue_simd';

const WCHUNK: i32 = 262144;

@inline function rowsum(p: usize, k: i32, xr: i32): i32 {
  let v = i32x4.splat(0);
  const vx = i8x16.splat(<i8>xr);
  let kk = 0;
  for (; kk + 16 <= k; kk += 16) {
    v = i32x4.add(v, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.xor(v128.load(p + <usize>kk), vx))));
  }
  let s = i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
  for (; kk < k; kk++) s += <i32><i8>(load<u8>(p + <usize>kk) ^ xr);
  return s;
}

@inline function tail4(p: usize, cnt: i32): i32 {
  let x = <i32>load<u8>(p);
  if (cnt > 1) x |= <i32>load<u8>(p, 1) << 8;
  if (cnt > 2) x |= <i32>load<u8>(p, 2) << 16;
  return x;
}

export function qs8_gemm_4x8c4__relaxed_rdot(
  rows: i32, n: i32, k: i32, a: usize, a_stride: i32, a_unsigned: i32, w: usize,
  c: usize, c_stride: i32, kind: i32, table: usize, table2: usize, zp: i32, qmin: i32, qmax: i32, scratch: usize,
): void {
  const kq = (k + 3) >> 2;
  const bstride = 32 + kq * 64;
  const k4 = k & ~3;
  const xr: i32 = a_unsigned ? 0x80 : 0;
  const vxr = i8x16.splat(<i8>xr);
  const off = load<i32>(w);
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
      const r0 = i32x4.splat(-off * rowsum(a0, k, xr));
      const r1 = i32x4.splat(-off * rowsum(a1, k, xr));
      const r2 = i32x4.splat(-off * rowsum(a2, k, xr));
      const r3 = i32x4.splat(-off * rowsum(a3, k, xr));
      for (let nb = cb; nb < cbe; nb++) {
        let wp = w + 16 + <usize>(nb * bstride);
        const i0 = v128.load(wp), i1 = v128.load(wp, 16);
        let acc00 = i32x4.add(i0, r0), acc01 = i32x4.add(i1, r0);
        let acc10 = i32x4.add(i0, r1), acc11 = i32x4.add(i1, r1);
        let acc20 = i32x4.add(i0, r2), acc21 = i32x4.add(i1, r2);
        let acc30 = i32x4.add(i0, r3), acc31 = i32x4.add(i1, r3);
        wp += 32;
        let kk = 0;
        for (; kk < k; kk += 4) {
          let x0: v128, x1: v128, x2: v128, x3: v128;
          if (kk < k4) {
            x0 = v128.load32_splat(a0 + <usize>kk); x1 = v128.load32_splat(a1 + <usize>kk);
            x2 = v128.load32_splat(a2 + <usize>kk); x3 = v128.load32_splat(a3 + <usize>kk);
          } else {
            const cnt = k - kk;
            x0 = i32x4.splat(tail4(a0 + <usize>kk, cnt)); x1 = i32x4.splat(tail4(a1 + <usize>kk, cnt));
            x2 = i32x4.splat(tail4(a2 + <usize>kk, cnt)); x3 = i32x4.splat(tail4(a3 + <usize>kk, cnt));
          }
          x0 = v128.xor(x0, vxr); x1 = v128.xor(x1, vxr); x2 = v128.xor(x2, vxr); x3 = v128.xor(x3, vxr);
          const ua0 = v128.load(wp), ua1 = v128.load(wp, 16), ub0 = v128.load(wp, 32), ub1 = v128.load(wp, 48);
          acc00 = i32x4.add(acc00, i32x4.add(i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x0, ua0)), i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x0, ub0))));
          acc01 = i32x4.add(acc01, i32x4.add(i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x0, ua1)), i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x0, ub1))));
          acc10 = i32x4.add(acc10, i32x4.add(i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x1, ua0)), i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x1, ub0))));
          acc11 = i32x4.add(acc11, i32x4.add(i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x1, ua1)), i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x1, ub1))));
          acc20 = i32x4.add(acc20, i32x4.add(i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x2, ua0)), i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x2, ub0))));
          acc21 = i32x4.add(acc21, i32x4.add(i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x2, ua1)), i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x2, ub1))));
          acc30 = i32x4.add(acc30, i32x4.add(i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x3, ua0)), i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x3, ub0))));
          acc31 = i32x4.add(acc31, i32x4.add(i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x3, ua1)), i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x3, ub1))));
          wp += 64;
        }
        const n0 = nb << 3;
        const cols = n - n0 < 8 ? n - n0 : 8;
        epi_store4x8(acc00, acc01, acc10, acc11, acc20, acc21, acc30, acc31, n0, cols, c0, c1, c2, c3, kind, table, table2, zp, qmin, qmax);
      }
    }
  }
}
