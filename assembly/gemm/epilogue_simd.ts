// v128 epilogue of the qs8 GEMM kernels: 8 accumulators (two i32x4, columns n0..n0+7) of one output row.
// Contract and kinds: ./epilogue.ts.
import { rqv_fixed_out, rqv_fixed_nl_out, rqv_fixedx_out, rqv_float_out } from '../requant/core_simd';
import { FIXED_BLOCK, FIXEDX_BLOCK, MAGIC_I, MAGIC_F } from '../requant/core';
import { EPI_FIXED, EPI_FLOAT, EPI_I32, EPI_FIXED_NL, EPI_FIXEDX, EPI_FLOATU, EC_QMIN8, EC_QMAX8, EC_FLO, EC_FHI, EC_MAGZ, EC_ZP, EC_QMIN, EC_QMAX } from './epilogue';

@inline function store_i32_partial(p: usize, v: v128, cnt: i32): void {
  if (cnt > 0) store<i32>(p, i32x4.extract_lane(v, 0));
  if (cnt > 1) store<i32>(p, i32x4.extract_lane(v, 1), 4);
  if (cnt > 2) store<i32>(p, i32x4.extract_lane(v, 2), 8);
  if (cnt > 3) store<i32>(p, i32x4.extract_lane(v, 3), 12);
}

/** Stores columns n0..n0+cols-1 (cols <= 8) of one row whose output starts at byte address cp. */
@inline export function epi_store8(
  acc0: v128, acc1: v128, n0: i32, cols: i32, cp: usize,
  kind: i32, table: usize, table2: usize, zp: i32, qmin: i32, qmax: i32,
): void {
  if (kind <= EPI_FLOAT || kind >= EPI_FIXED_NL) {
    let v0: v128, v1: v128;
    if (kind == EPI_FIXEDX) {
      const blk = table + <usize>((n0 >> 2) * FIXEDX_BLOCK);
      const vmin = v128.load(table2, EC_QMIN);
      const vmax = v128.load(table2, EC_QMAX);
      v0 = rqv_fixedx_out(acc0, blk, vmin, vmax);
      v1 = rqv_fixedx_out(acc1, blk + FIXEDX_BLOCK, vmin, vmax);
    } else if (kind == EPI_FIXED_NL) {
      const blk = table + <usize>((n0 >> 2) * FIXED_BLOCK);
      const vzp = v128.load(table2, EC_ZP);
      const vmin = v128.load(table2, EC_QMIN);
      const vmax = v128.load(table2, EC_QMAX);
      v0 = rqv_fixed_nl_out(acc0, blk, vzp, vmin, vmax);
      v1 = rqv_fixed_nl_out(acc1, blk + FIXED_BLOCK, vzp, vmin, vmax);
    } else if (kind == EPI_FIXED) {
      const blk = table + <usize>((n0 >> 2) * FIXED_BLOCK);
      const vzp = v128.load(table2, EC_ZP);
      const vmin = v128.load(table2, EC_QMIN);
      const vmax = v128.load(table2, EC_QMAX);
      v0 = rqv_fixed_out(acc0, blk, vzp, vmin, vmax);
      v1 = rqv_fixed_out(acc1, blk + FIXED_BLOCK, vzp, vmin, vmax);
    } else {
      const sp = table + (<usize>n0 << 2);
      const vlo = v128.load(table2, EC_FLO);
      const vhi = v128.load(table2, EC_FHI);
      const vmz = v128.load(table2, EC_MAGZ);
      v0 = rqv_float_out(acc0, v128.load(sp), vlo, vhi, vmz);
      v1 = rqv_float_out(acc1, v128.load(sp, 16), vlo, vhi, vmz);
    }
    // lanes are within [qmin, qmax]: the low byte of each int32 is the int8/uint8 result
    const b = i8x16.shuffle(v0, v1, 0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
    const p = cp + <usize>n0;
    if (cols == 8) {
      v128.store64_lane(p, b, 0);
    } else {
      let t = i64x2.extract_lane(b, 0);
      for (let i = 0; i < cols; i++) {
        store<u8>(p + <usize>i, <u8>t);
        t >>= 8;
      }
    }
  } else {
    let v0 = acc0, v1 = acc1;
    if (kind != EPI_I32) {
      const sp = table + (<usize>n0 << 2);
      const bp = table2 + (<usize>n0 << 2);
      v0 = f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(acc0), v128.load(sp)), v128.load(bp));
      v1 = f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(acc1), v128.load(sp, 16)), v128.load(bp, 16));
    }
    const p = cp + (<usize>n0 << 2);
    if (cols == 8) {
      v128.store(p, v0);
      v128.store(p, v1, 16);
    } else if (cols > 4) {
      v128.store(p, v0);
      store_i32_partial(p + 16, v1, cols - 4);
    } else {
      store_i32_partial(p, v0, cols);
    }
  }
}

