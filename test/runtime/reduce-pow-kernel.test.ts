// ReduceMean / ReduceMax over the spatial axes of 4-D float32 tensors run channels-last on the pooling kernels;
// Sqrt and Pow with exponent 2 or 0.5 on the unary kernel; other forms on the host reference. Each against
// onnxruntime-node (1e-5 relative) on the scalar and SIMD paths, with the kernel (or host) checked in session.profile().
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/onnx/writer.js';
import { Rng } from '../../src/zoo/rng.js';

async function check(name: string, build: (g: GraphBuilder) => void, opset: number, dims: number[], kernel: RegExp | null, positive = false) {
  const g = new GraphBuilder({ opset });
  g.input('x', 'float32', dims);
  build(g);
  g.output('y', 'float32');
  const bytes = g.toBytes();
  const rng = new Rng(dims.reduce((a, b) => a * 3 + b, opset));
  const n = dims.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n }, () => (positive ? rng.range(0, 5) : rng.range(-3, 3)));
  const want = (await (await ort.InferenceSession.create(bytes)).run({ x: new ort.Tensor('float32', x, dims) })).y;
  for (const kernels of ['scalar', 'x86'] as const) {
    const s = await InferenceSession.create(bytes, { kernels, threads: 1 });
    const got = (await s.run({ x: new Tensor('float32', x, dims) })).y;
    assert.equal(got.dims, want.dims, name);
    const a = got.data as Float32Array, b = want.data as Float32Array;
    for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-5 * Math.abs(b[i]) + 1e-6, `${name} ${kernels} [${i}] ${a[i]} vs ${b[i]}`);
    const steps = s.profile().nodes.filter((p) => !p.op.startsWith('_'));
    const v = steps.map((p) => p.variant).join(',');
    if (kernel) assert.ok(kernel.test(v), `${name} ${kernels}: ${v}`);
    else assert.ok(steps.every((p) => p.variant === 'host'), `${name} ${kernels}: ${v}`);
    s.release();
  }
}

test('ReduceMean over H, W (keepdims 1 and 0, axes as attribute and as input) runs f32_gavgpool', async () => {
  await check('mean keepdims', (g) => g.node('ReduceMean', ['x'], ['y'], { axes: [2, 3] }), 13, [2, 24, 7, 5], /f32_gavgpool/);
  await check('mean no keepdims', (g) => g.node('ReduceMean', ['x'], ['y'], { axes: [-1, -2], keepdims: 0 }), 13, [1, 10, 3, 9], /f32_gavgpool/);
  await check('mean axes input', (g) => {
    g.initializer('axes', 'int64', BigInt64Array.of(2n, 3n), [2]);
    g.node('ReduceMean', ['x', 'axes'], ['y']);
  }, 18, [1, 9, 4, 4], /f32_gavgpool/);
});

test('ReduceMax over H, W runs f32_pool; other axes stay on the host', async () => {
  await check('max', (g) => g.node('ReduceMax', ['x'], ['y'], { axes: [2, 3] }), 13, [2, 6, 5, 5], /f32_pool/);
  await check('mean over C (host)', (g) => g.node('ReduceMean', ['x'], ['y'], { axes: [1] }), 13, [1, 6, 5, 5], null);
});

test('Sqrt, Pow 2 and Pow 0.5 run f32_unary; Pow 3 stays on the host', async () => {
  await check('sqrt', (g) => g.node('Sqrt', ['x'], ['y']), 13, [2, 3, 4, 5], /f32_unary/, true);
  const pow = (e: number) => (g: GraphBuilder) => {
    g.initializer('e', 'float32', Float32Array.of(e), []);
    g.node('Pow', ['x', 'e'], ['y']);
  };
  await check('pow 2', pow(2), 13, [1, 8, 6, 6], /f32_unary/);
  await check('pow 0.5', pow(0.5), 13, [1, 8, 6, 6], /f32_unary/, true);
  await check('pow 3 (host)', pow(3), 13, [1, 3, 2, 2], null);
});

test.run();
