// `npm run train`: trains the shipped MNIST models from scratch, seeded, and writes them to models/.
//
//   models/mnist-cnn.fp32.onnx       small CNN (3 x conv-BN-ReLU-maxpool, linear), FP32
//   models/mnist-cnn.int8-ptq.onnx   the same, post-training quantized by the training engine (QDQ, W8A8)
//   models/mnist-cnn.int8-qat.onnx   the same, fine-tuned with quantization-aware training (QDQ, W8A8)
//   models/mnist-{cnn,mobile}.w4a4-qat.onnx  4-bit weights and activations, QAT (the low-bit configuration)
//   models/mnist-mobile.fp32.onnx    depthwise-separable (MobileNet-like) net with a residual block, FP32
//   models/mnist-mobile.int8-qat.onnx  its QAT version (QDQ, W8A8)
//   models/training-report.json      accuracies on the 2,000 held-out digits, measured at the end of training
//
// `npm run train -- validate <candidate...>` trains CNN recipe candidates on 7,000 of the training digits and
// prints their accuracy on the other 1,000 (the held-out digits are not touched); the shipped recipe was chosen so.
// `npm run train -- validate-qat [folds=0,1,2,3] [seeds=2] [candidate...]` ranks INT8 QAT recipes for the CNN the
// same way, over several disjoint validation folds and QAT seeds (QAT_CANDIDATES).
// Stage 1 trains the two FP32 networks in two child processes; stage 2 runs PTQ and QAT (INT8, and W4A4) in one
// process per network and configuration. `npm run train -- quant` redoes only stage 2 from the FP32 files.
// QAT fine-tunes (INT8: one pass over the first 2,048 training digits, 4,096 for the CNN; W4A4, with learnable LSQ scales: one pass
// over 4,096 for the CNN, three over all 8,000 for the MobileNet-like net), BatchNorm folded at half of the steps
// and the activation observers frozen at three quarters (CNN INT8: BatchNorm folded and PTQ's activation ranges
// kept from the start, no shifts; RECIPES). `npm run train -- fp32 <cnn|mobile>` and
// `npm run train -- quant <cnn|mobile> <int8|w4a4>` run one step alone and merge its figures into the report.
import { spawn } from 'node:child_process';
import { writeFileSync, readFileSync, mkdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { loadMnist, validationSplit } from '../data/mnist.js';
import { mnistCnn, mnistMobile } from '../train/models.js';
import { train, evaluate, predict, recalibrateBatchNorm, emaUpdate, type TrainOptions } from '../train/trainer.js';
import { useWasmKernels } from '../train/kernels-wasm.js';
import { exportOnnx, importOnnx } from '../train/onnx.js';
import { QuantizedModel, type QuantConfig } from '../train/qat.js';
import type { ObserverKind } from '../train/fakequant.js';
import { Tensor } from '../train/tensor.js';
import type { Sequential } from '../train/layers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const modelsDir = process.env.OCTET_MODELS_DIR ?? join(root, 'models');
const SHAPE: [number, number, number] = [1, 28, 28];
/** Augmentation: random shifts of up to 2 pixels (affine rotation/scale trained worse in 10 epochs: 98.2%). */
const SHIFT = 2;

/**
 * The CNN recipe before issue 6's validation round (98.90% held out): Adam, 20 epochs, label smoothing 0.1 (10
 * epochs without: also 98.90%). The candidates below vary it.
 */
const CNN_BASE: Omit<TrainOptions, 'seed'> = { epochs: 20, batchSize: 64, lr: 3e-3, weightDecay: 1e-4, warmupSteps: 50, shift: SHIFT, labelSmoothing: 0.1 };

/** Every hyper-parameter of the shipped models. */
export const RECIPES = {
  cnn: {
    seed: 1,
    // No dropout (CANDIDATES.drop0), and CNN_BASE plus the weight average chosen on the validation split (README
    // table): the mean of the weights at the ends of the last 5 epochs (98.60% validation, tied with every average of
    // that run; base 98.40%, base + SWA-5 98.50%).
    build: (seed: number) => mnistCnn(seed, undefined, 0),
    fp32: { ...CNN_BASE, average: 'swa', averageLast: 5 } as Omit<TrainOptions, 'seed'>,
    // INT8 QAT fine-tunes with the training loss (label smoothing included), one pass over 4,096 digits, lr 1e-4,
    // BatchNorm folded from the first step, PTQ's calibrated activation ranges kept (observers frozen), no shifts:
    // QAT_CANDIDATES 'fold0obs0noshift', chosen by `npm run train -- validate-qat` over 4 folds x 2 seeds (mean QAT -
    // FP32 +0.025 points, tied best with 'fold0' and 'fold0obs0lr3e4'; every run within 0.1 of FP32; the previous
    // recipe 'cur' -0.037). README: the table.
    qat: { epochs: 1, batchSize: 64, lr: 1e-4, limit: 4096, labelSmoothing: 0.1 },
    qatSchedule: { bnAt: 0, obsAt: 0 } as QatSchedule,
    qatLow: { epochs: 1, batchSize: 64, lr: 2e-4, shift: SHIFT, limit: 4096, labelSmoothing: 0.1 },
  },
  mobile: {
    seed: 2,
    build: (seed: number) => mnistMobile(seed),
    fp32: { epochs: 10, batchSize: 64, lr: 4e-3, weightDecay: 1e-4, warmupSteps: 50, shift: SHIFT },
    qat: { epochs: 1, batchSize: 64, lr: 1e-4, shift: SHIFT, limit: 2048 },
    qatLow: { epochs: 3, batchSize: 64, lr: 5e-4, shift: SHIFT }, // depthwise 4-bit needs more: three full passes
  },
};
/**
 * Recipe candidates for the CNN, ranked on a validation split (the last 1,000 of the 8,000 training digits by
 * class, `validationSplit`) by `npm run train -- validate <name...>`: trained on the other 7,000, BatchNorm
 * recalibrated on them, evaluated on the 1,000. The held-out digits are not used. README: the table of results.
 */
const base = CNN_BASE;
type Candidate = { widths?: [number, number, number]; dropout?: number; fp32: Omit<TrainOptions, 'seed'> };
export const CANDIDATES: Record<string, Candidate> = {
  base: { fp32: base },
  onecycle: { fp32: { ...base, schedule: 'onecycle' } },
  drop0: { dropout: 0, fp32: base },
  drop10: { dropout: 0.1, fp32: base },
  wide: { widths: [16, 48, 96], fp32: base },
  shift1: { fp32: { ...base, shift: 1 } },
  e30: { fp32: { ...base, epochs: 30 } },
};
/** Weight averages measured on every candidate's trajectory (free: the training path does not change). */
const SWA_LAST = [3, 5, 8];
const EMA_DECAYS = [0.998, 0.999];
const VALIDATION = 1000;

async function validate(name: string): Promise<Report> {
  const c = CANDIDATES[name];
  if (!c) throw new Error(`unknown candidate '${name}' (have: ${Object.keys(CANDIDATES).join(', ')})`);
  await useWasmKernels();
  const { train: tr, val } = validationSplit(loadMnist().train, VALIDATION);
  const seed = RECIPES.cnn.seed;
  const model = mnistCnn(seed, c.widths, c.dropout);
  const params = model.parameters();
  const opts = { ...c.fp32, ...LIMIT, seed };
  const spe = Math.ceil(Math.min(tr.count, opts.limit ?? tr.count) / opts.batchSize);
  // The same averages as train()'s `average` option, kept side by side along the one trajectory.
  const swa = SWA_LAST.map(() => params.map((p) => new Float64Array(p.size)));
  const ema = EMA_DECAYS.map(() => params.map((p) => Float32Array.from(p.data)));
  const t0 = Date.now();
  train(model, tr, {
    ...opts,
    log: (m) => log(`val ${name}`, m),
    onStep: (step) => {
      EMA_DECAYS.forEach((d, k) => emaUpdate(ema[k], params, step, d));
      const e = Math.floor(step / spe);
      if ((step + 1) % spe !== 0) return;
      SWA_LAST.forEach((k, j) => {
        if (e < opts.epochs - k) return;
        params.forEach((p, i) => {
          const a = swa[j][i];
          for (let q = 0; q < a.length; q++) a[q] += p.data[q];
        });
      });
    },
  });
  const secs = (Date.now() - t0) / 1000;
  const final = params.map((p) => p.data.slice());
  const rep: Report = {};
  const measure = (variant: string, weights: Float32Array[]) => {
    params.forEach((p, i) => p.data.set(weights[i]));
    recalibrateBatchNorm(model, tr, QUICK ? 512 : 4000);
    const acc = evaluate(model, val);
    log(`val ${name}`, `${variant}: validation ${(acc * 100).toFixed(2)}%`);
    rep[`${name}${variant === 'last' ? '' : `+${variant}`}`] = { accuracy: acc, note: `${tr.count}/${val.count}, ${secs.toFixed(0)} s` };
  };
  measure('last', final);
  SWA_LAST.forEach((k, j) => measure(`swa${k}`, swa[j].map((a) => Float32Array.from(a, (v) => v / k))));
  EMA_DECAYS.forEach((d, k) => measure(`ema${d}`, ema[k]));
  return rep;
}

/**
 * INT8 QAT recipe candidates for the CNN, ranked on validation folds by `npm run train -- validate-qat`: per fold, the
 * shipped FP32 recipe trained on the other 7,000 training digits, then PTQ and each candidate over several QAT seeds
 * (shuffle and shift order), scored on the fold's 1,000 against the FP32 model (accuracy difference and digits whose
 * predicted class differs from FP32's). `bnAt` / `obsAt`: fraction of the QAT steps after which BatchNorm is folded
 * and the activation observers are frozen (0: at once, i.e. folded from the start / PTQ's calibrated ranges kept;
 * null: observers never frozen).
 */
type QatCandidate = { opts: Omit<TrainOptions, 'seed'>; bnAt: number; obsAt: number | null; observer?: ObserverKind; lsq?: boolean };
const Q0: QatCandidate = { opts: { epochs: 1, batchSize: 64, lr: 1e-4, shift: SHIFT, limit: 4096, labelSmoothing: 0.1 }, bnAt: 0.5, obsAt: 0.75 };
export const QAT_CANDIDATES: Record<string, QatCandidate> = {
  // The shipped recipe before this round (4,096 digits, lr 1e-4, BatchNorm folded at 1/2, observers frozen at 3/4).
  cur: Q0,
  q2048: { ...Q0, opts: { ...Q0.opts, limit: 2048 } },
  fold0: { ...Q0, bnAt: 0 },
  fold0obs0: { ...Q0, bnAt: 0, obsAt: 0 },
  fold0obs0lr3e5: { ...Q0, bnAt: 0, obsAt: 0, opts: { ...Q0.opts, lr: 3e-5 } },
  fold0obs0lr3e4: { ...Q0, bnAt: 0, obsAt: 0, opts: { ...Q0.opts, lr: 3e-4 } },
  fold0obs0lr1e3: { ...Q0, bnAt: 0, obsAt: 0, opts: { ...Q0.opts, lr: 1e-3 } },
  fold0obs0noshift: { ...Q0, bnAt: 0, obsAt: 0, opts: { ...Q0.opts, shift: 0 } },
  fold0obs0ls0: { ...Q0, bnAt: 0, obsAt: 0, opts: { ...Q0.opts, labelSmoothing: 0 } },
  fold0obs0all: { ...Q0, bnAt: 0, obsAt: 0, opts: { ...Q0.opts, limit: undefined } },
  fold0obs0ema: { ...Q0, bnAt: 0, obsAt: 0, opts: { ...Q0.opts, average: 'ema', emaDecay: 0.99 } },
  fold0obs0swa4: { ...Q0, bnAt: 0, obsAt: 0, opts: { ...Q0.opts, epochs: 4, limit: 1024, average: 'swa', averageLast: 4 } },
  fold0minmax: { ...Q0, bnAt: 0, observer: 'minmax' },
  fold0obs0lsq: { ...Q0, bnAt: 0, obsAt: 0, lsq: true },
  cur_obs0: { ...Q0, obsAt: 0 },
  cur_noshift: { ...Q0, opts: { ...Q0.opts, shift: 0 } },
};

/** Where validate-qat keeps each fold's FP32 model (derived data, retrained when missing). */
const VALIDATION_CACHE = process.env.OCTET_VALIDATION_DIR ?? join(tmpdir(), 'octet-validation');

type QatRow = { fold: number; candidate: string; seed: number; accuracy: number; fp32: number; flips: number; secs: number };

function argmaxes(logits: Float32Array, n: number): Uint8Array {
  const K = logits.length / n;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let k = 1; k < K; k++) if (logits[i * K + k] > logits[i * K + b]) b = k;
    out[i] = b;
  }
  return out;
}