/**
 * FIXEDX requantization (assembly/requant/core.ts 1b) of 4 lanes whose block constants are already in registers,
 * zero point included, before the output clamp: the same arithmetic as rqv_fixedx_out.
 */
@inline function fx4(acc: v128, lo: v128, hi: v128, pm: v128, q: v128, t: v128, mm: v128, kk: v128, sh: i32): v128 {
  const x = i32x4.min_s(i32x4.max_s(acc, lo), hi);
  const xs = i32x4.mul(x, pm);
  const l = i64x2.extmul_low_i32x4_s(xs, q);
  const h = i64x2.extmul_high_i32x4_s(xs, q);
  const hh = i8x16.shuffle(l, h, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
  return i32x4.shr_s(i32x4.sub(i32x4.add(hh, kk), v128.and(i32x4.lt_s(x, t), mm)), sh);
}

/** fx4 for a block with T = 2 (every e = 0): 2^(T-e) = 4, M = 0, shift by T - 1 = 1. */
@inline function fx4t2(acc: v128, lo: v128, hi: v128, q: v128, kk: v128): v128 {
  const xs = i32x4.shl(i32x4.min_s(i32x4.max_s(acc, lo), hi), 2);
  const l = i64x2.extmul_low_i32x4_s(xs, q);
  const h = i64x2.extmul_high_i32x4_s(xs, q);
  const hh = i8x16.shuffle(l, h, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
  return i32x4.shr_s(i32x4.add(hh, kk), 1);
}

@inline function store_row8(p: usize, v: v128, lane: i32, cols: i32): void {
  if (cols == 8) {
    if (lane == 0) v128.store64_lane(p, v, 0);
    else v128.store64_lane(p, v, 1);
  } else {
    let t = lane == 0 ? i64x2.extract_lane(v, 0) : i64x2.extract_lane(v, 1);
    for (let i = 0; i < cols; i++) {
      store<u8>(p + <usize>i, <u8>t);
      t >>= 8;
    }
  }
}

/** Stores a 4 x cols byte tile at column n0: rows 0 and 1 are v01's two 8-byte halves, rows 2 and 3 v23's. */
@inline function store_tile4x8(v01: v128, v23: v128, n0: i32, cols: i32, c0: usize, c1: usize, c2: usize, c3: usize): void {
  const o = <usize>n0;
  store_row8(c0 + o, v01, 0, cols);
  store_row8(c1 + o, v01, 1, cols);
  store_row8(c2 + o, v23, 0, cols);
  store_row8(c3 + o, v23, 1, cols);
}

/**
 * The 4 rows of int16 results of a 4x8 tile narrowed to bytes, clamped to the block's [qmin, qmax] (signed when
 * qmax <= 127, else unsigned) and stored: the shared tail of the whole-tile FIXEDX and FLOATU epilogues.
 */
@inline function narrow_clamp_store4x8(
  r0: v128, r1: v128, r2: v128, r3: v128, n0: i32, cols: i32, c0: usize, c1: usize, c2: usize, c3: usize, consts: usize, qmax: i32,
): void {
  let v01: v128, v23: v128;
  const vmin = v128.load(consts, EC_QMIN8), vmax = v128.load(consts, EC_QMAX8);
  if (qmax <= 127) {
    v01 = i8x16.min_s(i8x16.max_s(i8x16.narrow_i16x8_s(r0, r1), vmin), vmax);
    v23 = i8x16.min_s(i8x16.max_s(i8x16.narrow_i16x8_s(r2, r3), vmin), vmax);
  } else {
    v01 = i8x16.min_u(i8x16.max_u(i8x16.narrow_i16x8_u(r0, r1), vmin), vmax);
    v23 = i8x16.min_u(i8x16.max_u(i8x16.narrow_i16x8_u(r2, r3), vmin), vmax);
  }
  store_tile4x8(v01, v23, n0, cols, c0, c1, c2, c3);
}

/**
 * EPI_FIXEDX epilogue of a whole 4x8 tile (rows at c0..c3, columns n0..n0+cols-1, cols <= 8): the block constants
 * are loaded once for the four rows, and the int32 results are narrowed with saturation (i16x8.narrow, then
 * i8x16.narrow: two rows per vector) before one clamp per 16 outputs. Exact: the saturations are monotonic and
 * [qmin, qmax] lies inside the narrowed range (int8 when qmax <= 127, else uint8), so clamping after them gives
 * the same bytes as epi_store8's int32 clamp.
 */
@inline export function epi_fixedx_4x8(
  a00: v128, a01: v128, a10: v128, a11: v128, a20: v128, a21: v128, a30: v128, a31: v128,
  n0: i32, cols: i32, c0: usize, c1: usize, c2: usize, c3: usize, table: usize, consts: usize, qmax: i32,
): void {
  const b0 = table + <usize>((n0 >> 2) * FIXEDX_BLOCK);
  const b1 = b0 + <usize>FIXEDX_BLOCK;
  const q0 = v128.load(b0), lo0 = v128.load(b0, 16), hi0 = v128.load(b0, 32), pm0 = v128.load(b0, 48);
  const t0 = v128.load(b0, 64), m0 = v128.load(b0, 80), k0 = v128.load(b0, 96), s0 = load<i32>(b0, 112);
  const q1 = v128.load(b1), lo1 = v128.load(b1, 16), hi1 = v128.load(b1, 32), pm1 = v128.load(b1, 48);
  const t1 = v128.load(b1, 64), m1 = v128.load(b1, 80), k1 = v128.load(b1, 96), s1 = load<i32>(b1, 112);
  let r0: v128, r1: v128, r2: v128, r3: v128;
  if (s0 == 1 && s1 == 1) {
    // T = 2 in both blocks: every channel has e = 0 (unnormalized multipliers, the common case), so 2^(T-e) = 4,
    // M = 0 and the shift is the constant 1 (an immediate shift instead of a variable one)
    r0 = i16x8.narrow_i32x4_s(fx4t2(a00, lo0, hi0, q0, k0), fx4t2(a01, lo1, hi1, q1, k1));
    r1 = i16x8.narrow_i32x4_s(fx4t2(a10, lo0, hi0, q0, k0), fx4t2(a11, lo1, hi1, q1, k1));
    r2 = i16x8.narrow_i32x4_s(fx4t2(a20, lo0, hi0, q0, k0), fx4t2(a21, lo1, hi1, q1, k1));
    r3 = i16x8.narrow_i32x4_s(fx4t2(a30, lo0, hi0, q0, k0), fx4t2(a31, lo1, hi1, q1, k1));
  } else {
    r0 = i16x8.narrow_i32x4_s(fx4(a00, lo0, hi0, pm0, q0, t0, m0, k0, s0), fx4(a01, lo1, hi1, pm1, q1, t1, m1, k1, s1));
    r1 = i16x8.narrow_i32x4_s(fx4(a10, lo0, hi0, pm0, q0, t0, m0, k0, s0), fx4(a11, lo1, hi1, pm1, q1, t1, m1, k1, s1));
    r2 = i16x8.narrow_i32x4_s(fx4(a20, lo0, hi0, pm0, q0, t0, m0, k0, s0), fx4(a21, lo1, hi1, pm1, q1, t1, m1, k1, s1));
    r3 = i16x8.narrow_i32x4_s(fx4(a30, lo0, hi0, pm0, q0, t0, m0, k0, s0), fx4(a31, lo1, hi1, pm1, q1, t1, m1, k1, s1));
  }
  narrow_clamp_store4x8(r0, r1, r2, r3, n0, cols, c0, c1, c2, c3, consts, qmax);
}

/**
 * EPI_FLOAT epilogue of a whole 4x8 tile: rqv_float_out's lanes already lie in [qmin, qmax], so two saturating
 * narrowings (exact there) pack two rows per vector instead of a byte shuffle per row.
 */
@inline export function epi_float_4x8(
  a00: v128, a01: v128, a10: v128, a11: v128, a20: v128, a21: v128, a30: v128, a31: v128,
  n0: i32, cols: i32, c0: usize, c1: usize, c2: usize, c3: usize, table: usize, consts: usize, qmax: i32,
): void {
  const sp = table + (<usize>n0 << 2);
  const s0 = v128.load(sp), s1 = v128.load(sp, 16);
  const vlo = v128.load(consts, EC_FLO), vhi = v128.load(consts, EC_FHI), vmz = v128.load(consts, EC_MAGZ);
  const r0 = i16x8.narrow_i32x4_s(rqv_float_out(a00, s0, vlo, vhi, vmz), rqv_float_out(a01, s1, vlo, vhi, vmz));
  const r1 = i16x8.narrow_i32x4_s(rqv_float_out(a10, s0, vlo, vhi, vmz), rqv_float_out(a11, s1, vlo, vhi, vmz));
  const r2 = i16x8.narrow_i32x4_s(rqv_float_out(a20, s0, vlo, vhi, vmz), rqv_float_out(a21, s1, vlo, vhi, vmz));
  const r3 = i16x8.narrow_i32x4_s(rqv_float_out(a30, s0, vlo, vhi, vmz), rqv_float_out(a31, s1, vlo, vhi, vmz));
  let v01: v128, v23: v128;
  if (qmax <= 127) {
    v01 = i8x16.narrow_i16x8_s(r0, r1);
    v23 = i8x16.narrow_i16x8_s(r2, r3);
  } else {
    v01 = i8x16.narrow_i16x8_u(r0, r1);
    v23 = i8x16.narrow_i16x8_u(r2, r3);
  }
  store_tile4x8(v01, v23, n0, cols, c0, c1, c2, c3);
}

/** rqv_float_out without the float clamp (EPI_FLOATU: |acc * scale| < 2^21, so the magic-number rounding is exact). */
@inline function rqv_floatu(acc: v128, scale: v128, vmagic_less_zp: v128): v128 {
  return i32x4.sub(f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(acc), scale), f32x4.splat(MAGIC_F)), vmagic_less_zp);
}

