// qs8 convolution, indirect (QNNPACK-style: no im2col copy) on two micro-kernels:
//   x86 path: qs8_igemm_4x8c2__simd128_dot16, the dot16 GEMM whose A rows are widened straight from the input
//     pixels (through the indirection buffer) into its interleaved int16 scratch (../gemm/dot16.ts); packed
//     weights: the `dot16` layout over k = taps * cg (channels of consecutive taps run on without padding, exactly as an im2col row).
//   ARM path: qs8_igemm_4x8c2__simd128_extmul, as follows.
// ARM path: QNNPACK-style indirect convolution on the extmul micro-kernel (no im2col copy).
// The indirection buffer (built once per input shape by the host, src/kernels/qconv.ts) holds, for each output
// pixel and each tap (ky, kx), the byte offset of the input pixel relative to the input base (+ group channel
// offset), or -1 for a tap in the padding, which then reads `zero` (cg bytes equal to the input zero point).
// Layout: int32 indir[pixel][kh*kw]. Packed weights: the `extmul` layout (assembly/gemm/simd128.ts) over
// k' = taps * cg2 where cg2 = cg rounded up to even (per tap, channel pairs never cross taps; the pad channel's
// weight is 0). Calling convention of the epilogue: assembly/gemm/epilogue.ts.
import { epi_store4x8, epi_store8 } from '../gemm/epilogue_simd';
import { EPI_I32 } from '../gemm/epilogue';
import { CP_H, CP_W, CP_C, CP_PT, CP_PL, CP_OH, CP_OW, CP_ZA, CP_TH, CP_TW, CP_TILES } from './params';
import { dot16_blocks, dot16_blocks1, widen8x4, store_a, DOT16_WCHUNK } from '../gemm/dot16';

@inline function tap_ptr(indir: usize, input: usize, zero: usize): usize {
  const o = load<i32>(indir);
  return o < 0 ? zero : input + <usize>o;
}

export function qs8_igemm_4x8c2__simd128_extmul(
  rows: i32, n: i32, taps: i32, cg: i32, indir: usize, input: usize, zero: usize, a_unsigned: i32, w: usize,
  c: usize, c_stride: i32, kind: i32, table: usize, table2: usize, zp: i32, qmin: i32, qmax: i32,
): void {
  const cg2 = (cg + 1) & ~1;
  const kp = (taps * cg2) >> 1;
  const bstride = 32 + kp * 16;
  const cge = cg & ~1;
  const xr: i32 = a_unsigned ? 0x8080 : 0;
  const xb: i32 = xr & 0xff;
  const istride = <usize>(taps << 2);
  for (let m = 0; m < rows; m += 4) {
    const i0 = indir + <usize>m * istride;
    const i1 = rows - m > 1 ? i0 + istride : i0;
    const i2 = rows - m > 2 ? i1 + istride : i1;
    const i3 = rows - m > 3 ? i2 + istride : i2;
    const c0 = c + <usize>(m * c_stride);
    const c1 = rows - m > 1 ? c0 + <usize>c_stride : c0;
    const c2 = rows - m > 2 ? c1 + <usize>c_stride : c1;
    const c3 = rows - m > 3 ? c2 + <usize>c_stride : c2;
    for (let n0 = 0; n0 < n; n0 += 8) {
      let wp = w + 16 + <usize>((n0 >> 3) * bstride);
      let acc00 = v128.load(wp), acc01 = v128.load(wp, 16);
      let acc10 = acc00, acc11 = acc01, acc20 = acc00, acc21 = acc01, acc30 = acc00, acc31 = acc01;
      wp += 32;
      for (let t = 0; t < taps; t++) {
        const tb = <usize>(t << 2);
        const a0 = tap_ptr(i0 + tb, input, zero);
        const a1 = tap_ptr(i1 + tb, input, zero);
        const a2 = tap_ptr(i2 + tb, input, zero);
        const a3 = tap_ptr(i3 + tb, input, zero);
        let ci = 0;
        for (; ci < cge; ci += 2) {
          const b = v128.load(wp);
          let x = i16x8.splat(<i16>(<i32>load<u16>(a0 + <usize>ci) ^ xr));
          acc00 = i32x4.add(acc00, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, b)));
          acc01 = i32x4.add(acc01, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, b)));
          x = i16x8.splat(<i16>(<i32>load<u16>(a1 + <usize>ci) ^ xr));
          acc10 = i32x4.add(acc10, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, b)));
          acc11 = i32x4.add(acc11, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, b)));
          x = i16x8.splat(<i16>(<i32>load<u16>(a2 + <usize>ci) ^ xr));
          acc20 = i32x4.add(acc20, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, b)));
          acc21 = i32x4.add(acc21, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, b)));
          x = i16x8.splat(<i16>(<i32>load<u16>(a3 + <usize>ci) ^ xr));
          acc30 = i32x4.add(acc30, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, b)));
          acc31 = i32x4.add(acc31, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, b)));
          wp += 16;
        }
        if (ci < cg) {
          const b = v128.load(wp);
          let x = i16x8.splat(<i16>(<i32>load<u8>(a0 + <usize>ci) ^ xb));
          acc00 = i32x4.add(acc00, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, b)));
          acc01 = i32x4.add(acc01, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, b)));
          x = i16x8.splat(<i16>(<i32>load<u8>(a1 + <usize>ci) ^ xb));
          acc10 = i32x4.add(acc10, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, b)));
          acc11 = i32x4.add(acc11, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, b)));
          x = i16x8.splat(<i16>(<i32>load<u8>(a2 + <usize>ci) ^ xb));
          acc20 = i32x4.add(acc20, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, b)));
          acc21 = i32x4.add(acc21, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, b)));
          x = i16x8.splat(<i16>(<i32>load<u8>(a3 + <usize>ci) ^ xb));
          acc30 = i32x4.add(acc30, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, b)));
          acc31 = i32x4.add(acc31, i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, b)));
          wp += 16;
        }
      }
      const cols = n - n0 < 8 ? n - n0 : 8;
      epi_store4x8(acc00, acc01, acc10, acc11, acc20, acc21, acc30, acc31, n0, cols, c0, c1, c2, c3, kind, table, table2, zp, qmin, qmax);
    }
  }
}

