// GEMM epilogues shared by the qs8 GEMM/conv kernels (scalar and v128 forms), and the kernel calling convention.
//
// Every qs8 GEMM kernel has the signature
//   (rows, n, k, a, a_stride, a_unsigned, w, c, c_stride, kind, table, table2, zp, qmin, qmax, scratch)
// rows x n outputs from A rows a + m*a_stride (k bytes each, int8, or uint8 when a_unsigned != 0) and the packed
// weights w (layout in each kernel file; all start with a 16-byte header then one block per NR columns, each
// block starting with NR int32 initial accumulators = bias[n] - za*colsum[n]). Output row m at c + m*c_stride
// (bytes). `kind` selects the epilogue:
//   EPI_FIXED (0): int8/uint8 output, fixed-point requantization, table = FIXED table (assembly/requant/core.ts)
//   EPI_FLOAT (1): int8/uint8 output, float (ONNX) requantization, table = FLOAT table
//   EPI_I32   (2): int32 output (ConvInteger / MatMulInteger), no table
//   EPI_F32   (3): float32 output = f32(acc) * table[n] + table2[n] (dynamic quantization: table = sa*sw[n])
//   EPI_FIXED_NL (4): as EPI_FIXED for tables where no channel has a left shift (every multiplier < 1): the v128
//                  epilogue skips the saturating left shift (same results, fewer instructions)
//   EPI_FIXEDX (5): as EPI_FIXED_NL, one-multiply form (FIXEDX table, zero point folded in; requant/core.ts 1b):
//                  multipliers < 1 with right shifts <= 17 only (the host checks), same results
//   EPI_FLOATU (6): as EPI_FLOAT (same table, same results) when the host has bounded |acc * scale| < 2^21 for every
//                  channel: the v128 4x8 epilogue skips the float clamp (the magic-number rounding is exact there) and
//                  clamps the narrowed bytes instead (round and clamp to integer bounds commute)
// zp/qmin/qmax: output zero point and clamp (kinds 0, 1 and 5; kind 5 ignores zp). Tables are padded to a multiple of 8 channels.
// table2: kind 3, the float bias per channel; kinds 0, 1, 4 and 5, a 128-byte block of the epilogue's v128 constants
//   (loaded, not splatted per tile; src/kernels/qgemm.ts clampConstants): +0 i8x16 qmin, +16 i8x16 qmax,
//   +32 f32x4 qmin - zp, +48 f32x4 qmax - zp, +64 i32x4 MAGIC_I - zp, +80 i32x4 zp, +96 i32x4 qmin, +112 i32x4 qmax.
//   (The scalar epilogue ignores it.)
// scratch: 16-byte aligned work memory of 16 * ceil(k/2) bytes (widened A rows; only dot16 uses it).
import { rq_fixed_out, rq_fixedx_out, rq_float_out, rq_float_scale, FIXED_BLOCK, MAGIC_I } from '../requant/core';

export const EPI_FIXED: i32 = 0;
export const EPI_FLOAT: i32 = 1;
export const EPI_I32: i32 = 2;
export const EPI_F32: i32 = 3;
export const EPI_FIXED_NL: i32 = 4;
export const EPI_FIXEDX: i32 = 5;
export const EPI_FLOATU: i32 = 6;

/** Offsets in the table2 constants block of kinds 0, 1, 4, 5. */
export const EC_QMIN8: i32 = 0;
export const EC_QMAX8: i32 = 16;
export const EC_FLO: i32 = 32;
export const EC_FHI: i32 = 48;
export const EC_MAGZ: i32 = 64;
export const EC_ZP: i32 = 80;
export const EC_QMIN: i32 = 96;
export const EC_QMAX: i32 = 112;

/** Scalar epilogue of one output (column `col`) at byte address `cp` of its row. */
@inline export function epi_scalar(acc: i32, col: i32, cp: usize, kind: i32, table: usize, table2: usize, zp: i32, qmin: i32, qmax: i32): void {
  if (kind == EPI_FIXEDX) {
    store<u8>(cp + <usize>col, <u8>rq_fixedx_out(acc, table, col, qmin, qmax));
  } else if (kind == EPI_FIXED || kind == EPI_FIXED_NL) {
    store<u8>(cp + <usize>col, <u8>rq_fixed_out(acc, table, col, zp, qmin, qmax));
  } else if (kind == EPI_FLOAT || kind == EPI_FLOATU) {
    store<u8>(cp + <usize>col, <u8>rq_float_out(acc, rq_float_scale(table, col), zp, qmin, qmax));
  } else if (kind == EPI_I32) {
    store<i32>(cp + (<usize>col << 2), acc);
  } else {
    store<f32>(cp + (<usize>col << 2), <f32>acc * load<f32>(table + (<usize>col << 2)) + load<f32>(table2 + (<usize>col << 2)));
  }
}

export { FIXED_BLOCK, MAGIC_I };