/**
 * EPI_FLOATU epilogue of a whole 4x8 tile: round(acc * scale) + zp without the float clamp, narrowed with
 * saturation (exact on [qmin, qmax], as in epi_fixedx_4x8) and clamped as bytes: 2 byte clamps per 2 rows instead
 * of 2 float clamps per 4 outputs (MobileNetV2's K = 16..32 pointwise layers 5-8% faster, bench/kernels-qconv-ab.ts).
 */
@inline function epi_floatu_4x8(
  a00: v128, a01: v128, a10: v128, a11: v128, a20: v128, a21: v128, a30: v128, a31: v128,
  n0: i32, cols: i32, c0: usize, c1: usize, c2: usize, c3: usize, table: usize, consts: usize, qmax: i32,
): void {
  const sp = table + (<usize>n0 << 2);
  const s0 = v128.load(sp), s1 = v128.load(sp, 16);
  const vmz = v128.load(consts, EC_MAGZ);
  const r0 = i16x8.narrow_i32x4_s(rqv_floatu(a00, s0, vmz), rqv_floatu(a01, s1, vmz));
  const r1 = i16x8.narrow_i32x4_s(rqv_floatu(a10, s0, vmz), rqv_floatu(a11, s1, vmz));
  const r2 = i16x8.narrow_i32x4_s(rqv_floatu(a20, s0, vmz), rqv_floatu(a21, s1, vmz));
  const r3 = i16x8.narrow_i32x4_s(rqv_floatu(a30, s0, vmz), rqv_floatu(a31, s1, vmz));
  narrow_clamp_store4x8(r0, r1, r2, r3, n0, cols, c0, c1, c2, c3, consts, qmax);
}

