// The main job (`npm start`): loads the shipped MNIST models (models/, made by `npm run train`), quantizes the FP32
// CNN with Octet's default post-training quantization (quantize(), 256 calibration digits from the training part
// of the split), evaluates FP32 / INT8 PTQ / INT8 QAT (and the depthwise-separable model) on the 2,000 held-out
// digits and prints one table: accuracy, model size, latency per image (batch 1, median), throughput (batch 100)
// and the kernel path that ran.
//
// Models run in Octet's InferenceSession (src/api). If that module is not in this build, onnxruntime-node runs them
// instead and the table says so in the path column.
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { loadMnist, type DigitSet } from '../data/mnist.js';
import { quantize } from '../quant/quantize.js';
import { sessionExecutor, type Executor } from '../quant/executor.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const modelsDir = process.env.OCTET_MODELS_DIR ?? join(root, 'models');
const CALIBRATION_SAMPLES = 256;
const LATENCY_RUNS = 200;
const BATCH = 100;

interface Runner {
  run(x: Float32Array, n: number): Promise<Float32Array>;
  path: string;
  release(): Promise<void>;
}

interface Engine {
  name: string;
  open(bytes: Uint8Array): Promise<Runner>;
  executor: Executor;
}

async function octetEngine(): Promise<Engine | null> {
  const sessionPath = '../api/session.js';
  const tensorPath = '../api/tensor.js';
  let api: any;
  try {
    const [s, t] = await Promise.all([import(sessionPath), import(tensorPath)]);
    api = { InferenceSession: s.InferenceSession, Tensor: t.Tensor };
  } catch {
    return null;
  }
  return {
    name: 'octet',
    executor: sessionExecutor(api, { requantization: 'float' }),
    async open(bytes) {
      const s = await api.InferenceSession.create(bytes, { kernels: process.env.OCTET_KERNELS ?? 'auto' });
      const input = s.inputNames[0], output = s.outputNames[0];
      let variant = '';
      return {
        get path() {
          return `octet ${s.kernelPath}${variant ? ` (${variant})` : ''}`;
        },
        async run(x, n) {
          const out = await s.run({ [input]: new api.Tensor('float32', x, [n, 1, 28, 28]) });
          if (!variant) {
            // The kernel that did the most work in this model (its heaviest node).
            const p = s.profile?.();
            const top = p?.nodes?.slice().sort((a: any, b: any) => b.ms - a.ms)[0];
            variant = top ? String(top.variant) : '';
          }
          return out[output].data as Float32Array;
        },
        release: () => s.release(),
      };
    },
  };
}

async function ortEngine(): Promise<Engine> {
  const ort = await import('onnxruntime-node');
  return {
    name: 'onnxruntime-node',
    executor: sessionExecutor(ort as any),
    async open(bytes) {
      const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
      const input = s.inputNames[0], output = s.outputNames[0];
      return {
        path: 'onnxruntime-node (Octet runtime not built)',
        async run(x, n) {
          const out = await s.run({ [input]: new ort.Tensor('float32', x, [n, 1, 28, 28]) });
          return out[output].data as Float32Array;
        },
        release: () => s.release(),
      };
    },
  };
}

function argmaxAccuracy(logits: Float32Array, labels: Uint8Array, offset: number, n: number, hits: { ok: number }): void {
  const K = logits.length / n;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits[i * K + k] > logits[i * K + best]) best = k;
    if (best === labels[offset + i]) hits.ok++;
  }
}

interface Row {
  model: string;
  accuracy: number;
  bytes: number;
  latencyMs: number;
  throughput: number;
  path: string;
}

