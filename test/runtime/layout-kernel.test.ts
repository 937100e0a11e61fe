// Layout conversions (NCHW <-> NHWC, src/ops/layout.ts) at run time: no step when no byte moves (one channel or
// one spatial position: the output shares the input's buffer), the wasm x8/x32_swap_cs kernels otherwise; the results
// against onnxruntime-node (FP32 1e-5 relative; the shipped QDQ models within one output quantization step).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/onnx/writer.js';
import { Rng } from '../../src/zoo/rng.js';
import { loadMnist } from '../../src/data/mnist.js';

/** Conv 3x3 (C -> 4) -> Flatten -> Gemm (-> 5) -> Reshape [N, 5, 1, 1] -> Relu: a CL -> logical transpose before the Flatten. */
function convFlattenGemm(C: number, H: number, W: number, rng: Rng): Uint8Array {
  const g = new GraphBuilder({ opset: 13 });
  g.input('x', 'float32', ['N', C, H, W]);
  const w = g.initializer('w', 'float32', Float32Array.from({ length: 4 * C * 9 }, () => rng.range(-1, 1)), [4, C, 3, 3]);
  const y = g.node('Conv', ['x', w], 1, { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })[0];
  const f = g.node('Flatten', [y], 1, { axis: 1 })[0];
  const b = g.initializer('b', 'float32', Float32Array.from({ length: 5 * 4 * H * W }, () => rng.range(-1, 1)), [5, 4 * H * W]);
  const z = g.node('Gemm', [f, b], 1, { transB: 1 })[0];
  const shape = g.initializer('shape', 'int64', BigInt64Array.from([0n, 5n, 1n, 1n]), [4]);
  const r = g.node('Reshape', [z, shape], 1)[0];
  g.node('Relu', [r], ['out']);
  g.output('out', 'float32');
  return g.toBytes();
}

for (const [C, H, W] of [[1, 6, 5], [3, 4, 4], [2, 1, 1]]) {
  test(`Conv -> Flatten -> Gemm on [2, ${C}, ${H}, ${W}]: layout conversions are aliases or wasm transposes, match onnxruntime`, async () => {
    const rng = new Rng(C * 100 + H * 10 + W);
    const bytes = convFlattenGemm(C, H, W, rng);
    const dims = [2, C, H, W];
    const x = Float32Array.from({ length: 2 * C * H * W }, () => rng.range(-1, 1));
    const ref = (await (await ort.InferenceSession.create(bytes)).run({ x: new ort.Tensor('float32', x, dims) })).out.data as Float32Array;
    for (const kernels of ['scalar', 'x86'] as const) {
      const s = await InferenceSession.create(bytes, { kernels, threads: 1 });
      const got = (await s.run({ x: new Tensor('float32', x, dims) })).out.data as Float32Array;
      assert.is(got.length, ref.length);
      for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(got[i] - ref[i]) <= 1e-5 * Math.abs(ref[i]) + 1e-6, `${kernels} [${i}] ${got[i]} vs ${ref[i]}`);
      const nodes = s.profile().nodes;
      assert.equal(nodes.filter((n) => n.variant === 'host').map((n) => n.op), [], `${kernels}: host steps`);
      // Input NCHW -> NHWC: a step only when C > 1 and H * W > 1; the Conv output back to NCHW for the Flatten:
      // a step only when H * W > 1 (4 channels); the Gemm output is rank 2 (no conversion).
      const moves = C > 1 && H * W > 1;
      const steps = nodes.filter((n) => n.op === '_ToChannelsLast' || n.op === '_ToLogical');
      assert.equal(steps.map((n) => n.op), [...(moves ? ['_ToChannelsLast'] : []), ...(H * W > 1 ? ['_ToLogical'] : [])], `${kernels}: ${nodes.map((n) => n.op).join(',')}`);
      for (const n of steps) assert.is(n.variant, 'x32_swap_cs__scalar');
      s.release();
    }
  });
}

for (const file of ['mnist-cnn.int8-qat.onnx', 'mnist-cnn.fp32.onnx', 'mnist-mobile.int8-qat.onnx']) {
  test(`shipped ${file}: every step is a wasm kernel, results match onnxruntime`, async () => {
    const bytes = new Uint8Array(readFileSync(new URL(`../../models/${file}`, import.meta.url)));
    const { eval: ev } = loadMnist();
    const n = 20;
    const x = ev.images.slice(0, n * 784);
    const os = await ort.InferenceSession.create(bytes);
    const ref = Object.values(await os.run({ [os.inputNames[0]]: new ort.Tensor('float32', x, [n, 1, 28, 28]) }))[0].data as Float32Array;
    const s = await InferenceSession.create(bytes, { requantization: 'float', threads: 1 });
    const got = Object.values(await s.run({ [s.inputNames[0]]: new Tensor('float32', x, [n, 1, 28, 28]) }))[0].data as Float32Array;
    const host = s.profile().nodes.filter((p) => p.variant === 'host');
    assert.equal(host.map((p) => `${p.name} (${p.op})`), [], 'host steps');
    // QDQ: the last DequantizeLinear's scale is one step of the logits; FP32: 1e-4 relative.
    let maxd = 0, maxAbs = 0;
    for (let i = 0; i < ref.length; i++) {
      maxd = Math.max(maxd, Math.abs(got[i] - ref[i]));
      maxAbs = Math.max(maxAbs, Math.abs(ref[i]));
    }
    const tol = file.includes('fp32') ? 1e-4 * maxAbs : stepOfLogits(got, ref);
    assert.ok(maxd <= tol + 1e-6, `${file}: max difference ${maxd} > ${tol}`);
    s.release();
  });
}

/** Smallest positive gap between output values: the output quantization step of a QDQ model's logits. */
function stepOfLogits(a: Float32Array, b: Float32Array): number {
  const v = [...new Set([...a, ...b])].sort((p, q) => p - q);
  let step = Infinity;
  for (let i = 1; i < v.length; i++) if (v[i] - v[i - 1] > 1e-7) step = Math.min(step, v[i] - v[i - 1]);
  return step * 1.001;
}

test.run();
