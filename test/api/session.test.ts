// InferenceSession API on small FP32 models written with the project's ONNX writer, compared with
// onnxruntime-node (outputs within 1e-4 relative): metadata, run, repeated runs, profile, memory, release,
// path choice, shape changes between runs, intermediate tensors fetched as graph outputs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/onnx/writer.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}
function randn(n: number, r: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => r() * scale);
}

/** Conv(3x3,s2)+BN+Relu -> depthwise Conv+Clip(0,6) -> Conv1x1 -> Add(residual-ish) -> GAP -> Flatten -> Gemm -> Softmax */
export function smallCnn(seed = 1, batch: number | string = 1, extraOutputs = false): Uint8Array {
  const r = rng(seed);
  const g = new GraphBuilder({ opset: 17 });
  const x = g.input('x', 'float32', [batch, 3, 16, 16]);
  const w1 = g.initializer('w1', 'float32', randn(8 * 3 * 9, r, 0.4), [8, 3, 3, 3]);
  const b1 = g.initializer('b1', 'float32', randn(8, r, 0.1), [8]);
  const [c1] = g.node('Conv', [x, w1, b1], ['c1'], { pads: [1, 1, 1, 1], strides: [2, 2], kernel_shape: [3, 3] });
  const sc = g.initializer('bn_s', 'float32', Float32Array.from({ length: 8 }, () => 1 + 0.2 * r()), [8]);
  const bb = g.initializer('bn_b', 'float32', randn(8, r, 0.1), [8]);
  const bm = g.initializer('bn_m', 'float32', randn(8, r, 0.1), [8]);
  const bv = g.initializer('bn_v', 'float32', Float32Array.from({ length: 8 }, () => 1 + 0.5 * Math.abs(r())), [8]);
  const [bn] = g.node('BatchNormalization', [c1, sc, bb, bm, bv], ['bn'], { epsilon: 1e-5 });
  const [a1] = g.node('Relu', [bn], ['a1']);
  const wd = g.initializer('wd', 'float32', randn(8 * 9, r, 0.5), [8, 1, 3, 3]);
  const [d1] = g.node('Conv', [a1, wd], ['d1'], { pads: [1, 1, 1, 1], group: 8, kernel_shape: [3, 3] });
  const lo = g.initializer('lo', 'float32', [0], []);
  const hi = g.initializer('hi', 'float32', [6], []);
  const [a2] = g.node('Clip', [d1, lo, hi], ['a2']);
  const wp = g.initializer('wp', 'float32', randn(8 * 8, r, 0.5), [8, 8, 1, 1]);
  const [p1] = g.node('Conv', [a2, wp], ['p1']);
  const [s1] = g.node('Add', [p1, a1], ['s1']);
  const [gp] = g.node('GlobalAveragePool', [s1], ['gp']);
  const [fl] = g.node('Flatten', [gp], ['fl']);
  const wf = g.initializer('wf', 'float32', randn(5 * 8, r, 0.5), [5, 8]);
  const bf = g.initializer('bf', 'float32', randn(5, r, 0.1), [5]);
  const [fc] = g.node('Gemm', [fl, wf, bf], ['fc'], { transB: 1 });
  const [y] = g.node('Softmax', [fc], ['y'], { axis: 1 });
  g.output(y, 'float32', [batch, 5]);
  if (extraOutputs) {
    g.output(a1, 'float32', [batch, 8, 8, 8]);
    g.output(d1, 'float32', [batch, 8, 8, 8]);
  }
  return g.toBytes();
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, rel = 1e-4, abs = 1e-5): string | null {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= rel * Math.abs(b[i]) + abs)) return `at ${i}: ${a[i]} vs ${b[i]}`;
  return null;
}

async function ortRun(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(bytes);
  const f: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(feeds)) f[k] = new ort.Tensor(t.type as any, t.data as any, t.dims);
  const out = await s.run(f);
  const res: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(out)) res[k] = t.data as Float32Array;
  return res;
}

test('metadata mirrors onnxruntime: inputNames, outputNames, inputMetadata', async () => {
  const s = await InferenceSession.create(smallCnn(1, 'N'));
  assert.equal(s.inputNames, ['x']);
  assert.equal(s.outputNames, ['y']);
  assert.equal(s.inputMetadata[0].type, 'float32');
  assert.equal(s.inputMetadata[0].shape, ['N', 3, 16, 16]);
  assert.ok(['scalar', 'x86', 'arm', 'relaxed'].includes(s.kernelPath));
  await s.release();
});

test('FP32 CNN matches onnxruntime-node within 1e-4 on every available path; repeated runs reuse the arena', async () => {
  const bytes = smallCnn(2, 1, true);
  const r = rng(7);
  const x = new Tensor('float32', randn(3 * 16 * 16, r), [1, 3, 16, 16]);
  const want = await ortRun(bytes, { x });
  for (const kernels of ['scalar', 'auto'] as const) {
    const s = await InferenceSession.create(bytes, { kernels });
    for (let rep = 0; rep < 2; rep++) {
      const out = await s.run({ x });
      for (const k of ['y', 'a1', 'd1']) {
        const err = close(out[k].data as Float32Array, want[k]);
        assert.is(err, null, `${kernels} ${k}: ${err}`);
      }
    }
    const m = s.memory();
    assert.ok(m.arenaBytes > 0 && m.weightsBytes > 0 && m.peakBytes >= m.arenaBytes + m.weightsBytes);
    assert.ok(m.arenaBytes >= m.arenaLowerBound);
    const p = s.profile();
    assert.ok(p.nodes.length > 0 && p.nodes.every((n) => typeof n.variant === 'string' && n.ms >= 0));
    assert.ok(p.nodes.some((n) => n.variant.includes('f32_gemm')), 'convolutions run on the wasm GEMM');
    await s.release();
  }
});

test('batch dimension: a run with another shape re-plans and still matches', async () => {
  const bytes = smallCnn(3, 'N');
  const r = rng(9);
  const s = await InferenceSession.create(bytes);
  for (const n of [1, 3, 2]) {
    const x = new Tensor('float32', randn(n * 3 * 16 * 16, r), [n, 3, 16, 16]);
    const want = await ortRun(bytes, { x });
    const out = await s.run({ x });
    assert.equal(out.y.dims, [n, 5]);
    assert.is(close(out.y.data as Float32Array, want.y), null);
  }
  await s.release();
});

test('sessions are independent; release() makes run fail clearly', async () => {
  const a = await InferenceSession.create(smallCnn(4));
  const b = await InferenceSession.create(smallCnn(5));
  const x = new Tensor('float32', randn(3 * 16 * 16, rng(1)), [1, 3, 16, 16]);
  const ya = (await a.run({ x })).y.data.slice();
  await b.release();
  let msg = '';
  await b.run({ x }).catch((e) => (msg = e.message));
  assert.match(msg, /released/);
  const ya2 = (await a.run({ x })).y.data;
  assert.equal(Array.from(ya2), Array.from(ya));
  await a.release();
});

test('Tensor: types, dims and data are checked', () => {
  assert.is(new Tensor('int64', [1, 2, 3]).data.constructor, BigInt64Array);
  assert.is(new Tensor('bool', [true, false]).data[0], 1);
  assert.throws(() => new Tensor('float32', new Int32Array(4), [2, 2]), /Float32Array/);
  assert.throws(() => new Tensor('float32', new Float32Array(5), [2, 2]), /hold 4 values/);
  assert.throws(() => new Tensor('complex' as any, new Float32Array(1)), /unsupported type/);
});

test.run();
