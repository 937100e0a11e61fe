// INT8 element-wise kernels, SIMD128 (simd128 and relaxed builds, one version for the x86 and ARM paths: float
// math and byte shuffles lower the same on both). Semantics in assembly/reference/eltwise.ts; argument lists as
// in ./scalar.ts. 8 elements per step (load8x8 widening), scalar tails so no access runs past a tensor.
// The 256-entry LUT: x8_lut__simd128_swizzle does 16 i8x16.swizzle lookups into 16-byte sub-tables (out-of-range
// indices give 0), but the scalar loop is faster here (see below), so the host uses x8_lut__scalar on every path.
import { qf_out, qmin_of, qmax_of, ld8, dynquantParams } from './qfloat';
import { qfv_out, narrow8, narrow16, ld8x8 } from './qfloat_simd';
import { fma_q8, qadd_out } from './qadd';
import { qadd4 } from './qadd_simd';

// QLinearAdd prm block (64 bytes, built by prepareBinary in src/kernels/eltwise.ts):
//   0 f32 r_big, 4 f32 r_small, 8 f32 fixed, 12 i32 outer_is_big, 16 i32 exact (see ./scalar.ts),
//   20 i32 lo, 24 i32 hi: output clamp (full type range, or a fused Relu / Clip proven equal to its table),
//   28 i32 s: shift of the fixed-point screen (0: none, every element takes the exact form),
//   32 i32 (i16 M_big >> 15, i16 M_small >> 15), 36 i32 (i16 M_big & 0x7fff, i16 M_small & 0x7fff), M = rne(r * 2^s),
//   40 i32 F = rne(fixed * 2^s) + 2^(s-1), 44 i32 W, 48 i32 2^s - 1, 52 i32 2W.
// Fast form (16 elements per step): acc = x_big * M_big + x_small * M_small + F (two i32x4.dot_i16x8_s on the
// interleaved bytes), y = acc >> s. The host bounds |acc / 2^s - 1/2 - v| < W / 2^s, v the float32 result of the
// fused formula (integer multiplier rounding, both float32 roundings); so unless acc is within W of a multiple of
// 2^s (v near a half-integer, where the rounding of v decides), floor(acc / 2^s) = rne(v) exactly. A 16-byte step
// with any such lane is recomputed by the exact form (qadd4), so the result is the oracle's bit for bit.

@inline function ext_lo<T>(v: v128): v128 {
  return isSigned<T>() ? i16x8.extend_low_i8x16_s(v) : i16x8.extend_low_i8x16_u(v);
}
@inline function ext_hi<T>(v: v128): v128 {
  return isSigned<T>() ? i16x8.extend_high_i8x16_s(v) : i16x8.extend_high_i8x16_u(v);
}
@inline function clamp16<T>(v: v128, lo: v128, hi: v128): v128 {
  return isSigned<T>() ? i8x16.min_s(i8x16.max_s(v, lo), hi) : i8x16.min_u(i8x16.max_u(v, lo), hi);
}
@inline function clampS(v: i32, lo: i32, hi: i32): i32 {
  return v < lo ? lo : v > hi ? hi : v;
}

/** One lane group of the screen: 4 pairs (x_big, x_small) as i16 -> acc. */
@inline function screen4(w: v128, vmh: v128, vml: v128, vF: v128): v128 {
  return i32x4.add(i32x4.add(i32x4.shl(i32x4.dot_i16x8_s(w, vmh), 15), i32x4.dot_i16x8_s(w, vml)), vF);
}
@inline function near4(acc: v128, vW: v128, vmask: v128, v2W: v128): v128 {
  return i32x4.lt_s(v128.and(i32x4.add(acc, vW), vmask), v2W);
}

/** 16 results of the exact form (qadd4) from 16 big / small bytes, clamped (a call: rare on the screened path). */
function exact16<T>(xb: v128, xs: v128, outerBig: bool, vro: v128, vri: v128, vfx: v128, exact: bool, vlo: v128, vhi: v128): v128 {
  const xo = outerBig ? xb : xs, xi = outerBig ? xs : xb;
  const o0 = ext_lo<T>(xo), o1 = ext_hi<T>(xo), i0 = ext_lo<T>(xi), i1 = ext_hi<T>(xi);
  const r0 = qadd4(i32x4.extend_low_i16x8_s(o0), i32x4.extend_low_i16x8_s(i0), vro, vri, vfx, exact);
  const r1 = qadd4(i32x4.extend_high_i16x8_s(o0), i32x4.extend_high_i16x8_s(i0), vro, vri, vfx, exact);
  const r2 = qadd4(i32x4.extend_low_i16x8_s(o1), i32x4.extend_low_i16x8_s(i1), vro, vri, vfx, exact);
  const r3 = qadd4(i32x4.extend_high_i16x8_s(o1), i32x4.extend_high_i16x8_s(i1), vro, vri, vfx, exact);
  return clamp16<T>(narrow16<T>(r0, r1, r2, r3), vlo, vhi);
}

