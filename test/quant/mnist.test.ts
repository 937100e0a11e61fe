// PTQ of the shipped MNIST CNN (models/, `npm run train`): every method and both formats keep top-1 agreement with
// the FP32 model on held-out digits (the project's split, src/data/mnist.ts), checked in onnxruntime-node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { quantizeModel } from '../../src/quant/quantize.js';
import { loadMnist } from '../../src/data/mnist.js';
import type { Feeds } from '../../src/quant/executor.js';
import { ortExecutor } from './helpers.js';

const fp32 = new Uint8Array(readFileSync('models/mnist-cnn.fp32.onnx'));
const split = loadMnist();
const px = 28 * 28;
const feeds = (images: Float32Array, from: number, n: number): Feeds[] =>
  Array.from({ length: n }, (_, i) => ({ input: { data: images.slice((from + i) * px, (from + i + 1) * px), dims: [1, 1, 28, 28] } }));

async function logits(model: Uint8Array, set: Feeds[]): Promise<Float32Array[]> {
  const r = await ortExecutor(model);
  const out: Float32Array[] = [];
  for (const f of set) out.push(Object.values(await r.run(f))[0].data as Float32Array);
  return out;
}

const argmax = (a: Float32Array) => a.reduce((bi, v, i, arr) => (v > arr[bi] ? i : bi), 0);

test('MNIST CNN: each method keeps >= 99% top-1 agreement with FP32 on 500 held-out digits', async () => {
  const { decodeModel } = await import('../../src/quant/model.js');
  const name = decodeModel(fp32).graph!.input![0].name!;
  const rename = (fs: Feeds[]) => fs.map((f) => ({ [name]: f.input }));
  const calib = rename(feeds(split.train.images, 0, 64));
  const held = rename(feeds(split.eval.images, 0, 500));
  const ref = await logits(fp32, held);
  for (const [method, format] of [['minmax', 'qdq'], ['entropy', 'qoperator'], ['percentile', 'qdq'], ['mse', 'qoperator'], ['moving-average', 'qdq']] as const) {
    const q = await quantizeModel(fp32, { calibration: calib, method, format, executor: ortExecutor });
    const got = await logits(q.model, held);
    let agree = 0;
    for (let i = 0; i < held.length; i++) if (argmax(ref[i]) === argmax(got[i])) agree++;
    assert.ok(agree / held.length >= 0.99, `${method} ${format}: ${agree}/${held.length}`);
    assert.ok(q.model.length < 0.5 * fp32.length, `${method}: ${q.model.length} bytes vs ${fp32.length}`);
  }
});

test.run();
