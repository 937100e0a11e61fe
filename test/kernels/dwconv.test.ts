// INT8 depthwise convolution: every kernel (3x3s1, 3x3s2, 5x5s1, 5x5s2, general, and the 3x3 rows kernels of the
// SIMD paths) of every variant (scalar, simd128_dot16 on the x86 path, simd128_extmul on the ARM path, and the relaxed
// build in a child process) against the scalar oracle (assembly/reference/dwconv.ts), bit-exact, in both
// requantization modes and every fixed-point form (kernel modes 0, 2, 3); the oracle itself
// against onnxruntime-node running a QLinearConv with group == channels (float mode: identical outputs expected)
// and ONNX's QLinearConv test data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BumpAllocator, type WasmKernels } from '../../src/runtime/wasm.js';
import { prepareQDwConv2d, dwGeometry, dwKernelTag, type QDwConvParams } from '../../src/kernels/dwconv.js';
import { fixedPointMultipliers, requantScales, outputRange } from '../../src/kernels/requant.js';
import { pathEnvs, rng, randInt, randBytes, runPrepared, firstDiff, runRelaxedChild, RELAXED_CHILD } from './qmisc-util.js';
import { loadCase } from './onnx-cases.js';

const envs = await pathEnvs();
const ref = envs[0].wasm;

const zeroOf = (r: () => number, dtype: string) => {
  const [lo, hi] = dtype === 'int8' ? [-128, 127] : [0, 255];
  const u = r();
  return u < 0.25 ? lo : u < 0.5 ? hi : randInt(r, lo, hi);
};

/** Oracle output for p (independent of packing and tables: per-channel q/shift or float scales). */
export function refDwConv(wasm: WasmKernels, p: QDwConvParams, x: Uint8Array): Uint8Array {
  const g = dwGeometry(p);
  const mode = p.requantization ?? 'fixed-point';
  const C = g.C;
  const ws = typeof p.wScale === 'number' ? new Array(C).fill(p.wScale) : p.wScale;
  const reals = requantScales(mode, p.xScale, ws, p.yScale);
  const q = new Int32Array(C), sh = new Int32Array(C), sc = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    const m = fixedPointMultipliers(reals)[c];
    q[c] = m.multiplier;
    sh[c] = m.shift;
    sc[c] = reals[c];
  }
  const zw = Int32Array.from({ length: C }, (_, c) => (p.weightZero === undefined ? 0 : typeof p.weightZero === 'number' ? p.weightZero : p.weightZero[c]));
  const { qmin, qmax } = outputRange(p.dtype, p.yZero, p.yScale, p.clamp);
  const a = new BumpAllocator(wasm);
  const xo = a.put(x), wo = a.put(p.weights), zo = a.put(zw), bo = a.put(p.bias ?? new Int32Array(C));
  const n = g.N * g.OH * g.OW * C;
  const yo = a.alloc(n);
  const qo = a.put(q), so = a.put(sh), fo = a.put(sc);
  wasm.exports.ref_q8_dwconv(xo, wo, zo, p.weights instanceof Int8Array ? 1 : 0, bo, yo, g.N, g.H, g.W, g.Cin, g.M, g.OH, g.OW,
    g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PT, g.PL, p.xZero, p.yZero, qmin, qmax, mode === 'float' ? 1 : 0, qo, so, fo,
    p.dtype === 'int8' ? 1 : 0);
  return wasm.u8(yo, n).slice();
}

