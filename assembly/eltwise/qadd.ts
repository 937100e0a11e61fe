// QLinearAdd arithmetic as onnxruntime's x86 AVX2 kernel computes it (scalar forms; v128 forms in qadd_simd.ts):
//   y = sat8(cvt(fma(xo, ro, fma(xi, ri, fixed))))   all in float32, each fma rounded once,
// xo / xi the raw input bytes (zero points are folded into fixed on the host), cvt = cvtps_epi32 (round half to
// even; NaN and |v| >= 2^31 give INT32_MIN), sat8 = the saturating packs down to 8 bits.
// Wasm has no deterministic fused multiply-add, so fma_q8 emulates one exactly: x * r is exact in f64 (|x| < 2^9,
// r has 24 bits), the f64 sum is made round-to-odd with its TwoSum error, and round-to-odd at 53 bits followed by
// the f64 -> f32 rounding gives the correctly rounded f32 result (53 >= 24 + 2).

/** f32(x * r + t) rounded once, for an integer |x| < 2^9. */
@inline export function fma_q8(x: i32, r: f32, t: f32): f32 {
  const p = <f64>x * <f64>r;
  const u = <f64>t;
  const s = p + u;
  const bb = s - p;
  const err = (p - (s - bb)) + (u - bb);
  let bits = reinterpret<i64>(s);
  if (err != 0 && (bits & 1) == 0) bits += (reinterpret<i64>(err) ^ bits) < 0 ? -1 : 1;
  return <f32>reinterpret<f64>(bits);
}

/** cvtps_epi32 then saturation to the 8-bit range of T. */
@inline export function qadd_out<T>(v: f32): i32 {
  const r: i32 = v >= -2147483648.0 && v < 2147483648.0 ? <i32>nearest<f32>(v) : i32.MIN_VALUE;
  const lo: i32 = isSigned<T>() ? -128 : 0;
  const hi: i32 = isSigned<T>() ? 127 : 255;
  return r < lo ? lo : r > hi ? hi : r;
}
