// Range observers for activations: min/max, moving-average min/max, and a histogram from which the percentile,
// entropy (KL divergence, TensorRT's calibration) and MSE-minimising ranges are computed.
//
// The histogram is symmetric around zero: N bins of width R/N on each side. It starts with R = |x|max of the first
// batch and, when later data exceeds R, doubles R (merging adjacent bin pairs) until it fits, so binning stays
// exact and between N/2 and N bins cover the observed range. Exact zeros are counted apart (ReLU outputs are
// mostly zeros, and zeros quantize without error).

export type CalibrationMethod = 'minmax' | 'moving-average' | 'percentile' | 'entropy' | 'mse';

export interface ObserverOptions {
  /** Percentile of |x| kept by 'percentile' (default 99.999). */
  percentile?: number;
  /** Averaging constant of 'moving-average' (default 0.01, as PyTorch's MovingAverageMinMaxObserver). */
  averagingConstant?: number;
  /** Histogram bins on each side of zero (default 4096). */
  bins?: number;
  /** Number of quantization levels of the target type (default 256; 128 with reduce_range). */
  levels?: number;
}

export interface Observer {
  update(data: ArrayLike<number>): void;
  /** The real range [lo, hi] to quantize to (not yet widened to include 0). */
  range(): [number, number];
  readonly count: number;
}