/**
 * Widens the taps of 4 output pixels (indirection entries at i0..i3) into the interleaved int16 scratch at s
 * (layout: ../gemm/dot16.ts), k = taps * cg in (tap, channel) order; odd k: the last pair's pad element is 0.
 * Even cg: each tap starts on a k-pair, so its channels go 8 at a time through widen8x4 (a 4x4 transpose of pairs);
 * odd cg: element by element.
 */
function widen_taps4<T>(i0: usize, i1: usize, i2: usize, i3: usize, taps: i32, cg: i32, input: usize, zero: usize, s: usize): void {
  if ((cg & 1) == 0) {
    const c8 = cg & ~7;
    let kt = 0;
    for (let t = 0; t < taps; t++, kt += cg) {
      const tb = <usize>(t << 2);
      const p0 = tap_ptr(i0 + tb, input, zero), p1 = tap_ptr(i1 + tb, input, zero);
      const p2 = tap_ptr(i2 + tb, input, zero), p3 = tap_ptr(i3 + tb, input, zero);
      let i = 0;
      for (; i < c8; i += 8) {
        const o = <usize>i;
        const d = s + (<usize>(kt + i) << 3);
        if (isSigned<T>()) widen8x4(d, v128.load8x8_s(p0 + o), v128.load8x8_s(p1 + o), v128.load8x8_s(p2 + o), v128.load8x8_s(p3 + o));
        else widen8x4(d, v128.load8x8_u(p0 + o), v128.load8x8_u(p1 + o), v128.load8x8_u(p2 + o), v128.load8x8_u(p3 + o));
      }
      for (; i < cg; i++) {
        const o = <usize>i;
        store_a(s, 0, kt + i, <i32>load<T>(p0 + o));
        store_a(s, 1, kt + i, <i32>load<T>(p1 + o));
        store_a(s, 2, kt + i, <i32>load<T>(p2 + o));
        store_a(s, 3, kt + i, <i32>load<T>(p3 + o));
      }
    }
    return;
  }
  for (let r = 0; r < 4; r++) {
    const ir = r == 0 ? i0 : r == 1 ? i1 : r == 2 ? i2 : i3;
    let kk = 0;
    for (let t = 0; t < taps; t++) {
      const p = tap_ptr(ir + (<usize>t << 2), input, zero);
      for (let i = 0; i < cg; i++, kk++) store_a(s, r, kk, <i32>load<T>(p + <usize>i));
    }
    if (kk & 1) store_a(s, r, kk, 0);
  }
}