function randomDw(r: () => number, i: number): QDwConvParams | undefined {
  const special = i % 5 !== 4;
  const ks = special ? (r() < 0.5 ? 3 : 5) : randInt(r, 1, 7);
  const KH = ks, KW = special ? ks : randInt(r, 1, 6);
  const S = special ? randInt(r, 1, 2) : randInt(r, 1, 4);
  const strides: [number, number] = special ? [S, S] : [S, randInt(r, 1, 4)];
  const dtype = r() < 0.5 ? 'int8' : 'uint8';
  const small = r() < 0.2;
  const H = small ? randInt(r, 1, 3) : randInt(r, 1, 12), W = small ? randInt(r, 1, 3) : randInt(r, 1, 12);
  const Cin = r() < 0.3 ? randInt(r, 1, 9) : randInt(r, 1, 48);
  const M = r() < 0.15 ? randInt(r, 2, 3) : 1;
  const C = Cin * M;
  const K = KH * KW;
  const uw = r() < 0.3;
  const weights = uw ? randBytes(r, C * K) : new Int8Array(randBytes(r, C * K).buffer);
  const perCh = r() < 0.7;
  const p: QDwConvParams = {
    dtype, shape: [randInt(r, 1, 2), H, W, Cin], kernel: [KH, KW], multiplier: M, strides,
    dilations: r() < 0.2 ? [randInt(r, 1, 3), randInt(r, 1, 3)] : [1, 1],
    pads: [randInt(r, 0, KH), randInt(r, 0, KW), randInt(r, 0, KH), randInt(r, 0, KW)],
    weights,
    weightZero: uw ? Array.from({ length: C }, () => randInt(r, 0, 255)) : r() < 0.2 ? Array.from({ length: C }, () => randInt(r, -128, 127)) : 0,
    // large biases (|acc| >= 2^22) and multipliers >= 1 take the general fixed-point table instead of the fast one
    bias: r() < 0.8 ? Int32Array.from({ length: C }, () => (i % 7 === 3 ? randInt(r, -(2 ** 26), 2 ** 26) : randInt(r, -20000, 20000))) : undefined,
    xScale: Math.fround(0.005 + r() * 0.05), xZero: zeroOf(r, dtype),
    wScale: perCh ? Array.from({ length: C }, () => Math.fround(10 ** (-4 + 2.5 * r()))) : Math.fround(0.002 + r() * 0.02),
    yScale: i % 11 === 5 ? Math.fround(1e-6 + r() * 1e-5) : Math.fround(0.01 + r() * 0.2), yZero: zeroOf(r, dtype),
    requantization: r() < 0.5 ? 'float' : 'fixed-point',
    clamp: r() < 0.3 ? { min: 0, max: r() < 0.5 ? 6 : undefined } : undefined,
  };
  try {
    dwGeometry(p);
    return p;
  } catch {
    return undefined;
  }
}

const describe = (p: QDwConvParams) =>
  JSON.stringify({ ...p, weights: `${p.weights.constructor.name}[${p.weights.length}]`, bias: p.bias ? `[${p.bias.length}]` : undefined,
    wScale: typeof p.wScale === 'number' ? p.wScale : 'per-channel', weightZero: typeof p.weightZero === 'object' ? 'per-channel' : p.weightZero });

