// Training end to end on a small subset: the data split is fixed and stratified, loss goes down, runs repeat
// exactly with the same seed, and QAT fine-tuning keeps the fake-quantized network training.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadMnist, apportion, EVAL_COUNT, validationSplit } from '../../src/data/mnist.js';
import { mnistCnn, mnistMobile } from '../../src/train/models.js';
import { train, evaluate, recalibrateBatchNorm, emaUpdate } from '../../src/train/trainer.js';
import { Sequential, Conv2d, BatchNorm2d } from '../../src/train/layers.js';
import { Rng } from '../../src/train/rng.js';
import { useWasmKernels } from '../../src/train/kernels-wasm.js';
import { QuantizedModel } from '../../src/train/qat.js';
import { Tensor, noGrad } from '../../src/train/tensor.js';
import { SGD, Adam, cosineSchedule, stepSchedule, oneCycleSchedule } from '../../src/train/optim.js';

await useWasmKernels();
const split = loadMnist();

test('split: 8,000 + 2,000, stratified by class, disjoint, deterministic', () => {
  assert.is(split.train.count, 8000);
  assert.is(split.eval.count, EVAL_COUNT);
  const per = (l: Uint8Array) => Array.from({ length: 10 }, (_, c) => l.filter((v) => v === c).length);
  const ev = per(split.eval.labels), tr = per(split.train.labels);
  const total = ev.map((v, c) => v + tr[c]);
  assert.equal(ev, apportion(total, 2000));
  for (let c = 0; c < 10; c++) assert.ok(Math.abs(ev[c] / total[c] - 0.2) < 0.002);
  // No held-out image appears in the training part (compare exact pixel content of a sample).
  const key = (s: Float32Array, i: number) => s.subarray(i * 784, (i + 1) * 784).join(',');
  const trainKeys = new Set(Array.from({ length: 8000 }, (_, i) => key(split.train.images, i)));
  let dup = 0;
  for (let i = 0; i < 2000; i += 10) if (trainKeys.has(key(split.eval.images, i))) dup++;
  assert.is(dup, 0);
  assert.equal(apportion([1, 1, 1], 2), [1, 1, 0]);
});

test('validation split: 7,000 + 1,000 of the training digits, stratified, disjoint, deterministic', () => {
  const a = validationSplit(split.train, 1000), b = validationSplit(split.train, 1000);
  assert.is(a.train.count, 7000);
  assert.is(a.val.count, 1000);
  assert.equal(a.val.labels, b.val.labels);
  assert.equal(a.val.images, b.val.images);
  const per = (l: Uint8Array) => Array.from({ length: 10 }, (_, c) => l.filter((v) => v === c).length);
  assert.equal(per(a.val.labels), apportion(per(split.train.labels), 1000));
  assert.equal(per(a.val.labels).map((v, c) => v + per(a.train.labels)[c]), per(split.train.labels));
  const key = (s: Float32Array, i: number) => s.subarray(i * 784, (i + 1) * 784).join(',');
  const trainKeys = new Set(Array.from({ length: 7000 }, (_, i) => key(a.train.images, i)));
  for (let i = 0; i < 1000; i += 10) assert.not.ok(trainKeys.has(key(a.val.images, i)), `validation digit ${i} is in the training part`);
});

test('validation folds: fold 0 is the default split; folds are disjoint, stratified, 7,000 + 1,000 each', () => {
  const d = validationSplit(split.train, 1000);
  const f0 = validationSplit(split.train, 1000, 0);
  assert.equal(f0.val.labels, d.val.labels);
  assert.equal(f0.val.images, d.val.images);
  const key = (s: Float32Array, i: number) => s.subarray(i * 784, (i + 1) * 784).join(',');
  const seen = new Set<string>();
  const per = (l: Uint8Array) => Array.from({ length: 10 }, (_, c) => l.filter((v) => v === c).length);
  for (let f = 0; f < 3; f++) {
    const { train: tr, val } = validationSplit(split.train, 1000, f);
    assert.is(tr.count, 7000);
    assert.is(val.count, 1000);
    assert.equal(per(val.labels), per(d.val.labels));
    for (let i = 0; i < 1000; i += 7) {
      const k = key(val.images, i);
      assert.not.ok(seen.has(k), `fold ${f}: validation digit ${i} is in an earlier fold`);
      seen.add(k);
    }
  }
  assert.throws(() => validationSplit(split.train, 1000, 8), /fold 8/);
  assert.throws(() => validationSplit(split.train, 1000, -1), /fold -1/);
});