/** Epilogue of a 4x8 tile of any kind: the whole-tile FIXEDX form, or epi_store8 per row. */
@inline export function epi_store4x8(
  a00: v128, a01: v128, a10: v128, a11: v128, a20: v128, a21: v128, a30: v128, a31: v128,
  n0: i32, cols: i32, c0: usize, c1: usize, c2: usize, c3: usize,
  kind: i32, table: usize, table2: usize, zp: i32, qmin: i32, qmax: i32,
): void {
  if (kind == EPI_FIXEDX) {
    epi_fixedx_4x8(a00, a01, a10, a11, a20, a21, a30, a31, n0, cols, c0, c1, c2, c3, table, table2, qmax);
  } else if (kind == EPI_FLOATU) {
    epi_floatu_4x8(a00, a01, a10, a11, a20, a21, a30, a31, n0, cols, c0, c1, c2, c3, table, table2, qmax);
  } else if (kind == EPI_FLOAT) {
    epi_float_4x8(a00, a01, a10, a11, a20, a21, a30, a31, n0, cols, c0, c1, c2, c3, table, table2, qmax);
  } else {
    epi_rows4x8(a00, a01, a10, a11, a20, a21, a30, a31, n0, cols, c0, c1, c2, c3, kind, table, table2, zp, qmin, qmax);
  }
}

/**
 * The other kinds (FIXED, FIXED_NL, I32, F32: no model benchmark runs them) per row: a function, not inlined into
 * every kernel that ends in epi_store4x8 (saves ~6 KB of the relaxed build for a call per tile on those kinds).
 */
function epi_rows4x8(
  a00: v128, a01: v128, a10: v128, a11: v128, a20: v128, a21: v128, a30: v128, a31: v128,
  n0: i32, cols: i32, c0: usize, c1: usize, c2: usize, c3: usize,
  kind: i32, table: usize, table2: usize, zp: i32, qmin: i32, qmax: i32,
): void {
  epi_store8(a00, a01, n0, cols, c0, kind, table, table2, zp, qmin, qmax);
  epi_store8(a10, a11, n0, cols, c1, kind, table, table2, zp, qmin, qmax);
  epi_store8(a20, a21, n0, cols, c2, kind, table, table2, zp, qmin, qmax);
  epi_store8(a30, a31, n0, cols, c3, kind, table, table2, zp, qmin, qmax);
}