for (const env of envs) {
  test(`depthwise conv: every kernel shape matches the oracle (${env.path})`, () => {
    const r = rng(31);
    const seen = new Set<string>();
    let done = 0;
    for (let i = 0; done < 120; i++) {
      const p = randomDw(r, i);
      if (!p) continue;
      const g = dwGeometry(p);
      const x = randBytes(r, g.N * g.H * g.W * g.Cin);
      const k = prepareQDwConv2d(p, env);
      seen.add(k.variant.replace(/^q[su]8_/, ''));
      const [y] = runPrepared(env.wasm, k, [x], [g.N * g.OH * g.OW * g.C], done % 4 === 0 ? [1, Math.floor(k.workItems / 2)] : undefined);
      const e = refDwConv(ref, p, x);
      assert.is(firstDiff(y, e), '', `${k.variant} ${describe(p)}`);
      done++;
    }
    for (const tag of ['3x3s1', '3x3s2', '5x5s1', '5x5s2', 'gen']) assert.ok([...seen].some((s) => s.startsWith(`dwconv_${tag}__`) || s.startsWith(`dwconv_${tag}_rows__`)), `${tag} not covered: ${[...seen]}`);
  });

  test(`depthwise conv: MobileNet-like layers, wide channels, extreme zero points (${env.path})`, () => {
    const r = rng(32);
    for (const [H, C, S] of [[14, 96, 1], [7, 160, 2], [5, 37, 1], [4, 64, 2]] as const) {
      for (const dtype of ['int8', 'uint8'] as const) {
        for (const mode of ['fixed-point', 'float'] as const) {
          const [lo, hi] = dtype === 'int8' ? [-128, 127] : [0, 255];
          const p: QDwConvParams = {
            dtype, shape: [1, H, H, C], kernel: [3, 3], strides: [S, S], pads: [1, 1, 1, 1],
            weights: new Int8Array(randBytes(r, C * 9).buffer), bias: Int32Array.from({ length: C }, () => randInt(r, -5000, 5000)),
            xScale: 0.02, xZero: r() < 0.5 ? lo : hi, wScale: Array.from({ length: C }, () => Math.fround(0.001 + r() * 0.01)),
            yScale: 0.05, yZero: r() < 0.5 ? lo : hi, requantization: mode, clamp: { min: 0, max: 6 },
          };
          const g = dwGeometry(p);
          const x = randBytes(r, H * H * C);
          const k = prepareQDwConv2d(p, env);
          const [y] = runPrepared(env.wasm, k, [x], [g.OH * g.OW * C]);
          assert.is(firstDiff(y, refDwConv(ref, p, x)), '', `${k.variant} ${H} ${C} ${S} ${dtype} ${mode}`);
        }
      }
    }
  });
  test(`depthwise conv: 3x3 rows kernels and the per-pixel ones against the oracle, random shapes (${env.path})`, () => {
    const r = rng(35);
    const modeOf = (k: { constants: Uint8Array }) => new Int32Array(k.constants.buffer, k.constants.byteOffset, 24)[16];
    const seen = new Set<string>();
    for (let i = 0; i < 70; i++) {
      const dtype = i % 2 ? 'int8' : 'uint8';
      const S = 1 + ((i >> 1) % 2);
      const H = randInt(r, 1, 11), W = i % 9 === 0 ? randInt(r, 1, 3) : randInt(r, 1, 23);
      const C = i % 5 === 0 ? randInt(r, 1, 7) : i % 5 === 1 ? 16 * randInt(r, 1, 3) : randInt(r, 1, 53);
      const D: [number, number] = i % 7 === 6 ? [randInt(r, 1, 2), randInt(r, 1, 3)] : [1, 1];
      const pads: [number, number, number, number] = i % 3 ? [1, 1, 1, 1] : [randInt(r, 0, 3), randInt(r, 0, 3), randInt(r, 0, 3), randInt(r, 0, 3)];
      const uw = i % 6 === 5;
      // per-channel multipliers in the single-rounding range (mode 3), a few below 2^-11 (mode 2) or with exact
      // half-way products (multiplier 2^-k: acc * q + 2^30 divisible by 2^31 for some acc)
      const kind = i % 4;
      const wScale = Array.from({ length: C }, () => kind === 3 ? 2 ** -randInt(r, 6, 10) : kind === 2 && r() < 0.2 ? 1e-5 : Math.fround(0.002 + r() * 0.03));
      const p: QDwConvParams = {
        dtype, shape: [randInt(r, 1, 2), H, W, C], kernel: [3, 3], strides: [S, S], dilations: D, pads,
        weights: uw ? randBytes(r, C * 9) : new Int8Array(randBytes(r, C * 9).buffer),
        weightZero: uw ? Array.from({ length: C }, () => randInt(r, 0, 255)) : 0,
        bias: Int32Array.from({ length: C }, () => randInt(r, -30000, 30000)),
        xScale: kind === 3 ? 1 : 0.02, xZero: zeroOf(r, dtype), wScale, yScale: kind === 3 ? 1 : 0.05, yZero: zeroOf(r, dtype),
        requantization: i % 5 === 2 ? 'float' : 'fixed-point',
        clamp: i % 3 === 0 ? { min: 0, max: 6 } : undefined,
      };
      let g;
      try { g = dwGeometry(p); } catch { continue; }
      const x = randBytes(r, g.N * g.H * g.W * g.C);
      const e = refDwConv(ref, p, x);
      for (const tuning of [undefined, { rows: false }, { f64: false }]) {
        const k = prepareQDwConv2d({ ...p, tuning }, env);
        seen.add(`${k.variant.includes('_rows') ? 'rows' : 'pixel'} mode ${modeOf(k)}`);
        const [y] = runPrepared(env.wasm, k, [x], [e.length], i % 4 === 1 ? [1, Math.floor(k.workItems / 2)] : undefined);
        assert.is(firstDiff(y, e), '', `${k.variant} mode ${modeOf(k)} ${describe(p)}`);
      }
    }
    const want = ['pixel mode 1', 'pixel mode 2', ...(env.path === 'scalar' ? [] : ['pixel mode 3', 'rows mode 1', 'rows mode 2', 'rows mode 3'])];
    for (const w of want) assert.ok(seen.has(w), `${w} not covered: ${[...seen]}`);
  });

  test(`depthwise conv: fast and general fixed-point tables give the oracle's bits (${env.path})`, () => {
    const r = rng(34);
    const modeOf = (k: { constants: Uint8Array }) => new Int32Array(k.constants.buffer, k.constants.byteOffset, 24)[16];
    const seen = new Set<number>();
    for (const [bias, yScale] of [[1000, 0.05], [2 ** 25, 0.05], [1000, 1e-6], [-(2 ** 23), 0.3]] as const) {
      for (const dtype of ['int8', 'uint8'] as const) {
        const C = 27;
        const p: QDwConvParams = {
          dtype, shape: [1, 6, 6, C], kernel: [3, 3], pads: [1, 1, 1, 1], weights: new Int8Array(randBytes(r, C * 9).buffer),
          bias: Int32Array.from({ length: C }, (_, c) => (c % 2 ? bias : -bias) + randInt(r, -99, 99)),
          xScale: 0.02, xZero: dtype === 'int8' ? -3 : 131, wScale: Array.from({ length: C }, () => Math.fround(0.0005 + r() * 0.01)),
          yScale, yZero: dtype === 'int8' ? 5 : 120,
        };
        const x = randBytes(r, 6 * 6 * C);
        const k = prepareQDwConv2d(p, env);
        seen.add(modeOf(k));
        const [y] = runPrepared(env.wasm, k, [x], [36 * C]);
        assert.is(firstDiff(y, refDwConv(ref, p, x)), '', `${k.variant} bias ${bias} yScale ${yScale}`);
      }
    }
    assert.ok(seen.has(0) && seen.has(2), `requantization tables used: ${[...seen]}`);
  });
}

