// qdqFusion 'ort': Octet folds only the QDQ patterns onnxruntime's x86-64 CPU provider folds, and runs the rest as
// DequantizeLinear -> float op -> QuantizeLinear with the float Conv / GlobalAveragePool in MLAS's order
// (src/ops/ort-float.ts). Checked against onnxruntime-node: the float kernels layer by layer (every MLAS conv
// algorithm: pointwise GEMM, whole im2col, sliced im2col with K blocks, the M = 1 depthwise kernel), fmaf against
// exact BigInt arithmetic, which nodes stay float on a graph with fan-outs, and the outputs of such a graph.
// The zoo models (int8 activations, onnxruntime-quantizer style) are compared whole in zoo-*.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/onnx/writer.js';
import { readModel } from '../../src/onnx/reader.js';
import { optimize } from '../../src/runtime/executor.js';
import { InferenceSession, Tensor, quantize } from '../../src/index.js';
import { zooModel } from '../../src/zoo/index.js';
import { fmaf, ortConv2d, ortGlobalAvg } from '../../src/ops/ort-float.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

// --- exact reference for fmaf: float32 values as BigInt mantissa * 2^exp, the sum exact, rounded half to even ---
const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
function decompose(v: number): [bigint, number] {
  f32[0] = v;
  const bits = u32[0], sign = bits >>> 31 ? -1n : 1n, e = (bits >>> 23) & 0xff, m = bits & 0x7fffff;
  return e === 0 ? [sign * BigInt(m), -149] : [sign * BigInt(m | 0x800000), e - 150];
}
function exactFma32(a: number, b: number, c: number): number {
  const [ma, ea] = decompose(a), [mb, eb] = decompose(b), [mc, ec] = decompose(c);
  const ep = ea + eb, e = Math.min(ep, ec);
  let s = (ma * mb << BigInt(ep - e)) + (mc << BigInt(ec - e));
  if (s === 0n) return 0;
  const neg = s < 0n;
  if (neg) s = -s;
  // keep 24 significant bits (normal results only in this test), round half to even
  let exp = e;
  const len = s.toString(2).length;
  if (len > 24) {
    const drop = BigInt(len - 24), q = s >> drop, rem = s - (q << drop), half = 1n << (drop - 1n);
    s = rem > half || (rem === half && (q & 1n) === 1n) ? q + 1n : q;
    exp += Number(drop);
  }
  const v = Number(s) * 2 ** exp;
  return neg ? -v : v;
}

test('fmaf: a * b + c rounded once, equal to exact arithmetic (random and double-rounding cases)', () => {
  const r = rng(5);
  const cases: [number, number, number][] = [];
  for (let i = 0; i < 20000; i++) {
    const g = () => Math.fround((r() * 2 - 1) * 2 ** Math.floor(r() * 40 - 20));
    cases.push([g(), g(), g()]);
  }
  // products a * b = h (1 -+ 2^-46) with h half an ulp of c: the float64 sum lands exactly on a float32 midpoint
  for (let i = 0; i < 2000; i++) {
    const c = Math.fround((1 + r()) * 2 ** Math.floor(r() * 20 - 10)) * (r() < 0.5 ? -1 : 1);
    f32[0] = Math.abs(c);
    const ulp = 2 ** (((u32[0] >>> 23) & 0xff) - 150);
    const h = (ulp / 2) * (r() < 0.5 ? -1 : 1);
    const a = Math.fround(1 + 2 ** -23), b = Math.fround(r() < 0.5 ? 1 - 2 ** -23 : 1 + 2 ** -23);
    cases.push([a, Math.fround(b * h), c], [Math.fround(b * h), a, c]);
  }
  let ties = 0;
  for (const [a, b, c] of cases) {
    const want = exactFma32(a, b, c), got = fmaf(a, b, c);
    if (Math.fround(a * b + c) !== want) ties++;
    assert.is(got, want, `fmaf(${a}, ${b}, ${c})`);
  }
  assert.ok(ties > 100, `only ${ties} cases where rounding the float64 sum is wrong: the test lost its hard cases`);
});

