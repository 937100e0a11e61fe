// Resize lowering: 4-D nearest / linear resizes of H and W run the resize kernels channels-last (session.profile()
// names the kernel), other forms (cubic, antialias, tf_crop_and_resize) the host reference; float32 against
// onnxruntime-node within 1e-5 relative, uint8 nearest exactly, linear uint8 / int8 / float32 exactly, on the
// scalar and SIMD paths.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/onnx/writer.js';
import { Rng } from '../../src/zoo/rng.js';

interface Case {
  name: string;
  dims: number[];
  dtype: 'float32' | 'uint8';
  attrs: Record<string, string | number>;
  scales?: number[];
  sizes?: number[];
  kernel: string | null;
}

const CASES: Case[] = [
  { name: 'linear half_pixel 2x', dims: [1, 5, 7, 6], dtype: 'float32', attrs: { mode: 'linear' }, scales: [1, 1, 2, 2], kernel: 'f32_resize_bilinear' },
  { name: 'linear asymmetric sizes', dims: [2, 3, 4, 5], dtype: 'float32', attrs: { mode: 'linear', coordinate_transformation_mode: 'asymmetric' }, sizes: [2, 3, 9, 11], kernel: 'f32_resize_bilinear' },
  { name: 'linear align_corners', dims: [1, 8, 6, 6], dtype: 'float32', attrs: { mode: 'linear', coordinate_transformation_mode: 'align_corners' }, sizes: [1, 8, 13, 17], kernel: 'f32_resize_bilinear' },
  { name: 'linear pytorch_half_pixel down', dims: [1, 4, 9, 10], dtype: 'float32', attrs: { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }, sizes: [1, 4, 4, 1], kernel: 'f32_resize_bilinear' },
  { name: 'nearest asymmetric floor 2x (FPN)', dims: [1, 16, 5, 5], dtype: 'float32', attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, scales: [1, 1, 2, 2], kernel: 'x8_resize_nearest' },
  { name: 'nearest half_pixel uint8', dims: [1, 3, 5, 4], dtype: 'uint8', attrs: { mode: 'nearest' }, scales: [1, 1, 2.5, 1.5], kernel: 'x8_resize_nearest' },
  { name: 'cubic (host)', dims: [1, 2, 4, 4], dtype: 'float32', attrs: { mode: 'cubic' }, scales: [1, 1, 2, 2], kernel: null },
  { name: 'channel scale (host)', dims: [1, 2, 4, 4], dtype: 'float32', attrs: { mode: 'nearest' }, scales: [1, 2, 2, 2], kernel: null },
];

for (const c of CASES) {
  test(`Resize ${c.name}: ${c.kernel ?? 'host'}, matches onnxruntime`, async () => {
    const g = new GraphBuilder({ opset: 13 });
    g.input('x', c.dtype, c.dims);
    const roi = g.initializer('roi', 'float32', new Float32Array(0), [0]);
    const sc = g.initializer('scales', 'float32', Float32Array.from(c.scales ?? []), [c.scales ? 4 : 0]);
    const ins = ['x', roi, sc];
    if (c.sizes) ins.push(g.initializer('sizes', 'int64', BigInt64Array.from(c.sizes.map(BigInt)), [4]));
    g.node('Resize', ins, ['y'], c.attrs);
    g.output('y', c.dtype);
    const bytes = g.toBytes();
    const rng = new Rng(c.dims.reduce((a, b) => a * 7 + b, 3));
    const n = c.dims.reduce((a, b) => a * b, 1);
    const x = c.dtype === 'float32' ? Float32Array.from({ length: n }, () => rng.range(-4, 4)) : Uint8Array.from({ length: n }, () => Math.floor(rng.range(0, 256)));
    const want = (await (await ort.InferenceSession.create(bytes)).run({ x: new ort.Tensor(c.dtype, x, c.dims) })).y;
    for (const kernels of ['scalar', 'x86'] as const) {
      const s = await InferenceSession.create(bytes, { kernels, threads: 1 });
      const got = (await s.run({ x: new Tensor(c.dtype, x, c.dims) })).y;
      assert.equal(got.dims, want.dims);
      const a = got.data as Float32Array, b = want.data as Float32Array;
      for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-5 * Math.abs(b[i]) + 1e-6, `${kernels} [${i}] ${a[i]} vs ${b[i]}`);
      const v = s.profile().nodes.map((p) => p.variant).join(',');
      if (c.kernel) assert.ok(v.includes(c.kernel), `${kernels}: variants ${v}`);
      else assert.not.ok(v.includes('resize'), `${kernels}: variants ${v}`);
      s.release();
    }
  });
}

