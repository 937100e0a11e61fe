// Fake quantization for QAT: y = (clamp(round(x / s) + z, qmin, qmax) - z) * s in the forward pass, computed in
// float32 exactly as ONNX QuantizeLinear then DequantizeLinear do (x / s rounded to float32, round half to even,
// saturate, then (q - z) * s in float32), so an exported QDQ model reproduces it. Backward: the clipped
// straight-through estimator (gradient passes where round(x / s) + z lies in [qmin, qmax], zero elsewhere) and,
// for a learnable scale (LSQ, Esser et al. 2020), ds = sum g * ((q - z) - x / s) inside, (qmin - z) or (qmax - z)
// where clamped, times the gradient scale 1 / sqrt(elements per scale * qmax).
import { Tensor, result, pass, needs, numel } from './tensor.js';
import { kernels } from './kernels.js';

const f32 = Math.fround;

/** Round half to even (ONNX QuantizeLinear rounding). */
export function rint(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface QRange {
  qmin: number;
  qmax: number;
}

/** Integer range for a bit width: signed symmetric (weights, restricted: [-(2^(b-1) - 1), 2^(b-1) - 1]) or unsigned [0, 2^b - 1]. */
export function qrange(bits: number, signed: boolean): QRange {
  if (!(bits >= 2 && bits <= 8 && Number.isInteger(bits))) throw new Error(`octet train: bit width ${bits} is not an integer in [2, 8]`);
  return signed ? { qmin: -((1 << (bits - 1)) - 1), qmax: (1 << (bits - 1)) - 1 } : { qmin: 0, qmax: (1 << bits) - 1 };
}

/** Quantizes one value (ONNX QuantizeLinear semantics, float32 division). */
export function quantizeValue(x: number, s: number, z: number, r: QRange): number {
  const q = rint(f32(x / s)) + z;
  return q < r.qmin ? r.qmin : q > r.qmax ? r.qmax : q;
}

/**
 * Fake-quantizes x with per-tensor (scale.length == 1) or per-channel (along `axis`) parameters.
 * lsqScale, when given, is the learnable scale tensor (same length as scale) and receives gradients.
 */
export function fakeQuantize(x: Tensor, scale: Float32Array, zeroPoint: Int32Array, r: QRange, axis = 1, lsqScale: Tensor | null = null): Tensor {
  const perChannel = scale.length > 1;
  const C = perChannel ? x.shape[axis] : 1;
  if (perChannel && C !== scale.length) throw new Error(`octet train: ${scale.length} scales for ${C} channels on axis ${axis}`);
  const outer = perChannel ? numel(x.shape.slice(0, axis)) : 1;
  const inner = perChannel ? numel(x.shape.slice(axis + 1)) : x.size;
  const y = new Float32Array(x.size);
  const code = new Int8Array(x.size); // 0 inside, -1 clamped low, +1 clamped high
  const xd = x.data;
  const K = kernels();
  if (!lsqScale && K.fakeQuantForward) {
    // Wasm path (no learnable scale): the kernel writes y and the pass mask; the STE only needs the mask.
    const mask = new Uint8Array(x.size);
    K.fakeQuantForward(xd, y, mask, C, inner, scale, Float32Array.from(zeroPoint), r.qmin, r.qmax);
    return result(y, x.shape.slice(), [x], (dy) => {
      const dx = new Float32Array(x.size);
      for (let i = 0; i < dx.length; i++) dx[i] = mask[i] ? dy[i] : 0;
      pass(x, dx);
    });
  }
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < C; c++) {
      const s = scale[c], z = zeroPoint[c];
      const base = (o * C + c) * inner;
      for (let i = 0; i < inner; i++) {
        let q = rint(f32(xd[base + i] / s)) + z;
        let k = 0;
        if (q < r.qmin) (q = r.qmin), (k = -1);
        else if (q > r.qmax) (q = r.qmax), (k = 1);
        code[base + i] = k;
        y[base + i] = f32((q - z) * s);
      }
    }
  }
  const parents = lsqScale ? [x, lsqScale] : [x];
  return result(y, x.shape.slice(), parents, (dy) => {
    if (needs(x)) {
      const dx = new Float32Array(x.size);
      for (let i = 0; i < dx.length; i++) dx[i] = code[i] === 0 ? dy[i] : 0;
      pass(x, dx);
    }
    if (lsqScale && needs(lsqScale)) {
      const ds = new Float32Array(C);
      const gscale = 1 / Math.sqrt(outer * inner * r.qmax);
      for (let o = 0; o < outer; o++) {
        for (let c = 0; c < C; c++) {
          const s = scale[c], z = zeroPoint[c];
          const base = (o * C + c) * inner;
          let acc = 0;
          for (let i = 0; i < inner; i++) {
            const k = code[base + i];
            const d = k === 0 ? (y[base + i] / s) - xd[base + i] / s : k < 0 ? r.qmin - z : r.qmax - z;
            acc += dy[base + i] * d;
          }
          ds[c] += acc * gscale;
        }
      }
      pass(lsqScale, ds);
    }
  });
}

