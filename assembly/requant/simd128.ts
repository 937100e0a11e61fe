// Requantization kernels over int32 buffers, v128 (same contract as ./scalar.ts; 4 channels at a time,
// channel tail through the scalar core).
import { rq_fixed_out, rq_fixedx_out, rq_float_out, rq_float_scale, FIXED_BLOCK, FIXEDX_BLOCK, MAGIC_I } from './core';
import { rqv_fixed_out, rqv_fixedx_out, rqv_float_out } from './core_simd';

// Lanes are already within [qmin, qmax] (a subset of -128..127 or 0..255): the low byte of each int32 is the
// int8/uint8 output, so one byte shuffle packs them.
@inline function narrow_store4(dst: usize, v: v128): void {
  v128.store32_lane(dst, i8x16.shuffle(v, v, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12), 0);
}

export function qs8_requant_fixed__simd128(src: usize, dst: usize, rows: i32, channels: i32, table: usize, zp: i32, qmin: i32, qmax: i32): void {
  const vzp = i32x4.splat(zp);
  const vmin = i32x4.splat(qmin);
  const vmax = i32x4.splat(qmax);
  for (let r = 0; r < rows; r++) {
    let c = 0;
    for (; c + 4 <= channels; c += 4) {
      const v = rqv_fixed_out(v128.load(src + (<usize>c << 2)), table + <usize>((c >> 2) * FIXED_BLOCK), vzp, vmin, vmax);
      narrow_store4(dst + <usize>c, v);
    }
    for (; c < channels; c++) {
      store<u8>(dst + <usize>c, <u8>rq_fixed_out(load<i32>(src + (<usize>c << 2)), table, c, zp, qmin, qmax));
    }
    src += <usize>channels << 2;
    dst += <usize>channels;
  }
}

export function qs8_requant_fixedx__simd128(src: usize, dst: usize, rows: i32, channels: i32, table: usize, zp: i32, qmin: i32, qmax: i32): void {
  const vmin = i32x4.splat(qmin);
  const vmax = i32x4.splat(qmax);
  for (let r = 0; r < rows; r++) {
    let c = 0;
    for (; c + 4 <= channels; c += 4) {
      narrow_store4(dst + <usize>c, rqv_fixedx_out(v128.load(src + (<usize>c << 2)), table + <usize>((c >> 2) * FIXEDX_BLOCK), vmin, vmax));
    }
    for (; c < channels; c++) {
      store<u8>(dst + <usize>c, <u8>rq_fixedx_out(load<i32>(src + (<usize>c << 2)), table, c, qmin, qmax));
    }
    src += <usize>channels << 2;
    dst += <usize>channels;
  }
}

export function qs8_requant_float__simd128(src: usize, dst: usize, rows: i32, channels: i32, table: usize, zp: i32, qmin: i32, qmax: i32): void {
  const vlo = f32x4.splat(<f32>(qmin - zp));
  const vhi = f32x4.splat(<f32>(qmax - zp));
  const vmz = i32x4.splat(MAGIC_I - zp);
  for (let r = 0; r < rows; r++) {
    let c = 0;
    for (; c + 4 <= channels; c += 4) {
      const v = rqv_float_out(v128.load(src + (<usize>c << 2)), v128.load(table + (<usize>c << 2)), vlo, vhi, vmz);
      narrow_store4(dst + <usize>c, v);
    }
    for (; c < channels; c++) {
      store<u8>(dst + <usize>c, <u8>rq_float_out(load<i32>(src + (<usize>c << 2)), rq_float_scale(table, c), zp, qmin, qmax));
    }
    src += <usize>channels << 2;
    dst += <usize>channels;
  }
}