/** One float Conv (or GlobalAveragePool) in onnxruntime vs the MLAS-order emulation, on dequantized-int8-like input. */
async function layerDiff(M: number, C: number, k: number, group: number, s: number, p: number, H: number, gap = false, threads = 1): Promise<[number, number]> {
  const r = rng(M * 131 + C * 7 + k * 3 + group + s * 17 + H);
  const g = new GraphBuilder({ name: 't', opset: 17 });
  g.input('x', 'float32', [1, C, H, H]);
  const w = Float32Array.from({ length: M * (C / group) * k * k }, () => Math.fround((r() * 2 - 1) * 0.2));
  const bias = Float32Array.from({ length: M }, () => Math.fround(r() - 0.5));
  const x = Float32Array.from({ length: C * H * H }, () => Math.fround((Math.floor(r() * 256) - 128) * Math.fround(0.037)));
  if (gap) g.node('GlobalAveragePool', ['x'], ['y']);
  else {
    g.node('Conv', ['x', g.initializer('w', 'float32', w, [M, C / group, k, k]), g.initializer('b', 'float32', bias, [M])], ['y'],
      { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p], group });
  }
  g.output('y', 'float32');
  // level 'extended': at 'all' onnxruntime rewrites float Convs whose weights are initializers into NCHWc ones; in
  // QDQ models the weights come from DequantizeLinear and stay plain Convs at every level
  const sess = await ort.InferenceSession.create(g.toBytes(), { intraOpNumThreads: threads, graphOptimizationLevel: 'extended' });
  const want = (await sess.run({ x: new ort.Tensor('float32', x, [1, C, H, H]) })).y.data as Float32Array;
  await sess.release();
  let got: Float32Array;
  if (gap) {
    got = new Float32Array(C);
    for (let c = 0; c < C; c++) got[c] = ortGlobalAvg(x, c * H * H, 1, H * H);
  } else {
    const oh = Math.floor((H + 2 * p - k) / s) + 1;
    got = ortConv2d(x, w, bias, { C, H, W: H, M, group, kh: k, kw: k, sh: s, sw: s, dh: 1, dw: 1, pt: p, pl: p, pb: p, pr: p, oh, ow: oh }, threads);
  }
  let d = 0;
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) d++;
  return [d, want.length];
}

test('float Conv / GlobalAveragePool in MLAS order equal onnxruntime bit for bit, every MLAS conv algorithm', async () => {
  const cases: [string, number, number, number, number, number, number, number][] = [
    ['pointwise GEMM, K > 128, N >= K', 32, 144, 1, 1, 1, 0, 28],
    ['pointwise GEMM, N < K (K blocks of 256)', 48, 576, 1, 1, 1, 0, 7],
    ['pointwise GEMM, small K', 96, 24, 1, 1, 1, 0, 14],
    ['im2col slices, 3x3, K blocks of 128', 32, 64, 3, 1, 1, 1, 28],
    ['im2col slices, 3x3 stride 2', 48, 32, 3, 1, 2, 1, 29],
    ['im2col slices, 1x1 stride 2', 40, 96, 1, 1, 2, 0, 14],
    ['whole im2col (M > N), 3x3', 256, 128, 3, 1, 1, 1, 7],
    ['grouped 3x3 (2 groups)', 32, 32, 3, 2, 1, 1, 12],
    ['depthwise 3x3 stride 2 (M = 1 kernel, K = 9)', 16, 16, 3, 16, 2, 1, 40],
    ['depthwise 5x5 (M = 1 kernel, K = 25)', 8, 8, 5, 8, 1, 2, 20],
    ['one output pixel (M1 transpose-B kernel, blocks of 4, 2, 1 filters)', 7, 150, 1, 1, 1, 0, 1],
    ['one output pixel, 3x3 padded, whole im2col', 17, 24, 3, 1, 1, 1, 1],
  ];
  for (const [what, ...c] of cases) {
    const [d, n] = await layerDiff(...c);
    assert.is(d, 0, `${what}: ${d}/${n} outputs differ`);
  }
  // onnxruntime's thread count decides how a split GEMM cuts K: reproduced for 2 and 3 threads
  const threaded: [string, number, number, number, number, number, number, number][] = [
    ['pointwise, N split over threads, N < K', 48, 576, 1, 1, 1, 0, 7],
    ['pointwise, M split over threads', 160, 576, 1, 1, 1, 0, 7],
    ['im2col thread segments, 3x3', 24, 200, 3, 1, 1, 1, 20],
  ];
  for (const t of [2, 3]) for (const [what, ...c] of threaded) {
    const [d, n] = await layerDiff(...c, false, t);
    assert.is(d, 0, `${what}, ${t} threads: ${d}/${n} outputs differ`);
  }
  for (const [C, H] of [[24, 28], [40, 14], [16, 7], [8, 5]]) {
    const [d, n] = await layerDiff(0, C, 0, 1, 1, 0, H, true);
    assert.is(d, 0, `GlobalAveragePool ${C}x${H}x${H}: ${d}/${n} differ`);
  }
});