/** Asymmetric per-tensor parameters for [lo, hi] (the range is widened to contain 0 so real 0 is exact). */
export function asymmetricParams(lo: number, hi: number, r: QRange): { scale: number; zeroPoint: number } {
  lo = Math.min(lo, 0);
  hi = Math.max(hi, 0);
  let scale = f32((hi - lo) / (r.qmax - r.qmin));
  if (!(scale > 0) || !Number.isFinite(scale)) scale = 1; // an all-zero tensor: any positive scale is exact
  const zp = Math.min(r.qmax, Math.max(r.qmin, rint(r.qmin - lo / scale)));
  return { scale, zeroPoint: zp };
}

/** Symmetric scale for max |x| = amax over a signed restricted range. */
export function symmetricScale(amax: number, r: QRange): number {
  const s = f32(amax / r.qmax);
  return s > 0 && Number.isFinite(s) ? s : f32(1e-8);
}

export type ObserverKind = 'minmax' | 'moving-average';

export interface FakeQuantConfig {
  bits: number;
  /** 'weight': per-channel symmetric from the current weights; 'activation': per-tensor asymmetric from an observer. */
  role: 'weight' | 'activation';
  /** Activation observer: running min/max ('minmax') or exponential moving average with `averaging`. */
  observer?: ObserverKind;
  averaging?: number;
  /** Learnable scale (LSQ); initialised from the observer at the first enable. */
  lsq?: boolean;
  /** Channel axis for per-channel weights (0 for Conv and Gemm with transB). */
  axis?: number;
}

/** A fake-quantizer with its observer state. */
export class FakeQuant {
  readonly range: QRange;
  observerEnabled = true;
  fakeQuantEnabled = true;
  lo = Infinity;
  hi = -Infinity;
  /** Current quantization parameters (activation: one value; weight: per output channel). */
  scale = new Float32Array(1);
  zeroPoint = new Int32Array(1);
  lsqScale: Tensor | null = null;
  private seen = false;

  constructor(readonly cfg: FakeQuantConfig) {
    this.range = qrange(cfg.bits, cfg.role === 'weight');
  }

  get bits(): number {
    return this.cfg.bits;
  }

  /** Observes x (when enabled) and returns the fake-quantized tensor (or x when fake quantization is off). */
  forward(x: Tensor): Tensor {
    if (this.cfg.role === 'weight') return this.forwardWeight(x);
    if (this.observerEnabled && !this.lsqScale) this.observe(x.data);
    if (!this.fakeQuantEnabled) return x;
    if (!this.seen && !this.lsqScale) throw new Error('octet train: activation fake-quantizer used before it observed any data');
    this.syncLsq();
    return fakeQuantize(x, this.scale, this.zeroPoint, this.range, 1, this.lsqScale);
  }

  private forwardWeight(w: Tensor): Tensor {
    const axis = this.cfg.axis ?? 0;
    const C = w.shape[axis];
    if (!this.lsqScale || this.scale.length !== C) {
      if (this.scale.length !== C) {
        this.scale = new Float32Array(C);
        this.zeroPoint = new Int32Array(C);
      }
      if (!this.lsqScale) this.scale.set(weightScales(w, axis, this.range));
    }
    if (!this.fakeQuantEnabled) return w;
    this.syncLsq();
    return fakeQuantize(w, this.scale, this.zeroPoint, this.range, axis, this.lsqScale);
  }

  /** Turns on the learnable scale (called once the initial scale is known). */
  enableLsq(): Tensor {
    if (!this.lsqScale) this.lsqScale = new Tensor(Float32Array.from(this.scale), [this.scale.length], true, 'lsq_scale');
    return this.lsqScale;
  }

  private syncLsq(): void {
    if (!this.lsqScale) return;
    const s = this.lsqScale.data;
    for (let i = 0; i < s.length; i++) {
      if (!(s[i] > 1e-8)) s[i] = 1e-8; // keep the learned scale positive
      this.scale[i] = s[i];
    }
  }

  observe(d: Float32Array): void {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!this.seen || this.cfg.observer === 'minmax') {
      this.lo = this.seen ? Math.min(this.lo, lo) : lo;
      this.hi = this.seen ? Math.max(this.hi, hi) : hi;
    } else {
      const a = this.cfg.averaging ?? 0.01;
      this.lo += a * (lo - this.lo);
      this.hi += a * (hi - this.hi);
    }
    this.seen = true;
    const p = asymmetricParams(this.lo, this.hi, this.range);
    this.scale[0] = p.scale;
    this.zeroPoint[0] = p.zeroPoint;
  }

  /** Resets the observer (e.g. to calibrate again). */
  reset(): void {
    this.seen = false;
    this.lo = Infinity;
    this.hi = -Infinity;
  }
}

/** Per-channel symmetric scales along `axis`. */
export function weightScales(w: Tensor, axis: number, r: QRange): Float32Array {
  const C = w.shape[axis];
  const outer = numel(w.shape.slice(0, axis));
  const inner = numel(w.shape.slice(axis + 1));
  const s = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    let m = 0;
    for (let o = 0; o < outer; o++) {
      const base = (o * C + c) * inner;
      for (let i = 0; i < inner; i++) m = Math.max(m, Math.abs(w.data[base + i]));
    }
    s[c] = symmetricScale(m, r);
  }
  return s;
}