/** One validation fold: FP32 (cached), PTQ, and every named QAT candidate over `seeds` seeds. */
async function validateQatFold(fold: number, seeds: number, names: string[], seed0 = 0): Promise<QatRow[]> {
  await useWasmKernels();
  const { train: tr, val } = validationSplit(loadMnist().train, VALIDATION, fold);
  const r = RECIPES.cnn;
  const key = createHash('sha256').update(JSON.stringify({ fp32: r.fp32, seed: r.seed, fold, quick: QUICK, build: r.build.toString() })).digest('hex').slice(0, 12);
  const file = join(VALIDATION_CACHE, `cnn-fold${fold}-${key}.fp32.onnx`);
  const tag = `val qat fold ${fold}`;
  let model: Sequential;
  if (existsSync(file)) {
    model = importOnnx(readFileSync(file)).model;
    log(tag, `FP32 from ${file}`);
  } else {
    model = r.build(r.seed);
    train(model, tr, { ...r.fp32, ...LIMIT, seed: r.seed, log: (m) => log(tag, `FP32 ${m}`) });
    recalibrateBatchNorm(model, tr, QUICK ? 512 : 4000);
    mkdirSync(VALIDATION_CACHE, { recursive: true });
    writeFileSync(file, exportOnnx(model, { inputShape: SHAPE }));
  }
  const ref = argmaxes(predict(model, val), val.count);
  const score = (m: Parameters<typeof predict>[0]) => {
    const p = argmaxes(predict(m, val), val.count);
    let ok = 0, flips = 0;
    for (let i = 0; i < val.count; i++) {
      if (p[i] === val.labels[i]) ok++;
      if (p[i] !== ref[i]) flips++;
    }
    return { accuracy: ok / val.count, flips };
  };
  const fp32 = score(model).accuracy;
  log(tag, `FP32: validation ${(fp32 * 100).toFixed(2)}%`);
  const calib: Tensor[] = [];
  for (let b = 0; b < CALIBRATION; b += 128) calib.push(new Tensor(tr.images.slice(b * 784, (b + 128) * 784), [128, ...SHAPE]));
  const rows: QatRow[] = [];
  const ptq = new QuantizedModel(clone(model), { freezeBnAfter: 0 });
  ptq.calibrate(calib);
  rows.push({ fold, candidate: 'ptq', seed: 0, fp32, ...score(ptq), secs: 0 });
  log(tag, `PTQ: validation ${(rows[0].accuracy * 100).toFixed(2)}% (${rows[0].flips} flips vs FP32)`);
  for (const name of names) {
    const c = QAT_CANDIDATES[name];
    if (!c) throw new Error(`unknown QAT candidate '${name}' (have: ${Object.keys(QAT_CANDIDATES).join(', ')})`);
    const o = { ...c.opts, ...LIMIT };
    const steps = Math.ceil(Math.min(tr.count, o.limit ?? tr.count) / o.batchSize) * o.epochs;
    for (let s = seed0; s < seed0 + seeds; s++) {
      const t0 = Date.now();
      const q = new QuantizedModel(clone(model), {
        freezeBnAfter: Math.floor(steps * c.bnAt),
        freezeObserversAfter: c.obsAt === null ? undefined : Math.floor(steps * c.obsAt),
        observer: c.observer,
        lsq: c.lsq,
      });
      q.calibrate(calib);
      if (c.obsAt === 0) q.freezeObservers();
      train(q, tr, { ...o, seed: r.seed + 100 + s, onStep: (_s, _l, opt) => q.afterStep(opt) });
      const row = { fold, candidate: name, seed: s, fp32, ...score(q), secs: (Date.now() - t0) / 1000 };
      rows.push(row);
      log(tag, `QAT ${name} seed ${s}: ${(row.accuracy * 100).toFixed(2)}% (${row.flips} flips vs FP32, ${row.secs.toFixed(0)} s)`);
    }
  }
  return rows;
}

