// ONNX export and import: the FP32 export run in onnxruntime-node matches the engine's eval forward; import
// rebuilds the same network; the QDQ export of a fake-quantized network matches the fake-quantized forward
// (at most 1 step of the output quantizer, on few outputs), in onnxruntime-node and in Octet's own InferenceSession
// (both requantization modes), so what QAT trained is what Octet runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { InferenceSession, Tensor as OctetTensor } from '../../src/index.js';
import { Tensor, noGrad } from '../../src/train/tensor.js';
import { Rng } from '../../src/train/rng.js';
import { mnistCnn, mnistMobile } from '../../src/train/models.js';
import { exportOnnx, importOnnx } from '../../src/train/onnx.js';
import { QuantizedModel } from '../../src/train/qat.js';
import { train } from '../../src/train/trainer.js';
import { useWasmKernels } from '../../src/train/kernels-wasm.js';
import type { Sequential } from '../../src/train/layers.js';

await useWasmKernels();
const rng = new Rng(5);
function images(n: number): Float32Array {
  // Blob-like images in [0, 1] so activations look like real ones.
  const x = new Float32Array(n * 784);
  for (let k = 0; k < n; k++) {
    const cy = 8 + rng.int(12), cx = 8 + rng.int(12), r = 3 + rng.int(5);
    for (let y = 0; y < 28; y++) for (let xx = 0; xx < 28; xx++) {
      const d = Math.hypot(y - cy, xx - cx);
      x[k * 784 + y * 28 + xx] = d < r ? Math.min(1, 1.2 - d / r + 0.1 * rng.next()) : 0;
    }
  }
  return x;
}

async function runOrt(bytes: Uint8Array, x: Float32Array, n: number): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, [n, 1, 28, 28]) });
  return out[s.outputNames[0]].data as Float32Array;
}

function engine(m: Sequential | QuantizedModel, x: Float32Array, n: number): Float32Array {
  m.eval();
  return noGrad(() => m.forward(new Tensor(x, [n, 1, 28, 28]))).data;
}

/** A briefly trained model so BatchNorm statistics and weights are not at their initial values. */
function warm(m: Sequential, seed: number): Sequential {
  const n = 64;
  const data = { images: images(n), labels: Uint8Array.from({ length: n }, (_, i) => i % 10), count: n };
  train(m, data, { epochs: 2, batchSize: 32, lr: 1e-2, seed });
  return m;
}

const cnn = warm(mnistCnn(1, [4, 8, 8]), 1);
const mobile = warm(mnistMobile(2), 2);
const mobileGap = warm(mnistMobile(3, 'gap'), 3);

for (const [name, m] of [['cnn', cnn], ['mobile (depthwise, residual, relu6, avgpool)', mobile], ['mobile with global average pool', mobileGap]] as const) {
  test(`FP32 export of ${name} matches onnxruntime-node within 1e-4`, async () => {
    const n = 8;
    const x = images(n);
    const bytes = exportOnnx(m, { inputShape: [1, 28, 28] });
    const a = engine(m, x, n), b = await runOrt(bytes, x, n);
    assert.is(a.length, b.length);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
    assert.ok(worst < 1e-4, `worst relative difference ${worst}`);
  });

  test(`import of the exported ${name} rebuilds the same network`, () => {
    const n = 4;
    const x = images(n);
    const { model } = importOnnx(exportOnnx(m, { inputShape: [1, 28, 28] }));
    const a = engine(m, x, n), b = engine(model, x, n);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-5);
    // And it trains: one step changes the weights.
    warm(model, 3);
    assert.ok(engine(model, x, n).some((v, i) => Math.abs(v - b[i]) > 1e-4));
  });
}

for (const [name, make, cfg] of [
  ['cnn W8A8', () => mnistCnn(1, [4, 8, 8]), {}],
  ['cnn W4A4', () => mnistCnn(1, [4, 8, 8]), { weightBits: 4, activationBits: 4 }],
  ['mobile W8A8, BN folded after 2 steps', () => mnistMobile(2), { freezeBnAfter: 2 }],
  ['mobile (gap) W6A8, LSQ', () => mnistMobile(2, 'gap'), { weightBits: 6, lsq: true }],
] as const) {
  test(`QDQ export (${name}) in onnxruntime-node matches the fake-quantized forward`, async () => {
    const m = warm(make(), 4);
    const qm = new QuantizedModel(m, cfg);
    const calib = images(32);
    qm.calibrate([new Tensor(calib, [32, 1, 28, 28])]);
    // A few QAT steps (BN folding and observers move).
    const n = 32;
    const data = { images: calib, labels: Uint8Array.from({ length: n }, (_, i) => i % 10), count: n };
    train(qm, data, { epochs: 2, batchSize: 16, lr: 1e-3, seed: 5, onStep: (_s, _l, opt) => qm.afterStep(opt) });
    const x = images(16);
    const a = engine(qm, x, 16);
    const bytes = qm.exportQdq({ inputShape: [1, 28, 28] });
    const last = qm.nodes[qm.nodes.length - 1] as any;
    const s = last.out.scale[0];
    const runners: [string, () => Promise<Float32Array>][] = [
      ['onnxruntime-node', () => runOrt(bytes, x, 16)],
      ...(['float', 'fixed-point'] as const).map((requantization): [string, () => Promise<Float32Array>] => [`octet (${requantization})`, async () => {
        const sess = await InferenceSession.create(bytes, { requantization });
        const out = await sess.run({ [sess.inputNames[0]]: new OctetTensor('float32', x, [16, 1, 28, 28]) });
        return out[sess.outputNames[0]].data as Float32Array;
      }]),
    ];
    for (const [who, run] of runners) {
      const b = await run();
      assert.is(b.length, a.length, who);
      let off = 0;
      for (let i = 0; i < a.length; i++) {
        const d = Math.abs(a[i] - b[i]) / s;
        assert.ok(d < 1 + 1e-3, `${who}: output ${i} differs by ${d} steps`);
        if (d > 1e-3) off++;
      }
      assert.ok(off <= Math.ceil(a.length * 0.05), `${who}: ${off} of ${a.length} outputs differ by one step`);
    }
  });
}

test('import rejects what it cannot train', () => {
  assert.throws(() => importOnnx(new Uint8Array([1, 2, 3, 4, 5])), /ONNX|chain|graph/);
});

test.run();
