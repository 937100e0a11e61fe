// ConvTranspose lowering: 2-D float32 with constant weights runs channels-last on the GEMM + col2im kernels
// (session.profile() names f32_col2im_nhwc), with pads, output_padding, output_shape, groups, dilation, a fused
// Relu; against onnxruntime-node within 1e-5 relative (plus 1e-6 absolute) on the scalar and SIMD paths.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/onnx/writer.js';
import { Rng } from '../../src/zoo/rng.js';

interface Case { name: string; x: number[]; w: number[]; attrs: Record<string, number | number[] | string>; bias: boolean; relu?: boolean }

const CASES: Case[] = [
  { name: '2x2 stride 2 (DB head upsampling)', x: [1, 16, 10, 12], w: [16, 8, 2, 2], attrs: { strides: [2, 2] }, bias: true, relu: true },
  { name: '3x3 stride 2 pads 1 output_padding 1', x: [2, 6, 7, 5], w: [6, 4, 3, 3], attrs: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }, bias: true },
  { name: '4x4 stride 2 groups 4 (bilinear-like upsampling)', x: [1, 4, 6, 6], w: [4, 1, 4, 4], attrs: { strides: [2, 2], pads: [1, 1, 1, 1], group: 4 }, bias: false },
  { name: 'dilation 2, stride 1, no bias', x: [1, 3, 5, 6], w: [3, 5, 3, 2], attrs: { dilations: [2, 2] }, bias: false },
  { name: 'output_shape', x: [1, 5, 4, 4], w: [5, 3, 3, 3], attrs: { strides: [2, 2], output_shape: [9, 10] }, bias: true },
];

for (const c of CASES) {
  test(`ConvTranspose ${c.name}: wasm kernel, matches onnxruntime`, async () => {
    const rng = new Rng(c.x.reduce((a, b) => a * 5 + b, 1));
    const g = new GraphBuilder({ opset: 13 });
    g.input('x', 'float32', c.x);
    const nw = c.w.reduce((a, b) => a * b, 1);
    g.initializer('w', 'float32', Float32Array.from({ length: nw }, () => rng.range(-1, 1)), c.w);
    const oc = c.w[1] * ((c.attrs.group as number) ?? 1);
    const ins = ['x', 'w'];
    if (c.bias) ins.push(g.initializer('b', 'float32', Float32Array.from({ length: oc }, () => rng.range(-1, 1)), [oc]));
    g.node('ConvTranspose', ins, [c.relu ? 'ct' : 'y'], c.attrs);
    if (c.relu) g.node('Relu', ['ct'], ['y']);
    g.output('y', 'float32');
    const bytes = g.toBytes();
    const n = c.x.reduce((a, b) => a * b, 1);
    const x = Float32Array.from({ length: n }, () => rng.range(-2, 2));
    const want = (await (await ort.InferenceSession.create(bytes)).run({ x: new ort.Tensor('float32', x, c.x) })).y;
    for (const kernels of ['scalar', 'x86'] as const) {
      const s = await InferenceSession.create(bytes, { kernels, threads: 1 });
      const got = (await s.run({ x: new Tensor('float32', x, c.x) })).y;
      assert.equal(got.dims, want.dims);
      const a = got.data as Float32Array, b = want.data as Float32Array;
      for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-5 * Math.abs(b[i]) + 1e-6, `${kernels} [${i}] ${a[i]} vs ${b[i]}`);
      const v = s.profile().nodes.filter((p) => !p.op.startsWith('_')).map((p) => `${p.op}:${p.variant}`);
      assert.ok(v.length === 1 && v[0].includes('f32_col2im_nhwc'), `${kernels}: ${v}`);
      s.release();
    }
  });
}

// onnxruntime runs the Q/DQ-wrapped Resize on the integers (its QDQ transformer drops equal-scale DQ / Q around it),
// rounding its integer bilinear blend differently from a float blend then QuantizeLinear: that part matches within one
// step only. The ConvTranspose part (float, as onnxruntime's CPU provider runs it) matches on all but 0.1%.
test('QDQ ConvTranspose and QDQ Resize run DequantizeLinear -> float kernel -> QuantizeLinear, all in wasm; match onnxruntime', async () => {
  const rng = new Rng(99);
  const g = new GraphBuilder({ opset: 13 });
  g.input('x', 'float32', [1, 8, 6, 6]);
  const s0 = g.initializer('s0', 'float32', Float32Array.of(0.02), []), z0 = g.initializer('z0', 'uint8', Uint8Array.of(128), []);
  g.node('QuantizeLinear', ['x', s0, z0], ['xq']);
  g.node('DequantizeLinear', ['xq', s0, z0], ['xd']);
  g.initializer('wq', 'int8', Int8Array.from({ length: 8 * 4 * 4 }, () => Math.round(rng.range(-127, 127))), [8, 4, 2, 2]);
  const ws = g.initializer('ws', 'float32', Float32Array.of(0.01), []), wz = g.initializer('wz', 'int8', Int8Array.of(0), []);
  g.node('DequantizeLinear', ['wq', ws, wz], ['wd']);
  g.node('ConvTranspose', ['xd', 'wd'], ['ct'], { strides: [2, 2] });
  const s1 = g.initializer('s1', 'float32', Float32Array.of(0.03), []), z1 = g.initializer('z1', 'uint8', Uint8Array.of(120), []);
  g.node('QuantizeLinear', ['ct', s1, z1], ['cq']);
  g.node('DequantizeLinear', ['cq', s1, z1], ['cd']);
  const roi = g.initializer('roi', 'float32', new Float32Array(0), [0]), sc = g.initializer('sc', 'float32', Float32Array.of(1, 1, 2, 2), [4]);
  g.node('Resize', ['cd', roi, sc], ['r'], { mode: 'linear' });
  g.node('QuantizeLinear', ['r', s1, z1], ['rq']);
  g.node('DequantizeLinear', ['rq', s1, z1], ['y']);
  g.output('y', 'float32');
  g.output('cd', 'float32');
  const bytes = g.toBytes();
  const x = Float32Array.from({ length: 8 * 36 }, () => rng.range(-2, 2));
  const want = await (await ort.InferenceSession.create(bytes)).run({ x: new ort.Tensor('float32', x, [1, 8, 6, 6]) });
  for (const kernels of ['scalar', 'x86'] as const) {
    const s = await InferenceSession.create(bytes, { kernels, threads: 1 });
    const out = await s.run({ x: new Tensor('float32', x, [1, 8, 6, 6]) });
    for (const [name, maxFrac] of [['cd', 0.001], ['y', 1]] as const) {
      const got = out[name].data as Float32Array, w = want[name].data as Float32Array;
      let off = 0;
      for (let i = 0; i < w.length; i++) {
        const d = Math.abs(got[i] - w[i]) / 0.03;
        assert.ok(d < 1.001, `${kernels} ${name}[${i}] ${got[i]} vs ${w[i]}`);
        if (d > 0.5) off++;
      }
      assert.ok(off <= Math.ceil(w.length * maxFrac), `${kernels} ${name}: ${off} of ${w.length} one step off`);
    }
    const v = s.profile().nodes.map((p) => `${p.op}:${p.variant}`);
    assert.ok(v.every((x) => !x.endsWith(':host')), `${kernels}: ${v}`);
    assert.ok(v.some((x) => x.includes('f32_col2im_nhwc')) && v.some((x) => x.includes('f32_resize_bilinear')), `${kernels}: ${v}`);
    s.release();
  }
});

test.run();
