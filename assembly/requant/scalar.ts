// Requantization kernels over int32 buffers (portable scalar build). The reusable @inline core is in ./core.ts
// (scalar) and ./core_simd.ts (v128): other families import those, not these exports.
// Layout: src int32 [rows, channels] row-major, dst int8/uint8 [rows, channels]; `table` is a FIXED or FLOAT
// per-channel table (see ./core.ts) padded to a multiple of 4 channels.
import { rq_fixed_out, rq_fixedx_out, rq_float_out, rq_float_scale } from './core';

/** Fixed-point requantization of rows*channels accumulators. */
export function qs8_requant_fixed__scalar(src: usize, dst: usize, rows: i32, channels: i32, table: usize, zp: i32, qmin: i32, qmax: i32): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++) {
      store<u8>(dst + <usize>c, <u8>rq_fixed_out(load<i32>(src + (<usize>c << 2)), table, c, zp, qmin, qmax));
    }
    src += <usize>channels << 2;
    dst += <usize>channels;
  }
}

/** One-multiply fixed-point requantization (FIXEDX table, zero point folded in: `zp` is ignored). */
export function qs8_requant_fixedx__scalar(src: usize, dst: usize, rows: i32, channels: i32, table: usize, zp: i32, qmin: i32, qmax: i32): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++) {
      store<u8>(dst + <usize>c, <u8>rq_fixedx_out(load<i32>(src + (<usize>c << 2)), table, c, qmin, qmax));
    }
    src += <usize>channels << 2;
    dst += <usize>channels;
  }
}

/** Float-mode (ONNX) requantization of rows*channels accumulators. */
export function qs8_requant_float__scalar(src: usize, dst: usize, rows: i32, channels: i32, table: usize, zp: i32, qmin: i32, qmax: i32): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < channels; c++) {
      store<u8>(dst + <usize>c, <u8>rq_float_out(load<i32>(src + (<usize>c << 2)), rq_float_scale(table, c), zp, qmin, qmax));
    }
    src += <usize>channels << 2;
    dst += <usize>channels;
  }
}
