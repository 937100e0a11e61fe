// Requantization core, v128 forms (simd128 and relaxed builds only). Same semantics and tables as ./core.ts
// (read its header); every function works on 4 consecutive channels of one block.

import { FIXED_BLOCK, FIXEDX_BLOCK, MAGIC_F, MAGIC_I } from './core';

/** (x*q + 2^30) >> 31 per lane, via two i64x2 extmuls; the shift by 31 is a shift left by 1 + high dwords. */
@inline export function rqv_srdhm(x: v128, q: v128): v128 {
  const r = i64x2.splat(1 << 30);
  const lo = i64x2.shl(i64x2.add(i64x2.extmul_low_i32x4_s(x, q), r), 1);
  const hi = i64x2.shl(i64x2.add(i64x2.extmul_high_i32x4_s(x, q), r), 1);
  return i8x16.shuffle(lo, hi, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
}

/** Fixed-point requantization (no zp) of 4 channels; `blk` points at their 96-byte FIXED block. */
@inline export function rqv_fixed(acc: v128, blk: usize): v128 {
  const x = i32x4.mul(i32x4.min_s(i32x4.max_s(acc, v128.load(blk, 16)), v128.load(blk, 32)), v128.load(blk, 48));
  const s = rqv_srdhm(x, v128.load(blk));
  const r = rqv_srdhm(i32x4.add(s, i32x4.shr_s(s, 31)), v128.load(blk, 64));
  return v128.bitselect(s, r, v128.load(blk, 80));
}

/** rqv_fixed for tables whose channels all have no left shift (multipliers < 1): skips the clamp and multiply. */
@inline export function rqv_fixed_nl(acc: v128, blk: usize): v128 {
  const s = rqv_srdhm(acc, v128.load(blk));
  const r = rqv_srdhm(i32x4.add(s, i32x4.shr_s(s, 31)), v128.load(blk, 64));
  return v128.bitselect(s, r, v128.load(blk, 80));
}

/** Fixed-point requantization of 4 channels to the output range (int32 lanes): + zp, clamp. */
@inline export function rqv_fixed_out(acc: v128, blk: usize, vzp: v128, vmin: v128, vmax: v128): v128 {
  return i32x4.min_s(i32x4.max_s(i32x4.add(rqv_fixed(acc, blk), vzp), vmin), vmax);
}

/** rqv_fixed_out for tables without left shifts (see rqv_fixed_nl). */
@inline export function rqv_fixed_nl_out(acc: v128, blk: usize, vzp: v128, vmin: v128, vmax: v128): v128 {
  return i32x4.min_s(i32x4.max_s(i32x4.add(rqv_fixed_nl(acc, blk), vzp), vmin), vmax);
}

/**
 * One-multiply fixed-point requantization of 4 channels (FIXEDX block at `blk`, zero point included; ./core.ts 1b)
 * to the output range: about 18 instructions against about 30 for rqv_fixed_nl_out.
 */
@inline export function rqv_fixedx_out(acc: v128, blk: usize, vmin: v128, vmax: v128): v128 {
  const x = i32x4.min_s(i32x4.max_s(acc, v128.load(blk, 16)), v128.load(blk, 32));
  const xs = i32x4.mul(x, v128.load(blk, 48));
  const q = v128.load(blk);
  const lo = i64x2.extmul_low_i32x4_s(xs, q);
  const hi = i64x2.extmul_high_i32x4_s(xs, q);
  const h = i8x16.shuffle(lo, hi, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
  const m = v128.and(i32x4.lt_s(x, v128.load(blk, 64)), v128.load(blk, 80));
  const v = i32x4.shr_s(i32x4.sub(i32x4.add(h, v128.load(blk, 96)), m), load<i32>(blk, 112));
  return i32x4.min_s(i32x4.max_s(v, vmin), vmax);
}

/**
 * Float-mode requantization of 4 channels to the output range (int32 lanes). vlo/vhi = f32(qmin - zp),
 * f32(qmax - zp); vmagic_less_zp = i32 splat(MAGIC_I - zp).
 */
@inline export function rqv_float_out(acc: v128, scale: v128, vlo: v128, vhi: v128, vmagic_less_zp: v128): v128 {
  let v = f32x4.mul(f32x4.convert_i32x4_s(acc), scale);
  v = f32x4.pmin(f32x4.pmax(v, vlo), vhi);
  return i32x4.sub(f32x4.add(v, f32x4.splat(MAGIC_F)), vmagic_less_zp);
}

/** Byte offset of the FIXED block holding channel `ch` (ch a multiple of 4). */
@inline export function rqv_fixed_block(table: usize, ch: i32): usize {
  return table + <usize>((ch >> 2) * FIXED_BLOCK);
}

export { MAGIC_I, FIXEDX_BLOCK };
