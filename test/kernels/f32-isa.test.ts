// Disassembles the builds with wabt and checks that the FP32 kernels really use the intended SIMD instructions
// (a kernel cannot silently fall back to scalar code): f32x4 mul+add with broadcast loads in the simd128 GEMM,
// f32x4.relaxed_madd in the relaxed GEMM and depthwise kernels, f32x4 arithmetic in the SIMD element-wise kernels.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { disassemble as text, kernelCode as code, count } from './wasm-text.js';

test('simd128 FP32 GEMM: broadcast loads and f32x4 mul + add for the 4x8 and 6x8 tiles, no relaxed ops', async () => {
  const t = await text('simd128');
  for (const [name, mr] of [['f32_gemm_4x8__simd128', 4], ['f32_gemm_6x8__simd128', 6]] as const) {
    const c = code(t, name);
    assert.ok(count(c, 'v128.load32_splat') >= mr, `${name}: load32_splat`);
    assert.ok(count(c, 'f32x4.mul') >= 2 * mr, `${name}: f32x4.mul`);
    assert.ok(count(c, 'f32x4.add') >= 2 * mr, `${name}: f32x4.add`);
    assert.is(count(c, 'relaxed'), 0);
  }
  assert.ok(count(code(t, 'f32_sgemm__simd128'), 'f32x4.mul') >= 8, 'sgemm driver runs the SIMD tile');
});

test('relaxed FP32 GEMM and depthwise use f32x4.relaxed_madd', async () => {
  const t = await text('relaxed');
  assert.ok(count(code(t, 'f32_gemm_4x8__relaxed'), 'f32x4.relaxed_madd') >= 8);
  assert.ok(count(code(t, 'f32_sgemm__relaxed'), 'f32x4.relaxed_madd') >= 8);
  assert.ok(count(code(t, 'f32_dwconv_3x3__relaxed'), 'f32x4.relaxed_madd') >= 18);
  assert.ok(count(code(t, 'f32_dwconv__relaxed'), 'f32x4.relaxed_madd') >= 2);
});

test('simd128 depthwise, pooling, element-wise, activation and softmax kernels are vectorised', async () => {
  const t = await text('simd128');
  assert.ok(count(code(t, 'f32_dwconv_3x3__simd128'), 'f32x4.mul') >= 18);
  assert.ok(count(code(t, 'f32_pool__simd128'), 'f32x4.') >= 4);
  assert.ok(count(code(t, 'f32_binary__simd128'), 'f32x4.div') >= 1);
  assert.ok(count(code(t, 'f32_unary__simd128'), 'f32x4.nearest') >= 1, 'vector exp in sigmoid/tanh');
  assert.ok(count(code(t, 'f32_softmax__simd128'), 'f32x4.nearest') >= 1);
});

test('scalar build carries the FP32 kernels without any v128', async () => {
  const t = await text('scalar');
  for (const name of ['f32_gemm_1x8__scalar', 'f32_sgemm__scalar', 'f32_dwconv__scalar', 'f32_pool__scalar', 'f32_unary__scalar']) {
    assert.is(count(code(t, name), 'v128') + count(code(t, name), 'f32x4'), 0, name);
  }
});

test.run();