/** n contiguous outputs: big at ap, small at bp (bsplat: one small value for the whole span). */
function addSpan<T>(ap: usize, bp: usize, bsplat: bool, yp: usize, n: i32, prm: usize, exact: bool): void {
  const rBig = load<f32>(prm), rSmall = load<f32>(prm, 4), fixed = load<f32>(prm, 8), outerBig = load<i32>(prm, 12) != 0;
  const ro = outerBig ? rBig : rSmall, ri = outerBig ? rSmall : rBig;
  const lo = load<i32>(prm, 20), hi = load<i32>(prm, 24), s = load<i32>(prm, 28);
  const vro = f64x2.splat(<f64>ro), vri = f64x2.splat(<f64>ri), vfx = f64x2.splat(<f64>fixed);
  const vlo = i8x16.splat(<i8>lo), vhi = i8x16.splat(<i8>hi);
  const vbs = i8x16.splat(<i8>load<u8>(bp));
  let c = 0;
  if (s) {
    const vmh = i32x4.splat(load<i32>(prm, 32)), vml = i32x4.splat(load<i32>(prm, 36)), vF = i32x4.splat(load<i32>(prm, 40));
    const vW = i32x4.splat(load<i32>(prm, 44)), vmask = i32x4.splat(load<i32>(prm, 48)), v2W = i32x4.splat(load<i32>(prm, 52));
    for (; c + 16 <= n; c += 16) {
      const xb = v128.load(ap + c);
      const xs = bsplat ? vbs : v128.load(bp + c);
      const p0 = i8x16.shuffle(xb, xs, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const p1 = i8x16.shuffle(xb, xs, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      const a0 = screen4(ext_lo<T>(p0), vmh, vml, vF), a1 = screen4(ext_hi<T>(p0), vmh, vml, vF);
      const a2 = screen4(ext_lo<T>(p1), vmh, vml, vF), a3 = screen4(ext_hi<T>(p1), vmh, vml, vF);
      const near = v128.or(v128.or(near4(a0, vW, vmask, v2W), near4(a1, vW, vmask, v2W)), v128.or(near4(a2, vW, vmask, v2W), near4(a3, vW, vmask, v2W)));
      let out: v128;
      if (v128.any_true(near)) out = exact16<T>(xb, xs, outerBig, vro, vri, vfx, exact, vlo, vhi);
      else out = clamp16<T>(narrow16<T>(i32x4.shr_s(a0, s), i32x4.shr_s(a1, s), i32x4.shr_s(a2, s), i32x4.shr_s(a3, s)), vlo, vhi);
      v128.store(yp + c, out);
    }
  } else {
    for (; c + 16 <= n; c += 16) {
      const xb = v128.load(ap + c);
      v128.store(yp + c, exact16<T>(xb, bsplat ? vbs : v128.load(bp + c), outerBig, vro, vri, vfx, exact, vlo, vhi));
    }
  }
  for (; c < n; c++) {
    const xb = ld8<T>(ap + c), xs = ld8<T>(bsplat ? bp : bp + c);
    const v = fma_q8(outerBig ? xb : xs, ro, fma_q8(outerBig ? xs : xb, ri, fixed));
    store<u8>(yp + c, <u8>clampS(qadd_out<T>(v), lo, hi));
  }
}

/** prm + 16: i32 exact (the host proved every f64 sum inside the fused multiply-adds exact: no correction step). */
@inline function addV<T>(a: usize, b: usize, y: usize, C: i32, rdiv: i32, bstride: i32, bcs: i32, prm: usize, r0: i32, r1: i32): void {
  const exact = load<i32>(prm, 16) != 0;
  if (bcs && rdiv == 1 && bstride == C) {
    // same shape: one contiguous span
    const off = <usize>r0 * C;
    addSpan<T>(a + off, b + off, false, y + off, (r1 - r0) * C, prm, exact);
    return;
  }
  for (let r = r0; r < r1; r++) {
    const off = <usize>r * C;
    addSpan<T>(a + off, b + <usize>((r / rdiv) * bstride), bcs == 0, y + off, C, prm, exact);
  }
}

@inline function mulV<T>(a: usize, b: usize, y: usize, C: i32, rdiv: i32, bstride: i32, bcs: i32, prm: usize, r0: i32, r1: i32): void {
  const ratio = load<f32>(prm);
  const za = load<i32>(prm, 8), zb = load<i32>(prm, 12), zy = load<i32>(prm, 16);
  const lo = <f32>(qmin_of<T>() - zy), hi = <f32>(qmax_of<T>() - zy);
  const vr = f32x4.splat(ratio), vza = i16x8.splat(<i16>za), vzb = i16x8.splat(<i16>zb);
  const vlo = f32x4.splat(lo), vhi = f32x4.splat(hi), vmz = i32x4.splat(0x4b400000 - zy);
  for (let r = r0; r < r1; r++) {
    const ap = a + <usize>r * C, yp = y + <usize>r * C;
    const bp = b + <usize>((r / rdiv) * bstride);
    let c = 0;
    const bsplat = i16x8.splat(<i16>(ld8<T>(bp) - zb));
    for (; c + 8 <= C; c += 8) {
      const va = i16x8.sub(ld8x8<T>(ap + c), vza);
      const vb = bcs ? i16x8.sub(ld8x8<T>(bp + c), vzb) : bsplat;
      const p0 = i32x4.extmul_low_i16x8_s(va, vb);
      const p1 = i32x4.extmul_high_i16x8_s(va, vb);
      const s0 = f32x4.mul(f32x4.convert_i32x4_s(p0), vr);
      const s1 = f32x4.mul(f32x4.convert_i32x4_s(p1), vr);
      v128.store64_lane(yp + c, narrow8<T>(qfv_out(s0, vlo, vhi, vmz), qfv_out(s1, vlo, vhi, vmz)), 0);
    }
    for (; c < C; c++) {
      const v: f32 = <f32>((ld8<T>(ap + c) - za) * (ld8<T>(bp + <usize>(c * bcs)) - zb)) * ratio;
      store<u8>(yp + c, <u8>qf_out(v, lo, hi, zy));
    }
  }
}

@inline function quantizeV<T>(x: usize, y: usize, cols: i32, scales: usize, zps: usize, perCol: i32, period: i32, r0: i32, r1: i32): void {
  const qmn = i32x4.splat(qmin_of<T>()), qmx = i32x4.splat(qmax_of<T>()), vmagic = i32x4.splat(0x4b400000);
  for (let r = r0; r < r1; r++) {
    const xp = x + (<usize>r * cols << 2), yp = y + <usize>r * cols;
    let c = 0;
    if (perCol) {
      for (; c + 8 <= cols; c += 8) {
        const cp = <usize>c << 2;
        const z0 = v128.load(zps + cp), z1 = v128.load(zps + cp, 16);
        const q0 = qfv_out(f32x4.div(v128.load(xp + cp), v128.load(scales + cp)),
          f32x4.convert_i32x4_s(i32x4.sub(qmn, z0)), f32x4.convert_i32x4_s(i32x4.sub(qmx, z0)), i32x4.sub(vmagic, z0));
        const q1 = qfv_out(f32x4.div(v128.load(xp + cp, 16), v128.load(scales + cp, 16)),
          f32x4.convert_i32x4_s(i32x4.sub(qmn, z1)), f32x4.convert_i32x4_s(i32x4.sub(qmx, z1)), i32x4.sub(vmagic, z1));
        v128.store64_lane(yp + c, narrow8<T>(q0, q1), 0);
      }
    } else {
      const k = <usize>(r % period) << 2;
      const zp = load<i32>(zps + k);
      const vs = f32x4.splat(load<f32>(scales + k));
      const vlo = f32x4.splat(<f32>(qmin_of<T>() - zp)), vhi = f32x4.splat(<f32>(qmax_of<T>() - zp)), vmz = i32x4.splat(0x4b400000 - zp);
      for (; c + 8 <= cols; c += 8) {
        const cp = <usize>c << 2;
        const q0 = qfv_out(f32x4.div(v128.load(xp + cp), vs), vlo, vhi, vmz);
        const q1 = qfv_out(f32x4.div(v128.load(xp + cp, 16), vs), vlo, vhi, vmz);
        v128.store64_lane(yp + c, narrow8<T>(q0, q1), 0);
      }
    }
    for (; c < cols; c++) {
      const k = <usize>(perCol ? c : r % period) << 2;
      const zp = load<i32>(zps + k);
      const v = load<f32>(xp + (<usize>c << 2)) / load<f32>(scales + k);
      store<u8>(yp + c, <u8>qf_out(v, <f32>(qmin_of<T>() - zp), <f32>(qmax_of<T>() - zp), zp));
    }
  }
}

@inline function dequantizeV<T>(x: usize, y: usize, cols: i32, scales: usize, zps: usize, perCol: i32, period: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const xp = x + <usize>r * cols, yp = y + (<usize>r * cols << 2);
    let c = 0;
    if (perCol) {
      for (; c + 8 <= cols; c += 8) {
        const cp = <usize>c << 2;
        const v = ld8x8<T>(xp + c);
        const d0 = i32x4.sub(i32x4.extend_low_i16x8_s(v), v128.load(zps + cp));
        const d1 = i32x4.sub(i32x4.extend_high_i16x8_s(v), v128.load(zps + cp, 16));
        v128.store(yp + cp, f32x4.mul(f32x4.convert_i32x4_s(d0), v128.load(scales + cp)));
        v128.store(yp + cp, f32x4.mul(f32x4.convert_i32x4_s(d1), v128.load(scales + cp, 16)), 16);
      }
    } else {
      const k = <usize>(r % period) << 2;
      const vz = i32x4.splat(load<i32>(zps + k));
      const vs = f32x4.splat(load<f32>(scales + k));
      for (; c + 8 <= cols; c += 8) {
        const cp = <usize>c << 2;
        const v = ld8x8<T>(xp + c);
        v128.store(yp + cp, f32x4.mul(f32x4.convert_i32x4_s(i32x4.sub(i32x4.extend_low_i16x8_s(v), vz)), vs));
        v128.store(yp + cp, f32x4.mul(f32x4.convert_i32x4_s(i32x4.sub(i32x4.extend_high_i16x8_s(v), vz)), vs), 16);
      }
    }
    for (; c < cols; c++) {
      const k = <usize>(perCol ? c : r % period) << 2;
      store<f32>(yp + (<usize>c << 2), <f32>(ld8<T>(xp + c) - load<i32>(zps + k)) * load<f32>(scales + k));
    }
  }
}

export function qs8_add__simd128(a: usize, b: usize, y: usize, C: i32, rdiv: i32, bstride: i32, bcs: i32, prm: usize, r0: i32, r1: i32): void {
  addV<i8>(a, b, y, C, rdiv, bstride, bcs, prm, r0, r1);
}
export function qu8_add__simd128(a: usize, b: usize, y: usize, C: i32, rdiv: i32, bstride: i32, bcs: i32, prm: usize, r0: i32, r1: i32): void {
  addV<u8>(a, b, y, C, rdiv, bstride, bcs, prm, r0, r1);
}
export function qs8_mul__simd128(a: usize, b: usize, y: usize, C: i32, rdiv: i32, bstride: i32, bcs: i32, prm: usize, r0: i32, r1: i32): void {
  mulV<i8>(a, b, y, C, rdiv, bstride, bcs, prm, r0, r1);
}
export function qu8_mul__simd128(a: usize, b: usize, y: usize, C: i32, rdiv: i32, bstride: i32, bcs: i32, prm: usize, r0: i32, r1: i32): void {
  mulV<u8>(a, b, y, C, rdiv, bstride, bcs, prm, r0, r1);
}
export function qs8_quantize__simd128(x: usize, y: usize, cols: i32, scales: usize, zps: usize, perCol: i32, period: i32, r0: i32, r1: i32): void {
  quantizeV<i8>(x, y, cols, scales, zps, perCol, period, r0, r1);
}
export function qu8_quantize__simd128(x: usize, y: usize, cols: i32, scales: usize, zps: usize, perCol: i32, period: i32, r0: i32, r1: i32): void {
  quantizeV<u8>(x, y, cols, scales, zps, perCol, period, r0, r1);
}
export function qs8_dequantize__simd128(x: usize, y: usize, cols: i32, scales: usize, zps: usize, perCol: i32, period: i32, r0: i32, r1: i32): void {
  dequantizeV<i8>(x, y, cols, scales, zps, perCol, period, r0, r1);
}
export function qu8_dequantize__simd128(x: usize, y: usize, cols: i32, scales: usize, zps: usize, perCol: i32, period: i32, r0: i32, r1: i32): void {
  dequantizeV<u8>(x, y, cols, scales, zps, perCol, period, r0, r1);
}

// Measured slower than the scalar u32-packed loop on x86 (2.1 vs 2.6 GB/s, 256 KB, Xeon 2.5 GHz, Node 20), so the
// host runs x8_lut__scalar on every path; kept for engines where swizzle is one instruction (ARM tbl).
export function x8_lut__simd128_swizzle(x: usize, y: usize, cols: i32, xstride: i32, ystride: i32, table: usize, r0: i32, r1: i32): void {
  const v16 = i8x16.splat(16);
  for (let r = r0; r < r1; r++) {
    const xp = x + <usize>r * xstride, yp = y + <usize>r * ystride;
    let c = 0;
    for (; c + 16 <= cols; c += 16) {
      let v = v128.load(xp + c);
      let o = i8x16.swizzle(v128.load(table), v);
      for (let k = 1; k < 16; k++) {
        v = i8x16.sub(v, v16);
        o = v128.or(o, i8x16.swizzle(v128.load(table + (<usize>k << 4)), v));
      }
      v128.store(yp + c, o);
    }
    for (; c < cols; c++) store<u8>(yp + c, load<u8>(table + <usize>load<u8>(xp + c)));
  }
}

export function x8_copy__simd128(x: usize, y: usize, cols: i32, xstride: i32, ystride: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const xp = x + <usize>r * xstride, yp = y + <usize>r * ystride;
    let c = 0;
    for (; c + 16 <= cols; c += 16) v128.store(yp + c, v128.load(xp + c));
    for (; c < cols; c++) store<u8>(yp + c, load<u8>(xp + c));
  }
}