if (!RELAXED_CHILD) {
  test('kernel selection: 3x3 / 5x5 with stride 1 or 2 are specialised, the rest general', () => {
    assert.is(dwKernelTag({ KH: 3, KW: 3, SH: 2, SW: 2 }), '3x3s2');
    assert.is(dwKernelTag({ KH: 5, KW: 5, SH: 1, SW: 1 }), '5x5s1');
    assert.is(dwKernelTag({ KH: 3, KW: 3, SH: 1, SW: 2 }), 'gen');
    assert.is(dwKernelTag({ KH: 7, KW: 7, SH: 1, SW: 1 }), 'gen');
    const x86 = prepareQDwConv2d({ dtype: 'int8', shape: [1, 4, 4, 8], kernel: [3, 3], weights: new Int8Array(72), xScale: 1, xZero: 0, wScale: 1, yScale: 1, yZero: 0 }, { path: 'x86' });
    assert.is(x86.variant, 'qs8_dwconv_3x3s1_rows__simd128_dot16');
    const arm = prepareQDwConv2d({ dtype: 'uint8', shape: [1, 4, 4, 8], kernel: [5, 5], strides: [2, 2], pads: [2, 2, 2, 2], weights: new Int8Array(200), xScale: 1, xZero: 0, wScale: 1, yScale: 1, yZero: 0 }, { path: 'arm' });
    assert.is(arm.variant, 'qu8_dwconv_5x5s2__simd128_extmul');
  });

  test('oracle against onnxruntime-node QLinearConv (group == channels, float requantization)', async () => {
    const ort = await import('onnxruntime-node');
    const { GraphBuilder } = await import('../../src/onnx/writer.js');
    const r = rng(33);
    for (let t = 0; t < 12; t++) {
      const dtype = t % 2 ? 'int8' : 'uint8';
      const C = randInt(r, 1, 24), H = randInt(r, 1, 9), W = randInt(r, 1, 9);
      const KH = [1, 3, 5][t % 3], KW = KH;
      const S = randInt(r, 1, 2);
      const pads: [number, number, number, number] = [randInt(r, 0, KH - 1), randInt(r, 0, KW - 1), randInt(r, 0, KH - 1), randInt(r, 0, KW - 1)];
      const p: QDwConvParams = {
        dtype, shape: [1, H, W, C], kernel: [KH, KW], strides: [S, S], pads,
        weights: new Int8Array(randBytes(r, C * KH * KW).buffer), weightZero: 0,
        bias: Int32Array.from({ length: C }, () => randInt(r, -3000, 3000)),
        xScale: Math.fround(0.01 + r() * 0.05), xZero: zeroOf(r, dtype),
        wScale: Array.from({ length: C }, () => Math.fround(0.001 + r() * 0.02)),
        yScale: Math.fround(0.02 + r() * 0.1), yZero: zeroOf(r, dtype), requantization: 'float',
      };
      let g;
      try { g = dwGeometry(p); } catch { continue; }
      const xNhwc = randBytes(r, H * W * C);
      const xNchw = new Uint8Array(H * W * C);
      for (let c = 0; c < C; c++) for (let i = 0; i < H * W; i++) xNchw[c * H * W + i] = xNhwc[i * C + c];
      const gb = new GraphBuilder({ opset: 13 });
      const x = gb.input('x', dtype, [1, C, H, W]);
      const ins = [
        x,
        gb.initializer('xs', 'float32', [p.xScale], []), gb.initializer('xz', dtype, [p.xZero], []),
        gb.initializer('w', 'int8', p.weights as Int8Array, [C, 1, KH, KW]),
        gb.initializer('ws', 'float32', p.wScale as number[], [C]), gb.initializer('wz', 'int8', new Int8Array(C), [C]),
        gb.initializer('ys', 'float32', [p.yScale], []), gb.initializer('yz', dtype, [p.yZero], []),
        gb.initializer('b', 'int32', p.bias!, [C]),
      ];
      const [y] = gb.node('QLinearConv', ins, ['y'], { group: C, kernel_shape: [KH, KW], pads: [pads[0], pads[1], pads[2], pads[3]], strides: [S, S] });
      gb.output(y, dtype, [1, C, g.OH, g.OW]);
      const sess = await ort.InferenceSession.create(gb.toBytes());
      const feed = new ort.Tensor(dtype, dtype === 'int8' ? new Int8Array(xNchw.buffer) : xNchw, [1, C, H, W]);
      const out = (await sess.run({ x: feed })).y.data as Uint8Array | Int8Array;
      const ours = refDwConv(ref, p, xNhwc);
      const o8 = new Uint8Array(out.buffer, out.byteOffset, out.length);
      for (let c = 0; c < C; c++)
        for (let i = 0; i < g.OH * g.OW; i++)
          assert.is(ours[i * C + c], o8[c * g.OH * g.OW + i], `case ${t} channel ${c} pixel ${i} ${describe(p)}`);
    }
  });

  test('oracle against ONNX QLinearConv test data', () => {
    const c = loadCase('test_qlinearconv');
    if (!c) return;
    // x u8 [1,1,7,7], w u8 [1,1,1,1] with zero point: a 1x1 convolution of one channel == depthwise with C = 1
    const [x, xs, xz, w, ws, wz, ys, yz] = c.inputs;
    const p: QDwConvParams = {
      dtype: 'uint8', shape: [1, 7, 7, 1], kernel: [1, 1], weights: w.data as Uint8Array, weightZero: (wz.data as Uint8Array)[0],
      xScale: (xs.data as Float32Array)[0], xZero: (xz.data as Uint8Array)[0], wScale: (ws.data as Float32Array)[0],
      yScale: (ys.data as Float32Array)[0], yZero: (yz.data as Uint8Array)[0], requantization: 'float',
    };
    const y = refDwConv(ref, p, x.data as Uint8Array);
    assert.is(firstDiff(y, c.outputs[0].data as Uint8Array), '');
  });

  test('bad parameters are clear errors', () => {
    const base = { dtype: 'int8', shape: [1, 4, 4, 8], kernel: [3, 3], weights: new Int8Array(72), xScale: 1, xZero: 0, wScale: 1, yScale: 1, yZero: 0, name: 'dw9' } as QDwConvParams;
    assert.throws(() => prepareQDwConv2d({ ...base, weights: new Int8Array(71) }, { path: 'scalar' }), /dw9.*71 weights/);
    assert.throws(() => prepareQDwConv2d({ ...base, kernel: [9, 9] }, { path: 'scalar' }), /dw9.*larger than the padded input/);
    assert.throws(() => prepareQDwConv2d({ ...base, wScale: [1, 2] }, { path: 'scalar' }), /2 values for 8 output channels/);
    assert.throws(() => prepareQDwConv2d({ ...base, xZero: 200 }, { path: 'scalar' }), /zero point 200/);
  });

  test('relaxed-SIMD build gives the same results (child process)', () => {
    const r = runRelaxedChild(new URL(import.meta.url).pathname);
    if (r.skipped) return;
    assert.ok(r.ok, r.out.slice(-3000));
  });
}

test.run();
