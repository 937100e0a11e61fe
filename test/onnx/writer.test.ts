// The ONNX writer: models it writes run in onnxruntime-node and give the closed-form results; attributes of every
// kind and initializers of every dtype survive a decode; external data loads; bad use raises clear errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, attr, tensor, onnx, float32ToFloat16Bits, float16BitsToFloat32, irVersionForOpset } from '../../src/onnx/writer.js';

async function run(bytes: Uint8Array | string, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(bytes as Uint8Array, { graphOptimizationLevel: 'disabled' });
  try { return await s.run(feeds); } finally { await s.release(); }
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

test('Conv (pads, strides, group) + bias + Relu matches a direct convolution', async () => {
  const rnd = lcg(1);
  const [N, C, H, W, M, K, G] = [1, 4, 7, 6, 6, 3, 2];
  const x = Float32Array.from({ length: N * C * H * W }, rnd);
  const w = Float32Array.from({ length: M * (C / G) * K * K }, rnd);
  const b = Float32Array.from({ length: M }, rnd);
  const g = new GraphBuilder({ opset: 13 });
  g.input('x', 'float32', [N, C, H, W]);
  g.initializer('w', 'float32', w, [M, C / G, K, K]);
  g.initializer('b', 'float32', b, [M]);
  const [c] = g.node('Conv', ['x', 'w', 'b'], 1, { pads: [1, 0, 1, 2], strides: [2, 1], group: G, kernel_shape: [K, K], dilations: [1, 1] });
  g.node('Relu', [c], ['y']);
  const OH = Math.floor((H + 2 - K) / 2) + 1, OW = W + 2 - K + 1;
  g.output('y', 'float32', [N, M, OH, OW]);
  const out = (await run(g.toBytes(), { x: new ort.Tensor('float32', x, [N, C, H, W]) })).y;
  assert.equal(out.dims, [N, M, OH, OW]);
  const cpg = C / G, mpg = M / G;
  for (let m = 0; m < M; m++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    let acc = b[m];
    const gi = Math.floor(m / mpg);
    for (let ci = 0; ci < cpg; ci++) for (let ky = 0; ky < K; ky++) for (let kx = 0; kx < K; kx++) {
      const iy = oy * 2 - 1 + ky, ix = ox - 0 + kx;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      acc += x[(gi * cpg + ci) * H * W + iy * W + ix] * w[((m * cpg + ci) * K + ky) * K + kx];
    }
    const want = Math.max(0, acc);
    const got = (out.data as Float32Array)[(m * OH + oy) * OW + ox];
    assert.ok(Math.abs(got - want) <= 1e-5 * (1 + Math.abs(want)), `y[${m},${oy},${ox}] = ${got}, want ${want}`);
  }
});

test('initializers of float16/int8/uint8/int32/int64 and Constant nodes carry their values', async () => {
  const g = new GraphBuilder({ opset: 13 });
  const h = [0.5, -2, 65504, 1e-7, 3.140625];
  g.initializer('h', 'float16', h, [5]);
  g.node('Cast', ['h'], ['h32'], { to: onnx.TensorProto.DataType.FLOAT });
  g.output('h32', 'float32', [5]);
  // DequantizeLinear per-tensor int8 and per-channel uint8 (axis attribute), scale/zp from Constant nodes.
  g.initializer('q8', 'int8', [-128, -1, 0, 127], [4]);
  g.constant('s8', 'float32', [0.25], []);
  g.constant('z8', 'int8', [-3], []);
  g.node('DequantizeLinear', ['q8', 's8', 'z8'], ['dq8']);
  g.output('dq8', 'float32', [4]);
  g.initializer('qu', 'uint8', [0, 255, 10, 20], [2, 2]);
  g.initializer('su', 'float32', [0.5, 2], [2]);
  g.initializer('zu', 'uint8', [128, 5], [2]);
  g.node('DequantizeLinear', ['qu', 'su', 'zu'], ['dqu'], { axis: 0 });
  g.output('dqu', 'float32', [2, 2]);
  g.initializer('i32', 'int32', [-2147483648, 7, 2147483647], [3]);
  g.node('Identity', ['i32'], ['i32o']);
  g.output('i32o', 'int32', [3]);
  g.initializer('i64', 'int64', [5n, -(2n ** 62n), 2n ** 62n + 1n], [3]);
  g.node('Identity', ['i64'], ['i64o']);
  g.output('i64o', 'int64', [3]);
  const r = await run(g.toBytes(), {});
  assert.equal(Array.from(r.h32.data as Float32Array), h.map((v) => float16BitsToFloat32(float32ToFloat16Bits(v))));
  assert.equal(Array.from(r.dq8.data as Float32Array), [-125 * 0.25, 2 * 0.25, 3 * 0.25, 130 * 0.25]);
  assert.equal(Array.from(r.dqu.data as Float32Array), [-64, 127 * 0.5, 10, 30]);
  assert.equal(Array.from(r.i32o.data as Int32Array), [-2147483648, 7, 2147483647]);
  assert.equal(Array.from(r.i64o.data as BigInt64Array), [5n, -(2n ** 62n), 2n ** 62n + 1n]);
});

test('float16 conversion: exact values, rounding to nearest even, subnormals, overflow, NaN', () => {
  assert.is(float32ToFloat16Bits(1), 0x3c00);
  assert.is(float32ToFloat16Bits(-2), 0xc000);
  assert.is(float32ToFloat16Bits(65504), 0x7bff);
  assert.is(float32ToFloat16Bits(65520), 0x7c00); // rounds up to inf
  assert.is(float32ToFloat16Bits(2 ** -24), 0x0001); // smallest subnormal
  assert.is(float32ToFloat16Bits(2 ** -25), 0x0000); // tie -> even (0)
  assert.is(float32ToFloat16Bits(3 * 2 ** -25), 0x0002); // tie 1.5 ulp -> even (2)
  assert.is(float32ToFloat16Bits(1 + 2 ** -11), 0x3c00); // tie -> even
  assert.is(float32ToFloat16Bits(1 + 3 * 2 ** -11), 0x3c02);
  assert.ok(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN))));
  assert.is(float16BitsToFloat32(float32ToFloat16Bits(-Infinity)), -Infinity);
  for (let b = 0; b < 0x7c00; b += 37) assert.is(float32ToFloat16Bits(float16BitsToFloat32(b)), b);
});