export function x8_resize_nearest__simd128(x: usize, y: usize, IH: i32, IW: i32, C: i32, OH: i32, OW: i32, ymap: usize, xmap: usize, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const n = r / OH;
    const oy = r - n * OH;
    const src = x + <usize>(n * IH + load<i32>(ymap + (<usize>oy << 2))) * IW * C;
    let yp = y + <usize>r * OW * C;
    for (let ox = 0; ox < OW; ox++) {
      const sp = src + <usize>load<i32>(xmap + (<usize>ox << 2)) * C;
      let c = 0;
      for (; c + 16 <= C; c += 16) v128.store(yp + c, v128.load(sp + c));
      for (; c + 4 <= C; c += 4) store<u32>(yp + c, load<u32>(sp + c));
      for (; c < C; c++) store<u8>(yp + c, load<u8>(sp + c));
      yp += C;
    }
  }
}

/** DynamicQuantizeLinear over n float32 values (as f32_dynquant_u8__scalar), 16 values per step. */
export function f32_dynquant_u8__simd128(x: usize, n: i32, y: usize, scale_out: usize, zp_out: usize): void {
  let vmn = f32x4.splat(0), vmx = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + (<usize>i << 2));
    vmn = f32x4.pmin(v, vmn);
    vmx = f32x4.pmax(v, vmx);
  }
  let mn = min(min(f32x4.extract_lane(vmn, 0), f32x4.extract_lane(vmn, 1)), min(f32x4.extract_lane(vmn, 2), f32x4.extract_lane(vmn, 3)));
  let mx = max(max(f32x4.extract_lane(vmx, 0), f32x4.extract_lane(vmx, 1)), max(f32x4.extract_lane(vmx, 2), f32x4.extract_lane(vmx, 3)));
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
  }
  const zp = dynquantParams(mn, mx, scale_out, zp_out);
  const scale = load<f32>(scale_out);
  if (scale == 0) {
    memory.fill(y, <u8>zp, <usize>n);
    return;
  }
  const nz: i32 = -zp, pz: i32 = 255 - zp;
  const lo = <f32>nz, hi = <f32>pz;
  const vs = f32x4.splat(scale), vlo = f32x4.splat(lo), vhi = f32x4.splat(hi), vzp = i32x4.splat(zp);
  i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    const q0 = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.div(v128.load(p), vs)), vlo), vhi)), vzp);
    const q1 = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.div(v128.load(p, 16), vs)), vlo), vhi)), vzp);
    const q2 = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.div(v128.load(p, 32), vs)), vlo), vhi)), vzp);
    const q3 = i32x4.add(i32x4.trunc_sat_f32x4_s(f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.div(v128.load(p, 48), vs)), vlo), vhi)), vzp);
    v128.store(y + <usize>i, i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)));
  }
  for (; i < n; i++) {
    const f = min(max(nearest<f32>(load<f32>(x + (<usize>i << 2)) / scale), lo), hi);
    store<u8>(y + <usize>i, <u8>(<i32>f + zp));
  }
}
