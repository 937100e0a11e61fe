// Differentiable operations (NCHW float32). Each returns a new Tensor whose backward closure computes the
// parents' gradients; the O(MACs) parts call the kernels of src/train/kernels.ts (wasm when available).
import { Tensor, result, pass, needs, numel } from './tensor.js';
import { kernels, type ConvGeom } from './kernels.js';
import type { Rng } from './rng.js';

export interface Conv2dOptions {
  stride?: [number, number];
  padding?: [number, number];
  dilation?: [number, number];
  groups?: number;
  /** Use the direct depthwise kernel when groups == C == OC (default true); false forces im2col + GEMM. */
  directDepthwise?: boolean;
}

export function convGeom(xShape: number[], wShape: number[], o: Conv2dOptions): ConvGeom {
  const [N, C, H, W] = xShape;
  const [, , kh, kw] = wShape;
  const [sh, sw] = o.stride ?? [1, 1];
  const [ph, pw] = o.padding ?? [0, 0];
  const [dh, dw] = o.dilation ?? [1, 1];
  const OH = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  if (OH <= 0 || OW <= 0) throw new Error(`octet train: conv output would be empty for input [${xShape}] and kernel [${wShape}]`);
  return { N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW };
}

/** 2-D convolution. x: [N, C, H, W], w: [OC, C/groups, kh, kw], b: [OC] or null. */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, o: Conv2dOptions = {}): Tensor {
  const groups = o.groups ?? 1;
  if (x.shape.length !== 4) throw new Error(`octet train: conv2d expects a 4-D input, got [${x.shape}]`);
  const [OC, Cg] = w.shape;
  const g = convGeom(x.shape, w.shape, o);
  const { N, C, kh, kw, OH, OW } = g;
  if (C !== Cg * groups || OC % groups !== 0) {
    throw new Error(`octet train: conv2d input has ${C} channels, weight [${w.shape}] with groups=${groups} expects ${Cg * groups}`);
  }
  const K = kernels();
  const P = OH * OW;
  const y = new Float32Array(N * OC * P);
  const depthwise = groups === C && OC === C && Cg === 1 && (o.directDepthwise ?? true);
  if (depthwise) {
    K.dwconvForward(x.data, w.data, g, y);
    addBias(y, b, N, OC, P);
    return result(y, [N, OC, OH, OW], b ? [x, w, b] : [x, w], (dy) => {
      if (needs(x)) {
        const dx = new Float32Array(x.size);
        K.dwconvBackwardData(dy, w.data, g, dx);
        pass(x, dx);
      }
      if (needs(w)) {
        const dwt = new Float32Array(w.size);
        K.dwconvBackwardFilter(x.data, dy, g, dwt);
        pass(w, dwt);
      }
      if (b && needs(b)) pass(b, biasGrad(dy, N, OC, P));
    });
  }
  const OCg = OC / groups;
  const CKK = Cg * kh * kw;
  const NP = N * P;
  const cols: Float32Array[] = [];
  const yg = new Float32Array(OCg * NP);
  for (let gi = 0; gi < groups; gi++) {
    const col = new Float32Array(CKK * NP);
    K.im2col(x.data, g, gi * Cg, Cg, col);
    cols.push(col);
    K.sgemm(false, false, OCg, NP, CKK, w.data.subarray(gi * OCg * CKK, (gi + 1) * OCg * CKK), col, yg, 0);
    // yg is [OCg, N*P]; scatter into y [N, OC, P].
    for (let oc = 0; oc < OCg; oc++) {
      for (let n = 0; n < N; n++) {
        y.set(yg.subarray(oc * NP + n * P, oc * NP + (n + 1) * P), (n * OC + gi * OCg + oc) * P);
      }
    }
  }
  addBias(y, b, N, OC, P);
  return result(y, [N, OC, OH, OW], b ? [x, w, b] : [x, w], (dy) => {
    const dx = needs(x) ? new Float32Array(x.size) : null;
    const dwt = needs(w) ? new Float32Array(w.size) : null;
    const dyg = new Float32Array(OCg * NP);
    const dcol = dx ? new Float32Array(CKK * NP) : null;
    for (let gi = 0; gi < groups; gi++) {
      for (let oc = 0; oc < OCg; oc++) {
        for (let n = 0; n < N; n++) {
          dyg.set(dy.subarray((n * OC + gi * OCg + oc) * P, (n * OC + gi * OCg + oc + 1) * P), oc * NP + n * P);
        }
      }
      if (dwt) K.sgemm(false, true, OCg, CKK, NP, dyg, cols[gi], dwt.subarray(gi * OCg * CKK, (gi + 1) * OCg * CKK), 0);
      if (dx && dcol) {
        K.sgemm(true, false, CKK, NP, OCg, w.data.subarray(gi * OCg * CKK, (gi + 1) * OCg * CKK), dyg, dcol, 0);
        K.col2im(dcol, g, gi * Cg, Cg, dx);
      }
    }
    if (dx) pass(x, dx);
    if (dwt) pass(w, dwt);
    if (b && needs(b)) pass(b, biasGrad(dy, N, OC, P));
  });
}