test('attributes: float/int/string/tensor/graph and lists run in onnxruntime; every kind decodes back', async () => {
  const g = new GraphBuilder({ opset: 13 });
  g.input('x', 'float32', [2, 3]);
  g.input('cond', 'bool', []);
  // FLOAT attrs (forced float for an integral value), INT, STRING, INTS, TENSOR, GRAPH.
  g.node('HardSigmoid', ['x'], ['hs'], { alpha: attr.float(1), beta: 0.25 });
  g.output('hs', 'float32', [2, 3]);
  g.constant('pads', 'int64', [0, 1, 0, 1], [4]);
  g.node('Pad', ['x', 'pads'], ['pad'], { mode: 'reflect' });
  g.output('pad', 'float32', [2, 5]);
  g.constant('shape', 'int64', [2, 2], [2]);
  g.node('ConstantOfShape', ['shape'], ['cos'], { value: tensor('float32', [7.5], [1]) });
  g.output('cos', 'float32', [2, 2]);
  g.node('Transpose', ['x'], ['tr'], { perm: [1, 0] });
  g.output('tr', 'float32', [3, 2]);
  const thenG = new GraphBuilder({ name: 'then' });
  thenG.node('Constant', [], ['a'], { value_floats: attr.floats([1, 2]) });
  thenG.output('a', 'float32', [2]);
  const elseG = new GraphBuilder({ name: 'else' });
  elseG.node('Constant', [], ['b'], { value_floats: [3.5, 4.5] });
  elseG.output('b', 'float32', [2]);
  g.node('If', ['cond'], ['iff'], { then_branch: thenG, else_branch: elseG });
  g.output('iff', 'float32', [2]);
  const bytes = g.toBytes();
  const xv = Float32Array.from([-3, -0.5, 0, 0.1, 0.5, 2]);
  const feeds = { x: new ort.Tensor('float32', xv, [2, 3]) };
  const r1 = await run(bytes, { ...feeds, cond: new ort.Tensor('bool', [true], []) });
  const r0 = await run(bytes, { ...feeds, cond: new ort.Tensor('bool', [false], []) });
  const hs = r1.hs.data as Float32Array;
  xv.forEach((v, i) => assert.ok(Math.abs(hs[i] - Math.min(1, Math.max(0, v + 0.25))) < 1e-7, `hs[${i}]`));
  assert.equal(Array.from(r1.pad.data as Float32Array), [-0.5, -3, -0.5, 0, -0.5, 0.5, 0.1, 0.5, 2, 0.5].map(Math.fround));
  assert.equal(Array.from(r1.cos.data as Float32Array), [7.5, 7.5, 7.5, 7.5]);
  assert.equal(Array.from(r1.tr.data as Float32Array), [-3, 0.1, -0.5, 0.5, 0, 2].map(Math.fround));
  assert.equal(Array.from(r1.iff.data as Float32Array), [1, 2]);
  assert.equal(Array.from(r0.iff.data as Float32Array), [3.5, 4.5]);

});

