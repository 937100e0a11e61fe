// Fast exact gemmlowp requantization for depthwise convolution (simd128 and relaxed builds), used when the host
// proves at pack time that every accumulator satisfies |acc| < 2^22 and every channel's multiplier is < 1 (no left
// shift): then
//   SaturatingRoundingDoublingHighMul(acc, q) = high32(2acc * q + 2^31)             (one i64 extmul pair)
//   RoundingDivideByPOT(s, e)                  = sign(t) * floor(|t| + 1/2), t = f32(s) * 2^-e
// and every float step is exact: |s| < 2^22, so t and |t| + 1/2 fit the 24-bit significand. This replaces the second
// 64-bit high multiply of the general path (assembly/requant/core_simd.ts) and gives the same bits (tests check it
// against the oracle). Table "FIXB": per 4 channels 48 bytes: q[4] (i32), 2^-e[4] (f32), e[4] (i32; scalar tail).
//
// Mode 3 (table "F64Q": per channel Q = q * 2^-31 as f64, 32 bytes per 4 channels), used when every channel has
// shift 0 (Octet's single-rounding multipliers, src/kernels/requant.ts fixedPointMultiplier) and the host proves
// |acc| * q < 2^52 for every accumulator: gemmlowp's result is then SRDHM(acc, q) = floor((acc * q + 2^30) / 2^31)
// = floor(acc * Q + 1/2), and in f64 acc * Q is exact (< 2^52 with 31 fraction bits: 53 bits), so is
// acc * Q + 2^-32 (at most 53 bits), which never lies on a half-integer (acc * Q is a multiple of 2^-31): rounding it
// to nearest, by adding 2^52 + 2^51 (+ zp), gives floor(acc * Q + 1/2) + zp in the low dword. Four instructions per
// two lanes (convert, multiply, two adds) instead of two 64-bit multiplies and a float rounding step.
import { MAGIC_F } from '../requant/core';
import { rq_srdhm, rq_rdbpot } from '../requant/core';

export const FIXB_BLOCK: i32 = 48;

/**
 * acc2 = 2 * acc (the host packs doubled weights and bias for this mode); returns the requantized value + zp as
 * int32 lanes, not yet clamped (|value| < 2^22; the caller narrows with saturation and clamps the bytes).
 */
@inline export function rqv_fixb_raw(acc2: v128, blk: usize, vmz: v128): v128 {
  const x2 = acc2;
  const q = v128.load(blk);
  const r31 = i64x2.splat(0x80000000);
  const lo = i64x2.add(i64x2.extmul_low_i32x4_s(x2, q), r31);
  const hi = i64x2.add(i64x2.extmul_high_i32x4_s(x2, q), r31);
  const s = i8x16.shuffle(lo, hi, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
  const t = f32x4.mul(f32x4.convert_i32x4_s(s), v128.load(blk, 16));
  const sign = v128.and(t, i32x4.splat(0x80000000));
  const f = v128.or(f32x4.floor(f32x4.add(f32x4.abs(t), f32x4.splat(0.5))), sign);
  // integral f, |f| < 2^22: + magic and subtract (magic - zp) gives f + zp as int32
  return i32x4.sub(f32x4.add(f, f32x4.splat(MAGIC_F)), vmz);
}

/** Scalar form for channel tails (the gemmlowp definition itself, with the left shift 0); acc2 = 2 * acc. */
@inline export function rq_fixb_out(acc2: i32, table: usize, ch: i32, zp: i32, qmin: i32, qmax: i32): i32 {
  const p = table + <usize>((ch >> 2) * FIXB_BLOCK + ((ch & 3) << 2));
  const v = rq_rdbpot(rq_srdhm(acc2 >> 1, load<i32>(p)), load<i32>(p, 32)) + zp;
  return v < qmin ? qmin : v > qmax ? qmax : v;
}

export const F64_EPS: f64 = 2.3283064365386963e-10; // 2^-32
export const F64_MAGIC: f64 = 6755399441055744.0; // 2^52 + 2^51

/** Mode 3: 4 channels, Q of lanes 0-1 in qlo and 2-3 in qhi (f64x2); returns r + zp as int32 lanes (not clamped). */
@inline export function rqv_f64_out(acc: v128, qlo: v128, qhi: v128, veps: v128, vmg: v128): v128 {
  const lo = f64x2.add(f64x2.add(f64x2.mul(f64x2.convert_low_i32x4_s(acc), qlo), veps), vmg);
  const hi = f64x2.add(f64x2.add(f64x2.mul(f64x2.convert_low_i32x4_s(v128.shuffle<i32>(acc, acc, 2, 3, 2, 3)), qhi), veps), vmg);
  return v128.shuffle<i32>(lo, hi, 0, 2, 4, 6);
}

/** Mode 3, one channel (the same operations as rqv_f64_out), clamped to [qmin, qmax]. */
@inline export function rq_f64_out(acc: i32, table: usize, ch: i32, zp: i32, qmin: i32, qmax: i32): i32 {
  const t = <f64>acc * load<f64>(table + (<usize>ch << 3)) + F64_EPS;
  const v = <i32>reinterpret<i64>(t + (F64_MAGIC + <f64>zp));
  return v < qmin ? qmin : v > qmax ? qmax : v;
}
