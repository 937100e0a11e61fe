// Finite-difference gradient checking for the training engine's tests.
import { Tensor } from '../../src/train/tensor.js';
import { Rng } from '../../src/train/rng.js';

export function randn(shape: number[], rng: Rng, scale = 1, requiresGrad = true): Tensor {
  const t = Tensor.zeros(shape, requiresGrad);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.normal() * scale;
  return t;
}

/**
 * Compares the analytic gradients of L = sum(f() * r) (r fixed random weights) with central differences
 * (computed in float64 from float32 forwards) for up to `samples` entries of each input. Returns the worst
 * relative error max|a - n| / max(1, max|n|) per input.
 */
export function gradCheck(f: () => Tensor, inputs: Tensor[], opts: { eps?: number; samples?: number; seed?: number } = {}): number[] {
  const eps = opts.eps ?? 1e-2;
  const rng = new Rng(opts.seed ?? 7);
  const y0 = f();
  const r = new Float32Array(y0.size);
  for (let i = 0; i < r.length; i++) r[i] = rng.normal();
  const loss = (): number => {
    const y = f();
    let s = 0;
    for (let i = 0; i < y.size; i++) s += y.data[i] * r[i];
    return s;
  };
  for (const t of inputs) t.grad = null;
  f().backward(r);
  const worst: number[] = [];
  for (const t of inputs) {
    const g = t.grad ?? new Float32Array(t.size);
    const n = Math.min(t.size, opts.samples ?? 24);
    const idx = Array.from({ length: t.size }, (_, i) => i);
    rng.shuffle(idx);
    let maxErr = 0, maxMag = 0;
    for (let k = 0; k < n; k++) {
      const i = idx[k];
      const old = t.data[i];
      t.data[i] = old + eps;
      const lp = loss();
      t.data[i] = old - eps;
      const lm = loss();
      t.data[i] = old;
      const num = (lp - lm) / (2 * eps);
      maxErr = Math.max(maxErr, Math.abs(num - g[i]));
      maxMag = Math.max(maxMag, Math.abs(num));
    }
    worst.push(maxErr / Math.max(1, maxMag));
  }
  return worst;
}
