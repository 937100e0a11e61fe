// Mini-batch training and evaluation loops for image classifiers (NCHW float input, class labels).
import { Tensor, noGrad } from './tensor.js';
import { softmaxCrossEntropy } from './ops.js';
/** What train() and predict() need: a module or a QuantizedModel. */
export interface Trainable {
  training: boolean;
  parameters(): Tensor[];
  train(on?: boolean): unknown;
  eval(): unknown;
  forward(x: Tensor): Tensor;
}
import { Adam, SGD, cosineSchedule, oneCycleSchedule, type Optimizer } from './optim.js';
import { Rng } from './rng.js';
import { BatchNorm2d } from './layers.js';

export interface ImageSet {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer?: 'adam' | 'sgd';
  weightDecay?: number;
  warmupSteps?: number;
  /** 'cosine' (default: warm-up then cosine decay to 1% of lr) or 'onecycle' (oneCycleSchedule, warmupSteps ignored). */
  schedule?: 'cosine' | 'onecycle';
  /**
   * Weight averaging: 'swa' with `averageLast: k` ends with the mean of the parameters at the ends of the last k
   * epochs; 'ema' with `emaDecay: d` ends with the exponential moving average of the parameters over all steps
   * (p_avg = d p_avg + (1 - d) p after each step). BatchNorm running statistics are not averaged: recompute them
   * afterwards (recalibrateBatchNorm).
   */
  average?: 'swa' | 'ema';
  averageLast?: number;
  emaDecay?: number;
  /** Label smoothing of the cross-entropy target (0: none). */
  labelSmoothing?: number;
  /** Random translation of up to this many pixels (zero fill), per image, seeded. */
  shift?: number;
  /** Random affine augmentation per image (bilinear, zero fill): rotation up to +-degrees, scale 1 +- scale, shift +- pixels. */
  affine?: { degrees: number; scale: number; shift: number };
  seed: number;
  /** Use only the first `limit` samples (tests). */
  limit?: number;
  /** Stop after this many steps (tests). */
  maxSteps?: number;
  /** Called after every step with the step index (0-based) and loss; the model and optimizer may be altered. */
  onStep?: (step: number, loss: number, opt: Optimizer) => void;
  log?: (msg: string) => void;
  /** [C, H, W] of one sample. */
  sampleShape?: [number, number, number];
}

function shiftInto(dst: Float32Array, src: Float32Array, H: number, W: number, dy: number, dx: number): void {
  for (let y = 0; y < H; y++) {
    const sy = y - dy;
    for (let x = 0; x < W; x++) {
      const sx = x - dx;
      dst[y * W + x] = sy >= 0 && sy < H && sx >= 0 && sx < W ? src[sy * W + sx] : 0;
    }
  }
}

/** Bilinear resampling of one plane through rotation th, scale sc (about the centre) and shift (tx, ty). */
function affineInto(dst: Float32Array, src: Float32Array, H: number, W: number, th: number, sc: number, tx: number, ty: number): void {
  const cy = (H - 1) / 2, cx = (W - 1) / 2;
  const c = Math.cos(th) / sc, s = Math.sin(th) / sc;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const dx = x - cx - tx, dy = y - cy - ty;
      const sx = c * dx + s * dy + cx, sy = -s * dx + c * dy + cy;
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const fx = sx - x0, fy = sy - y0;
      let v = 0;
      if (y0 >= 0 && y0 < H) {
        if (x0 >= 0 && x0 < W) v += (1 - fx) * (1 - fy) * src[y0 * W + x0];
        if (x0 + 1 >= 0 && x0 + 1 < W) v += fx * (1 - fy) * src[y0 * W + x0 + 1];
      }
      if (y0 + 1 >= 0 && y0 + 1 < H) {
        if (x0 >= 0 && x0 < W) v += (1 - fx) * fy * src[(y0 + 1) * W + x0];
        if (x0 + 1 >= 0 && x0 + 1 < W) v += fx * fy * src[(y0 + 1) * W + x0 + 1];
      }
      dst[y * W + x] = v;
    }
  }
}

/**
 * One step of an exponential moving average of the parameters, after step `step` (0-based): the decay is
 * min(d, (1 + step) / (10 + step)), so the first steps are not dominated by the initial weights.
 */
export function emaUpdate(ema: Float32Array[], params: Tensor[], step: number, decay: number): void {
  const d = Math.min(decay, (1 + step) / (10 + step));
  params.forEach((p, j) => {
    const a = ema[j], w = p.data;
    for (let i = 0; i < a.length; i++) a[i] = d * a[i] + (1 - d) * w[i];
  });
}