/**
 * Indirect convolution on the dot16 micro-kernel: `rows` output pixels whose indirection entries (int32 per tap:
 * input byte offset relative to `input`, or -1 for padding, which reads `zero`) start at `indir`; n output channels
 * (8-column blocks of packed dot16 weights at w); scratch: 16 * ceil(taps * cg / 2) bytes, 16-byte aligned.
 * One function for int8 and uint8 inputs (only the widening differs).
 */
export function qs8_igemm_4x8c2__simd128_dot16(
  rows: i32, n: i32, taps: i32, cg: i32, indir: usize, input: usize, zero: usize, a_unsigned: i32, w: usize,
  c: usize, c_stride: i32, kind: i32, table: usize, table2: usize, zp: i32, qmin: i32, qmax: i32, scratch: usize,
): void {
  const kp = (taps * cg + 1) >> 1;
  const bstride = 32 + kp * 32;
  const nblocks = (n + 7) >> 3;
  let chunk = DOT16_WCHUNK / bstride;
  if (chunk < 1) chunk = 1;
  const istride = <usize>(taps << 2);
  for (let cb = 0; cb < nblocks; cb += chunk) {
    const cbe = cb + chunk < nblocks ? cb + chunk : nblocks;
    for (let m = 0; m < rows; m += 4) {
      const i0 = indir + <usize>m * istride;
      const i1 = rows - m > 1 ? i0 + istride : i0;
      const i2 = rows - m > 2 ? i1 + istride : i1;
      const i3 = rows - m > 3 ? i2 + istride : i2;
      const c0 = c + <usize>(m * c_stride);
      const c1 = rows - m > 1 ? c0 + <usize>c_stride : c0;
      const c2 = rows - m > 2 ? c1 + <usize>c_stride : c1;
      const c3 = rows - m > 3 ? c2 + <usize>c_stride : c2;
      if (a_unsigned) widen_taps4<u8>(i0, i1, i2, i3, taps, cg, input, zero, scratch);
      else widen_taps4<i8>(i0, i1, i2, i3, taps, cg, input, zero, scratch);
      if (rows - m == 1) dot16_blocks1(cb, cbe, n, kp, w, scratch, c0, kind, table, table2, zp, qmin, qmax);
      else dot16_blocks(cb, cbe, n, kp, w, scratch, c0, c1, c2, c3, kind, table, table2, zp, qmin, qmax);
    }
  }
}

/** x32_conv_zp_correct__scalar (./scalar.ts) four channels at a time. */
export function x32_conv_zp_correct__simd128(y: usize, zp: usize, zsigned: i32, OH: i32, OW: i32, OC: i32, cy: usize, cx: usize, ncx: i32, table: usize, p0: i32, p1: i32, o0: i32, o1: i32): void {
  const za: i32 = zsigned ? <i32>load<i8>(zp) : <i32>load<u8>(zp);
  if (za == 0) return;
  const vz = i32x4.splat(za);
  const hw = OH * OW;
  for (let p = p0; p < p1; p++) {
    const r = p % hw;
    const oy = r / OW, ox = r - (r / OW) * OW;
    const t = table + ((<usize>(load<i32>(cy + (<usize>oy << 2)) * ncx + load<i32>(cx + (<usize>ox << 2))) * OC) << 2);
    const yp = y + ((<usize>p * OC) << 2);
    let o = o0;
    for (; o + 4 <= o1; o += 4) {
      const q = yp + (<usize>o << 2);
      v128.store(q, i32x4.sub(v128.load(q), i32x4.mul(vz, v128.load(t + (<usize>o << 2)))));
    }
    for (; o < o1; o++) {
      const q = yp + (<usize>o << 2);
      store<i32>(q, load<i32>(q) - za * load<i32>(t + (<usize>o << 2)));
    }
  }
}

