// Quantization with Octet's own runtime as the executor (the default), checked against onnxruntime-node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { quantizeModel } from '../../src/quant/quantize.js';
import { quantizationReport } from '../../src/quant/report.js';
import { sessionExecutor, type SessionApi } from '../../src/quant/executor.js';
import { InferenceSession } from '../../src/api/session.js';
import { Tensor } from '../../src/api/tensor.js';
import { ortExecutor, randomInputs, smallCnn } from './helpers.js';

const fp32 = smallCnn({ residual: true, concat: true, hardswish: true, softmax: true });
const calib = randomInputs(6, [1, 3, 16, 16], 3);
const held = randomInputs(3, [1, 3, 16, 16], 4);
// Without the final Softmax (FP32, so implementation-dependent in the last ulp): the output is dequantized INT8.
const fp32NoSoftmax = smallCnn({ residual: true, concat: true, hardswish: true });
const octetFloat = sessionExecutor({ InferenceSession, Tensor } as unknown as SessionApi, { requantization: 'float' });

test('calibration through Octet (default executor) gives the ranges onnxruntime gives', async () => {
  for (const method of ['minmax', 'entropy'] as const) {
    const mine = await quantizeModel(fp32, { calibration: calib, method });
    const ref = await quantizeModel(fp32, { calibration: calib, method, executor: ortExecutor });
    assert.is(mine.ranges.size, ref.ranges.size);
    assert.ok(mine.ranges.size >= 12);
    for (const [t, [lo, hi]] of ref.ranges) {
      const [l2, h2] = mine.ranges.get(t)!;
      const tol = 1e-4 * Math.max(1, hi - lo);
      assert.ok(Math.abs(lo - l2) <= tol && Math.abs(hi - h2) <= tol, `${method} ${t}: [${l2}, ${h2}] vs onnxruntime [${lo}, ${hi}]`);
    }
  }
});

test('FP16 model: Octet and onnxruntime agree', async () => {
  const q = await quantizeModel(fp32, { fp16: true });
  // The report runs both models through the default executor (Octet); compare with onnxruntime's view.
  const mine = await quantizationReport(fp32, q.model, calib.slice(0, 2));
  const ref = await quantizationReport(fp32, q.model, calib.slice(0, 2), { executor: ortExecutor });
  assert.ok(mine.outputs[0].sqnr > 50, `${mine.outputs[0].sqnr}`);
  assert.ok(Math.abs(mine.outputs[0].sqnr - ref.outputs[0].sqnr) < 3, `${mine.outputs[0].sqnr} vs ${ref.outputs[0].sqnr}`);
});

for (const format of ['qdq', 'qoperator'] as const) {
  for (const activations of ['int8', 'uint8'] as const) {
    test(`${format} ${activations}: Octet (requantization 'float') gives onnxruntime's outputs exactly`, async () => {
      const q = await quantizeModel(fp32NoSoftmax, { calibration: calib, format, activations, method: 'percentile', perChannel: format === 'qdq' });
      const octet = await octetFloat(q.model);
      const ort = await ortExecutor(q.model);
      for (const f of held) {
        const a = (await octet.run(f)).output.data as Float32Array;
        const b = (await ort.run(f)).output.data as Float32Array;
        assert.equal(Array.from(a), Array.from(b));
      }
    });
  }
}

test('dynamic and FP16 models: Octet within 1e-5 of onnxruntime', async () => {
  for (const o of [{ dynamic: true }, { fp16: true }]) {
    const q = await quantizeModel(fp32, o);
    const octet = await octetFloat(q.model);
    const ort = await ortExecutor(q.model);
    for (const f of held) {
      const a = (await octet.run(f)).output.data as Float32Array;
      const b = (await ort.run(f)).output.data as Float32Array;
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-5 * Math.max(1, Math.abs(b[i])), `${JSON.stringify(o)} [${i}]: ${a[i]} vs ${b[i]}`);
    }
  }
});

test.run();