function addBias(y: Float32Array, b: Tensor | null, N: number, C: number, P: number): void {
  if (!b) return;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const v = b.data[c];
      const o = (n * C + c) * P;
      for (let p = 0; p < P; p++) y[o + p] += v;
    }
  }
}

function biasGrad(dy: Float32Array, N: number, C: number, P: number): Float32Array {
  const db = new Float32Array(C);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const o = (n * C + c) * P;
      let s = 0;
      for (let p = 0; p < P; p++) s += dy[o + p];
      db[c] += s;
    }
  }
  return db;
}

/** y = x W^T + b. x: [N, in], w: [out, in], b: [out] or null. */
export function linear(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  const [N, I] = x.shape;
  const [O, I2] = w.shape;
  if (x.shape.length !== 2 || I !== I2) throw new Error(`octet train: linear input [${x.shape}] does not match weight [${w.shape}]`);
  const K = kernels();
  const y = new Float32Array(N * O);
  K.sgemm(false, true, N, O, I, x.data, w.data, y, 0);
  if (b) for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) y[n * O + o] += b.data[o];
  return result(y, [N, O], b ? [x, w, b] : [x, w], (dy) => {
    if (needs(x)) {
      const dx = new Float32Array(N * I);
      K.sgemm(false, false, N, I, O, dy, w.data, dx, 0);
      pass(x, dx);
    }
    if (needs(w)) {
      const dw = new Float32Array(O * I);
      K.sgemm(true, false, O, I, N, dy, x.data, dw, 0);
      pass(w, dw);
    }
    if (b && needs(b)) {
      const db = new Float32Array(O);
      for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) db[o] += dy[n * O + o];
      pass(b, db);
    }
  });
}

/** Batch statistics per channel over N, H, W (two-pass, float64 sums). */
function channelStats(x: Float32Array, N: number, C: number, P: number): { mean: Float64Array; varb: Float64Array } {
  const mean = new Float64Array(C);
  const varb = new Float64Array(C);
  const cnt = N * P;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) {
      const o = (n * C + c) * P;
      for (let p = 0; p < P; p++) s += x[o + p];
    }
    const m = s / cnt;
    let v = 0;
    for (let n = 0; n < N; n++) {
      const o = (n * C + c) * P;
      for (let p = 0; p < P; p++) {
        const d = x[o + p] - m;
        v += d * d;
      }
    }
    mean[c] = m;
    varb[c] = v / cnt;
  }
  return { mean, varb };
}

export interface BatchNormState {
  gamma: Tensor;
  beta: Tensor;
  runningMean: Float32Array;
  runningVar: Float32Array;
  momentum: number;
  eps: number;
}

/**
 * Batch normalization over dim 1 of [N, C, ...]. Training mode normalizes with the batch statistics and
 * updates the running ones (PyTorch convention: running = (1 - momentum) running + momentum batch, unbiased
 * variance); eval mode uses the running statistics.
 */