async function evaluate(engine: Engine, label: string, bytes: Uint8Array, set: DigitSet): Promise<Row> {
  const r = await engine.open(bytes);
  try {
    // Accuracy and throughput: the whole held-out set in batches of BATCH.
    const hits = { ok: 0 };
    await r.run(set.images.subarray(0, BATCH * 784), BATCH); // warm-up
    const t0 = performance.now();
    for (let b = 0; b < set.count; b += BATCH) {
      const n = Math.min(BATCH, set.count - b);
      argmaxAccuracy(await r.run(set.images.subarray(b * 784, (b + n) * 784), n), set.labels, b, n, hits);
    }
    const seconds = (performance.now() - t0) / 1000;
    // Latency: single images, median of LATENCY_RUNS after a warm-up.
    for (let i = 0; i < 10; i++) await r.run(set.images.subarray(i * 784, (i + 1) * 784), 1);
    const times: number[] = [];
    for (let i = 0; i < LATENCY_RUNS; i++) {
      const x = set.images.subarray(i * 784, (i + 1) * 784);
      const t = performance.now();
      await r.run(x, 1);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    return { model: label, accuracy: hits.ok / set.count, bytes: bytes.length, latencyMs: times[times.length >> 1], throughput: set.count / seconds, path: r.path };
  } finally {
    await r.release();
  }
}

function table(rows: Row[], base: number): string {
  const head = ['model', 'accuracy', 'vs FP32', 'size', 'latency/image', 'throughput', 'kernel path'];
  const body = rows.map((r) => [
    r.model,
    `${(r.accuracy * 100).toFixed(2)}%`,
    r.model.includes('FP32') ? '' : `${((r.accuracy - base) * 100 >= 0 ? '+' : '')}${((r.accuracy - base) * 100).toFixed(2)}`,
    `${(r.bytes / 1024).toFixed(1)} KB`,
    `${r.latencyMs.toFixed(3)} ms`,
    `${r.throughput.toFixed(0)} img/s`,
    r.path,
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(w[i])).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const need = (f: string) => {
    const p = join(modelsDir, f);
    if (!existsSync(p)) throw new Error(`octet: ${p} is missing; the models ship in models/ (make them again with \`npm run train\`)`);
    return new Uint8Array(readFileSync(p));
  };
  const fp32 = need('mnist-cnn.fp32.onnx');
  const qat = need('mnist-cnn.int8-qat.onnx');
  const mobileFp32 = need('mnist-mobile.fp32.onnx');
  const mobileQat = need('mnist-mobile.int8-qat.onnx');
  const { train, eval: held } = loadMnist();
  const engine = (await octetEngine()) ?? (await ortEngine());

  // Octet's default PTQ on the FP32 CNN, calibrated on training digits (never on the held-out ones).
  const calibration = [];
  for (let b = 0; b < CALIBRATION_SAMPLES; b += 32) {
    calibration.push({ input: { data: train.images.slice(b * 784, (b + 32) * 784), dims: [32, 1, 28, 28] } });
  }
  const tq = performance.now();
  const ptq = await quantize(fp32, { calibration, executor: engine.executor });
  const quantizeSeconds = (performance.now() - tq) / 1000;

  const rows: Row[] = [];
  rows.push(await evaluate(engine, 'CNN FP32', fp32, held));
  rows.push(await evaluate(engine, 'CNN INT8 PTQ (quantize())', ptq, held));
  rows.push(await evaluate(engine, 'CNN INT8 QAT', qat, held));
  const mob: Row[] = [];
  mob.push(await evaluate(engine, 'MobileNet-like FP32', mobileFp32, held));
  mob.push(await evaluate(engine, 'MobileNet-like INT8 QAT', mobileQat, held));

  console.log(`Octet main job: MNIST, ${held.count} held-out digits (src/data/mnist.ts split), engine: ${engine.name}`);
  console.log(`INT8 PTQ made now by quantize() (min/max, per-channel, QDQ) from ${CALIBRATION_SAMPLES} training digits in ${quantizeSeconds.toFixed(1)} s\n`);
  console.log(table(rows, rows[0].accuracy));
  console.log('');
  console.log(table(mob, mob[0].accuracy));
  console.log(`\nlatency: batch 1, median of ${LATENCY_RUNS}; throughput: batches of ${BATCH}; one thread; ${((performance.now() - t0) / 1000).toFixed(1)} s in all`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
