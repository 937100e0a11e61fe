// Disassembles each wasm build with wabt and checks that the intended instructions are really there, so a
// kernel cannot silently fall back to scalar code: the dot instruction in the x86-path GEMM, extmul/extadd in
// the ARM-path GEMM and indirect convolution, the relaxed dot in the relaxed GEMM, and no v128 at all in the
// scalar build. A kernel's code is its exported function plus everything it calls.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { disassemble, kernelCode, count } from './wasm-text.js';

test('scalar build has no v128 instruction at all', async () => {
  const t = await disassemble('scalar');
  assert.ok(t.includes('qs8_gemm_1x8c2__scalar'));
  for (const tok of ['v128', 'i8x16', 'i16x8', 'i32x4', 'f32x4', 'i64x2', 'f64x2']) assert.is(count(t, tok), 0, `${tok} in the scalar build`);
});

test('x86-path GEMM (dot16) multiplies with i32x4.dot_i16x8_s', async () => {
  const t = await disassemble('simd128');
  const code = kernelCode(t, 'qs8_gemm_4x8c2__simd128_dot16');
  assert.ok(count(code, 'i32x4.dot_i16x8_s') >= 8, 'dot_i16x8_s for the 4x8 tile');
  assert.is(count(code, 'i16x8.extmul'), 0);
});

test('ARM-path GEMM and indirect convolution use extmul + extadd_pairwise', async () => {
  const t = await disassemble('simd128');
  for (const name of ['qs8_gemm_4x8c2__simd128_extmul', 'qs8_igemm_4x8c2__simd128_extmul']) {
    const code = kernelCode(t, name);
    assert.ok(count(code, 'i16x8.extmul_low_i8x16_s') >= 4, `${name}: extmul_low`);
    assert.ok(count(code, 'i16x8.extmul_high_i8x16_s') >= 4, `${name}: extmul_high`);
    assert.ok(count(code, 'i32x4.extadd_pairwise_i16x8_s') >= 8, `${name}: extadd_pairwise`);
    assert.is(count(code, 'i32x4.dot_i16x8_s'), 0, `${name}: no dot16`);
  }
});

test('relaxed build GEMM uses the relaxed i8 x i7 dot product', async () => {
  const t = await disassemble('relaxed');
  const code = kernelCode(t, 'qs8_gemm_4x8c4__relaxed_rdot');
  assert.ok(count(code, 'i16x8.relaxed_dot_i8x16_i7x16_s') >= 16, 'relaxed dot in the inner loop');
  // the simd128 kernels are in the relaxed build too (cumulative builds)
  assert.ok(count(kernelCode(t, 'qs8_gemm_4x8c2__simd128_dot16'), 'i32x4.dot_i16x8_s') >= 8);
});

test.run();