export function batchNorm(x: Tensor, s: BatchNormState, training: boolean): Tensor {
  const N = x.shape[0];
  const C = x.shape[1];
  const P = x.size / (N * C);
  const K = kernels();
  if (training && K.bnForward && K.bnBackward) {
    // Wasm path: statistics, normalization and the backward pass in the kernels.
    const y = new Float32Array(x.size);
    const mean = new Float32Array(C), invstd = new Float32Array(C), varU = new Float32Array(C);
    K.bnForward(x.data, N, C, P, s.gamma.data, s.beta.data, s.eps, y, mean, invstd, varU);
    const cnt = N * P;
    for (let c = 0; c < C; c++) {
      s.runningMean[c] = (1 - s.momentum) * s.runningMean[c] + s.momentum * mean[c];
      s.runningVar[c] = (1 - s.momentum) * s.runningVar[c] + s.momentum * (cnt > 1 ? varU[c] : 1 / (invstd[c] * invstd[c]) - s.eps);
    }
    const gamma = s.gamma.data.slice();
    return result(y, x.shape.slice(), [x, s.gamma, s.beta], (dy) => {
      const dx = new Float32Array(x.size), dgamma = new Float32Array(C), dbeta = new Float32Array(C);
      K.bnBackward!(x.data, dy, N, C, P, gamma, mean, invstd, dx, dgamma, dbeta);
      if (needs(x)) pass(x, dx);
      if (needs(s.gamma)) pass(s.gamma, dgamma);
      if (needs(s.beta)) pass(s.beta, dbeta);
    });
  }
  const y = new Float32Array(x.size);
  let mean: Float64Array, invStd: Float64Array;
  if (training) {
    const st = channelStats(x.data, N, C, P);
    mean = st.mean;
    invStd = new Float64Array(C);
    const cnt = N * P;
    for (let c = 0; c < C; c++) {
      invStd[c] = 1 / Math.sqrt(st.varb[c] + s.eps);
      s.runningMean[c] = (1 - s.momentum) * s.runningMean[c] + s.momentum * st.mean[c];
      const unbiased = cnt > 1 ? (st.varb[c] * cnt) / (cnt - 1) : st.varb[c];
      s.runningVar[c] = (1 - s.momentum) * s.runningVar[c] + s.momentum * unbiased;
    }
  } else {
    mean = Float64Array.from(s.runningMean);
    invStd = new Float64Array(C);
    for (let c = 0; c < C; c++) invStd[c] = 1 / Math.sqrt(s.runningVar[c] + s.eps);
  }
  const xhat = new Float32Array(x.size);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const o = (n * C + c) * P;
      const m = mean[c], is = invStd[c], ga = s.gamma.data[c], be = s.beta.data[c];
      for (let p = 0; p < P; p++) {
        const h = (x.data[o + p] - m) * is;
        xhat[o + p] = h;
        y[o + p] = h * ga + be;
      }
    }
  }
  return result(y, x.shape.slice(), [x, s.gamma, s.beta], (dy) => {
    const dgamma = new Float32Array(C);
    const dbeta = new Float32Array(C);
    const sumDy = new Float64Array(C);
    const sumDyXh = new Float64Array(C);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const o = (n * C + c) * P;
        let a = 0, b2 = 0;
        for (let p = 0; p < P; p++) {
          a += dy[o + p];
          b2 += dy[o + p] * xhat[o + p];
        }
        sumDy[c] += a;
        sumDyXh[c] += b2;
      }
    }
    for (let c = 0; c < C; c++) {
      dgamma[c] = sumDyXh[c];
      dbeta[c] = sumDy[c];
    }
    if (needs(x)) {
      const dx = new Float32Array(x.size);
      const cnt = N * P;
      for (let n = 0; n < N; n++) {
        for (let c = 0; c < C; c++) {
          const o = (n * C + c) * P;
          const k = s.gamma.data[c] * invStd[c];
          if (training) {
            const mdy = sumDy[c] / cnt, mdyx = sumDyXh[c] / cnt;
            for (let p = 0; p < P; p++) dx[o + p] = k * (dy[o + p] - mdy - xhat[o + p] * mdyx);
          } else {
            for (let p = 0; p < P; p++) dx[o + p] = k * dy[o + p];
          }
        }
      }
      pass(x, dx);
    }
    if (needs(s.gamma)) pass(s.gamma, dgamma);
    if (needs(s.beta)) pass(s.beta, dbeta);
  });
}