// ------------------------------------------------------------------------------------------------------------
// Winograd F(2x2, 3x3), x86 path: 3x3 stride-1 convolutions (one group, channels a multiple of 8) with 16 multiplies
// per 2x2 output tile and input channel instead of 36, exact:
//   d = x - za (int16, 0 in the padding), V = B^T d B (|V| <= 4 * 255, int16), U = (2G) g (2G)^T computed by the host
//   (4x the usual transformed weights, integers, |U| <= 9 * 255, int16), M = sum_c U * V (i32x4.dot_i16x8_s: exact
//   pair sums), Y = A^T M A = 4 * (the direct convolution sum). Every step is a ring operation, so int32 wrap-around
//   in M cannot change Y mod 2^32, and the host only takes this path when |4 * sum| < 2^31 (C * 9 * 255 * 255 < 2^29),
//   so Y is exact; Y >> 2 (exact: Y is a multiple of 4), plus the bias, then the fused epilogue (epi_store8).
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], 2G = [2 0 0; 1 1 1; 1 -1 1; 0 0 2], A^T = [1 1 1 0; 0 1 -1 -1].
// Tiles t = (img * th + ty) * tw + tx in quads of 4 (the dot16 micro-kernel's 4 rows); a call computes tile quads
// [q0, q1): V for all 16 positions p = 4i + j (scratch, p-major: [p][quad][kp pairs][4 tiles] int16 pairs, the
// interleaved layout of ../gemm/dot16.ts, kp = c / 2), then 16 GEMMs M[p] = V[p] x U[p] (packed dot16 weights
// 16 x wstride bytes, initial accumulators 0) into int32 M[p][tile][ocp], then the output transform per tile.
// Scratch: 16 * nq * kp * 16 (V) + 16 * 4nq * ocp * 4 (M) + 2048 bytes, nq = q1 - q0, ocp = oc rounded up to 8.

/** V = B^T d B of one 8-channel group of one tile: 16 input pointers at `ptrs` (usize), stored p-major at `t` (16 x 16 bytes). */
@inline function wino_in8<T>(ptrs: usize, c8: usize, vza: v128, t: usize): void {
  // rows of B^T d per column j: r0 = d0 - d2, r1 = d1 + d2, r2 = d2 - d1, r3 = d1 - d3
  for (let j = 0; j < 4; j++) {
    const pj = ptrs + (<usize>j << 2);
    let d0: v128, d1: v128, d2: v128, d3: v128;
    if (isSigned<T>()) {
      d0 = v128.load8x8_s(<usize>load<u32>(pj) + c8); d1 = v128.load8x8_s(<usize>load<u32>(pj, 16) + c8);
      d2 = v128.load8x8_s(<usize>load<u32>(pj, 32) + c8); d3 = v128.load8x8_s(<usize>load<u32>(pj, 48) + c8);
    } else {
      d0 = v128.load8x8_u(<usize>load<u32>(pj) + c8); d1 = v128.load8x8_u(<usize>load<u32>(pj, 16) + c8);
      d2 = v128.load8x8_u(<usize>load<u32>(pj, 32) + c8); d3 = v128.load8x8_u(<usize>load<u32>(pj, 48) + c8);
    }
    d0 = i16x8.sub(d0, vza); d1 = i16x8.sub(d1, vza); d2 = i16x8.sub(d2, vza); d3 = i16x8.sub(d3, vza);
    const tj = t + (<usize>j << 4);
    v128.store(tj, i16x8.sub(d0, d2));
    v128.store(tj, i16x8.add(d1, d2), 64);
    v128.store(tj, i16x8.sub(d2, d1), 128);
    v128.store(tj, i16x8.sub(d1, d3), 192);
  }
  // columns: V[i][0] = r[i][0] - r[i][2], V[i][1] = r[i][1] + r[i][2], V[i][2] = r[i][2] - r[i][1], V[i][3] = r[i][1] - r[i][3]
  for (let i = 0; i < 4; i++) {
    const ti = t + (<usize>i << 6);
    const r0 = v128.load(ti), r1 = v128.load(ti, 16), r2 = v128.load(ti, 32), r3 = v128.load(ti, 48);
    v128.store(ti, i16x8.sub(r0, r2));
    v128.store(ti, i16x8.add(r1, r2), 16);
    v128.store(ti, i16x8.sub(r2, r1), 32);
    v128.store(ti, i16x8.sub(r1, r3), 48);
  }
}

