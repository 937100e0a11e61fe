// Bad input: each case is rejected with an Error naming the node or input and the problem, and a failing
// session leaves other sessions working.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/onnx/writer.js';

function model(opset = 13, build?: (g: GraphBuilder, x: string) => string): Uint8Array {
  const g = new GraphBuilder({ opset });
  const x = g.input('x', 'float32', [1, 4]);
  const y = build ? build(g, x) : g.node('Relu', [x], ['y'])[0];
  g.output(y, 'float32');
  return g.toBytes();
}

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  let msg = '';
  try {
    await p;
  } catch (e: any) {
    assert.instance(e, Error);
    msg = e.message;
  }
  assert.ok(msg, `expected an error matching ${re}`);
  assert.match(msg, re);
}

const x4 = () => new Tensor('float32', Float32Array.of(1, -2, 3, -4), [1, 4]);

test('malformed and truncated model bytes', async () => {
  await rejects(InferenceSession.create(new Uint8Array([1, 2, 3, 4, 5, 255, 255])), /not a valid ONNX|no graph/);
  const good = model();
  await rejects(InferenceSession.create(good.subarray(0, Math.floor(good.length / 2))), /not a valid ONNX|truncated|no graph|not produced/);
  await rejects(InferenceSession.create(new Uint8Array(0)), /empty/);
  await rejects(InferenceSession.create('/nonexistent/model.onnx'), /cannot read model file '\/nonexistent\/model.onnx'/);
});

test('unknown operator names the node', async () => {
  const bytes = model(13, (g, x) => g.node('FancyOp', [x], ['y'], {}, { name: 'fancy_node' } as any)[0]);
  await rejects(InferenceSession.create(bytes), /node 'fancy_node' \(FancyOp\): unsupported operator FancyOp/);
});

test('unsupported opset', async () => {
  await rejects(InferenceSession.create(model(30)), /unsupported opset ai.onnx 30/);
});

test('dimensions that do not match name the node', async () => {
  const bytes = model(13, (g, x) => {
    const w = g.initializer('w', 'float32', new Float32Array(15), [5, 3]);
    return g.node('MatMul', [x, w], ['y'], {}, { name: 'mm' } as any)[0];
  });
  await rejects(InferenceSession.create(bytes), /node 'mm' \(MatMul\): inner dimensions differ/);
});

test('a required input dropped or left empty names the node and the input (not a TypeError inside the op)', async () => {
  // BatchNormalization takes X, scale, B, mean, var: the variance dropped (found by mutating conformance models)
  const bn = model(13, (g, x) => {
    const c = (n: string) => g.initializer(n, 'float32', Float32Array.of(1, 1, 1, 1), [4]);
    return g.node('BatchNormalization', [x, c('s'), c('b'), c('m')], ['y'], {}, { name: 'bn' } as any)[0];
  });
  await rejects(InferenceSession.create(bn).then((s) => s.run({ x: x4() })), /node 'bn' \(BatchNormalization\): input 4 is required .* but the node has 4/);
  // Slice (opset >= 10) needs starts and ends: '' is ONNX's absent input
  const sl = model(13, (g, x) => {
    const st = g.initializer('st', 'int64', BigInt64Array.of(0n), [1]);
    return g.node('Slice', [x, st, ''], ['y'], {}, { name: 'sl' } as any)[0];
  });
  await rejects(InferenceSession.create(sl).then((s) => s.run({ x: x4() })), /node 'sl' \(Slice\): input 2 is required .* but the node leaves it empty/);
  // optional inputs stay optional: QuantizeLinear without a zero point, Clip without bounds
  const ok = model(13, (g, x) => {
    const sc = g.initializer('sc', 'float32', Float32Array.of(0.5), []);
    const q = g.node('QuantizeLinear', [x, sc], ['q'])[0];
    const d = g.node('DequantizeLinear', [q, sc], ['d'])[0];
    return g.node('Clip', [d, '', ''], ['y'])[0];
  });
  const s = await InferenceSession.create(ok);
  assert.equal(Array.from((await s.run({ x: x4() })).y.data as Float32Array), [1, 0, 3, 0]);
});

