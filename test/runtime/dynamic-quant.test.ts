// Dynamic quantization path on the wasm kernels: DynamicQuantizeLinear -> ConvInteger / MatMulInteger (input zero
// point known at run time) and ConvInteger with constant zero points, through InferenceSession on the scalar and
// SIMD paths: session.profile() names the kernels (no host step), outputs equal onnxruntime-node's exactly
// (integers) / within 1e-5 relative (float), and a padded case equals a direct evaluation of the ONNX definition.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/onnx/writer.js';
import { Rng } from '../../src/zoo/rng.js';

const rng = new Rng(77);
const bytesOf = (n: number, lo = 0, hi = 255) => Uint8Array.from({ length: n }, () => lo + Math.floor(rng.uniform() * (hi - lo + 1)));

/** ONNX ConvInteger on NCHW: sum over in-input taps of (x - xz)(w - wz[o]). */
function convIntegerRef(x: Uint8Array, xd: number[], w: Uint8Array, wd: number[], xz: number, wz: number[], pads: number[], strides: number[], group: number): Int32Array {
  const [N, C, H, W] = xd, [OC, cg, KH, KW] = wd;
  const OH = Math.floor((H + pads[0] + pads[2] - KH) / strides[0]) + 1, OW = Math.floor((W + pads[1] + pads[3] - KW) / strides[1]) + 1;
  const out = new Int32Array(N * OC * OH * OW);
  const og = OC / group;
  for (let n = 0; n < N; n++) for (let o = 0; o < OC; o++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    let s = 0;
    const g = Math.floor(o / og);
    for (let c = 0; c < cg; c++) for (let ky = 0; ky < KH; ky++) for (let kx = 0; kx < KW; kx++) {
      const iy = oy * strides[0] - pads[0] + ky, ix = ox * strides[1] - pads[1] + kx;
      if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
      s += (x[((n * C + g * cg + c) * H + iy) * W + ix] - xz) * (w[((o * cg + c) * KH + ky) * KW + kx] - (wz.length > 1 ? wz[o] : wz[0]));
    }
    out[((n * OC + o) * OH + oy) * OW + ox] = s;
  }
  return out;
}

async function both(bytes: Uint8Array, feeds: Record<string, { type: 'float32' | 'uint8'; data: any; dims: number[] }>, ortToo: boolean) {
  const want = ortToo ? await (await ort.InferenceSession.create(bytes)).run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor(v.type, v.data, v.dims)]))) : undefined;
  const res: { kernels: string; out: Record<string, Tensor>; variants: string[] }[] = [];
  for (const kernels of ['scalar', 'x86', 'arm'] as const) {
    const s = await InferenceSession.create(bytes, { kernels, threads: 1 });
    const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new Tensor(v.type, v.data, v.dims)])));
    const variants = s.profile().nodes.filter((p) => !p.op.startsWith('_')).map((p) => `${p.op}:${p.variant}`);
    res.push({ kernels, out, variants });
    s.release();
  }
  return { want, res };
}

test('ConvInteger with constant zero points runs the qs8 conv kernel with int32 output (equals onnxruntime)', async () => {
  const g = new GraphBuilder({ opset: 13 });
  const xd = [1, 6, 9, 8], wd = [10, 6, 3, 3];
  g.input('x', 'uint8', xd);
  const w = bytesOf(10 * 6 * 9);
  g.initializer('w', 'uint8', w, wd);
  g.initializer('xz', 'uint8', Uint8Array.of(131), []);
  g.initializer('wz', 'uint8', Uint8Array.of(120), []);
  g.node('ConvInteger', ['x', 'w', 'xz', 'wz'], ['y'], { strides: [2, 1] });
  g.output('y', 'int32');
  const x = bytesOf(6 * 9 * 8);
  const { want, res } = await both(g.toBytes(), { x: { type: 'uint8', data: x, dims: xd } }, true);
  for (const r of res) {
    assert.equal(Array.from(r.out.y.data as Int32Array), Array.from(want!.y.data as Int32Array), r.kernels);
    assert.ok(r.variants.every((v) => !v.endsWith(':host')), `${r.kernels}: ${r.variants}`);
  }
});