/** Runs the folds (two child processes at a time) and prints the ranking: mean over folds and seeds. */
async function validateQat(args: string[]): Promise<void> {
  let folds = [0, 1, 2, 3], seeds = 2, jobs = 2, seed0 = 0;
  const names: string[] = [];
  for (const a of args) {
    const [k, v] = a.split('=');
    if (k === 'folds' && v) folds = v.split(',').map(Number);
    else if (k === 'seeds' && v) seeds = Number(v);
    else if (k === 'jobs' && v) jobs = Number(v);
    else if (k === 'seed0' && v) seed0 = Number(v);
    else names.push(a);
  }
  if (names.length === 0) names.push(...Object.keys(QAT_CANDIDATES));
  const self = fileURLToPath(import.meta.url);
  const rows: QatRow[] = [];
  const queue = [...folds];
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      rows.push(...((await child(self, ['validate-qat-fold', String(f), String(seeds), String(seed0), ...names])) as unknown as QatRow[]));
    }
  }));
  const out = join(VALIDATION_CACHE, `validate-qat-${Date.now()}.json`);
  writeFileSync(out, JSON.stringify(rows, null, 1));
  console.log(`\nvalidate-qat: folds ${folds.join(',')} (1,000 digits each), QAT seeds ${seed0}..${seed0 + seeds - 1}; rows in ${out}`);
  console.log('| candidate | runs | mean QAT - FP32 (points) | per fold (mean over seeds) | worst run | mean flips vs FP32 |');
  console.log('|---|---|---|---|---|---|');
  for (const name of ['ptq', ...names]) {
    const rs = rows.filter((r) => r.candidate === name);
    const d = rs.map((r) => (r.accuracy - r.fp32) * 100);
    const perFold = folds.map((f) => {
      const x = rs.filter((r) => r.fold === f).map((r) => (r.accuracy - r.fp32) * 100);
      return (x.reduce((a, b) => a + b, 0) / x.length).toFixed(2);
    });
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    const flips = rs.reduce((a, r) => a + r.flips, 0) / rs.length;
    console.log(`| ${name} | ${rs.length} | ${mean >= 0 ? '+' : ''}${mean.toFixed(3)} | ${perFold.join(' / ')} | ${Math.min(...d).toFixed(1)} | ${flips.toFixed(2)} |`);
  }
}

