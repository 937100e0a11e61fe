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
import { epi_store4x8 } from '../gemm/epilogue_simd';
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