test('attribute kinds decode back to what was written', () => {
  const thenG = new GraphBuilder({ name: 'sub' });
  thenG.node('Constant', [], ['a'], { value_floats: attr.floats([1, 2]) });
  thenG.output('a', 'float32', [2]);
  const h = new GraphBuilder({ domains: { 'x.custom': 1 }, opset: 21 });
  h.input('x', 'float32', ['N', null, 3]);
  h.node('Custom', ['x', ''], ['y'], {
    s: attr.strings(['a', 'bc']), ts: attr.tensors([tensor('int8', [1, -2], [2])]), gs: attr.graphs([thenG]),
    big: 2n ** 40n, bigs: [1n, -(2n ** 50n)], ff: [0.5, 1], ii: attr.ints([]), str: 'hello', fl: 1.5, one: attr.float(2),
  }, { domain: 'x.custom', name: 'n0' });
  h.output('y', 'float32');
  const m = onnx.ModelProto.decode(h.toBytes());
  assert.is(Number(m.irVersion), irVersionForOpset(21));
  assert.equal(m.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 21], ['x.custom', 1]]);
  const inp = m.graph!.input[0].type!.tensorType!.shape!.dim;
  assert.equal(inp.map((d) => d.dimParam || (d.dimValue != null ? Number(d.dimValue) : null)), ['N', null, 3]);
  const n = m.graph!.node[0];
  assert.is(n.domain, 'x.custom');
  assert.equal(n.input, ['x', '']);
  const a = Object.fromEntries(n.attribute.map((x) => [x.name, x]));
  const T = onnx.AttributeProto.AttributeType;
  assert.is(a.s.type, T.STRINGS);
  assert.equal(a.s.strings.map((b) => new TextDecoder().decode(b)), ['a', 'bc']);
  assert.is(a.ts.type, T.TENSORS);
  assert.equal(Array.from(new Int8Array(a.ts.tensors[0].rawData.buffer, a.ts.tensors[0].rawData.byteOffset, 2)), [1, -2]);
  assert.is(a.gs.type, T.GRAPHS);
  assert.is(a.gs.graphs[0].node[0].opType, 'Constant');
  assert.is(a.big.type, T.INT);
  assert.is(a.big.i.toString(), String(2n ** 40n));
  assert.equal(a.bigs.ints.map(String), ['1', String(-(2n ** 50n))]);
  assert.is(a.ff.type, T.FLOATS);
  assert.equal(a.ff.floats, [0.5, 1]);
  assert.is(a.ii.type, T.INTS);
  assert.is(a.str.type, T.STRING);
  assert.is(new TextDecoder().decode(a.str.s), 'hello');
  assert.is(a.fl.type, T.FLOAT);
  assert.is(a.one.type, T.FLOAT);
  assert.is(a.one.f, 2);
});

