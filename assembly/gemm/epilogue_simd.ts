// v128 epilogue of the qs8 GEMM kernels: 8 accumulators (two i32x4, columns n0..n0+7) of one output row.
// Contract and kinds: ./epilogue.ts.
import { rqv_fixed_out, rqv_fixed_nl_out, rqv_fixedx_out, rqv_float_out } from '../requant/core_simd';
import { FIXED_BLOCK, FIXEDX_BLOCK, MAGIC_I } from '../requant/core';
import { EPI_FIXED, EPI_FLOAT, EPI_I32, EPI_FIXED_NL, EPI_FIXEDX } from './epilogue';

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
      const vmin = i32x4.splat(qmin);
      const vmax = i32x4.splat(qmax);
      v0 = rqv_fixedx_out(acc0, blk, vmin, vmax);
      v1 = rqv_fixedx_out(acc1, blk + FIXEDX_BLOCK, vmin, vmax);
    } else if (kind == EPI_FIXED_NL) {
      const blk = table + <usize>((n0 >> 2) * FIXED_BLOCK);
      const vzp = i32x4.splat(zp);
      const vmin = i32x4.splat(qmin);
      const vmax = i32x4.splat(qmax);
      v0 = rqv_fixed_nl_out(acc0, blk, vzp, vmin, vmax);
      v1 = rqv_fixed_nl_out(acc1, blk + FIXED_BLOCK, vzp, vmin, vmax);
    } else if (kind == EPI_FIXED) {
      const blk = table + <usize>((n0 >> 2) * FIXED_BLOCK);
      const vzp = i32x4.splat(zp);
      const vmin = i32x4.splat(qmin);
      const vmax = i32x4.splat(qmax);
      v0 = rqv_fixed_out(acc0, blk, vzp, vmin, vmax);
      v1 = rqv_fixed_out(acc1, blk + FIXED_BLOCK, vzp, vmin, vmax);
    } else {
      const sp = table + (<usize>n0 << 2);
      const vlo = f32x4.splat(<f32>(qmin - zp));
      const vhi = f32x4.splat(<f32>(qmax - zp));
      const vmz = i32x4.splat(MAGIC_I - zp);
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