const CALIBRATION = 512;
/** The low-bit configuration: 4-bit weights (per channel) and activations, with learnable scales (LSQ) in QAT. */
const LOW_BIT: QuantConfig = { weightBits: 4, activationBits: 4, lsq: true };
/** OCTET_TRAIN_QUICK=1: a smoke run on 512 digits (checks the pipeline, not the accuracy). */
const QUICK = process.env.OCTET_TRAIN_QUICK === '1';
const LIMIT = QUICK ? { limit: 512 } : {};

type Report = Record<string, { accuracy: number; note: string }>;

function log(tag: string, msg: string): void {
  console.log(`[${tag}] ${msg}`);
}

function calibBatches(n: number): Tensor[] {
  const { train: t } = loadMnist();
  const out: Tensor[] = [];
  for (let b = 0; b < n; b += 128) {
    const bs = Math.min(128, n - b);
    out.push(new Tensor(t.images.slice(b * 784, (b + bs) * 784), [bs, ...SHAPE]));
  }
  return out;
}

function clone(m: Sequential): Sequential {
  return importOnnx(exportOnnx(m, { inputShape: SHAPE })).model;
}

/** PTQ (calibration only) and QAT (calibration then fine-tuning) of a copy of `fp32`. */
/**
 * When QAT folds BatchNorm and freezes the activation observers, as fractions of its steps (0: at once, i.e. folded
 * from the start / the calibrated PTQ ranges kept; obsAt null: never frozen).
 */
