// qs8 GEMM: every variant of every build against the scalar oracle (assembly/reference/gemm.ts), bit-exact, over
// random shapes (M, N, K not multiples of the tile, K = 1, K = 16384 at the extremes), zero points at both ends,
// per-channel scales over orders of magnitude, multipliers below 2^-31 and above 1, all epilogues.
// The relaxed-SIMD build runs in a child Node process started with --experimental-wasm-relaxed-simd.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WasmKernels } from '../../src/runtime/wasm.js';
import { runSuite, checkCase, makeProblem, rng, type Case } from './qgemm-cases.js';
import { requantScales } from '../../src/kernels/requant.js';
import { prepareQGemm, QGEMM_VARIANTS, layoutFits, floatUnclampedFits } from '../../src/kernels/qgemm.js';
import { BumpAllocator } from '../../src/runtime/wasm.js';
import { loadCase, hasCase } from './onnx-data.js';
import type { KernelPath } from '../../src/kernels/types.js';

const CHILD = process.env.OCTET_QGEMM_CHILD === 'relaxed';

if (CHILD) {
  test('relaxed build: every variant equals the oracle', async () => {
    const k = await WasmKernels.create('relaxed');
    assert.equal(runSuite(k, 120, 3), []);
  });
} else {
  test('scalar build: scalar variant equals the oracle', async () => {
    const k = await WasmKernels.create('scalar');
    assert.equal(runSuite(k, 120, 1), []);
  });

  test('simd128 build: dot16 (x86), extmul (ARM) and scalar equal the oracle', async () => {
    const k = await WasmKernels.create('simd128');
    assert.equal(runSuite(k, 200, 2), []);
  });

  test('relaxed build (child process with --experimental-wasm-relaxed-simd)', () => {
    const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, OCTET_QGEMM_CHILD: 'relaxed', FORCE_COLOR: '0' },
      encoding: 'utf8',
      timeout: 120000,
    });
    assert.ok(r.status === 0 && /Passed:\s+1/.test(r.stdout), `child failed:\n${r.stdout}\n${r.stderr}`);
  });

  test('dot16: layer-sized K (several column chunks of weights), 4q+1 / 4q+2 / 4q+3 rows (one-row tail), odd K, both A types and modes', async () => {
    const k = await WasmKernels.create('simd128');
    // K = 4608: 10 column blocks per weight chunk (DOT16_WCHUNK): n = 96 is 2 chunks when the call is split by rows
    // (m >= 128); small m is split by 8-column blocks (halves); K = 16384: 3 blocks per chunk
    const shapes = [[129, 4608, 96], [49, 4608, 96], [9, 16384, 40], [130, 2305, 100], [131, 147, 64], [5, 15, 17]];
    const fails: string[] = [];
    shapes.forEach(([m, kk, n], i) => {
      for (const aType of ['int8', 'uint8'] as const) {
        const c = {
          m, k: kk, n, aType, za: aType === 'int8' ? -3 : 131, wType: 'int8' as const, zb: Array(n).fill(0),
          out: (i % 2 ? 'uint8' : 'int8') as 'int8' | 'uint8', mode: (aType === 'int8') === (i % 2 === 0) ? 'float' as const : 'fixed-point' as const,
          clamp: i % 3 ? { min: 0 } : undefined, seed: 100 + i, modelScales: true,
        };
        const e = checkCase(k, 'qs8_gemm_4x8c2__simd128_dot16', c);
        if (e) fails.push(`${m}x${kk}x${n} ${aType}: ${e}`);
      }
    });
    assert.equal(fails, []);
  });

  test('float requantization without the float clamp (EPI_FLOATU, |acc * scale| < 2^21 proven on the host) equals the oracle; the bound', async () => {
    // closed form: |acc| <= |bias| + 65025 K
    assert.ok(floatUnclampedFits([2 ** 21 / 65025 / 16 * 0.999], 16));
    assert.not.ok(floatUnclampedFits([2 ** 21 / 65025 / 16], 16));
    assert.not.ok(floatUnclampedFits([0.5, 1e-3], 16, Int32Array.from([2 ** 22, 0])));
    assert.ok(floatUnclampedFits([1e-3, 0.5], 16, Int32Array.from([2 ** 22, 0])));
    const k = await WasmKernels.create('simd128');
    const r = rng(77);
    const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
    const fails: string[] = [];
    const seen = { fits: 0, not: 0 };
    for (let i = 0; i < 160; i++) {
      const aType = pick(['int8', 'uint8'] as const), wType = pick(['int8', 'int8', 'uint8'] as const);
      const out = pick(['int8', 'uint8'] as const);
      const n = pick([1, 5, 8, 16, 17, 24, 31]);
      const [alo, ahi] = aType === 'int8' ? [-128, 127] : [0, 255];
      const c: Case = {
        m: pick([1, 2, 3, 4, 5, 9, 13, 129]), k: pick([1, 2, 15, 16, 17, 24, 32, 96, 960]), n, aType, za: pick([alo, ahi, 3]),
        wType, zb: Array(n).fill(wType === 'int8' ? 0 : 128), out, mode: 'float',
        clamp: pick([undefined, { min: 0 }, { min: 0, max: 6 }, { min: -1, max: 1 }]), seed: 5000 + i, modelScales: i % 4 !== 3,
      };
      const p = makeProblem(c);
      const fits = floatUnclampedFits(requantScales('float', p.aScale, p.wScales, (p.output as { scale: number }).scale), c.k, p.bias as Int32Array);
      seen[fits ? 'fits' : 'not']++;
      const name = pick(['qs8_gemm_4x8c2__simd128_dot16', 'qs8_gemm_4x8c2__simd128_extmul']);
      const e = checkCase(k, name, c);
      if (e) fails.push(`${fits ? 'unclamped' : 'clamped'}: ${e}`);
    }
    assert.equal(fails, []);
    // both epilogues ran
    assert.ok(seen.fits > 40 && seen.not > 10, JSON.stringify(seen));
  });

  test('weights the relaxed/extmul layouts cannot hold fall back to dot16 and stay exact', async () => {
    const k = await WasmKernels.create('simd128');
    // uint8 weights with zero point 0: B - zb up to 255 does not fit int8
    const c = { m: 6, k: 11, n: 10, aType: 'uint8' as const, za: 3, wType: 'uint8' as const, zb: Array(10).fill(0), out: 'int8' as const, mode: 'fixed-point' as const, seed: 9 };
    assert.is(checkCase(k, 'qs8_gemm_4x8c2__simd128_extmul', c), '');
    const wc = Int32Array.from([-128, 5, 127]);
    assert.is(layoutFits('rdot', wc), -1);
    assert.is(layoutFits('rdot', Int32Array.from([-127, 127])), 127);
    assert.is(layoutFits('rdot', Int32Array.from([-128, 126])), 128);
    assert.is(layoutFits('extmul', Int32Array.from([200])), -1);
    const p = prepareQGemm({ m: 2, k: 3, n: 1, aType: 'int8', aScale: 1, aZeroPoint: 0, weights: { data: Uint8Array.from([0, 255, 7]), type: 'uint8', layout: 'kn', zeroPoints: 0, scales: 1 }, output: { type: 'int32' }, path: 'arm' });
    assert.is(p.variant, 'qs8_gemm_4x8c2__simd128_dot16');
  });

  test('ONNX QLinearMatMul test data (2D and batched 3D, uint8 and int8) on every path, float requantization', async () => {
    const wasm = { scalar: await WasmKernels.create('scalar'), simd: await WasmKernels.create('simd128') };
    for (const name of ['test_qlinearmatmul_2D_uint8_float32', 'test_qlinearmatmul_2D_int8_float32', 'test_qlinearmatmul_3D_uint8_float32', 'test_qlinearmatmul_3D_int8_float32']) {
      if (!hasCase(name)) assert.unreachable(`missing conformance data ${name}`);
      const { inputs: [a, as, az, b, bs, bz, ys, yz], outputs: [y] } = loadCase(name);
      const t = (x: { type: number }) => (x.type === 2 ? 'uint8' : 'int8') as 'uint8' | 'int8';
      const batch = a.dims.length === 3 ? a.dims[0] : 1;
      const [m, k] = a.dims.slice(-2);
      const n = b.dims[b.dims.length - 1];
      for (const path of ['scalar', 'x86', 'arm'] as KernelPath[]) {
        const k8 = path === 'scalar' ? wasm.scalar : wasm.simd;
        const got: number[] = [];
        for (let bi = 0; bi < batch; bi++) {
          const wdata = b.data.slice(bi * k * n, (bi + 1) * k * n);
          const prep = prepareQGemm({
            name, m, k, n, aType: t(a), aScale: as.data[0], aZeroPoint: az.data[0],
            weights: { data: t(b) === 'uint8' ? Uint8Array.from(wdata) : Int8Array.from(wdata), type: t(b), layout: 'kn', zeroPoints: bz.data, scales: bs.data },
            output: { type: t(y), scale: ys.data[0], zeroPoint: yz.data[0] }, requant: 'float', path,
          });
          const al = new BumpAllocator(k8);
          const adata = a.data.slice(bi * m * k, (bi + 1) * m * k);
          const io = { inputs: [al.put(t(a) === 'uint8' ? Uint8Array.from(adata) : Int8Array.from(adata))], constants: al.put(prep.constants, 16), outputs: [al.alloc(m * n)], scratch: al.alloc(prep.scratchBytes + 16) };
          prep.run(k8, io);
          got.push(...(t(y) === 'uint8' ? k8.u8(io.outputs[0], m * n) : k8.i8(io.outputs[0], m * n)));
        }
        assert.equal(got, y.data, `${name} on ${path}`);
      }
    }
  });

  test('bad parameters are clear errors naming the node', () => {
    const base = { name: 'fc1', m: 2, k: 3, n: 2, aType: 'int8' as const, aScale: 0.1, aZeroPoint: 0, weights: { data: new Int8Array(6), type: 'int8' as const, layout: 'kn' as const, scales: [0.1, 0.2] }, output: { type: 'int8' as const, scale: 0.5, zeroPoint: 0 }, path: 'x86' as const };
    assert.throws(() => prepareQGemm({ ...base, weights: { ...base.weights, data: new Int8Array(5) } }), /node 'fc1': weights have 5 values, expected 2x3/);
    assert.throws(() => prepareQGemm({ ...base, aZeroPoint: 200 }), /node 'fc1': input zero point 200 is not a valid int8/);
    assert.throws(() => prepareQGemm({ ...base, weights: { ...base.weights, scales: [1, 2, 3] } }), /weight scale has 3 values, expected 1 or 2/);
    assert.throws(() => prepareQGemm({ ...base, output: { type: 'int8', scale: 0, zeroPoint: 0 } }), /output scale 0/);
    assert.throws(() => prepareQGemm({ ...base, k: 20000, weights: { ...base.weights, data: new Int8Array(40000) } }), /exceeds 16384/);
    assert.throws(() => prepareQGemm({ ...base, bias: [1, 2, 3] }), /bias has 3 values/);
    assert.throws(() => prepareQGemm({ ...base, variant: 'nope' }), /unknown qs8-gemm variant/);
  });

  test('every variant is listed once with a matching export in its build', async () => {
    const names = new Set(QGEMM_VARIANTS.map((v) => v.name));
    assert.is(names.size, QGEMM_VARIANTS.length);
    const s = await WasmKernels.create('simd128');
    for (const v of QGEMM_VARIANTS) if (v.build !== 'relaxed') assert.type(s.exports[v.name], 'function', v.name);
  });
}

test.run();