/** Trains in place; returns the per-step losses. */
export function train(model: Trainable, data: ImageSet, o: TrainOptions): number[] {
  const [C, H, W] = o.sampleShape ?? [1, 28, 28];
  const S = C * H * W;
  const rng = new Rng(o.seed);
  const params = model.parameters();
  const opt: Optimizer =
    o.optimizer === 'sgd'
      ? new SGD(params, o.lr, 0.9, { weightDecay: o.weightDecay ?? 0, nesterov: true })
      : new Adam(params, o.lr, 0.9, 0.999, 1e-8, { weightDecay: o.weightDecay ?? 0, decoupled: true });
  const n = Math.min(data.count, o.limit ?? data.count);
  const stepsPerEpoch = Math.ceil(n / o.batchSize);
  const total = Math.min(o.maxSteps ?? Infinity, stepsPerEpoch * o.epochs);
  const losses: number[] = [];
  const order = Array.from({ length: n }, (_, i) => i);
  let step = 0;
  // Weight averaging state (float64 sums for SWA, float32 shadow for EMA).
  const avgSum = o.average === 'swa' ? params.map((p) => new Float64Array(p.size)) : null;
  let avgCount = 0;
  const firstAveraged = o.epochs - Math.max(1, o.averageLast ?? 1);
  const ema = o.average === 'ema' ? params.map((p) => Float32Array.from(p.data)) : null;
  const emaDecay = o.emaDecay ?? 0.999;
  model.train(true);
  for (let e = 0; e < o.epochs && step < total; e++) {
    rng.shuffle(order);
    let sum = 0, cnt = 0;
    const t0 = Date.now();
    for (let b = 0; b < n && step < total; b += o.batchSize) {
      const bs = Math.min(o.batchSize, n - b);
      const x = new Float32Array(bs * S);
      const y = new Uint8Array(bs);
      for (let k = 0; k < bs; k++) {
        const i = order[b + k];
        const src = data.images.subarray(i * S, (i + 1) * S);
        if (o.affine) {
          const a = o.affine;
          const th = ((rng.next() * 2 - 1) * a.degrees * Math.PI) / 180;
          const sc = 1 + (rng.next() * 2 - 1) * a.scale;
          const tx = (rng.next() * 2 - 1) * a.shift, ty = (rng.next() * 2 - 1) * a.shift;
          for (let c = 0; c < C; c++) affineInto(x.subarray(k * S + c * H * W), src.subarray(c * H * W), H, W, th, sc, tx, ty);
        } else if (o.shift) {
          const dy = rng.int(2 * o.shift + 1) - o.shift, dx = rng.int(2 * o.shift + 1) - o.shift;
          for (let c = 0; c < C; c++) shiftInto(x.subarray(k * S + c * H * W), src.subarray(c * H * W), H, W, dy, dx);
        } else x.set(src, k * S);
        y[k] = data.labels[i];
      }
      opt.lr = o.schedule === 'onecycle' ? oneCycleSchedule(o.lr, step, total) : cosineSchedule(o.lr, step, total, o.warmupSteps ?? 0, 0.01);
      const logits = model.forward(new Tensor(x, [bs, C, H, W]));
      const loss = softmaxCrossEntropy(logits, y, o.labelSmoothing ?? 0);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      losses.push(loss.data[0]);
      sum += loss.data[0];
      cnt++;
      o.onStep?.(step, loss.data[0], opt);
      if (ema) emaUpdate(ema, params, step, emaDecay);
      step++;
    }
    if (avgSum && e >= firstAveraged) {
      params.forEach((p, j) => {
        const a = avgSum[j], w = p.data;
        for (let i = 0; i < a.length; i++) a[i] += w[i];
      });
      avgCount++;
    }
    o.log?.(`epoch ${e + 1}/${o.epochs}: loss ${(sum / cnt).toFixed(4)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  if (avgSum && avgCount > 0) params.forEach((p, j) => p.data.set(Float32Array.from(avgSum[j], (v) => v / avgCount)));
  if (ema) params.forEach((p, j) => p.data.set(ema[j]));
  model.train(false);
  return losses;
}

/** Logits of the whole set in eval mode, in batches. */
export function predict(model: Trainable, data: ImageSet, batchSize = 250, sampleShape: [number, number, number] = [1, 28, 28]): Float32Array {
  const [C, H, W] = sampleShape;
  const S = C * H * W;
  const was = model.training;
  model.eval();
  let out: Float32Array | null = null;
  let K = 0;
  noGrad(() => {
    for (let b = 0; b < data.count; b += batchSize) {
      const bs = Math.min(batchSize, data.count - b);
      const x = new Tensor(data.images.slice(b * S, (b + bs) * S), [bs, C, H, W]);
      const y = model.forward(x);
      if (!out) {
        K = y.shape[1];
        out = new Float32Array(data.count * K);
      }
      out.set(y.data, b * K);
    }
  });
  model.train(was);
  return out!;
}

/**
 * Recomputes every BatchNorm's running statistics as the plain average over `samples` clean (un-augmented)
 * training images, batch by batch in training mode, without touching the weights. Augmented batches shift the
 * statistics away from what evaluation sees; this puts them back (cheap: one forward pass over the samples).
 */
export function recalibrateBatchNorm(model: Trainable & { modules(): unknown[] }, data: ImageSet, samples = 4000, batchSize = 250): void {
  const bns = model.modules().filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
  const saved = bns.map((b) => b.momentum);
  for (const b of bns) {
    b.runningMean.fill(0);
    b.runningVar.fill(0);
  }
  const n = Math.min(samples, data.count);
  const S = data.images.length / data.count;
  model.train(true);
  noGrad(() => {
    for (let i = 0, k = 0; i < n; i += batchSize, k++) {
      const bs = Math.min(batchSize, n - i);
      for (const b of bns) b.momentum = 1 / (k + 1); // cumulative average of the batch statistics
      model.forward(new Tensor(data.images.slice(i * S, (i + bs) * S), [bs, 1, 28, 28]));
    }
  });
  bns.forEach((b, i) => (b.momentum = saved[i]));
  model.train(false);
}

export function accuracyOf(logits: Float32Array, labels: Uint8Array): number {
  const n = labels.length;
  const K = logits.length / n;
  let ok = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits[i * K + k] > logits[i * K + best]) best = k;
    if (best === labels[i]) ok++;
  }
  return ok / n;
}

export function evaluate(model: Trainable, data: ImageSet): number {
  return accuracyOf(predict(model, data), data.labels);
}
