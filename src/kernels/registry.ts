// The one registry of kernel families. Each family module (src/kernels/<family>.ts) lists its variants;
// this file gathers them so tests, benchmarks and the selector iterate every family in one place.
// Adding a family: export its variant list from its module and add one line below.
import type { KernelVariant } from './types.js';
import { F32_GEMM_VARIANTS, F32_DWCONV_VARIANTS, F32_MISC_VARIANTS } from './f32.js';
import { QGEMM_VARIANTS } from './qgemm.js';
import { POOL_VARIANTS } from './pool.js';
import { ELTWISE_VARIANTS, LUT_VARIANTS } from './eltwise.js';
import { DWCONV_VARIANTS } from './dwconv.js';
import { QCONV_VARIANTS } from './qconv.js';
import { RESIZE_VARIANTS } from './resize.js';

export const FAMILIES: Record<string, readonly KernelVariant[]> = {
  'f32-gemm': F32_GEMM_VARIANTS,
  'f32-dwconv': F32_DWCONV_VARIANTS,
  'f32-misc': F32_MISC_VARIANTS,
  'qs8-gemm': QGEMM_VARIANTS,
  'q8-pool': POOL_VARIANTS,
  'q8-eltwise': ELTWISE_VARIANTS,
  'x8-lut': LUT_VARIANTS,
  'q8-dwconv': DWCONV_VARIANTS,
  'qs8-conv': QCONV_VARIANTS,
  'resize': RESIZE_VARIANTS,
};
