// v128 forms of ./qfloat.ts (simd128 and relaxed builds only). Same semantics bit for bit.
import { QF_MAGIC } from './qfloat';

/** 4 lanes: rne(v) + zp clamped; vlo/vhi = f32(qmin - zp), f32(qmax - zp); vmz = i32 splat(0x4B400000 - zp). */
@inline export function qfv_out(v: v128, vlo: v128, vhi: v128, vmz: v128): v128 {
  v = f32x4.pmin(f32x4.pmax(v, vlo), vhi);
  return i32x4.sub(f32x4.add(v, f32x4.splat(QF_MAGIC)), vmz);
}

/** Narrows two i32x4 (already in the type's range) to 8 bytes in the low half. */
@inline export function narrow8<T>(a: v128, b: v128): v128 {
  const h = i16x8.narrow_i32x4_s(a, b);
  return isSigned<T>() ? i8x16.narrow_i16x8_s(h, h) : i8x16.narrow_i16x8_u(h, h);
}

/** Narrows four i32x4 to 16 bytes. */
@inline export function narrow16<T>(a: v128, b: v128, c: v128, d: v128): v128 {
  const h0 = i16x8.narrow_i32x4_s(a, b);
  const h1 = i16x8.narrow_i32x4_s(c, d);
  return isSigned<T>() ? i8x16.narrow_i16x8_s(h0, h1) : i8x16.narrow_i16x8_u(h0, h1);
}

/** 8 bytes at p widened to i16x8 (sign- or zero-extended by T). */
@inline export function ld8x8<T>(p: usize): v128 {
  return isSigned<T>() ? v128.load8x8_s(p) : v128.load8x8_u(p);
}
