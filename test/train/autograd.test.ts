// Gradients of every op of the training engine against central finite differences, on tiny shapes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/train/tensor.js';
import * as F from '../../src/train/ops.js';
import { Rng } from '../../src/train/rng.js';
import { BatchNorm2d } from '../../src/train/layers.js';
import { gradCheck, randn } from './grad-util.js';
import { tsKernels, setKernels, type TrainKernels } from '../../src/train/kernels.js';
import { wasmTrainKernels } from '../../src/train/kernels-wasm.js';
import { F32Train } from '../../src/kernels/f32-train.js';

// Every check runs twice: on the TypeScript oracle kernels and on the wasm build's kernels.
const KERNELS: [string, TrainKernels][] = [['ts', tsKernels], ['wasm', wasmTrainKernels(await F32Train.create('auto'))]];
function both(name: string, fn: () => void | Promise<void>): void {
  for (const [kind, k] of KERNELS) {
    test(`${kind}: ${name}`, async () => {
      setKernels(k);
      await fn();
    });
  }
}

const TOL = 2e-3;
const ok = (errs: number[], what: string) => errs.forEach((e, i) => assert.ok(e < TOL, `${what}: input ${i} gradient error ${e}`));

both('conv2d: stride 2, padding 1, groups 2, bias', () => {
  const rng = new Rng(1);
  const x = randn([2, 4, 7, 6], rng), w = randn([6, 2, 3, 3], rng, 0.5), b = randn([6], rng);
  ok(gradCheck(() => F.conv2d(x, w, b, { stride: [2, 2], padding: [1, 1], groups: 2 }), [x, w, b]), 'conv');
});

both('conv2d: 1x1 and asymmetric kernel/stride, no bias', () => {
  const rng = new Rng(2);
  const x = randn([3, 3, 5, 5], rng), w = randn([4, 3, 1, 1], rng);
  ok(gradCheck(() => F.conv2d(x, w, null), [x, w]), 'conv1x1');
  const w2 = randn([2, 3, 3, 2], rng);
  ok(gradCheck(() => F.conv2d(x, w2, null, { stride: [1, 2], padding: [1, 0] }), [x, w2]), 'conv3x2');
});

both('depthwise conv: direct kernel matches im2col path, gradients', () => {
  const rng = new Rng(3);
  const x = randn([2, 5, 6, 7], rng), w = randn([5, 1, 3, 3], rng), b = randn([5], rng);
  for (const s of [1, 2]) {
    const o = { stride: [s, s] as [number, number], padding: [1, 1] as [number, number], groups: 5 };
    const a = F.conv2d(x, w, b, o), c = F.conv2d(x, w, b, { ...o, directDepthwise: false });
    assert.equal(a.shape, c.shape);
    for (let i = 0; i < a.size; i++) assert.ok(Math.abs(a.data[i] - c.data[i]) < 1e-5, 'dw forward');
    ok(gradCheck(() => F.conv2d(x, w, b, o), [x, w, b]), `dw stride ${s}`);
  }
});

both('linear', () => {
  const rng = new Rng(4);
  const x = randn([3, 7], rng), w = randn([5, 7], rng), b = randn([5], rng);
  ok(gradCheck(() => F.linear(x, w, b), [x, w, b]), 'linear');
});

both('batch norm: train and eval mode, running statistics', () => {
  const rng = new Rng(5);
  const x = randn([4, 3, 3, 2], rng, 2);
  const bn = new BatchNorm2d(3);
  for (let c = 0; c < 3; c++) {
    bn.gamma.data[c] = 0.5 + c;
    bn.beta.data[c] = c - 1;
  }
  ok(gradCheck(() => F.batchNorm(x, { ...bn, runningMean: new Float32Array(3), runningVar: new Float32Array(3) }, true), [x, bn.gamma, bn.beta]), 'bn train');
  // Running statistics after one step: 0.9 * init + 0.1 * batch (unbiased variance).
  F.batchNorm(x, bn, true);
  const n = 4 * 3 * 2;
  for (let c = 0; c < 3; c++) {
    let s = 0, s2 = 0;
    for (let k = 0; k < 4; k++) for (let p = 0; p < 6; p++) s += x.data[(k * 3 + c) * 6 + p];
    const m = s / n;
    for (let k = 0; k < 4; k++) for (let p = 0; p < 6; p++) s2 += (x.data[(k * 3 + c) * 6 + p] - m) ** 2;
    assert.ok(Math.abs(bn.runningMean[c] - 0.1 * m) < 1e-6);
    assert.ok(Math.abs(bn.runningVar[c] - (0.9 + 0.1 * (s2 / (n - 1)))) < 1e-5);
  }
  ok(gradCheck(() => F.batchNorm(x, bn, false), [x, bn.gamma, bn.beta]), 'bn eval');
  const y = F.batchNorm(x, bn, false);
  const v = x.data[7], c = Math.floor(7 / 6) % 3;
  assert.ok(Math.abs(y.data[7] - ((v - bn.runningMean[c]) / Math.sqrt(bn.runningVar[c] + 1e-5)) * bn.gamma.data[c] - bn.beta.data[c]) < 1e-5);
});

