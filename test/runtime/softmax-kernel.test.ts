// Softmax lowering: trailing-axis cases run the f32_softmax wasm kernel, other axes the host path; both against
// onnxruntime-node (1e-5 relative).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/onnx/writer.js';
import { Rng } from '../../src/zoo/rng.js';

const CASES: [number, number, number[], boolean][] = [
  [13, -1, [2, 3, 50], true],
  [11, 1, [2, 3, 5, 4], true],
  [13, 1, [2, 3, 5, 4], false],
];
for (const [opset, axis, dims, kernel] of CASES) {
  test(`Softmax opset ${opset} axis ${axis} on [${dims}]: ${kernel ? 'wasm kernel' : 'host'}, matches onnxruntime`, async () => {
    const g = new GraphBuilder({ opset });
    g.input('x', 'float32', dims);
    g.node('Softmax', ['x'], ['y'], { axis });
    g.output('y', 'float32');
    const bytes = g.toBytes();
    const rng = new Rng(opset + dims.length);
    const n = dims.reduce((a, b) => a * b, 1);
    const x = Float32Array.from({ length: n }, () => rng.range(-8, 8));
    const ref = (await (await ort.InferenceSession.create(bytes)).run({ x: new ort.Tensor('float32', x, dims) })).y.data as Float32Array;
    for (const kernels of ['scalar', 'x86'] as const) {
      const s = await InferenceSession.create(bytes, { kernels, threads: 1 });
      const got = (await s.run({ x: new Tensor('float32', x, dims) })).y.data as Float32Array;
      for (let i = 0; i < n; i++) assert.ok(Math.abs(got[i] - ref[i]) <= 1e-5 * Math.abs(ref[i]) + 1e-30, `${kernels} [${i}] ${got[i]} vs ${ref[i]}`);
      const v = s.profile().nodes.map((p) => p.variant).join(',');
      assert.is(v.includes('softmax'), kernel, `${kernels}: variants ${v}`);
      s.release();
    }
  });
}
test.run();
