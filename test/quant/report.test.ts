// quantizationReport and mixed precision: the report's numbers against a direct computation from
// onnxruntime-node outputs, worst-first order, and mixed precision reaching a target.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { quantizeModel } from '../../src/quant/quantize.js';
import { formatReport, mixedPrecision, quantizationReport } from '../../src/quant/report.js';
import { decodeModel } from '../../src/quant/model.js';
import { ortExecutor, randomInputs, runOrt, smallCnn, sqnr } from './helpers.js';

const fp32 = smallCnn({ residual: true, concat: true, hardswish: true });
const calib = randomInputs(10, [1, 3, 16, 16], 3);
const evalSet = randomInputs(4, [1, 3, 16, 16], 4);

for (const format of ['qdq', 'qoperator'] as const) {
  test(`${format}: report covers every quantized tensor, worst first, output SQNR equals a direct computation`, async () => {
    const q = await quantizeModel(fp32, { calibration: calib, format, executor: ortExecutor });
    const rep = await quantizationReport(fp32, q.model, evalSet, { executor: ortExecutor });
    assert.is(rep.samples, 4);
    assert.ok(rep.layers.length >= 12, `${rep.layers.length} layers`);
    for (let i = 1; i < rep.layers.length; i++) assert.ok(rep.layers[i - 1].sqnr <= rep.layers[i].sqnr);
    for (const l of rep.layers) {
      assert.ok(l.sqnr > 10 && l.sqnr < 80, `${l.tensor}: ${l.sqnr}`);
      assert.ok(l.cosine > 0.99 && l.cosine <= 1 + 1e-9, `${l.tensor}: cos ${l.cosine}`);
    }
    const fused = rep.layers.find((l) => l.tensor === 'relu1')!;
    assert.is(fused.node, 'Conv_0', 'Conv+Relu reported under the Conv');
    // Direct: SQNR over the concatenated outputs of the eval set.
    let s = 0;
    let e = 0;
    for (const f of evalSet) {
      const a = (await runOrt(fp32, f)).output.data as Float32Array;
      const b = (await runOrt(q.model, f)).output.data as Float32Array;
      for (let i = 0; i < a.length; i++) {
        s += a[i] * a[i];
        e += (a[i] - b[i]) ** 2;
      }
    }
    assert.ok(Math.abs(rep.outputs[0].sqnr - 10 * Math.log10(s / e)) < 1e-6);
    const text = formatReport(rep);
    assert.match(text, /SQNR dB/);
    assert.match(text, /model outputs \(4 samples\)/);
  });
}

test('report on the FP32 model against itself is lossless', async () => {
  // The same model on both sides: no quantized tensors, outputs identical.
  const rep = await quantizationReport(fp32, fp32, evalSet.slice(0, 1), { executor: ortExecutor });
  assert.is(rep.layers.length, 0);
  assert.is(rep.outputs[0].sqnr, Infinity);
});

test('mixed precision keeps sensitive layers in FP32 until the output SQNR target is met', async () => {
  const base = await quantizeModel(fp32, { calibration: calib, method: 'moving-average', executor: ortExecutor });
  let worst = Infinity;
  for (const f of calib.slice(0, 8)) worst = Math.min(worst, sqnr((await runOrt(fp32, f)).output.data as Float32Array, (await runOrt(base.model, f)).output.data as Float32Array));
  const target = worst + 6;
  const mp = await mixedPrecision(fp32, { calibration: calib, method: 'moving-average', executor: ortExecutor, minOutputSqnr: target });
  assert.ok(mp.met, `target ${target} not met: ${JSON.stringify(mp.steps)}`);
  assert.ok(mp.keptFp32.length >= 1);
  assert.is(mp.steps.length, mp.keptFp32.length + 1);
  // The kept layers are really FP32 in the written model (their weights are float initializers).
  const m = decodeModel(mp.model);
  const inits = new Set(m.graph!.initializer!.filter((t) => t.dataType === 1).map((t) => t.name));
  for (const name of mp.keptFp32) {
    const n = m.graph!.node!.find((x) => x.name === name)!;
    if (n.opType === 'Conv' || n.opType === 'Gemm') assert.ok(inits.has(n.input![1]), `${name} weights float`);
  }
  // With a user metric: stop as soon as it is met (here: any model with at most 2 layers excluded).
  let calls = 0;
  const mp2 = await mixedPrecision(fp32, {
    calibration: calib,
    executor: ortExecutor,
    metric: () => (calls++ >= 1 ? 1 : 0),
    minMetric: 1,
  });
  assert.ok(mp2.met);
  assert.is(mp2.keptFp32.length, 1);
});

test.run();
