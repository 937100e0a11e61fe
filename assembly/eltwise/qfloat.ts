// Float-mode requantization helpers for the pool and eltwise families (scalar forms; v128 forms in qfloat_simd.ts).
// y = sat(rne(v) + zp): clamp v to [qmin - zp, qmax - zp] first (exact: the bounds are integers), then round half to
// even with the magic bias 12582912.0 (0x4B400000; exact while |v| < 2^22) and subtract (0x4B400000 - zp).
// The clamp is written as (v < lo ? lo : v) then (hi < v ? hi : v), which is what f32x4.pmax / f32x4.pmin compute,
// so scalar and v128 kernels agree bit for bit (NaN passes through both the same way).

export const QF_MAGIC: f32 = 12582912.0;
export const QF_MAGIC_I: i32 = 0x4b400000;

@inline export function qmin_of<T>(): i32 {
  return isSigned<T>() ? -128 : 0;
}
@inline export function qmax_of<T>(): i32 {
  return isSigned<T>() ? 127 : 255;
}

/** rne(v) + zp saturated to [qmin, qmax] (lo = f32(qmin - zp), hi = f32(qmax - zp)). */
@inline export function qf_out(v: f32, lo: f32, hi: f32, zp: i32): i32 {
  v = v < lo ? lo : v;
  v = hi < v ? hi : v;
  return reinterpret<i32>(v + QF_MAGIC) - (QF_MAGIC_I - zp);
}

@inline export function ld8<T>(p: usize): i32 {
  return isSigned<T>() ? <i32>load<i8>(p) : <i32>load<u8>(p);
}

/** DynamicQuantizeLinear's parameters from the data range [mn, mx] (mn <= 0 <= mx): stores the scale (f32) and the
 *  uint8 zero point, returns the zero point. */
@inline export function dynquantParams(mn: f32, mx: f32, scale_out: usize, zp_out: usize): i32 {
  const scale: f32 = (mx - mn) / <f32>255;
  let zp: i32 = 0;
  if (scale != 0) zp = <i32>min(max(nearest<f32>(<f32>0 - mn / scale), <f32>0), <f32>255);
  store<f32>(scale_out, scale);
  store<u8>(zp_out, <u8>zp);
  return zp;
}
