// Requantization core shared by every INT8 family (gemm, conv, dwconv, pool, eltwise): scalar @inline helpers.
// Import from here: `import { rq_fixed, rq_float, ... } from '../requant/core';` (v128 forms: '../requant/core_simd').
//
// Two modes, chosen per node by the host (src/kernels/requant.ts builds the parameter tables):
//
// 1. fixed-point (gemmlowp / TFLite MultiplyByQuantizedMultiplier). The real multiplier M = Sa*Sw[n]/Sy is
//    decomposed on the host into an int32 multiplier q (normalized to [2^30, 2^31), or for 2^-11 <= M < 1 left
//    unnormalized with no shift: src/kernels/requant.ts fixedPointMultipliers) and an exponent: M = q * 2^(l - e) / 2^31
//    with l = max(shift, 0) (left shift) and e = max(-shift, 0) (right shift, 0..31).
//      x  = clamp(acc, INT32_MIN >> l, INT32_MAX >> l) << l   (a left shift that saturates; equals TFLite's
//                                                               x * 2^l whenever that does not overflow)
//      s  = SaturatingRoundingDoublingHighMul(x, q)            = (x*q + 2^30) >> 31 in int64 (q > 0, so the
//                                                               INT32_MIN*INT32_MIN case cannot occur)
//      r  = RoundingDivideByPOT(s, e)                          = floor((s + 2^(e-1) - (s < 0)) / 2^e), e >= 1
//    The v128 form computes the per-lane right shift as another high multiply by 2^(31-e) (wasm has no per-lane
//    variable shift), selecting s where e == 0.
//    Per-channel table FIXED_* (4 channels per 96-byte block, struct of arrays):
//      +0 q[4]  +16 lo[4] (INT32_MIN>>l)  +32 hi[4] (INT32_MAX>>l)  +48 lmul[4] (2^l)
//      +64 rmul[4] (2^(31-e), 0 when e == 0)  +80 rsel[4] (-1 when e == 0 else 0)
//
// 2. float (ONNX QLinearConv / QLinearMatMul reference, XNNPACK fp32): y = f32(acc) * scale[n] in float32,
//    rounded half to even, plus the zero point, saturated. Clamping to [qmin - zp, qmax - zp] before rounding
//    is exact (the bounds are integers), and then the magic-bias trick (+ 12582912.0 = 0x4B400000, valid
//    for |v| < 2^22) rounds half to even for free. Table FLOAT_*: 4 f32 scales per 16-byte block.
//
// After either mode: + output zero point, clamp to [qmin, qmax] (qmin/qmax already narrowed by ReLU/ReLU6/Clip).
//
// 1b. fixed-point, one-multiply form (FIXEDX table; GEMM epilogue kind EPI_FIXEDX): the same results as 1. for
//    multipliers < 1 with right shifts e <= 17, with one i64 multiply instead of two. Derivation (integers, floor
//    division; S = SRDHM result = floor((x*q + 2^30) / 2^31)):
//      RDBPOT(S, e) = floor((S + 2^(e-1) - [S<0]) / 2^e) for e >= 1, and nested floors merge, so
//      r = floor((x*q + 2^30 + (2^(e-1) - [S<0]) * 2^31) / 2^(31+e)).
//    Scaling numerator and denominator by 2^(T-e), with T >= e + 2 uniform over a block of 4 channels, the added
//    constant becomes a multiple of 2^32, so with x' = x * 2^(T-e) and h = floor(x' * q / 2^32) (high dword):
//      r = (h + K - ([S<0] ? M : 0)) >> (T-1),   K = 2^(T-e-2) + 2^(T-2), M = 2^(T-e-1)   (e = 0: K = 2^(T-2), M = 0)
//    [S<0] <=> x*q < -2^30 <=> x < t with t = 0 if q > 2^30, else -1. x is first clamped to +-2^(11+e): beyond that
//    |r| > 512 either way, so the clamped result saturates the same (RDBPOT and SRDHM are monotonic), and
//    |x'| <= 2^(11+T) <= 2^30 for T <= 19. (An unnormalized q, e = 0, clamps at 2^ceil(log2(513 * 2^31 / q)) instead;
//    its block then has T = 2.) The output zero point is folded in: K += zp * 2^(T-1).
//    q = 0 (zero multiplier): K = M = 0, r = zp. Table FIXEDX_* (4 channels per 128-byte block):
//      +0 q[4]  +16 lo[4] (-2^(11+e))  +32 hi[4] (2^(11+e))  +48 pmul[4] (2^(T-e))  +64 t[4]  +80 M[4]
//      +96 K[4] (with zp)  +112 T-1 (one i32 for the block), 12 bytes padding.