test('com.microsoft QLinearAdd runs with the closed-form requantized result', async () => {
  const g = new GraphBuilder({ opset: 13, domains: { 'com.microsoft': 1 } });
  g.input('a', 'uint8', [4]);
  g.input('b', 'uint8', [4]);
  const sa = g.initializer('sa', 'float32', [0.1], []), za = g.initializer('za', 'uint8', [10], []);
  const sb = g.initializer('sb', 'float32', [0.2], []), zb = g.initializer('zb', 'uint8', [20], []);
  const sc = g.initializer('sc', 'float32', [0.25], []), zc = g.initializer('zc', 'uint8', [100], []);
  g.node('QLinearAdd', ['a', sa, za, 'b', sb, zb, sc, zc], ['c'], {}, { domain: 'com.microsoft' });
  g.output('c', 'uint8', [4]);
  const a = Uint8Array.from([0, 10, 50, 255]), b = Uint8Array.from([20, 0, 255, 200]);
  const r = await run(g.toBytes(), { a: new ort.Tensor('uint8', a, [4]), b: new ort.Tensor('uint8', b, [4]) });
  const want = Array.from(a, (_, i) => {
    const real = 0.1 * (a[i] - 10) + 0.2 * (b[i] - 20);
    return Math.min(255, Math.max(0, Math.round(real / 0.25) + 100));
  });
  const got = Array.from(r.c.data as Uint8Array);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1, `c[${i}] = ${got[i]}, want ${want[i]}`);
});

test('external data: large initializers go to the data file and the model loads from a path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'octet-writer-'));
  try {
    const rnd = lcg(7);
    const w = Float32Array.from({ length: 64 * 32 }, rnd);
    const g = new GraphBuilder({ opset: 17 });
    g.input('x', 'float32', ['N', 64]);
    g.initializer('w', 'float32', w, [64, 32]);
    g.initializer('small', 'float32', [1, 2], [2]);
    g.node('MatMul', ['x', 'w'], ['y']);
    g.output('y', 'float32', ['N', 32]);
    const { model, data } = g.toBytesWithExternalData({ location: 'm.onnx.data', threshold: 100 });
    assert.is(data.length, w.length * 4);
    assert.ok(model.length < 1000, `model inline part is ${model.length} bytes`);
    writeFileSync(join(dir, 'm.onnx'), model);
    writeFileSync(join(dir, 'm.onnx.data'), data);
    const x = Float32Array.from({ length: 2 * 64 }, rnd);
    const s = await ort.InferenceSession.create(join(dir, 'm.onnx'), { logSeverityLevel: 3 });
    const y = (await s.run({ x: new ort.Tensor('float32', x, [2, 64]) })).y.data as Float32Array;
    await s.release();
    for (let n = 0; n < 2; n++) for (let j = 0; j < 32; j++) {
      let acc = 0;
      for (let k = 0; k < 64; k++) acc += x[n * 64 + k] * w[k * 32 + j];
      assert.ok(Math.abs(y[n * 32 + j] - acc) <= 1e-5 * (1 + Math.abs(acc)));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad use raises errors that name the problem', () => {
  const g = new GraphBuilder();
  g.input('x', 'float32', [1]);
  assert.throws(() => g.input('x', 'float32', [1]), /input 'x': name already used/);
  assert.throws(() => g.initializer('w', 'float32', [1, 2, 3], [2, 2]), /3 elements for dims \[2, 2\]/);
  assert.throws(() => g.node('QLinearAdd', ['x'], 1, {}, { domain: 'com.microsoft' }), /domain 'com.microsoft' is not imported/);
  assert.throws(() => g.node('Foo', ['x'], 1, { e: [] }), /attribute 'e': empty list/);
  assert.throws(() => g.initializer('q', 'int8', [200], [1]), /200 is not a valid int8/);
  const names = new Set(Array.from({ length: 50 }, () => g.fresh('t')));
  assert.is(names.size, 50);
});

test.run();
