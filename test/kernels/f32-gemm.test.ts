// FP32 GEMM: every variant (inference entry with packed B + bias + clamp, and the BLAS-style sgemm) against
// the scalar oracle f32_ref_*; the oracle itself against float64 JS math. The simd128 kernels keep the
// oracle's accumulation order, so they must match it bit for bit; relaxed (fused) within tolerance.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { F32_GEMM_VARIANTS, prepareF32Gemm } from '../../src/kernels/f32.js';
import { F32Train } from '../../src/kernels/f32-train.js';
import { LEVELS, IS_RELAXED_CHILD, rng, randArray, randInt, kernels, allocator, close, exact, relaxedChildTest } from './f32-util.js';
import type { KernelPath } from '../../src/kernels/types.js';

const r = rng(12345);

test('oracle f32_ref_sgemm agrees with float64 math for every transpose and leading dimension', async () => {
  const k = await kernels(LEVELS[0]);
  for (const [tA, tB] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
    const M = 5, N = 7, K = 6, lda = (tA ? M : K) + 2, ldb = (tB ? K : N) + 3, ldc = N + 1;
    const A = randArray(r, (tA ? K : M) * lda), B = randArray(r, (tB ? N : K) * ldb), C = randArray(r, M * ldc);
    const al = allocator(k);
    const pa = al.put(A), pb = al.put(B), pc = al.put(C);
    k.exports.f32_ref_sgemm(tA, tB, M, N, K, 0.5, pa, lda, pb, ldb, -2, pc, ldc);
    const got = k.f32(pc, M * ldc);
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
      let s = 0;
      for (let q = 0; q < K; q++) s += A[tA ? q * lda + m : m * lda + q] * B[tB ? n * ldb + q : q * ldb + n];
      const want = 0.5 * s - 2 * C[m * ldc + n];
      assert.ok(Math.abs(got[m * ldc + n] - want) < 1e-5, `ref sgemm ${tA}${tB} at ${m},${n}`);
    }
    // padding columns of C untouched
    for (let m = 0; m < M; m++) assert.is(got[m * ldc + N], C[m * ldc + N]);
  }
});