const sub = { images: split.train.images.subarray(0, 512 * 784), labels: split.train.labels.subarray(0, 512), count: 512 };

test('CNN: loss decreases over a few steps and runs repeat exactly', () => {
  const run = () => {
    const m = mnistCnn(7, [8, 16, 16]);
    const losses = train(m, sub, { epochs: 2, batchSize: 32, lr: 1e-2, seed: 3, affine: { degrees: 10, scale: 0.1, shift: 2 } });
    return { m, losses };
  };
  const a = run(), b = run();
  assert.equal(a.losses, b.losses);
  const head = a.losses.slice(0, 4).reduce((x, y) => x + y) / 4, tail = a.losses.slice(-4).reduce((x, y) => x + y) / 4;
  assert.ok(tail < head * 0.8, `loss ${head} -> ${tail}`);
  assert.ok(evaluate(a.m, { images: split.eval.images.subarray(0, 400 * 784), labels: split.eval.labels.subarray(0, 400), count: 400 }) > 0.4);
});

test('MobileNet-like net (depthwise, residual): loss decreases with SGD', () => {
  const m = mnistMobile(3);
  const losses = train(m, sub, { epochs: 2, batchSize: 32, lr: 0.05, optimizer: 'sgd', seed: 4 });
  const head = losses.slice(0, 3).reduce((x, y) => x + y) / 3, tail = losses.slice(-3).reduce((x, y) => x + y) / 3;
  assert.ok(tail < head, `loss ${head} -> ${tail}`);
});

test('QAT: BatchNorm folding and observer freezing on schedule; loss keeps decreasing', () => {
  const m = mnistCnn(8, [8, 16, 16]);
  train(m, sub, { epochs: 1, batchSize: 32, lr: 3e-3, seed: 5 });
  const q = new QuantizedModel(m, { weightBits: 4, activationBits: 6, freezeBnAfter: 6, freezeObserversAfter: 10 });
  q.calibrate([new Tensor(sub.images.slice(0, 128 * 784), [128, 1, 28, 28])]);
  const conv = q.nodes[0] as any;
  assert.is(conv.folded, false);
  const steps: boolean[] = [];
  const losses = train(q, sub, {
    epochs: 1, batchSize: 32, lr: 1e-3, seed: 6,
    onStep: (_s, _l, opt) => {
      q.afterStep(opt);
      steps.push(conv.folded);
    },
  });
  assert.is(steps.indexOf(true), 5);
  assert.ok(q.activationQuants().every((f) => !f.observerEnabled));
  const head = losses.slice(0, 3).reduce((x, y) => x + y) / 3, tail = losses.slice(-3).reduce((x, y) => x + y) / 3;
  assert.ok(tail < head * 1.05, `loss ${head} -> ${tail}`);
});

test('weight averaging: SWA is the mean of the last k epoch-end weights, EMA the running average, on the same trajectory', () => {
  const tiny = { images: sub.images.subarray(0, 96 * 784), labels: sub.labels.subarray(0, 96), count: 96 };
  const opts = { epochs: 4, batchSize: 32, lr: 3e-3, seed: 9, shift: 1 };
  // Reference: the plain run, recording the weights at the end of every epoch and an EMA by hand.
  const ref = mnistCnn(4, [4, 8, 8]);
  const ends: Float32Array[][] = [];
  const ema = ref.parameters().map((p) => Float32Array.from(p.data));
  train(ref, tiny, {
    ...opts,
    onStep: (step) => {
      emaUpdate(ema, ref.parameters(), step, 0.9);
      if ((step + 1) % 3 === 0) ends.push(ref.parameters().map((p) => p.data.slice()));
    },
  });
  assert.is(ends.length, 4);
  const swa = mnistCnn(4, [4, 8, 8]);
  train(swa, tiny, { ...opts, average: 'swa', averageLast: 2 });
  swa.parameters().forEach((p, j) => {
    for (let i = 0; i < p.size; i++) {
      const want = (ends[2][j][i] + ends[3][j][i]) / 2;
      assert.ok(Math.abs(p.data[i] - want) <= 1e-6 * Math.max(1, Math.abs(want)), `param ${j}[${i}]: ${p.data[i]} vs ${want}`);
    }
  });
  const e = mnistCnn(4, [4, 8, 8]);
  train(e, tiny, { ...opts, average: 'ema', emaDecay: 0.9 });
  e.parameters().forEach((p, j) => assert.equal(p.data, ema[j]));
  // The averages differ from the last weights (the test would not notice a no-op).
  assert.not.equal(swa.parameters()[0].data, ends[3][0]);
  // EMA by hand: after step 0 the decay is min(d, 1/10).
  const w = new Tensor(new Float32Array([1]), [1], true);
  const a = [new Float32Array([0])];
  emaUpdate(a, [w], 0, 0.99);
  assert.ok(Math.abs(a[0][0] - 0.9) < 1e-7);
});