function minMaxOf(data: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

export class MinMaxObserver implements Observer {
  min = Infinity;
  max = -Infinity;
  count = 0;
  update(data: ArrayLike<number>): void {
    if (!data.length) return;
    const [lo, hi] = minMaxOf(data);
    if (lo < this.min) this.min = lo;
    if (hi > this.max) this.max = hi;
    this.count += data.length;
  }
  range(): [number, number] {
    return this.count ? [this.min, this.max] : [0, 0];
  }
}

/** min_t = min_{t-1} + c (batchmin_t - min_{t-1}), same for max; the first batch sets both. */
export class MovingAverageObserver implements Observer {
  min = 0;
  max = 0;
  count = 0;
  private batches = 0;
  constructor(readonly c = 0.01) {}
  update(data: ArrayLike<number>): void {
    if (!data.length) return;
    const [lo, hi] = minMaxOf(data);
    if (this.batches === 0) {
      this.min = lo;
      this.max = hi;
    } else {
      this.min += this.c * (lo - this.min);
      this.max += this.c * (hi - this.max);
    }
    this.batches++;
    this.count += data.length;
  }
  range(): [number, number] {
    return [this.min, this.max];
  }
}

export class HistogramObserver implements Observer {
  readonly n: number;
  pos: Float64Array;
  neg: Float64Array;
  zeros = 0;
  R = 0;
  min = Infinity;
  max = -Infinity;
  count = 0;
  constructor(
    readonly method: 'percentile' | 'entropy' | 'mse',
    readonly opts: ObserverOptions = {},
  ) {
    this.n = opts.bins ?? 4096;
    this.pos = new Float64Array(this.n);
    this.neg = new Float64Array(this.n);
  }

  update(data: ArrayLike<number>): void {
    if (!data.length) return;
    const [lo, hi] = minMaxOf(data);
    if (lo < this.min) this.min = lo;
    if (hi > this.max) this.max = hi;
    this.count += data.length;
    const amax = Math.max(-lo, hi);
    if (amax > 0) this.grow(amax);
    if (this.R === 0) {
      this.zeros += data.length;
      return;
    }
    const n = this.n;
    const inv = n / this.R;
    const pos = this.pos;
    const neg = this.neg;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v > 0) {
        const b = Math.floor(v * inv);
        pos[b < n ? b : n - 1]++;
      } else if (v < 0) {
        const b = Math.floor(-v * inv);
        neg[b < n ? b : n - 1]++;
      } else this.zeros++;
    }
  }

  private grow(amax: number): void {
    if (this.R === 0) {
      this.R = amax;
      return;
    }
    if (amax <= this.R) return;
    let k = 1;
    while (this.R * k < amax) k *= 2;
    for (const h of [this.pos, this.neg]) {
      for (let j = 0; j < this.n; j++) {
        let s = 0;
        if (j * k < this.n) for (let t = j * k; t < Math.min(this.n, (j + 1) * k); t++) s += h[t];
        h[j] = s;
      }
    }
    this.R *= k;
  }

  get binWidth(): number {
    return this.R / this.n;
  }

  /** Histogram of |x| over the bins that hold data (zeros in bin 0), and its bin width. */
  absHistogram(): { h: Float64Array; w: number } {
    if (this.R === 0) return { h: Float64Array.of(this.zeros), w: 0 };
    const amax = Math.max(-this.min, this.max);
    const w = this.binWidth;
    const used = Math.min(this.n, Math.floor(amax / w) + 1);
    const h = new Float64Array(used);
    for (let j = 0; j < used; j++) h[j] = this.pos[j] + this.neg[j];
    h[0] += this.zeros;
    return { h, w };
  }

  range(): [number, number] {
    if (!this.count) return [0, 0];
    if (this.R === 0) return [0, 0];
    let t: number;
    if (this.method === 'percentile') t = this.percentileThreshold(this.opts.percentile ?? 99.999);
    else if (this.method === 'entropy') t = this.entropyThreshold();
    else t = this.mseThreshold();
    return [Math.max(this.min, -t), Math.min(this.max, t)];
  }

  /** Smallest t such that at least p% of |x| lies in [0, t] (upper edge of the bin holding the quantile). */
  percentileThreshold(p: number): number {
    if (!(p > 0 && p <= 100)) throw new Error(`percentile must be in (0, 100], got ${p}`);
    const { h, w } = this.absHistogram();
    const total = h.reduce((a, b) => a + b, 0);
    const target = (p / 100) * total;
    let cum = 0;
    for (let j = 0; j < h.length; j++) {
      cum += h[j];
      if (cum >= target) return Math.min((j + 1) * w, Math.max(-this.min, this.max));
    }
    return Math.max(-this.min, this.max);
  }

  private oneSided(): boolean {
    return this.min >= 0 || this.max <= 0;
  }

  /** Quantization levels available over [0, t]: all of them for a one-sided tensor, half for a two-sided one. */
  private levelsOverThreshold(): number {
    const levels = this.opts.levels ?? 256;
    return this.oneSided() ? levels : levels / 2;
  }

  /**
   * TensorRT / onnxruntime entropy calibration: for each candidate threshold i (in bins), P = histogram[0..i) with
   * the clipped tail added to its last bin, Q = histogram[0..i) merged into `levels` bins and spread back over the
   * non-empty bins; pick the i minimising KL(P || Q).
   */
  entropyThreshold(): number {
    let { h, w } = this.absHistogram();
    const amax = Math.max(-this.min, this.max);
    // Work on at most 2048 bins (TensorRT's histogram size).
    const maxBins = 2048;
    if (h.length > maxBins) {
      const k = Math.ceil(h.length / maxBins);
      const m = new Float64Array(Math.ceil(h.length / k));
      for (let j = 0; j < h.length; j++) m[Math.floor(j / k)] += h[j];
      h = m;
      w *= k;
    }
    // Exact zeros quantize without error whatever the threshold: leave them out of the distributions.
    h[0] -= this.zeros;
    if (h[0] < 0) h[0] = 0;
    const nq = Math.round(this.levelsOverThreshold());
    const nb = h.length;
    if (nb <= nq) return amax;
    const total = h.reduce((a, b) => a + b, 0);
    if (total === 0) return amax;
    const suffix = new Float64Array(nb + 1);
    for (let j = nb - 1; j >= 0; j--) suffix[j] = suffix[j + 1] + h[j];
    let best = Infinity;
    let bestI = nb;
    const p = new Float64Array(nb);
    const q = new Float64Array(nb);
    // At most ~512 candidates (every bin when the histogram is small), to bound the O(bins^2) search.
    const stride = Math.max(1, Math.floor((nb - nq) / 512));
    for (let i = nq; i <= nb; i = i === nb ? nb + 1 : Math.min(nb, i + stride)) {
      for (let j = 0; j < i; j++) p[j] = h[j];
      p[i - 1] += suffix[i];
      // Merge h[0..i) into nq groups with fractional boundaries, spread each group's sum over its non-empty bins.
      for (let g = 0; g < nq; g++) {
        const start = Math.floor((g * i) / nq);
        const end = g === nq - 1 ? i : Math.floor(((g + 1) * i) / nq);
        let s = 0;
        let nz = 0;
        for (let j = start; j < end; j++) {
          s += h[j];
          if (h[j] !== 0) nz++;
        }
        for (let j = start; j < end; j++) q[j] = h[j] !== 0 ? s / nz : 0;
      }
      const kl = klDivergence(p, q, i);
      if (kl < best) {
        best = kl;
        bestI = i;
      }
    }
    return Math.min(bestI * w, amax);
  }

  /**
   * Threshold t minimising the expected squared error of quantizing the observed values to the range
   * [max(min, -t), min(max, t)] (widened to contain 0) with `levels` levels: clipping error (x - edge)^2 outside,
   * uniform rounding noise step^2/12 inside, exact zeros free.
   */
  mseThreshold(): number {
    const n = this.n;
    const w = this.binWidth;
    const amax = Math.max(-this.min, this.max);
    const used = Math.min(n, Math.floor(amax / w) + 1);
    const levels = this.opts.levels ?? 256;
    // Candidate thresholds: bin edges, at most ~1000 of them, from 1% of |x|max to |x|max.
    const step = Math.max(1, Math.floor(used / 1000));
    let bestT = amax;
    let bestE = Infinity;
    for (let i = used; i >= 1; i -= step) {
      const t = Math.min(i * w, amax);
      if (t < amax * 0.01) break;
      const lo = Math.min(0, Math.max(this.min, -t));
      const hi = Math.max(0, Math.min(this.max, t));
      const delta = (hi - lo) / (levels - 1);
      const noise = (delta * delta) / 12;
      let e = 0;
      for (let j = 0; j < used; j++) {
        const c = (j + 0.5) * w;
        const cp = this.pos[j];
        const cn = this.neg[j];
        if (cp) e += cp * (c > hi ? (c - hi) * (c - hi) : noise);
        if (cn) e += cn * (-c < lo ? (lo + c) * (lo + c) : noise);
      }
      if (e < bestE) {
        bestE = e;
        bestT = t;
      }
    }
    return bestT;
  }
}