for (const level of LEVELS) {
  const variants = F32_GEMM_VARIANTS.filter((v) => v.build === level);
  for (const v of variants) {
    test(`${v.name}: inference GEMM (packed B, bias, clamp) vs oracle over odd shapes`, async () => {
      const k = await kernels(level);
      const shapes: [number, number, number][] = [[1, 1, 1], [1, 8, 1], [3, 5, 7], [7, 9, 1], [13, 17, 33], [6, 16, 64], [25, 3, 129], [4, 8, 0], [12, 24, 3]];
      for (let i = 0; i < 8; i++) shapes.push([randInt(r, 1, 40), randInt(r, 1, 40), randInt(r, 1, 300)]);
      for (const [M, N, K] of shapes) {
        for (const transB of [false, true]) {
          const W = randArray(r, N * K), bias = randArray(r, N), A = randArray(r, M * K);
          const clamp = r() < 0.5 ? { min: -0.5, max: 0.75 } : {};
          const kern = prepareF32Gemm({ M, N, K, weights: W, transB, bias, ...clamp }, { path: 'scalar', variant: v.name });
          const al = allocator(k);
          const pa = al.put(A), pw = al.put(kern.constants), pc = al.alloc(M * N * 4);
          const half = Math.floor(kern.workItems / 2);
          kern.run(k, { inputs: [pa], outputs: [pc], constants: pw, scratch: 0 }, 0, half);
          kern.run(k, { inputs: [pa], outputs: [pc], constants: pw, scratch: 0 }, half, kern.workItems);
          // oracle wants K x N
          const Wkn = new Float32Array(N * K);
          for (let q = 0; q < K; q++) for (let n = 0; n < N; n++) Wkn[q * N + n] = transB ? W[n * K + q] : W[q * N + n];
          const pwk = al.put(Wkn), pb = al.put(bias), pr = al.alloc(M * N * 4);
          k.exports.f32_ref_gemm(M, N, K, pa, K, pwk, pb, pr, N, clamp.min ?? -Infinity, clamp.max ?? Infinity);
          const got = k.f32(pc, M * N), want = k.f32(pr, M * N);
          const what = `${v.name} M=${M} N=${N} K=${K} transB=${transB}`;
          if (level === 'relaxed') close(got, want, what, 1e-5, K + 1);
          else exact(got, want, what);
        }
      }
    });
  }
  const sg = variants.find((v) => v.sgemm);
  if (sg) {
    test(`${sg.sgemm}: C = alpha op(A) op(B) + beta C, all transposes, leading dims, beta 0 ignores NaN in C`, async () => {
      const k = await kernels(level);
      for (let i = 0; i < 28; i++) {
        const tA = i & 1, tB = (i >> 1) & 1;
        // i >= 20: more than one depth block (K > 256) and column block (N > 128) of the blocked driver
        const big = i >= 20;
        const M = randInt(r, 1, 30), N = big ? randInt(r, 129, 300) : randInt(r, 1, 30), K = i === 5 ? 1 : big ? randInt(r, 257, 700) : randInt(r, 1, 200);
        const lda = (tA ? M : K) + randInt(r, 0, 3), ldb = (tB ? K : N) + randInt(r, 0, 3), ldc = N + randInt(r, 0, 3);
        const alpha = [1, 0.5, -3][i % 3], beta = [0, 1, 0.25][(i >> 2) % 3];
        const A = randArray(r, (tA ? K : M) * lda), B = randArray(r, (tB ? N : K) * ldb);
        const C = beta === 0 ? new Float32Array(M * ldc).fill(NaN) : randArray(r, M * ldc);
        const al = allocator(k);
        const pa = al.put(A), pb = al.put(B), pc = al.put(C), pr = al.put(C);
        const scratch = al.alloc(k.exports.f32_sgemm_scratch_bytes(N, K));
        k.exports[sg.sgemm!](tA, tB, M, N, K, alpha, pa, lda, pb, ldb, beta, pc, ldc, scratch);
        k.exports.f32_ref_sgemm(tA, tB, M, N, K, alpha, pa, lda, pb, ldb, beta, pr, ldc);
        const got = k.f32(pc, M * ldc), want = k.f32(pr, M * ldc);
        const what = `${sg.sgemm} tA=${tA} tB=${tB} M=${M} N=${N} K=${K} alpha=${alpha} beta=${beta}`;
        // one depth block keeps the oracle's order exactly; several accumulate alpha * partial sums into C
        if (level === 'relaxed' || K > 256) close(got, want, what, 1e-5, K * Math.abs(alpha) + 1);
        else exact(got, want, what);
      }
    });
  }
  test(`F32Train.sgemm on the ${level} build matches the oracle`, async () => {
    const path: KernelPath = level === 'scalar' ? 'scalar' : level === 'relaxed' ? 'relaxed' : 'x86';
    const t = await F32Train.create(path);
    assert.is(t.gemmVariant.includes(level), true);
    const M = 19, N = 13, K = 77;
    const A = t.put(randArray(r, K * M)), B = t.put(randArray(r, N * K)), C = t.alloc(M * N), R = t.alloc(M * N);
    const m = t.mark();
    t.sgemm(true, true, M, N, K, 1, A, M, B, K, 0, C, N);
    assert.is(t.mark(), m);
    t.wasm.exports.f32_ref_sgemm(1, 1, M, N, K, 1, A, M, B, K, 0, R, N);
    close(t.get(C, M * N), t.get(R, M * N), 'F32Train.sgemm', 1e-5, K);
  });
}

test('prepareF32Gemm rejects bad parameters with a clear error', () => {
  assert.throws(() => prepareF32Gemm({ M: 2, N: 3, K: 4, weights: new Float32Array(11), node: 'fc1' }, { path: 'scalar' }), /fc1.*weights have 11 values, expected N\*K = 12/);
  assert.throws(() => prepareF32Gemm({ M: 0, N: 3, K: 4, weights: new Float32Array(12) }, { path: 'scalar' }), /M must be an integer >= 1/);
  assert.throws(() => prepareF32Gemm({ M: 1, N: 3, K: 4, weights: new Float32Array(12) }, { path: 'scalar', variant: 'nope' }), /unknown f32-gemm variant 'nope'/);
});

if (!IS_RELAXED_CHILD) {
  relaxedChildTest(test, import.meta.url);
}

test.run();