test('BatchNorm recalibration: running statistics become the average of clean-batch statistics', () => {
  const m = new Sequential([new Conv2d(1, 3, { kernel: 3, bias: false }, new Rng(1)), new BatchNorm2d(3)]);
  m.modules(); // plain Sequential works as a Trainable
  const data = { images: split.train.images.subarray(0, 100 * 784), labels: split.train.labels.subarray(0, 100), count: 100 };
  recalibrateBatchNorm(m, data, 100, 50);
  const conv = (m.layers[0] as Conv2d);
  const bn = m.layers[1] as BatchNorm2d;
  const y = noGrad(() => conv.forward(new Tensor(data.images.slice(), [100, 1, 28, 28])));
  const P = 26 * 26;
  for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let n = 0; n < 100; n++) for (let p = 0; p < P; p++) s += y.data[(n * 3 + c) * P + p];
    const mean = s / (100 * P);
    assert.ok(Math.abs(bn.runningMean[c] - mean) < 1e-4 * Math.max(1, Math.abs(mean)), `channel ${c}: ${bn.runningMean[c]} vs ${mean}`);
  }
  assert.is(bn.momentum, 0.1);
  assert.is(m.training, false);
});

test('optimizers: SGD momentum and Adam on a quadratic; schedules', () => {
  for (const mk of [(p: Tensor[]) => new SGD(p, 0.1, 0.9), (p: Tensor[]) => new Adam(p, 0.1)]) {
    const w = new Tensor(new Float32Array([3, -2]), [2], true);
    const opt = mk([w]);
    for (let i = 0; i < 200; i++) {
      opt.zeroGrad();
      w.grad = Float32Array.from(w.data, (v) => 2 * v); // d/dw of |w|^2
      opt.step();
    }
    assert.ok(Math.abs(w.data[0]) < 1e-2 && Math.abs(w.data[1]) < 1e-2, `${w.data}`);
  }
  // SGD step by hand: v = g, w -= lr * v; weight decay adds wd * w to the gradient of rank >= 2 tensors.
  const w = new Tensor(new Float32Array([1, 1]), [1, 2], true);
  const opt = new SGD([w], 0.5, 0, { weightDecay: 0.1 });
  w.grad = new Float32Array([1, 0]);
  opt.step();
  assert.ok(Math.abs(w.data[0] - (1 - 0.5 * 1.1)) < 1e-6 && Math.abs(w.data[1] - (1 - 0.05)) < 1e-6);
  assert.is(cosineSchedule(1, 0, 100, 10), 0.1);
  assert.ok(Math.abs(cosineSchedule(1, 55, 100, 10) - 0.5) < 1e-9);
  assert.ok(Math.abs(cosineSchedule(1, 100, 100, 10)) < 1e-9);
  assert.is(stepSchedule(1, 25, 10, 0.5), 0.25);
  // One-cycle: base / 25 at the start, base at 25% of the steps, base / 25e3 at the end, rising then falling.
  assert.ok(Math.abs(oneCycleSchedule(1, 0, 100) - 0.04) < 1e-12);
  assert.ok(Math.abs(oneCycleSchedule(1, 25, 100) - 1) < 1e-12);
  assert.ok(Math.abs(oneCycleSchedule(1, 100, 100) - 0.04e-3) < 1e-12);
  assert.ok(oneCycleSchedule(1, 10, 100) < oneCycleSchedule(1, 20, 100) && oneCycleSchedule(1, 60, 100) > oneCycleSchedule(1, 90, 100));
});

test.run();
