// Quantization with Octet's own runtime as the executor (the default), checked against onnxruntime-node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { quantizeModel } from '../../src/quant/quantize.js';
import { quantizationReport } from '../../src/quant/report.js';
import { ortExecutor, randomInputs, smallCnn } from './helpers.js';

const fp32 = smallCnn({ residual: true, concat: true, hardswish: true, softmax: true });
const calib = randomInputs(6, [1, 3, 16, 16], 3);

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

test.run();