@inline function wino_input<T>(prm: usize, input: usize, zero: usize, q0: i32, q1: i32, kp: i32, v: usize, tmp: usize): void {
  const h = load<i32>(prm, CP_H), w = load<i32>(prm, CP_W), c = load<i32>(prm, CP_C);
  const pt = load<i32>(prm, CP_PT), pl = load<i32>(prm, CP_PL);
  const th = load<i32>(prm, CP_TH), tw = load<i32>(prm, CP_TW);
  const za = load<i32>(prm, CP_ZA);
  const vza = i16x8.splat(<i16>(isSigned<T>() ? <i32><i8>za : za & 0xff));
  const tiles = load<i32>(prm, CP_TILES);
  const ptrs = tmp;              // 4 tiles x 16 pointers (u32)
  const vt = tmp + 256;          // 4 tiles x 16 positions x 16 bytes
  const nq = q1 - q0;
  const qbytes = <usize>(kp << 4);
  for (let q = q0; q < q1; q++) {
    for (let r = 0; r < 4; r++) {
      let t = q * 4 + r;
      if (t >= tiles) t = tiles - 1;
      const img = t / (th * tw);
      const tt = t - img * th * tw;
      const ty = tt / tw, tx = tt - (tt / tw) * tw;
      const iy0 = 2 * ty - pt, ix0 = 2 * tx - pl;
      const pr = ptrs + (<usize>r << 6);
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          const iy = iy0 + i, ix = ix0 + j;
          const src = iy >= 0 && iy < h && ix >= 0 && ix < w ? input + <usize>(((img * h + iy) * w + ix) * c) : zero;
          store<u32>(pr + (<usize>(i * 4 + j) << 2), <u32>src);
        }
      }
    }
    const vq = v + <usize>(q - q0) * qbytes;
    for (let c8 = 0; c8 < c; c8 += 8) {
      for (let r = 0; r < 4; r++) wino_in8<T>(ptrs + (<usize>r << 6), <usize>c8, vza, vt + (<usize>r << 8));
      // position p of the 4 tiles -> pairs c8/2 .. c8/2+3 of block (p, q)
      for (let p = 0; p < 16; p++) {
        const s = vt + (<usize>p << 4);
        widen8x4(vq + <usize>p * <usize>nq * qbytes + (<usize>c8 << 3), v128.load(s), v128.load(s, 256), v128.load(s, 512), v128.load(s, 768));
      }
    }
  }
}

/**
 * Winograd F(2x2, 3x3) convolution of tile quads [q0, q1) (see above). w: 16 packed dot16 weight matrices (c x oc),
 * wstride bytes apart; bias: int32 per output channel (oc rounded up to 8); out: output pixel 0, out_stride bytes
 * per pixel; kind..qmax: the epilogue (int8 / uint8 outputs).
 */
