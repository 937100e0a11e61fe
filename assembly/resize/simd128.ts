// Resize kernels, SIMD128 (simd128 and relaxed builds; float math lowers the same on x86 and ARM). Four channels
// per step with the same float32 operation order as the oracle (assembly/reference/resize.ts: mul, add; no fused
// multiply-add), so results are bit-identical to the scalar kernels. Scalar tail for C % 4.

@inline function lerp4(a: v128, b: v128, d: v128, e: v128, wx0: v128, wx1: v128, wy0: v128, wy1: v128): v128 {
  const t0 = f32x4.add(f32x4.mul(a, wx0), f32x4.mul(b, wx1));
  const t1 = f32x4.add(f32x4.mul(d, wx0), f32x4.mul(e, wx1));
  return f32x4.add(f32x4.mul(t0, wy0), f32x4.mul(t1, wy1));
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
  const vy0 = f32x4.splat(wy0), vy1 = f32x4.splat(wy1), half = f32x4.splat(0.5);
  let yp = y + <usize>r * OW * C * es;
  for (let ox = 0; ox < OW; ox++) {
    const xt = xtab + (<usize>ox << 4);
    const o0 = <usize>load<i32>(xt) * C * es, o1 = <usize>load<i32>(xt, 4) * C * es;
    const wx0 = load<f32>(xt, 8), wx1 = load<f32>(xt, 12);
    const vx0 = f32x4.splat(wx0), vx1 = f32x4.splat(wx1);
    const p00 = row0 + o0, p01 = row0 + o1, p10 = row1 + o0, p11 = row1 + o1;
    let c = 0;
    if (isFloat<T>()) {
      for (; c + 4 <= C; c += 4) {
        const ce = <usize>c << 2;
        v128.store(yp + ce, lerp4(v128.load(p00 + ce), v128.load(p01 + ce), v128.load(p10 + ce), v128.load(p11 + ce), vx0, vx1, vy0, vy1));
      }
    } else {
      for (; c + 4 <= C; c += 4) {
        const ce = <usize>c;
        const v = lerp4(ld4x8<T>(p00 + ce), ld4x8<T>(p01 + ce), ld4x8<T>(p10 + ce), ld4x8<T>(p11 + ce), vx0, vx1, vy0, vy1);
        const q = i32x4.trunc_sat_f32x4_s(f32x4.floor(f32x4.add(v, half)));
        const w = i16x8.narrow_i32x4_s(q, q);
        const b = isSigned<T>() ? i8x16.narrow_i16x8_s(w, w) : i8x16.narrow_i16x8_u(w, w);
        v128.store32_lane(yp + ce, b, 0);
      }
    }
    for (; c < C; c++) {
      const ce = <usize>c * es;
      const t0: f32 = <f32>load<T>(p00 + ce) * wx0 + <f32>load<T>(p01 + ce) * wx1;
      const t1: f32 = <f32>load<T>(p10 + ce) * wx0 + <f32>load<T>(p11 + ce) * wx1;
      const v: f32 = t0 * wy0 + t1 * wy1;
      if (isFloat<T>()) store<f32>(yp + ce, v);
      else {
        let q = <i32>Mathf.floor(v + 0.5);
        const lo = isSigned<T>() ? -128 : 0, hi = isSigned<T>() ? 127 : 255;
        q = q < lo ? lo : q > hi ? hi : q;
        store<u8>(yp + ce, <u8>q);
      }
    }
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