test('QuantizeLinear with an output_dtype that is not a quantized type names the node', async () => {
  const bytes = model(21, (g, x) => {
    const sc = g.initializer('sc', 'float32', Float32Array.of(0.5), []);
    const q = g.node('QuantizeLinear', [x, sc], ['q'], { output_dtype: 1000 }, { name: 'ql' } as any)[0];
    return g.node('DequantizeLinear', [q, sc], ['y'])[0];
  });
  await rejects(InferenceSession.create(bytes).then((s) => s.run({ x: x4() })), /node 'ql' \(QuantizeLinear\): output_dtype 1000 is not a quantized type/);
});

test('missing, extra, wrong-type and wrong-shape feeds name the input', async () => {
  const s = await InferenceSession.create(model());
  await rejects(s.run({}), /input 'x' is missing/);
  await rejects(s.run({ x: x4(), z: x4() }), /feed 'z' is not an input/);
  await rejects(s.run({ x: new Tensor('int32', Int32Array.of(1, 2, 3, 4), [1, 4]) }), /input 'x' has type int32, the model expects float32/);
  await rejects(s.run({ x: new Tensor('float32', new Float32Array(8), [2, 4]) }), /input 'x' has dims \[2,4\], the model expects \[1,4\]/);
  await rejects(s.run({ x: { type: 'float32', data: new Float32Array(3), dims: [1, 4] } as any }), /input 'x': dims \[1,4\] hold 4 values, data has 3/);
  // the session still works after those errors
  const out = await s.run({ x: x4() });
  assert.equal(Array.from(out.y.data as Float32Array), [1, 0, 3, 0]);
});

test('a model exceeding maxMemoryBytes is rejected with the sizes', async () => {
  const bytes = model(13, (g, x) => {
    const w = g.initializer('w', 'float32', new Float32Array(4 * 300000), [4, 300000]);
    return g.node('MatMul', [x, w], ['y'])[0];
  });
  await rejects(InferenceSession.create(bytes, { maxMemoryBytes: 1 << 20 }), /needs \d+ bytes of memory \(weights \d+, arena \d+\), above maxMemoryBytes 1048576/);
  const ok = await InferenceSession.create(bytes, { maxMemoryBytes: 64 << 20 });
  assert.equal((await ok.run({ x: x4() })).y.dims, [1, 300000]);
});

test('bad options are rejected', async () => {
  await rejects(InferenceSession.create(model(), { kernels: 'gpu' as any }), /unknown kernel path 'gpu'/);
  await rejects(InferenceSession.create(model(), { requantization: 'approx' as any }), /unknown requantization 'approx'/);
  await rejects(InferenceSession.create(model(), { threads: 0 }), /threads must be an integer >= 1/);
});

test('external data: missing file named; present file loads', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'octet-ext-'));
  const g = new GraphBuilder({ opset: 13 });
  const x = g.input('x', 'float32', [1, 4]);
  const w = g.initializer('w', 'float32', Float32Array.from({ length: 4 * 300 }, (_, i) => (i % 7) - 3), [4, 300]);
  const [y] = g.node('MatMul', [x, w], ['y']);
  g.output(y, 'float32');
  const { model: m, data } = g.toBytesWithExternalData({ location: 'weights.bin', threshold: 16 } as any);
  writeFileSync(join(dir, 'm.onnx'), m);
  await rejects(InferenceSession.create(join(dir, 'm.onnx')), /external data file 'weights.bin'/);
  writeFileSync(join(dir, 'weights.bin'), data);
  const s = await InferenceSession.create(join(dir, 'm.onnx'));
  const out = (await s.run({ x: x4() })).y.data as Float32Array;
  let want = 0;
  for (let k = 0; k < 4; k++) want += [1, -2, 3, -4][k] * ((k * 300) % 7 - 3);
  assert.ok(Math.abs(out[0] - want) < 1e-4);
});

test('one failing session leaves others working', async () => {
  const a = await InferenceSession.create(model());
  await rejects(InferenceSession.create(model(13, (g, x) => g.node('Nope', [x], ['y'])[0])), /unsupported operator Nope/);
  const b = await InferenceSession.create(model());
  await rejects(b.run({ x: new Tensor('float32', new Float32Array(8), [2, 4]) }), /has dims/);
  await b.release();
  assert.equal(Array.from((await a.run({ x: x4() })).y.data as Float32Array), [1, 0, 3, 0]);
});

test.run();