type QatSchedule = { bnAt: number; obsAt: number | null };
const DEFAULT_SCHEDULE: QatSchedule = { bnAt: 0.5, obsAt: 0.75 };

function quantizeBoth(tag: string, fp32: Sequential, cfg: QuantConfig, qatOpts: Omit<TrainOptions, 'seed'>, seed: number, sched: QatSchedule = DEFAULT_SCHEDULE) {
  const { train: tr, eval: ev } = loadMnist();
  const ptq = new QuantizedModel(clone(fp32), { ...cfg, lsq: false, freezeBnAfter: 0 });
  ptq.calibrate(calibBatches(CALIBRATION));
  const ptqAcc = evaluate(ptq, ev);
  log(tag, `PTQ ${JSON.stringify(cfg)}: ${(ptqAcc * 100).toFixed(2)}%`);
  const used = Math.min(tr.count, QUICK ? 512 : qatOpts.limit ?? tr.count);
  const steps = Math.ceil(used / qatOpts.batchSize) * qatOpts.epochs;
  const qat = new QuantizedModel(clone(fp32), {
    ...cfg,
    freezeBnAfter: Math.floor(steps * sched.bnAt),
    freezeObserversAfter: sched.obsAt === null ? undefined : Math.floor(steps * sched.obsAt),
  });
  qat.calibrate(calibBatches(CALIBRATION));
  if (sched.obsAt === 0) qat.freezeObservers();
  const t0 = Date.now();
  train(qat, tr, { ...qatOpts, ...LIMIT, seed, onStep: (_s, _l, opt) => qat.afterStep(opt), log: (m) => log(tag, `QAT ${m}`) });
  const qatAcc = evaluate(qat, ev);
  log(tag, `QAT ${JSON.stringify(cfg)}: ${(qatAcc * 100).toFixed(2)}% (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  return { ptq, ptqAcc, qat, qatAcc };
}

type Net = 'cnn' | 'mobile';
type QuantJob = 'int8' | 'w4a4';

/** Stage 1: trains the FP32 network (weights averaged if the recipe says so), recalibrates BatchNorm, writes models/mnist-<net>.fp32.onnx. */
async function trainFp32(which: Net): Promise<Report> {
  const k = await useWasmKernels();
  const r = RECIPES[which];
  const tag = which;
  log(tag, `kernels: ${k.name}`);
  const { train: tr, eval: ev } = loadMnist();
  const name = `mnist-${which}`;
  const t0 = Date.now();
  const model = r.build(r.seed);
  train(model, tr, { ...r.fp32, ...LIMIT, seed: r.seed, log: (m) => log(tag, `FP32 ${m}`) });
  log(tag, `FP32 before BatchNorm recalibration: ${(evaluate(model, ev) * 100).toFixed(2)}%`);
  recalibrateBatchNorm(model, tr, QUICK ? 512 : 4000);
  const fp32Acc = evaluate(model, ev);
  log(tag, `FP32: ${(fp32Acc * 100).toFixed(2)}% (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  mkdirSync(modelsDir, { recursive: true });
  writeFileSync(join(modelsDir, `${name}.fp32.onnx`), exportOnnx(model, { inputShape: SHAPE, docString: docOf(which, 'FP32') }));
  return { [`${name}.fp32`]: { accuracy: fp32Acc, note: 'FP32' } };
}

const docOf = (which: Net, what: string) => `Octet ${which} MNIST model, ${what}; made by \`npm run train\` (src/cli/train.ts), seed ${RECIPES[which].seed}`;

/** Stage 2: PTQ and QAT of the FP32 model in models/ for one configuration. */
async function quantizeJob(which: Net, job: QuantJob): Promise<Report> {
  await useWasmKernels();
  const r = RECIPES[which];
  const tag = `${which} ${job}`;
  const name = `mnist-${which}`;
  const fp32File = join(modelsDir, `${name}.fp32.onnx`);
  if (!existsSync(fp32File)) throw new Error(`${fp32File} is missing (stage 1 did not run)`);
  const model = importOnnx(readFileSync(fp32File)).model;
  const report: Report = {};
  if (job === 'int8') {
    // The FP32 figure is measured here too, so stage 2 alone (`-- quant`) gives a complete report.
    report[`${name}.fp32`] = { accuracy: evaluate(model, loadMnist().eval), note: 'FP32' };
    const int8 = quantizeBoth(tag, model, {}, r.qat, r.seed + 100, 'qatSchedule' in r ? r.qatSchedule : DEFAULT_SCHEDULE);
    writeFileSync(join(modelsDir, `${name}.int8-qat.onnx`), int8.qat.exportQdq({ inputShape: SHAPE, docString: docOf(which, 'INT8 QAT (QDQ, W8A8 per-channel weights)') }));
    report[`${name}.int8-ptq`] = { accuracy: int8.ptqAcc, note: `INT8 PTQ by the training engine (min/max, ${CALIBRATION} samples)` };
    report[`${name}.int8-qat`] = { accuracy: int8.qatAcc, note: 'INT8 QAT' };
    if (which === 'cnn') {
      writeFileSync(join(modelsDir, `${name}.int8-ptq.onnx`), int8.ptq.exportQdq({ inputShape: SHAPE, docString: docOf(which, `INT8 PTQ (QDQ, W8A8, min/max calibration on ${CALIBRATION} training digits)`) }));
    }
  } else {
    // The low-bit configuration: 4-bit weights (per channel) and 4-bit activations, PTQ against QAT.
    const low = quantizeBoth(tag, model, LOW_BIT, r.qatLow, r.seed + 200);
    writeFileSync(join(modelsDir, `${name}.w4a4-qat.onnx`), low.qat.exportQdq({ inputShape: SHAPE, docString: docOf(which, 'W4A4 QAT (QDQ in 8-bit containers, Clip to the 4-bit range)') }));
    report[`${name}.w4a4-ptq`] = { accuracy: low.ptqAcc, note: '4-bit weights and activations, PTQ' };
    report[`${name}.w4a4-qat`] = { accuracy: low.qatAcc, note: '4-bit weights and activations, QAT' };
  }
  return report;
}

function child(self: string, args: string[]): Promise<Report> {
  return new Promise<Report>((resolve, reject) => {
    const tmp = join(tmpdir(), `octet-train-${process.pid}-${createHash('sha256').update(args.join(' ')).digest('hex').slice(0, 16)}.json`);
    const c = spawn(process.execPath, [...process.execArgv, self, ...args], { stdio: 'inherit', env: { ...process.env, OCTET_TRAIN_REPORT: tmp } });
    c.on('close', (code) => (code === 0 ? resolve(JSON.parse(readFileSync(tmp, 'utf8'))) : reject(new Error(`training step '${args.join(' ')}' failed (exit ${code})`))));
  });
}

async function main(): Promise<void> {
  const [stage, net, job] = process.argv.slice(2);
  const nets = ['cnn', 'mobile'];
  if (stage === 'fp32' && nets.includes(net)) return emit(await trainFp32(net as Net));
  if (stage === 'validate') {
    // One child per candidate, all at once; results printed (not merged into the models' report).
    const names = process.argv.slice(3);
    const self = fileURLToPath(import.meta.url);
    const reps = await Promise.all(names.map((n) => child(self, ['validate-one', n])));
    for (const r of reps) for (const [k, v] of Object.entries(r)) console.log(`validate ${k}: ${(v.accuracy * 100).toFixed(2)}%  (${v.note})`);
    return;
  }
  if (stage === 'validate-qat') return validateQat(process.argv.slice(3));
  if (stage === 'validate-qat-fold') {
    const rows = await validateQatFold(Number(net), Number(job), process.argv.slice(6), Number(process.argv[5]));
    if (process.env.OCTET_TRAIN_REPORT) writeFileSync(process.env.OCTET_TRAIN_REPORT, JSON.stringify(rows));
    return;
  }
  if (stage === 'validate-one') {
    const rep = await validate(net);
    if (process.env.OCTET_TRAIN_REPORT) writeFileSync(process.env.OCTET_TRAIN_REPORT, JSON.stringify(rep));
    return;
  }
  if (stage === 'quant' && nets.includes(net) && (job === 'int8' || job === 'w4a4')) return emit(await quantizeJob(net as Net, job));
  if (stage && stage !== 'quant') throw new Error(`usage: npm run train [-- quant | validate <${Object.keys(CANDIDATES).join('|')}>... | validate-qat [folds=0,1,2,3] [seeds=2] [seed0=0] [jobs=2] [<${Object.keys(QAT_CANDIDATES).join('|')}>...]]   (quant: redo only stage 2 from the FP32 models in models/; validate: rank CNN recipes on the validation split; validate-qat: rank CNN INT8 QAT recipes on validation folds)`);
  const t0 = Date.now();
  const self = fileURLToPath(import.meta.url);
  mkdirSync(modelsDir, { recursive: true });
  // Stage 1 (skipped with `-- quant`): one process per network. Stage 2: one process per (network, configuration).
  const reps: Report[] = stage === 'quant' ? [] : await Promise.all(nets.map((n) => child(self, ['fp32', n])));
  reps.push(...(await Promise.all(nets.flatMap((n) => ['int8', 'w4a4'].map((j) => child(self, ['quant', n, j]))))));
  mergeReport(Object.assign({}, ...reps));
  console.log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s; models in ${modelsDir}`);
}

function emit(rep: Report): void {
  if (process.env.OCTET_TRAIN_REPORT) writeFileSync(process.env.OCTET_TRAIN_REPORT, JSON.stringify(rep));
  else mergeReport(rep);
}

function mergeReport(rep: Report): void {
  const file = join(modelsDir, 'training-report.json');
  const old = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const merged = { ...old.models, ...rep };
  const out = {
    command: 'npm run train',
    split: 'src/data/mnist.ts: 8,000 training/calibration digits, 2,000 held out (class-stratified, seeded)',
    models: Object.fromEntries(Object.entries(merged).sort()),
  };
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
