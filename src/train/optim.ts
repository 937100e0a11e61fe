// Optimizers (SGD with momentum, Adam/AdamW) and learning-rate schedules. Deterministic: plain float32/64
// arithmetic in a fixed order. Parameters whose gradient is null this step are skipped.
import type { Tensor } from './tensor.js';

export interface ParamGroupOptions {
  /** L2 weight decay; applied to tensors of rank >= 2 only unless decayAll (biases and BN affine are usually left out). */
  weightDecay?: number;
  decayAll?: boolean;
}

export abstract class Optimizer {
  lr: number;
  constructor(readonly params: Tensor[], lr: number, readonly opts: ParamGroupOptions = {}) {
    this.lr = lr;
  }
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }
  protected decayOf(p: Tensor): number {
    const wd = this.opts.weightDecay ?? 0;
    return wd && (this.opts.decayAll || p.shape.length >= 2) ? wd : 0;
  }
  abstract step(): void;
  /** Forgets per-parameter state (e.g. after folding BatchNorm into a weight). */
  abstract resetState(p: Tensor): void;
}

export class SGD extends Optimizer {
  private velocity = new Map<Tensor, Float32Array>();
  constructor(params: Tensor[], lr: number, readonly momentum = 0.9, opts: ParamGroupOptions & { nesterov?: boolean } = {}) {
    super(params, lr, opts);
  }
  step(): void {
    const nesterov = (this.opts as { nesterov?: boolean }).nesterov ?? false;
    for (const p of this.params) {
      const g = p.grad;
      if (!g) continue;
      const wd = this.decayOf(p);
      let v = this.velocity.get(p);
      if (!v) this.velocity.set(p, (v = new Float32Array(p.size)));
      const d = p.data;
      for (let i = 0; i < d.length; i++) {
        const gi = g[i] + wd * d[i];
        v[i] = this.momentum * v[i] + gi;
        d[i] -= this.lr * (nesterov ? gi + this.momentum * v[i] : v[i]);
      }
    }
  }
  resetState(p: Tensor): void {
    this.velocity.delete(p);
  }
}

export class Adam extends Optimizer {
  private m = new Map<Tensor, Float32Array>();
  private v = new Map<Tensor, Float32Array>();
  private t = new Map<Tensor, number>();
  constructor(
    params: Tensor[],
    lr: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly eps = 1e-8,
    /** decoupled: AdamW (decay applied to the weights directly) instead of L2 added to the gradient. */
    opts: ParamGroupOptions & { decoupled?: boolean } = {},
  ) {
    super(params, lr, opts);
  }
  step(): void {
    const decoupled = (this.opts as { decoupled?: boolean }).decoupled ?? false;
    for (const p of this.params) {
      const g = p.grad;
      if (!g) continue;
      let m = this.m.get(p), v = this.v.get(p);
      if (!m || !v) {
        this.m.set(p, (m = new Float32Array(p.size)));
        this.v.set(p, (v = new Float32Array(p.size)));
      }
      const t = (this.t.get(p) ?? 0) + 1;
      this.t.set(p, t);
      const wd = this.decayOf(p);
      const c1 = 1 - Math.pow(this.beta1, t), c2 = 1 - Math.pow(this.beta2, t);
      const d = p.data;
      for (let i = 0; i < d.length; i++) {
        const gi = decoupled ? g[i] : g[i] + wd * d[i];
        m[i] = this.beta1 * m[i] + (1 - this.beta1) * gi;
        v[i] = this.beta2 * v[i] + (1 - this.beta2) * gi * gi;
        const upd = m[i] / c1 / (Math.sqrt(v[i] / c2) + this.eps);
        d[i] -= this.lr * (upd + (decoupled ? wd * d[i] : 0));
      }
    }
  }
  resetState(p: Tensor): void {
    this.m.delete(p);
    this.v.delete(p);
    this.t.delete(p);
  }
}

/** Learning rate at `step` of `total`: linear warm-up then cosine decay to `final` x base. */
export function cosineSchedule(base: number, step: number, total: number, warmup = 0, final = 0): number {
  if (step < warmup) return (base * (step + 1)) / warmup;
  const t = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return base * (final + (1 - final) * 0.5 * (1 + Math.cos(Math.PI * t)));
}

/**
 * One-cycle schedule (Smith & Topin): cosine rise from base / 25 to base over the first `pct` of the steps, then
 * cosine decay to base / 25 / 1e3 (no separate warm-up).
 */
export function oneCycleSchedule(base: number, step: number, total: number, pct = 0.25): number {
  const up = Math.max(1, Math.round(total * pct));
  const lo = base / 25, end = lo / 1e3;
  const cos = (a: number, b: number, t: number) => b + ((a - b) * (1 + Math.cos(Math.PI * Math.min(1, t)))) / 2;
  return step < up ? cos(lo, base, step / up) : cos(base, end, (step - up) / Math.max(1, total - up));
}

/** Step decay: base x gamma^(floor(step / every)). */
export function stepSchedule(base: number, step: number, every: number, gamma = 0.1): number {
  return base * Math.pow(gamma, Math.floor(step / every));
}
