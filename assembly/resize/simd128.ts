// Resize kernels, SIMD128 (simd128 and relaxed builds; float math lowers the same on x86 and ARM). Four channels
// per step with the same float32 operation order as the oracle (assembly/reference/resize.ts: weight products per
// pixel, then mul / add left to right; no fused multiply-add), so results are bit-identical to the scalar kernels.
// Scalar tail for C % 4.

import { bilinearChannels } from './common';

@inline function lerp4(a: v128, b: v128, d: v128, e: v128, p11: v128, p21: v128, p12: v128, p22: v128): v128 {
  const v = f32x4.add(f32x4.mul(p11, a), f32x4.mul(p21, b));
  return f32x4.add(f32x4.add(v, f32x4.mul(p12, d)), f32x4.mul(p22, e));
}

/** 4 bytes -> f32x4 (sign- or zero-extended). */
@inline function ld4x8<T>(p: usize): v128 {
  const v = v128.load32_zero(p);
  if (isSigned<T>()) return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v)));
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v)));
}

@inline function bilinearRowV<T>(x: usize, y: usize, IH: i32, IW: i32, C: i32, OH: i32, OW: i32, ytab: usize, xtab: usize, r: i32): void {
  const n = r / OH;
  const oy = r - n * OH;
  const yt = ytab + (<usize>oy << 4);
  const es = <usize>sizeof<T>();
  const row0 = x + <usize>(n * IH + load<i32>(yt)) * IW * C * es;
  const row1 = x + <usize>(n * IH + load<i32>(yt, 4)) * IW * C * es;
  const wy0 = load<f32>(yt, 8), wy1 = load<f32>(yt, 12);
  let yp = y + <usize>r * OW * C * es;
  for (let ox = 0; ox < OW; ox++) {
    const xt = xtab + (<usize>ox << 4);
    const o0 = <usize>load<i32>(xt) * C * es, o1 = <usize>load<i32>(xt, 4) * C * es;
    const wx0 = load<f32>(xt, 8), wx1 = load<f32>(xt, 12);
    const p11: f32 = wx0 * wy0, p21: f32 = wx1 * wy0, p12: f32 = wx0 * wy1, p22: f32 = wx1 * wy1;
    const v11 = f32x4.splat(p11), v21 = f32x4.splat(p21), v12 = f32x4.splat(p12), v22 = f32x4.splat(p22);
    const q00 = row0 + o0, q01 = row0 + o1, q10 = row1 + o0, q11 = row1 + o1;
    let c = 0;
    if (isFloat<T>()) {
      for (; c + 4 <= C; c += 4) {
        const ce = <usize>c << 2;
        v128.store(yp + ce, lerp4(v128.load(q00 + ce), v128.load(q01 + ce), v128.load(q10 + ce), v128.load(q11 + ce), v11, v21, v12, v22));
      }
    } else {
      for (; c + 4 <= C; c += 4) {
        const ce = <usize>c;
        const v = lerp4(ld4x8<T>(q00 + ce), ld4x8<T>(q01 + ce), ld4x8<T>(q10 + ce), ld4x8<T>(q11 + ce), v11, v21, v12, v22);
        const q = i32x4.trunc_sat_f32x4_s(v);
        const w = i16x8.narrow_i32x4_s(q, q);
        const b = isSigned<T>() ? i8x16.narrow_i16x8_s(w, w) : i8x16.narrow_i16x8_u(w, w);
        v128.store32_lane(yp + ce, b, 0);
      }
    }
    bilinearChannels<T>(q00, q01, q10, q11, p11, p21, p12, p22, yp, c, C); // tail: C % 4
    yp += <usize>C * es;
  }
}

export function f32_resize_bilinear__simd128(x: usize, y: usize, IH: i32, IW: i32, C: i32, OH: i32, OW: i32, ytab: usize, xtab: usize, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) bilinearRowV<f32>(x, y, IH, IW, C, OH, OW, ytab, xtab, r);
}
export function qs8_resize_bilinear__simd128(x: usize, y: usize, IH: i32, IW: i32, C: i32, OH: i32, OW: i32, ytab: usize, xtab: usize, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) bilinearRowV<i8>(x, y, IH, IW, C, OH, OW, ytab, xtab, r);
}
export function qu8_resize_bilinear__simd128(x: usize, y: usize, IH: i32, IW: i32, C: i32, OH: i32, OW: i32, ytab: usize, xtab: usize, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) bilinearRowV<u8>(x, y, IH, IW, C, OH, OW, ytab, xtab, r);
}