// Integer linear resize equals onnxruntime exactly: its CPU Resize blends in float32 with its own weight
// products and order and truncates; the kernel uses the same taps, order and cast.
for (const dtype of ['uint8', 'int8'] as const) {
  test(`${dtype} linear Resize equals onnxruntime exactly (dyadic and non-dyadic scales, every coordinate mode), float32 too`, async () => {
    const rng = new Rng(dtype === 'uint8' ? 5 : 6);
    const dims = [1, 3, 6, 7];
    const cases: [string, number[] | null, number[] | null][] = [
      ['asymmetric', [1, 1, 2, 2], null], ['half_pixel', [1, 1, 1.5, 1.5], null], ['align_corners', null, [1, 3, 17, 13]],
      ['pytorch_half_pixel', null, [1, 3, 4, 1]], ['half_pixel', null, [1, 3, 11, 9]], ['half_pixel_symmetric', [1, 1, 2.5, 0.7], null],
    ];
    for (const [ctm, scales, sizes] of cases) {
      for (const dt of [dtype, 'float32'] as const) {
        const g = new GraphBuilder({ opset: 19 });
        g.input('x', dt, dims);
        const ins = ['x', g.initializer('roi', 'float32', new Float32Array(0), [0]), g.initializer('scales', 'float32', Float32Array.from(scales ?? []), [scales ? 4 : 0])];
        if (sizes) ins.push(g.initializer('sizes', 'int64', BigInt64Array.from(sizes.map(BigInt)), [4]));
        g.node('Resize', ins, ['y'], { mode: 'linear', coordinate_transformation_mode: ctm });
        g.output('y', dt);
        const bytes = g.toBytes();
        const n = 126;
        const xv = Array.from({ length: n }, () => Math.floor(rng.range(dtype === 'uint8' ? 0 : -128, dtype === 'uint8' ? 256 : 128)));
        const x = dt === 'float32' ? Float32Array.from(xv, (v) => v / 7) : dt === 'uint8' ? Uint8Array.from(xv) : Int8Array.from(xv);
        const want = (await (await ort.InferenceSession.create(bytes)).run({ x: new ort.Tensor(dt, x, dims) })).y.data as ArrayLike<number>;
        for (const kernels of ['scalar', 'x86'] as const) {
          const s = await InferenceSession.create(bytes, { kernels, threads: 1 });
          const got = (await s.run({ x: new Tensor(dt, x, dims) })).y.data as ArrayLike<number>;
          assert.ok(s.profile().nodes.some((p) => p.variant.includes('_resize_bilinear')), 'kernel');
          for (let i = 0; i < want.length; i++) assert.is(got[i], want[i], `${dt} ${ctm} ${kernels} [${i}]`);
          s.release();
        }
      }
    }
  });
}

test('nearest Resize equals onnxruntime exactly: every coordinate mode x nearest_mode, non-dyadic sizes; opset 10 Resize and Upsample', async () => {
  const dims = [1, 2, 7, 6];
  const x = Uint8Array.from({ length: 84 }, (_, i) => (i * 29 + 3) & 255);
  const run = async (bytes: Uint8Array, what: string) => {
    const want = (await (await ort.InferenceSession.create(bytes)).run({ x: new ort.Tensor('uint8', x, dims) })).y.data as Uint8Array;
    for (const kernels of ['scalar', 'x86'] as const) {
      const s = await InferenceSession.create(bytes, { kernels, threads: 1 });
      const got = (await s.run({ x: new Tensor('uint8', x, dims) })).y.data as Uint8Array;
      assert.ok(s.profile().nodes.some((p) => p.variant.includes('resize')), `${what}: kernel`);
      assert.equal(Array.from(got), Array.from(want), `${what} ${kernels}`);
      s.release();
    }
  };
  for (const ctm of ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'tf_half_pixel_for_nn', 'half_pixel_symmetric']) {
    for (const nm of ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']) {
      for (const sizes of [[1, 2, 9, 15], [1, 2, 5, 4]]) {
        const g = new GraphBuilder({ opset: 19 });
        g.input('x', 'uint8', dims);
        const ins = ['x', g.initializer('roi', 'float32', new Float32Array(0), [0]), g.initializer('scales', 'float32', new Float32Array(0), [0]),
          g.initializer('sizes', 'int64', BigInt64Array.from(sizes.map(BigInt)), [4])];
        g.node('Resize', ins, ['y'], { mode: 'nearest', coordinate_transformation_mode: ctm, nearest_mode: nm });
        g.output('y', 'uint8');
        await run(g.toBytes(), `${ctm} ${nm} ${sizes}`);
      }
    }
  }
  for (const sc of [[1, 1, 2, 3], [1, 1, 0.6, 0.5]]) {
    const g = new GraphBuilder({ opset: 10 });
    g.input('x', 'uint8', dims);
    g.node('Resize', ['x', g.initializer('scales', 'float32', Float32Array.from(sc), [4])], ['y'], { mode: 'nearest' });
    g.output('y', 'uint8');
    await run(g.toBytes(), `opset 10 nearest ${sc}`);
  }
  for (const mode of ['nearest', 'linear']) {
    const g = new GraphBuilder({ opset: 9 });
    g.input('x', 'uint8', dims);
    g.node('Upsample', ['x', g.initializer('scales', 'float32', Float32Array.of(1, 1, 2, 1.5), [4])], ['y'], { mode });
    g.output('y', 'uint8');
    await run(g.toBytes(), `Upsample opset 9 ${mode}`);
  }
});

test.run();