export function qs8_wino2x2_3x3__simd128_dot16(
  prm: usize, input: usize, zero: usize, a_unsigned: i32, w: usize, wstride: i32, oc: i32, bias: usize, q0: i32, q1: i32,
  out: usize, out_stride: i32, kind: i32, table: usize, table2: usize, zp: i32, qmin: i32, qmax: i32, scratch: usize,
): void {
  const c = load<i32>(prm, CP_C);
  const kp = c >> 1;
  const nq = q1 - q0;
  const nt = nq << 2;
  const ocp = (oc + 7) & ~7;
  const nblocks = ocp >> 3;
  const vbytes = <usize>(16 * nq * kp) << 4;
  const v = scratch;
  const m = v + vbytes;
  const tmp = m + (<usize>(16 * nt * ocp) << 2);
  if (a_unsigned) wino_input<u8>(prm, input, zero, q0, q1, kp, v, tmp);
  else wino_input<i8>(prm, input, zero, q0, q1, kp, v, tmp);
  const qbytes = <usize>(kp << 4);
  const mrow = <usize>(ocp << 2);
  // 16 GEMMs: M[p][tile][o] (int32, initial accumulators 0)
  for (let p = 0; p < 16; p++) {
    const wp = w + <usize>p * <usize>wstride;
    const mp = m + <usize>(p * nt) * mrow;
    for (let q = 0; q < nq; q++) {
      const c0 = mp + <usize>(q << 2) * mrow;
      dot16_blocks(0, nblocks, oc, kp, wp, v + <usize>(p * nq + q) * qbytes, c0, c0 + mrow, c0 + 2 * mrow, c0 + 3 * mrow, EPI_I32, 0, 0, 0, 0, 0);
    }
  }
  // output transform: Y = A^T M A, >> 2, + bias, epilogue per valid output pixel
  const th = load<i32>(prm, CP_TH), tw = load<i32>(prm, CP_TW), oh = load<i32>(prm, CP_OH), ow = load<i32>(prm, CP_OW);
  const tiles = load<i32>(prm, CP_TILES);
  const pstride = <usize>nt * mrow;
  for (let lt = 0; lt < nt; lt++) {
    const t = q0 * 4 + lt;
    if (t >= tiles) break;
    const img = t / (th * tw);
    const tt = t - img * th * tw;
    const ty = tt / tw, tx = tt - (tt / tw) * tw;
    const oy = 2 * ty, ox = 2 * tx;
    const has_r = oy + 1 < oh, has_c = ox + 1 < ow;
    const p00 = out + <usize>(((img * oh + oy) * ow + ox) * out_stride);
    const p01 = p00 + <usize>out_stride;
    const p10 = p00 + <usize>(ow * out_stride);
    const p11 = p10 + <usize>out_stride;
    const mt = m + <usize>lt * mrow;
    for (let nb = 0; nb < nblocks; nb++) {
      const n0 = nb << 3;
      const cols = oc - n0 < 8 ? oc - n0 : 8;
      let y00a = i32x4.splat(0), y01a = y00a, y10a = y00a, y11a = y00a;
      let y00b = y00a, y01b = y00a, y10b = y00a, y11b = y00a;
      for (let half = 0; half < 2; half++) {
        const mo = mt + (<usize>n0 << 2) + (<usize>half << 4);
        // s0[j] = M0j + M1j + M2j, s1[j] = M1j - M2j - M3j
        let s00: v128, s01: v128, s02: v128, s03: v128, s10: v128, s11: v128, s12: v128, s13: v128;
        {
          const a = v128.load(mo), b = v128.load(mo + 4 * pstride), cc = v128.load(mo + 8 * pstride), d = v128.load(mo + 12 * pstride);
          s00 = i32x4.add(i32x4.add(a, b), cc); s10 = i32x4.sub(i32x4.sub(b, cc), d);
        }
        {
          const a = v128.load(mo + pstride), b = v128.load(mo + 5 * pstride), cc = v128.load(mo + 9 * pstride), d = v128.load(mo + 13 * pstride);
          s01 = i32x4.add(i32x4.add(a, b), cc); s11 = i32x4.sub(i32x4.sub(b, cc), d);
        }
        {
          const a = v128.load(mo + 2 * pstride), b = v128.load(mo + 6 * pstride), cc = v128.load(mo + 10 * pstride), d = v128.load(mo + 14 * pstride);
          s02 = i32x4.add(i32x4.add(a, b), cc); s12 = i32x4.sub(i32x4.sub(b, cc), d);
        }
        {
          const a = v128.load(mo + 3 * pstride), b = v128.load(mo + 7 * pstride), cc = v128.load(mo + 11 * pstride), d = v128.load(mo + 15 * pstride);
          s03 = i32x4.add(i32x4.add(a, b), cc); s13 = i32x4.sub(i32x4.sub(b, cc), d);
        }
        const vb = v128.load(bias + (<usize>n0 << 2) + (<usize>half << 4));
        const y00 = i32x4.add(i32x4.shr_s(i32x4.add(i32x4.add(s00, s01), s02), 2), vb);
        const y01 = i32x4.add(i32x4.shr_s(i32x4.sub(i32x4.sub(s01, s02), s03), 2), vb);
        const y10 = i32x4.add(i32x4.shr_s(i32x4.add(i32x4.add(s10, s11), s12), 2), vb);
        const y11 = i32x4.add(i32x4.shr_s(i32x4.sub(i32x4.sub(s11, s12), s13), 2), vb);
        if (half == 0) { y00a = y00; y01a = y01; y10a = y10; y11a = y11; } else { y00b = y00; y01b = y01; y10b = y10; y11b = y11; }
      }
      epi_store8(y00a, y00b, n0, cols, p00, kind, table, table2, zp, qmin, qmax);
      if (has_c) epi_store8(y01a, y01b, n0, cols, p01, kind, table, table2, zp, qmin, qmax);
      if (has_r) epi_store8(y10a, y10b, n0, cols, p10, kind, table, table2, zp, qmin, qmax);
      if (has_r && has_c) epi_store8(y11a, y11b, n0, cols, p11, kind, table, table2, zp, qmin, qmax);
    }
  }
}
