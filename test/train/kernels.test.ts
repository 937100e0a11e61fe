// The training kernels of the wasm builds against the TypeScript oracle (src/train/kernels-ts.ts), and a training
// run that gives the same losses on both.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { wasmTrainKernels } from '../../src/train/kernels-wasm.js';
import { tsKernels, setKernels, type TrainKernels } from '../../src/train/kernels.js';
import { F32Train } from '../../src/kernels/f32-train.js';
import { Rng } from '../../src/train/rng.js';
import { mnistCnn } from '../../src/train/models.js';
import { train } from '../../src/train/trainer.js';

const rng = new Rng(1);
const rand = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
const close = (a: Float32Array, b: Float32Array, what: string) => {
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-4 * Math.max(1, Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

const paths = ['scalar', 'x86'] as const;
for (const path of paths) {
  test(`${path}: sgemm with every transpose and odd sizes, beta 0 and 1`, async () => {
    const k: TrainKernels = wasmTrainKernels(await F32Train.create(path));
    for (const [M, N, K] of [[1, 1, 1], [5, 7, 3], [13, 17, 29], [64, 9, 100]]) {
      for (const tA of [false, true]) for (const tB of [false, true]) for (const beta of [0, 1]) {
        const A = rand(M * K), B = rand(K * N), C0 = rand(M * N);
        const c1 = C0.slice(), c2 = C0.slice();
        k.sgemm(tA, tB, M, N, K, A, B, c1, beta);
        tsKernels.sgemm(tA, tB, M, N, K, A, B, c2, beta);
        close(c1, c2, `sgemm ${M}x${N}x${K} ${tA} ${tB} beta ${beta}`);
      }
    }
  });
}

test('a few training steps give the same losses with wasm and TypeScript kernels', async () => {
  const n = 48;
  const data = { images: Float32Array.from({ length: n * 784 }, () => rng.next()), labels: Uint8Array.from({ length: n }, (_, i) => i % 10), count: n };
  const run = (k: TrainKernels) => {
    setKernels(k);
    const m = mnistCnn(3, [4, 8, 8]);
    return train(m, data, { epochs: 1, batchSize: 16, lr: 1e-2, seed: 1 });
  };
  const a = run(tsKernels);
  const b = run(wasmTrainKernels(await F32Train.create('auto')));
  setKernels(tsKernels);
  assert.is(a.length, 3);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-4, `step ${i}: ${a[i]} vs ${b[i]}`);
});

test.run();