/**
 * int8 QDQ graph with fan-outs: x feeds conv1 and add (stays int8), conv1's output feeds add and conv2 (int8), the
 * add output feeds two float ops (Relu, Mul), a GlobalAveragePool -> Mul (squeeze-excite like) reads a fanned-out value.
 */
function fanoutModel(floatBias = false): Uint8Array {
  const r = rng(9);
  const g = new GraphBuilder({ name: 'fanout', opset: 17 });
  g.input('x', 'float32', [1, 8, 10, 10]);
  let k = 0;
  const qdq = (t: string, sc: number, zp: number) => {
    const s = g.initializer(`s${k}`, 'float32', [sc], []), z = g.initializer(`z${k++}`, 'int8', [zp], []);
    return g.node('DequantizeLinear', [g.node('QuantizeLinear', [t, s, z], 1)[0], s, z], 1)[0];
  };
  const weight = (oc: number, ic: number, kk: number) => {
    const q = g.initializer(`w${k}`, 'int8', Int8Array.from({ length: oc * ic * kk * kk }, () => Math.floor(r() * 255) - 127), [oc, ic, kk, kk]);
    const s = g.initializer(`ws${k}`, 'float32', Float32Array.from({ length: oc }, () => Math.fround(0.002 + r() * 0.01)), [oc]);
    return g.node('DequantizeLinear', [q, s, g.initializer(`wz${k++}`, 'int8', new Int8Array(oc), [oc])], 1, { axis: 0 })[0];
  };
  // PyTorch style: a float bias, which onnxruntime quantizes to int32 even for the Convs it leaves in float
  const bias = (oc: number) => (floatBias ? [g.initializer(`b${k++}`, 'float32', Float32Array.from({ length: oc }, () => Math.fround(r() - 0.5)), [oc])] : []);
  const x = qdq('x', 0.02, 3);
  const c1 = qdq(g.node('Conv', [x, weight(8, 8, 3), ...bias(8)], ['c1'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv1' })[0], 0.03, -5);
  const a = qdq(g.node('Add', [x, c1], ['a'], {}, { name: 'add' })[0], 0.04, 1);
  const c2 = qdq(g.node('Conv', [c1, weight(8, 8, 1)], ['c2'], { kernel_shape: [1, 1] }, { name: 'conv2' })[0], 0.025, 0);
  const gp = qdq(g.node('GlobalAveragePool', [c2], ['gp'], {}, { name: 'gap' })[0], 0.01, -2);
  const sg = qdq(g.node('Sigmoid', [gp], ['sg'], {}, { name: 'sig' })[0], 1 / 256, -128);
  const m = qdq(g.node('Mul', [c2, sg], ['m'], {}, { name: 'mul' })[0], 0.02, 0);
  const c3 = qdq(g.node('Conv', [m, weight(8, 8, 3), ...bias(8)], ['c3'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] }, { name: 'conv3' })[0], 0.05, 4);
  g.node('Relu', [a], ['o1']);
  g.node('Mul', [a, a], ['o2'], {}, { name: 'square' });
  g.node('Identity', [c3], ['o3']);
  for (const o of ['o1', 'o2', 'o3']) g.output(o, 'float32');
  return g.toBytes();
}

const FLOAT_OPS = new Set(['Conv', 'Add', 'Mul', 'GlobalAveragePool', 'MatMul']);

for (const floatBias of [false, true]) test(`qdqFusion 'ort': the nodes left in float are onnxruntime's, the outputs identical${floatBias ? ' (float biases)' : ''}`, async () => {
  const bytes = fanoutModel(floatBias);
  const dir = mkdtempSync(join(tmpdir(), 'octet-ortfusion-'));
  try {
    const path = join(dir, 'opt.onnx');
    const os = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'extended', optimizedModelFilePath: path });
    const ortFloat = readModel(readFileSync(path)).nodes.filter((n) => n.domain === '' && FLOAT_OPS.has(n.op)).map((n) => n.name).sort();
    const g = readModel(bytes);
    const tg = optimize(g, new Map([['x', [1, 8, 10, 10]]]), undefined, 'float', 'ort');
    const octFloat = tg.nodes.filter((n) => n.domain === '' && FLOAT_OPS.has(n.op)).map((n) => n.name).sort();
    assert.equal(octFloat, ortFloat);
    assert.ok(octFloat.includes('conv1') && !octFloat.includes('add'), `int8 Conv runs in float, the all-int8 Add folds: ${octFloat}`);
    // the default rule folds every pattern
    const tgDefault = optimize(g, new Map([['x', [1, 8, 10, 10]]]), undefined, 'float');
    assert.equal(tgDefault.nodes.filter((n) => n.domain === '' && FLOAT_OPS.has(n.op)).map((n) => n.name), ['square']);

    const r = rng(3);
    const x = Float32Array.from({ length: 800 }, () => r() * 4 - 2);
    const want = await os.run({ x: new ort.Tensor('float32', x, [1, 8, 10, 10]) });
    const s = await InferenceSession.create(bytes, { requantization: 'float', qdqFusion: 'ort' });
    const got = await s.run({ x: new Tensor('float32', x, [1, 8, 10, 10]) });
    await s.release();
    await os.release();
    for (const o of ['o1', 'o2', 'o3']) {
      const w = want[o].data as Float32Array, gv = got[o].data as Float32Array;
      let d = 0;
      for (let i = 0; i < w.length; i++) if (w[i] !== gv[i]) d++;
      assert.is(d, 0, `${o}: ${d}/${w.length} differ`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("Octet's quantizer, int8 activations (MobileNetV2, min/max, per-channel): qdqFusion 'ort' identical to onnxruntime", async () => {
  const fp32 = await zooModel('mobilenetv2', 'fp32');
  const r = rng(11);
  const img = () => Float32Array.from({ length: 3 * 224 * 224 }, () => r() * 2 - 1);
  const probe = await ort.InferenceSession.create(fp32);
  const input = probe.inputNames[0];
  await probe.release();
  const calibration = Array.from({ length: 2 }, () => ({ [input]: { data: img(), dims: [1, 3, 224, 224] } }));
  const q = await quantize(fp32, { calibration, method: 'minmax', perChannel: true, activations: 'int8', format: 'qdq' });
  const x = img();
  const os = await ort.InferenceSession.create(q, { intraOpNumThreads: 1 });
  const want = Object.values(await os.run({ [input]: new ort.Tensor('float32', x, [1, 3, 224, 224]) }))[0].data as Float32Array;
  await os.release();
  const counts: Record<string, number> = {};
  for (const mode of ['octet', 'ort'] as const) {
    const s = await InferenceSession.create(q, { requantization: 'float', qdqFusion: mode });
    const got = Object.values(await s.run({ [input]: new Tensor('float32', x, [1, 3, 224, 224]) }))[0].data as Float32Array;
    await s.release();
    let d = 0;
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) d++;
    counts[mode] = d;
  }
  console.log(`quantize() int8 MobileNetV2: default mode ${counts.octet}/1000 logits differ from onnxruntime, 'ort' ${counts.ort}/1000`);
  assert.is(counts.ort, 0);
});

test("qdqFusion: an unknown value is rejected", async () => {
  try {
    await InferenceSession.create(fanoutModel(), { qdqFusion: 'fast' as any });
    assert.unreachable('accepted');
  } catch (e: any) {
    assert.match(e.message, /qdqFusion 'fast'/);
  }
});

test.run();
