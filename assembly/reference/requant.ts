// Requantization oracle, written from the specifications (never optimized, independent of assembly/requant/):
// - gemmlowp fixedpoint.h SaturatingRoundingDoublingHighMul / RoundingDivideByPOT, TFLite
//   MultiplyByQuantizedMultiplier(x, q, shift) with left shift max(shift, 0) and right shift max(-shift, 0);
//   the left shift saturates to the largest multiple of 2^l in int32 (Octet's definition where TFLite overflows);
// - ONNX QLinearConv/QLinearMatMul: float32 multiply, round half to even, add zero point, saturate.

export function ref_srdhm(a: i32, b: i32): i32 {
  if (a == b && a == i32.MIN_VALUE) return i32.MAX_VALUE;
  const ab: i64 = <i64>a * <i64>b;
  const nudge: i64 = ab >= 0 ? (1 << 30) : 1 - (1 << 30);
  return <i32>((ab + nudge) / (<i64>1 << 31)); // C truncating division
}

export function ref_rdbpot(x: i32, exponent: i32): i32 {
  const mask: i32 = (1 << exponent) - 1;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/** TFLite MultiplyByQuantizedMultiplier with Octet's saturating left shift. */
export function ref_mul_by_quantized_multiplier(x: i32, q: i32, shift: i32): i32 {
  const l = shift > 0 ? shift : 0;
  const r = shift > 0 ? 0 : -shift;
  const lo = i32.MIN_VALUE >> l;
  const hi = i32.MAX_VALUE >> l;
  const xs = (x < lo ? lo : x > hi ? hi : x) << l;
  return ref_rdbpot(ref_srdhm(xs, q), r);
}

export function ref_requant_fixed(acc: i32, q: i32, shift: i32, zp: i32, qmin: i32, qmax: i32): i32 {
  const v = ref_mul_by_quantized_multiplier(acc, q, shift) + zp;
  return v < qmin ? qmin : v > qmax ? qmax : v;
}

export function ref_requant_float(acc: i32, scale: f32, zp: i32, qmin: i32, qmax: i32): i32 {
  const y: f32 = nearest<f32>(<f32>acc * scale); // round half to even
  const v: f64 = <f64>y + <f64>zp;
  return v < <f64>qmin ? qmin : v > <f64>qmax ? qmax : <i32>v;
}