test('DynamicQuantizeLinear -> ConvInteger (runtime zero point) -> Cast -> Mul equals onnxruntime; every step on a kernel', async () => {
  const g = new GraphBuilder({ opset: 13 });
  const xd = [2, 5, 7, 7], wd = [8, 5, 3, 3];
  g.input('x', 'float32', xd);
  g.initializer('w', 'uint8', bytesOf(8 * 5 * 9), wd);
  g.initializer('wz', 'uint8', Uint8Array.of(128), []);
  g.initializer('ws', 'float32', Float32Array.of(0.02), []);
  g.node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz']);
  g.node('ConvInteger', ['xq', 'w', 'xz', 'wz'], ['acc']);
  g.node('Cast', ['acc'], ['accf'], { to: 1 });
  g.node('Mul', ['xs', 'ws'], ['s']);
  g.node('Mul', ['accf', 's'], ['y']);
  g.output('y', 'float32');
  g.output('acc', 'int32');
  const x = Float32Array.from({ length: 2 * 5 * 49 }, () => rng.range(-1.5, 3));
  const { want, res } = await both(g.toBytes(), { x: { type: 'float32', data: x, dims: xd } }, true);
  for (const r of res) {
    assert.equal(Array.from(r.out.acc.data as Int32Array), Array.from(want!.acc.data as Int32Array), r.kernels);
    const a = r.out.y.data as Float32Array, b = want!.y.data as Float32Array;
    for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-5 * Math.abs(b[i]) + 1e-6, `${r.kernels} [${i}] ${a[i]} vs ${b[i]}`);
    const v = r.variants.join(',');
    assert.ok(/DynamicQuantizeLinear:f32_dynquant_u8/.test(v) && /ConvInteger:[^,]*x32_conv_zp_correct/.test(v) && /Cast:f32_from_i32/.test(v), `${r.kernels}: ${v}`);
    assert.ok(r.variants.every((x) => !x.endsWith(':host')), `${r.kernels}: ${v}`);
  }
});

test('padded, strided, grouped ConvInteger with a runtime zero point equals the ONNX definition', async () => {
  const g = new GraphBuilder({ opset: 13 });
  const xd = [1, 6, 6, 7], wd = [9, 2, 3, 3];
  const pads = [1, 2, 1, 0], strides = [2, 1];
  g.input('x', 'uint8', xd);
  g.input('xz', 'uint8', []);
  const w = bytesOf(9 * 2 * 9);
  const wz = [3, 200, 128, 0, 255, 17, 90, 128, 1];
  g.initializer('w', 'uint8', w, wd);
  g.initializer('wz', 'uint8', Uint8Array.from(wz), [9]);
  g.node('ConvInteger', ['x', 'w', 'xz', 'wz'], ['y'], { pads, strides, group: 3 });
  g.output('y', 'int32');
  const x = bytesOf(6 * 6 * 7);
  for (const xz of [0, 77, 255]) {
    const { res } = await both(g.toBytes(), { x: { type: 'uint8', data: x, dims: xd }, xz: { type: 'uint8', data: Uint8Array.of(xz), dims: [] } }, false);
    const want = convIntegerRef(x, xd, w, wd, xz, wz, pads, strides, 3);
    for (const r of res) {
      assert.equal(Array.from(r.out.y.data as Int32Array), Array.from(want), `${r.kernels} xz=${xz}`);
      assert.ok(r.variants.join(',').includes('x32_conv_zp_correct'), r.variants.join(','));
    }
  }
});

test('DynamicQuantizeLinear -> MatMulInteger (runtime zero point) equals onnxruntime; the correction runs in wasm', async () => {
  const g = new GraphBuilder({ opset: 13 });
  g.input('x', 'float32', [21, 30]);
  g.initializer('w', 'uint8', bytesOf(30 * 11), [30, 11]);
  g.initializer('wz', 'uint8', Uint8Array.of(100), []);
  g.node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz']);
  g.node('MatMulInteger', ['xq', 'w', 'xz', 'wz'], ['y']);
  g.output('y', 'int32');
  g.output('xs', 'float32');
  const x = Float32Array.from({ length: 21 * 30 }, () => rng.range(-2, 1));
  const { want, res } = await both(g.toBytes(), { x: { type: 'float32', data: x, dims: [21, 30] } }, true);
  for (const r of res) {
    assert.equal(Array.from(r.out.y.data as Int32Array), Array.from(want!.y.data as Int32Array), r.kernels);
    assert.ok(r.variants.join(',').includes('x32_conv_zp_correct'), r.variants.join(','));
  }
});

test.run();