/** Element-wise clamp to [lo, hi] (ReLU: [0, inf), ReLU6: [0, 6]); gradient passes strictly inside. */
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  const y = new Float32Array(x.size);
  const xd = x.data;
  for (let i = 0; i < y.length; i++) {
    const v = xd[i];
    y[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return result(y, x.shape.slice(), [x], (dy) => {
    const dx = new Float32Array(x.size);
    const K = kernels();
    if (lo === 0 && K.reluBackward) K.reluBackward(xd, dy, dx, hi);
    else {
      for (let i = 0; i < dx.length; i++) {
        const v = xd[i];
        dx[i] = v > lo && v < hi ? dy[i] : 0;
      }
    }
    pass(x, dx);
  });
}

export const relu = (x: Tensor) => clamp(x, 0, Infinity);
export const relu6 = (x: Tensor) => clamp(x, 0, 6);

export interface PoolOptions {
  kernel: [number, number];
  stride?: [number, number];
  padding?: [number, number];
}

function poolGeom(x: Tensor, o: PoolOptions): ConvGeom {
  const st = o.stride ?? o.kernel;
  return convGeom(x.shape, [1, 1, o.kernel[0], o.kernel[1]], { stride: st, padding: o.padding });
}

export function maxPool2d(x: Tensor, o: PoolOptions): Tensor {
  const g = poolGeom(x, o);
  const planes = g.N * g.C;
  const y = new Float32Array(planes * g.OH * g.OW);
  const idx = new Int32Array(y.length);
  const K = kernels();
  K.maxpoolForward(x.data, planes, g, y, idx);
  return result(y, [g.N, g.C, g.OH, g.OW], [x], (dy) => {
    const dx = new Float32Array(x.size);
    K.maxpoolBackward(dy, idx, y.length, dx);
    pass(x, dx);
  });
}

export function avgPool2d(x: Tensor, o: PoolOptions): Tensor {
  const g = poolGeom(x, o);
  const planes = g.N * g.C;
  const y = new Float32Array(planes * g.OH * g.OW);
  const K = kernels();
  K.avgpoolForward(x.data, planes, g, y);
  return result(y, [g.N, g.C, g.OH, g.OW], [x], (dy) => {
    const dx = new Float32Array(x.size);
    K.avgpoolBackward(dy, planes, g, dx);
    pass(x, dx);
  });
}

/** Mean over H, W: [N, C, H, W] -> [N, C, 1, 1]. */
export function globalAvgPool(x: Tensor): Tensor {
  const [N, C] = x.shape;
  const P = x.size / (N * C);
  const y = new Float32Array(N * C);
  for (let i = 0; i < N * C; i++) {
    let s = 0;
    for (let p = 0; p < P; p++) s += x.data[i * P + p];
    y[i] = s / P;
  }
  return result(y, [N, C, 1, 1], [x], (dy) => {
    const dx = new Float32Array(x.size);
    for (let i = 0; i < N * C; i++) {
      const v = dy[i] / P;
      for (let p = 0; p < P; p++) dx[i * P + p] = v;
    }
    pass(x, dx);
  });
}

export function add(a: Tensor, b: Tensor): Tensor {
  if (a.size !== b.size) throw new Error(`octet train: add of shapes [${a.shape}] and [${b.shape}]`);
  const y = new Float32Array(a.size);
  for (let i = 0; i < y.length; i++) y[i] = a.data[i] + b.data[i];
  return result(y, a.shape.slice(), [a, b], (dy) => {
    if (needs(a)) pass(a, dy.slice());
    if (needs(b)) pass(b, dy.slice());
  });
}

/** [N, ...] -> [N, prod(...)]. */
export function flatten(x: Tensor): Tensor {
  const N = x.shape[0];
  return result(x.data, [N, x.size / N], [x], (dy) => pass(x, dy.slice()));
}

/** Inverted dropout: zeroes with probability p and scales the rest by 1/(1-p); identity when not training. */
export function dropout(x: Tensor, p: number, training: boolean, rng: Rng): Tensor {
  if (!training || p === 0) return x;
  const mask = new Float32Array(x.size);
  const k = 1 / (1 - p);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < p ? 0 : k;
  const y = new Float32Array(x.size);
  for (let i = 0; i < y.length; i++) y[i] = x.data[i] * mask[i];
  return result(y, x.shape.slice(), [x], (dy) => {
    const dx = new Float32Array(x.size);
    for (let i = 0; i < dx.length; i++) dx[i] = dy[i] * mask[i];
    pass(x, dx);
  });
}

/** Multiplies slices along `axis` by per-slice constants (no gradient to the constants). */
export function scaleAxis(x: Tensor, s: ArrayLike<number>, axis: number): Tensor {
  const outer = numel(x.shape.slice(0, axis));
  const C = x.shape[axis];
  const inner = numel(x.shape.slice(axis + 1));
  const y = new Float32Array(x.size);
  for (let o = 0; o < outer; o++)
    for (let c = 0; c < C; c++) {
      const k = s[c];
      const base = (o * C + c) * inner;
      for (let i = 0; i < inner; i++) y[base + i] = x.data[base + i] * k;
    }
  return result(y, x.shape.slice(), [x], (dy) => {
    const dx = new Float32Array(x.size);
    for (let o = 0; o < outer; o++)
      for (let c = 0; c < C; c++) {
        const k = s[c];
        const base = (o * C + c) * inner;
        for (let i = 0; i < inner; i++) dx[base + i] = dy[base + i] * k;
      }
    pass(x, dx);
  });
}

/** Mean softmax cross-entropy over the batch. logits: [N, K]; labels: class indices. */
export function softmaxCrossEntropy(logits: Tensor, labels: ArrayLike<number>, labelSmoothing = 0): Tensor {
  const [N, Kc] = logits.shape;
  if (!(labelSmoothing >= 0 && labelSmoothing < 1)) throw new Error(`octet train: label smoothing ${labelSmoothing} is not in [0, 1)`);
  // Target distribution: (1 - eps) on the label plus eps / K on every class (Szegedy et al. 2016).
  const eps = labelSmoothing, off = eps / Kc;
  const prob = new Float32Array(N * Kc);
  let loss = 0;
  for (let n = 0; n < N; n++) {
    let m = -Infinity;
    for (let k = 0; k < Kc; k++) m = Math.max(m, logits.data[n * Kc + k]);
    let s = 0;
    for (let k = 0; k < Kc; k++) s += Math.exp(logits.data[n * Kc + k] - m);
    const lse = m + Math.log(s);
    let mean = 0;
    for (let k = 0; k < Kc; k++) {
      prob[n * Kc + k] = Math.exp(logits.data[n * Kc + k] - lse);
      mean += logits.data[n * Kc + k];
    }
    const lab = labels[n];
    if (!(lab >= 0 && lab < Kc)) throw new Error(`octet train: label ${lab} out of range [0, ${Kc})`);
    loss += (1 - eps) * (lse - logits.data[n * Kc + lab]) + (eps > 0 ? eps * (lse - mean / Kc) : 0);
  }
  return result(new Float32Array([loss / N]), [1], [logits], (dy) => {
    const g = dy[0] / N;
    const dx = new Float32Array(N * Kc);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < Kc; k++) dx[n * Kc + k] = (prob[n * Kc + k] - off) * g;
      dx[n * Kc + labels[n]] -= (1 - eps) * g;
    }
    pass(logits, dx);
  });
}
