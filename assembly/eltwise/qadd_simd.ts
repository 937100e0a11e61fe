// v128 forms of ./qadd.ts (simd128 and relaxed builds). Same results bit for bit: two f64 lanes per fused
// multiply-add, made round-to-odd with the TwoSum error, then rounded to f32.

/** Round-to-odd f64 lanes of x * r + t (x integer-valued with |x| < 2^9, r and t float32 values). */
@inline export function fmav_odd(x: v128, r: v128, t: v128): v128 {
  const p = f64x2.mul(x, r);
  const s = f64x2.add(p, t);
  const bb = f64x2.sub(s, p);
  const err = f64x2.add(f64x2.sub(p, f64x2.sub(s, bb)), f64x2.sub(t, bb));
  const one = i64x2.splat(1);
  // lanes with err != 0 and an even mantissa move one ulp towards err (+1 when err and s share the sign, else -1)
  const fix = v128.and(f64x2.ne(err, f64x2.splat(0)), i64x2.eq(v128.and(s, one), i64x2.splat(0)));
  const dir = v128.or(i64x2.shr_s(v128.xor(err, s), 63), one);
  return i64x2.add(s, v128.and(fix, dir));
}

/** Lanes 0..1 of the i32x4 as f64x2, and lanes 2..3. */
@inline export function f64_lo(v: v128): v128 {
  return f64x2.convert_low_i32x4_s(v);
}
@inline export function f64_hi(v: v128): v128 {
  return f64x2.convert_low_i32x4_s(v128.shuffle<i32>(v, v, 2, 3, 2, 3));
}

/** f64 lanes rounded to float32 and back (the inner fma's single rounding). */
@inline export function round_f32(v: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(v));
}

/** f64 lanes of x * r + t when the host has shown every such sum to be exact in f64 (then no correction). */
@inline export function fmav_exact(x: v128, r: v128, t: v128): v128 {
  return f64x2.add(f64x2.mul(x, r), t);
}

/** 4 results (i32x4, not yet saturated to 8 bits) of fma(xo, ro, fma(xi, ri, fixed)) then cvtps_epi32.
 *  exact: the host proved all f64 sums exact for these parameters (the usual case), so no round-to-odd step. */
@inline export function qadd4(xo: v128, xi: v128, vro: v128, vri: v128, vfx: v128, exact: bool): v128 {
  let v0: v128, v1: v128;
  if (exact) {
    const t0 = round_f32(fmav_exact(f64_lo(xi), vri, vfx));
    const t1 = round_f32(fmav_exact(f64_hi(xi), vri, vfx));
    v0 = f32x4.demote_f64x2_zero(fmav_exact(f64_lo(xo), vro, t0));
    v1 = f32x4.demote_f64x2_zero(fmav_exact(f64_hi(xo), vro, t1));
  } else {
    const t0 = round_f32(fmav_odd(f64_lo(xi), vri, vfx));
    const t1 = round_f32(fmav_odd(f64_hi(xi), vri, vfx));
    v0 = f32x4.demote_f64x2_zero(fmav_odd(f64_lo(xo), vro, t0));
    v1 = f32x4.demote_f64x2_zero(fmav_odd(f64_hi(xo), vro, t1));
  }
  const v = v128.shuffle<i32>(v0, v1, 0, 1, 4, 5);
  // cvtps_epi32: out-of-range gives INT32_MIN (trunc_sat gives INT32_MAX: step it over), NaN too (trunc_sat: 0)
  let r = i32x4.trunc_sat_f32x4_s(f32x4.nearest(v));
  r = i32x4.sub(r, i32x4.eq(r, i32x4.splat(i32.MAX_VALUE)));
  return v128.bitselect(r, i32x4.splat(i32.MIN_VALUE), f32x4.eq(v, v));
}
