// quantize(): written models load in onnxruntime-node and agree with the FP32 model; structure of QDQ and
// QOperator output; dynamic and FP16; bad input gets clear errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { quantize, quantizeModel } from '../../src/quant/quantize.js';
import { DT, GraphIndex, decodeModel, dimsOf, getAttr, num, tensorToFloat32 } from '../../src/quant/model.js';
import { METADATA_KEY } from '../../src/quant/rewrite.js';
import { ortExecutor, randomInputs, runOrt, smallCnn, sqnr } from './helpers.js';

const fp32 = smallCnn({ residual: true, concat: true, hardswish: true, softmax: false });
const calib = randomInputs(12, [1, 3, 16, 16], 7);
const held = randomInputs(6, [1, 3, 16, 16], 99);

async function outputSqnr(model: Uint8Array): Promise<number> {
  let worst = Infinity;
  for (const f of held) {
    const a = await runOrt(fp32, f);
    const b = await runOrt(model, f);
    worst = Math.min(worst, sqnr(a.output.data as Float32Array, b.output.data as Float32Array));
  }
  return worst;
}

for (const format of ['qdq', 'qoperator'] as const) {
  for (const activations of ['int8', 'uint8'] as const) {
    test(`${format} ${activations}: onnxruntime runs it, output SQNR > 24 dB`, async () => {
      const r = await quantizeModel(fp32, { calibration: calib, format, activations, method: 'minmax', executor: ortExecutor });
      const s = await outputSqnr(r.model);
      assert.ok(s > 24, `SQNR ${s}`);
      // Unsupported ops are left in FP32 and reported.
      assert.ok(r.summary.keptFp32.some((k) => k.op === 'HardSwish'));
      assert.ok(r.summary.quantizedOps.Conv >= 6);
      assert.is(r.summary.foldedBatchNorms.length, 6);
      const m = decodeModel(r.model);
      const ops = m.graph!.node!.map((n) => n.opType);
      assert.not.ok(ops.includes('BatchNormalization'));
      const idx = new GraphIndex(m.graph!);
      const qt = activations === 'int8' ? DT.INT8 : DT.UINT8;
      const meta = JSON.parse(m.metadataProps!.find((p) => p.key === METADATA_KEY)!.value!);
      for (const info of Object.values(meta) as { zeroPoint: string }[]) assert.is(idx.inits.get(info.zeroPoint)!.dataType, qt);
      if (format === 'qdq') {
        // Conv weights: int8 initializer + DequantizeLinear per-channel on axis 0; bias int32 with scale S_in * S_w.
        const conv = m.graph!.node!.find((n) => n.opType === 'Conv' && n.name === 'Conv_0')!;
        const wdq = idx.producer.get(conv.input![1])!;
        assert.is(wdq.opType, 'DequantizeLinear');
        assert.is(num(getAttr(wdq, 'axis')!.i as number), 0);
        assert.is(idx.inits.get(wdq.input![0])!.dataType, DT.INT8);
        const wScales = tensorToFloat32(idx.inits.get(wdq.input![1])!);
        assert.is(wScales.length, 8);
        const xdq = idx.producer.get(conv.input![0])!;
        const sIn = tensorToFloat32(idx.inits.get(xdq.input![1])!)[0];
        const bdq = idx.producer.get(conv.input![2])!;
        assert.is(idx.inits.get(bdq.input![0])!.dataType, DT.INT32);
        const bScales = tensorToFloat32(idx.inits.get(bdq.input![1])!);
        for (let c = 0; c < 8; c++) assert.is(bScales[c], Math.fround(sIn * wScales[c]));
        // Conv + Relu fused: the Relu reads the Conv output directly, the quantization comes after the Relu.
        const relu = idx.consumersOf(conv.output![0]);
        assert.equal(relu.map((n) => n.opType), ['Relu']);
        assert.is(idx.consumersOf(relu[0].output![0])[0].opType, 'QuantizeLinear');
        // Concat: every input shares the output's scale.
        const cat = m.graph!.node!.find((n) => n.opType === 'Concat')!;
        const scales = cat.input!.map((i) => tensorToFloat32(idx.inits.get(idx.producer.get(i)!.input![1])!)[0]);
        const outQ = idx.consumersOf(cat.output![0]).find((n) => n.opType === 'QuantizeLinear')!;
        scales.push(tensorToFloat32(idx.inits.get(outQ.input![1])!)[0]);
        assert.ok(scales.every((s) => s === scales[0]), `concat scales ${scales}`);
      } else {
        assert.ok(ops.includes('QLinearConv') && ops.includes('QLinearAdd') && ops.includes('QLinearConcat') && ops.includes('QLinearGlobalAveragePool'));
        assert.not.ok(ops.includes('Relu') || ops.includes('Clip'), 'Relu/Clip absorbed by the output range');
        const qc = m.graph!.node!.find((n) => n.opType === 'QLinearConv')!;
        assert.is(idx.inits.get(qc.input![8])!.dataType, DT.INT32);
      }
    });
  }
}

test('every method gives a model onnxruntime accepts; histogram methods narrow some minmax ranges', async () => {
  let minmax: Map<string, [number, number]> | undefined;
  for (const method of ['minmax', 'moving-average', 'percentile', 'entropy', 'mse'] as const) {
    const r = await quantizeModel(fp32, { calibration: calib, method, executor: ortExecutor, percentile: 99.9 });
    const s = await outputSqnr(r.model);
    assert.ok(s > 15, `${method}: ${s}`);
    if (method === 'minmax') minmax = r.ranges;
    else {
      let narrower = 0;
      for (const [t, [lo, hi]] of r.ranges) {
        const [mlo, mhi] = minmax!.get(t)!;
        assert.ok(lo >= mlo - 1e-6 && hi <= mhi + 1e-6, `${method} ${t}: [${lo}, ${hi}] outside minmax [${mlo}, ${mhi}]`);
        if (hi < mhi - 1e-6 || lo > mlo + 1e-6) narrower++;
      }
      assert.ok(narrower > 0, `${method} clipped nothing`);
    }
  }
});