export const FIXED_BLOCK: i32 = 96;
export const FIXEDX_BLOCK: i32 = 128;
export const FLOAT_BLOCK: i32 = 16;
export const MAGIC_F: f32 = 12582912.0;
export const MAGIC_I: i32 = 0x4b400000;

/** gemmlowp SaturatingRoundingDoublingHighMul for q > 0 (as produced by quantizeMultiplier). */
@inline export function rq_srdhm(x: i32, q: i32): i32 {
  return <i32>((<i64>x * <i64>q + (1 << 30)) >> 31);
}

/** gemmlowp RoundingDivideByPOT(s, e) for e in 0..31. */
@inline export function rq_rdbpot(s: i32, e: i32): i32 {
  const mask = (1 << e) - 1;
  const threshold = (mask >> 1) + (s < 0 ? 1 : 0);
  return (s >> e) + ((s & mask) > threshold ? 1 : 0);
}

/** Fixed-point requantization of one accumulator for channel `ch` of a FIXED table; returns acc*M rounded (no zp). */
@inline export function rq_fixed(acc: i32, table: usize, ch: i32): i32 {
  const p = table + <usize>((ch >> 2) * FIXED_BLOCK + ((ch & 3) << 2));
  const lo = load<i32>(p, 16);
  const hi = load<i32>(p, 32);
  const x = (acc < lo ? lo : acc > hi ? hi : acc) * load<i32>(p, 48);
  const s = rq_srdhm(x, load<i32>(p));
  if (load<i32>(p, 80) != 0) return s;
  return rq_srdhm(s + (s >> 31), load<i32>(p, 64));
}

/** Fixed-point requantization to the output range: + zp, clamp [qmin, qmax]. */
@inline export function rq_fixed_out(acc: i32, table: usize, ch: i32, zp: i32, qmin: i32, qmax: i32): i32 {
  const v = rq_fixed(acc, table, ch) + zp;
  return v < qmin ? qmin : v > qmax ? qmax : v;
}

/** Float-mode requantization to the output range (ONNX semantics) with a per-channel f32 scale. */
@inline export function rq_float_out(acc: i32, scale: f32, zp: i32, qmin: i32, qmax: i32): i32 {
  let v = <f32>acc * scale;
  const lo = <f32>(qmin - zp);
  const hi = <f32>(qmax - zp);
  v = v < lo ? lo : v > hi ? hi : v;
  return reinterpret<i32>(v + MAGIC_F) - (MAGIC_I - zp);
}

/** Float-mode scale of channel `ch` in a FLOAT table. */
@inline export function rq_float_scale(table: usize, ch: i32): f32 {
  return load<f32>(table + (<usize>ch << 2));
}

/** One-multiply fixed-point requantization (FIXEDX table, zero point included) to the output range. */
@inline export function rq_fixedx_out(acc: i32, table: usize, ch: i32, qmin: i32, qmax: i32): i32 {
  const blk = table + <usize>((ch >> 2) * FIXEDX_BLOCK);
  const p = blk + (<usize>(ch & 3) << 2);
  const lo = load<i32>(p, 16);
  const hi = load<i32>(p, 32);
  const x = acc < lo ? lo : acc > hi ? hi : acc;
  const h = <i32>((<i64>(x * load<i32>(p, 48)) * <i64>load<i32>(p)) >> 32);
  const v = (h + load<i32>(p, 96) - (x < load<i32>(p, 64) ? load<i32>(p, 80) : 0)) >> load<i32>(blk, 112);
  return v < qmin ? qmin : v > qmax ? qmax : v;
}