/**
 * KL(P || Q) over the first n bins of two histograms of counts. As onnxruntime does, empty bins get eps counts
 * (taken evenly from the non-empty ones) so that Q > 0 wherever P > 0; then both are normalised. eps is in
 * counts, negligible next to real bins (smoothing normalised probabilities instead would swamp sparse tails).
 */
export function klDivergence(p: Float64Array, q: Float64Array, n: number, eps = 1e-4): number {
  const ps = smooth(p, n, eps);
  const qs = smooth(q, n, eps);
  if (!ps || !qs) return Infinity;
  let sp = 0;
  let sq = 0;
  for (let j = 0; j < n; j++) {
    sp += ps[j];
    sq += qs[j];
  }
  let kl = 0;
  for (let j = 0; j < n; j++) {
    const a = ps[j] / sp;
    if (a > 0) kl += a * Math.log(a / (qs[j] / sq));
  }
  return kl;
}

function smooth(d: Float64Array, n: number, eps: number): Float64Array | null {
  let zeros = 0;
  for (let j = 0; j < n; j++) if (d[j] === 0) zeros++;
  const nonzeros = n - zeros;
  if (nonzeros === 0) return null;
  const take = (eps * zeros) / nonzeros;
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) out[j] = d[j] === 0 ? eps : Math.max(d[j] - take, eps * 1e-3);
  return out;
}

export function createObserver(method: CalibrationMethod, opts: ObserverOptions = {}): Observer {
  switch (method) {
    case 'minmax':
      return new MinMaxObserver();
    case 'moving-average':
      return new MovingAverageObserver(opts.averagingConstant ?? 0.01);
    case 'percentile':
    case 'entropy':
    case 'mse':
      return new HistogramObserver(method, opts);
    default:
      throw new Error(`quantize: unknown calibration method '${method as string}' (minmax, moving-average, percentile, entropy, mse)`);
  }
}