test('exclude keeps a node in FP32; per-tensor weights and reduce_range', async () => {
  const r = await quantizeModel(fp32, { calibration: calib, exclude: ['Conv_0'], perChannel: false, reduceRange: true, executor: ortExecutor });
  const m = decodeModel(r.model);
  const idx = new GraphIndex(m.graph!);
  const c0 = m.graph!.node!.find((n) => n.name === 'Conv_0')!;
  assert.ok(idx.inits.has(c0.input![1]) && idx.inits.get(c0.input![1])!.dataType === DT.FLOAT);
  assert.ok(r.summary.keptFp32.some((k) => k.name === 'Conv_0' && k.reason === 'excluded'));
  const c1 = m.graph!.node!.find((n) => n.name === 'Conv_2')!;
  const w = idx.producer.get(c1.input![1])!;
  assert.is(dimsOf(idx.inits.get(w.input![1])!).length, 0, 'per-tensor scale');
  const q = tensorToFloat32(idx.inits.get(w.input![0])!);
  assert.ok(Math.max(...Array.from(q, Math.abs)) <= 63, 'reduce_range: 7-bit weights');
  assert.ok((await outputSqnr(r.model)) > 25);
});

test('dynamic: DynamicQuantizeLinear + ConvInteger/MatMulInteger, runs in onnxruntime', async () => {
  const r = await quantizeModel(fp32, { dynamic: true });
  const ops = decodeModel(r.model).graph!.node!.map((n) => n.opType);
  assert.ok(ops.includes('DynamicQuantizeLinear') && ops.includes('ConvInteger') && ops.includes('MatMulInteger'));
  assert.not.ok(ops.includes('Conv') || ops.includes('Gemm'));
  const s = await outputSqnr(r.model);
  assert.ok(s > 25, `dynamic SQNR ${s}`);
});

test('fp16: weights stored as float16 behind Cast, about half the size', async () => {
  const r = await quantizeModel(fp32, { fp16: true });
  const m = decodeModel(r.model);
  const f16 = m.graph!.initializer!.filter((t) => t.dataType === DT.FLOAT16);
  assert.ok(f16.length >= 8);
  const weightBytes = (mm: typeof m, dt: number, size: number) =>
    mm.graph!.initializer!.filter((t) => t.dataType === dt).reduce((a, t) => a + size * dimsOf(t).reduce((x, y) => x * y, 1), 0);
  const before = decodeModel(fp32);
  // Compare against the BN-folded FP32 weights (the FP16 model is written after graph preparation).
  const after16 = weightBytes(m, DT.FLOAT16, 2);
  const after32 = weightBytes(m, DT.FLOAT, 4);
  assert.ok(after16 > 0 && after32 < after16 / 4, `float32 left: ${after32}`);
  assert.ok(r.model.length < 0.6 * before.graph!.initializer!.reduce((a, t) => a + (t.rawData?.length ?? 0), 0) + 4000);
  const s = await outputSqnr(r.model);
  assert.ok(s > 50, `fp16 SQNR ${s}`);
});

test('bad input: clear errors', async () => {
  const q = await quantize(fp32, { calibration: calib, executor: ortExecutor, format: 'qoperator' });
  await assertRejects(quantize(q, { calibration: calib, executor: ortExecutor }), /no float weights/);
  await assertRejects(quantize(fp32, { calibration: [], executor: ortExecutor }), /calibration set is empty/);
  await assertRejects(quantize(fp32, { executor: ortExecutor }), /needs options.calibration/);
  await assertRejects(quantize(fp32, { calibration: randomInputs(2, [1, 3, 8, 8], 1), executor: ortExecutor }), /input 'input': shape \[1, 3, 8, 8\] does not match the model's \[1, 3, 16, 16\]/);
  const nan = randomInputs(3, [1, 3, 16, 16], 1);
  (nan[2].input.data as Float32Array)[5] = NaN;
  await assertRejects(quantize(fp32, { calibration: nan, executor: ortExecutor }), /sample 2, input 'input': element 5 is NaN/);
  const inf = randomInputs(1, [1, 3, 16, 16], 1);
  (inf[0].input.data as Float32Array)[0] = -Infinity;
  await assertRejects(quantize(fp32, { calibration: inf, executor: ortExecutor }), /-Infinity/);
  await assertRejects(quantize(fp32, { calibration: [{ x: calib[0].input }], executor: ortExecutor }), /missing input 'input'/);
  await assertRejects(quantize(fp32, { calibration: calib, method: 'kl' as never, executor: ortExecutor }), /unknown method 'kl'/);
  await assertRejects(quantize(new Uint8Array([1, 2, 3]), { calibration: calib, executor: ortExecutor }), /cannot decode|no graph/);
  await assertRejects(quantize(fp32, { calibration: 5 as never, executor: ortExecutor }), /array or \(async\) iterable/);
  // An async iterable works as calibration data.
  async function* gen() {
    for (const c of calib.slice(0, 3)) yield c;
  }
  const r = await quantizeModel(fp32, { calibration: gen(), executor: ortExecutor });
  assert.is(r.summary.samples, 3);
});

async function assertRejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected rejection matching ${re}`);
}

test.run();
