// Disassembles the builds with wabt and checks that the INT8 depthwise / pooling / element-wise kernels really use
// the instructions their path is named for (so a kernel cannot silently fall back to scalar code): dot16 uses
// i32x4.dot_i16x8_s, extmul uses i32x4.extmul_*_i16x8_s, max pooling i8x16.max, the LUT i8x16.swizzle, and the
// scalar builds of these families contain no v128 instruction.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { disassemble as text, kernelCode } from './wasm-text.js';
import type { BuildLevel } from '../../src/runtime/wasm.js';

/** Body of an exported function plus the functions it calls (transitively). */
async function code(level: BuildLevel, name: string): Promise<string> {
  return kernelCode(await text(level), name);
}

const TAGS = ['3x3s1', '3x3s2', '5x5s1', '5x5s2', 'gen'];

test('depthwise dot16 kernels use i32x4.dot_i16x8_s, extmul kernels i32x4.extmul_*_i16x8_s (both SIMD builds)', async () => {
  for (const level of ['simd128', 'relaxed'] as const) {
    for (const pre of ['qs8', 'qu8']) {
      for (const tag of [...TAGS, '3x3s1_rows', '3x3s2_rows']) {
        const d = await code(level, `${pre}_dwconv_${tag}__simd128_dot16`);
        assert.ok(d.includes('i32x4.dot_i16x8_s'), `${level} ${pre} ${tag} dot16`);
        const e = await code(level, `${pre}_dwconv_${tag}__simd128_extmul`);
        assert.ok(/i32x4\.extmul_(low|high)_i16x8_s/.test(e), `${level} ${pre} ${tag} extmul`);
        assert.not.ok(e.includes('i32x4.dot_i16x8_s'), `${level} ${pre} ${tag}: extmul kernel must not use the x86 dot`);
      }
    }
  }
});

test('pooling and element-wise SIMD kernels use their vector instructions', async () => {
  assert.ok((await code('simd128', 'qu8_maxpool__simd128')).includes('i8x16.max_u'));
  assert.ok((await code('simd128', 'qs8_maxpool__simd128')).includes('i8x16.max_s'));
  assert.ok((await code('simd128', 'x8_lut__simd128_swizzle')).includes('i8x16.swizzle'));
  assert.ok((await code('simd128', 'qs8_gavgpool__simd128')).includes('i32x4.extend_low_i16x8_s'));
  assert.ok((await code('simd128', 'qu8_add__simd128')).includes('f64x2.mul'), 'the exact form (near-tie steps)');
  assert.ok((await code('simd128', 'qs8_add__simd128')).includes('i32x4.dot_i16x8_s'), 'the fixed-point screen');
  assert.ok((await code('relaxed', 'x8_lut__relaxed_pshufb')).includes('i8x16.relaxed_swizzle'));
  assert.ok((await code('simd128', 'qs8_quantize__simd128')).includes('f32x4.div'));
});

test('scalar kernels of these families contain no v128 instruction', async () => {
  const names = [
    ...TAGS.flatMap((t) => [`qs8_dwconv_${t}__scalar`, `qu8_dwconv_${t}__scalar`]),
    'qs8_maxpool__scalar', 'qu8_avgpool__scalar', 'qs8_gavgpool__scalar', 'qu8_add__scalar', 'qs8_mul__scalar',
    'x8_lut__scalar', 'qs8_quantize__scalar', 'qu8_dequantize__scalar', 'x8_resize_nearest__scalar',
  ];
  for (const n of names) assert.not.ok(/v128|i8x16|i16x8|i32x4|f32x4/.test(await code('scalar', n)), n);
});

test.run();