both('relu, relu6, add, flatten, global average pool', () => {
  const rng = new Rng(6);
  const x = randn([2, 3, 4, 4], rng, 4), z = randn([2, 3, 4, 4], rng);
  ok(gradCheck(() => F.relu(x), [x], { eps: 1e-3 }), 'relu');
  ok(gradCheck(() => F.relu6(x), [x], { eps: 1e-3 }), 'relu6');
  ok(gradCheck(() => F.add(F.relu(x), z), [x, z], { eps: 1e-3 }), 'add');
  ok(gradCheck(() => F.flatten(F.globalAvgPool(x)), [x]), 'gap');
  assert.equal(F.flatten(x).shape, [2, 48]);
});

both('max pool and average pool (with padding, count_include_pad = 0)', () => {
  const rng = new Rng(7);
  const x = randn([2, 2, 5, 6], rng);
  ok(gradCheck(() => F.maxPool2d(x, { kernel: [2, 2] }), [x], { eps: 1e-3 }), 'maxpool 2x2');
  ok(gradCheck(() => F.maxPool2d(x, { kernel: [3, 3], stride: [2, 2], padding: [1, 1] }), [x], { eps: 1e-3 }), 'maxpool 3x3 s2 p1');
  ok(gradCheck(() => F.avgPool2d(x, { kernel: [3, 3], stride: [2, 2], padding: [1, 1] }), [x]), 'avgpool');
  const y = F.avgPool2d(x, { kernel: [3, 3], stride: [2, 2], padding: [1, 1] });
  // Corner output averages the 2x2 valid window only.
  const e = (x.data[0] + x.data[1] + x.data[6] + x.data[7]) / 4;
  assert.ok(Math.abs(y.data[0] - e) < 1e-6);
});

both('dropout: mask scales by 1/(1-p), identity in eval', () => {
  const rng = new Rng(8);
  const x = randn([4, 50], rng);
  const y = F.dropout(x, 0.5, true, new Rng(9));
  let zeros = 0;
  for (let i = 0; i < x.size; i++) {
    if (y.data[i] === 0) zeros++;
    else assert.ok(Math.abs(y.data[i] - 2 * x.data[i]) < 1e-6);
  }
  assert.ok(zeros > 60 && zeros < 140, `zeros ${zeros}`);
  assert.is(F.dropout(x, 0.5, false, rng), x);
  ok(gradCheck(() => F.dropout(x, 0.3, true, new Rng(10)), [x]), 'dropout');
});

both('softmax cross-entropy: value and gradient', () => {
  const rng = new Rng(11);
  const z = randn([3, 4], rng, 2);
  const labels = [1, 0, 3];
  const l = F.softmaxCrossEntropy(z, labels);
  let ref = 0;
  for (let n = 0; n < 3; n++) {
    let s = 0;
    for (let k = 0; k < 4; k++) s += Math.exp(z.data[n * 4 + k]);
    ref += Math.log(s) - z.data[n * 4 + labels[n]];
  }
  assert.ok(Math.abs(l.data[0] - ref / 3) < 1e-5);
  ok(gradCheck(() => F.softmaxCrossEntropy(z, labels), [z]), 'xent');
  // Label smoothing eps: the cross-entropy against (1 - eps) one-hot + eps / K, written out.
  const eps = 0.1;
  let refLs = 0;
  for (let n = 0; n < 3; n++) {
    let s = 0;
    for (let k = 0; k < 4; k++) s += Math.exp(z.data[n * 4 + k]);
    for (let k = 0; k < 4; k++) refLs -= ((k === labels[n] ? 1 - eps : 0) + eps / 4) * (z.data[n * 4 + k] - Math.log(s));
  }
  assert.ok(Math.abs(F.softmaxCrossEntropy(z, labels, eps).data[0] - refLs / 3) < 1e-5);
  ok(gradCheck(() => F.softmaxCrossEntropy(z, labels, eps), [z]), 'xent, label smoothing');
  assert.throws(() => F.softmaxCrossEntropy(z, labels, 1), /label smoothing/);
});

both('a small network end to end (conv, bn, relu, pool, residual, linear, loss)', () => {
  const rng = new Rng(12);
  const x = randn([2, 2, 6, 6], rng);
  const w1 = randn([3, 2, 3, 3], rng, 0.5), w2 = randn([3, 1, 3, 3], rng, 0.5), w3 = randn([4, 27], rng, 0.3);
  const bn = new BatchNorm2d(3);
  const f = () => {
    const a = F.relu6(F.batchNorm(F.conv2d(x, w1, null, { padding: [1, 1] }), { ...bn, runningMean: new Float32Array(3), runningVar: new Float32Array(3) }, true));
    const r = F.add(a, F.conv2d(a, w2, null, { padding: [1, 1], groups: 3 }));
    return F.softmaxCrossEntropy(F.linear(F.flatten(F.maxPool2d(r, { kernel: [2, 2] })), w3, null), [1, 3]);
  };
  ok(gradCheck(f, [x, w1, w2, w3, bn.gamma], { eps: 1e-3 }), 'net');
});

both('no graph is recorded under noGrad', async () => {
  const { noGrad } = await import('../../src/train/tensor.js');
  const rng = new Rng(13);
  const x = randn([2, 3], rng);
  const y = noGrad(() => F.relu(x));
  assert.is(y.backwardFn, null);
  assert.ok(F.relu(x).backwardFn);
  assert.ok(new Tensor(new Float32Array(2), [2]));
});

test.run();
