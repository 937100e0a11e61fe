// Observers and qparams against closed-form cases: known distributions with known optimal ranges.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HistogramObserver, MinMaxObserver, MovingAverageObserver, createObserver } from '../../src/quant/observers.js';
import { computeQParams, qRange, quantizeBias, quantizeValue, quantizeWeight, roundHalfEven } from '../../src/quant/qparams.js';
import { gaussian, rng } from './helpers.js';

const near = (a: number, b: number, rel: number, what: string) => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${what}: ${a} vs ${b} (±${rel * 100}%)`);

function normalSamples(n: number, seed: number): Float32Array {
  const g = gaussian(rng(seed));
  return Float32Array.from({ length: n }, g);
}

// Standard normal helpers (Abramowitz-Stegun erfc is enough for the tolerances used).
const phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
function Q(x: number): number {
  // upper tail of N(0,1) by numeric integration of phi (Simpson)
  const hi = x + 12;
  const n = 2000;
  const h = (hi - x) / n;
  let s = phi(x) + phi(hi);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * phi(x + i * h);
  return (s * h) / 3;
}

test('qparams: real 0.0 is exactly representable, range covered within half a step', () => {
  const r = rng(3);
  for (let k = 0; k < 200; k++) {
    const lo = -r() * 10 * (k % 3 === 0 ? 0 : 1);
    const hi = r() * 10 * (k % 5 === 0 ? 0 : 1) + (lo === 0 ? 0.1 : 0);
    for (const type of ['int8', 'uint8'] as const) {
      const p = computeQParams(lo, hi, type);
      const [qmin, qmax] = qRange(type);
      assert.ok(Number.isInteger(p.zeroPoint) && p.zeroPoint >= qmin && p.zeroPoint <= qmax);
      assert.is((quantizeValue(0, p.scale, p.zeroPoint, qmin, qmax) - p.zeroPoint) * p.scale, 0);
      assert.ok((qmin - p.zeroPoint) * p.scale <= lo + p.scale / 2 + 1e-6, `low end ${lo}`);
      assert.ok((qmax - p.zeroPoint) * p.scale >= hi - p.scale / 2 - 1e-6, `high end ${hi}`);
      assert.is(p.scale, Math.fround(p.scale));
    }
  }
  // Closed form: [-1, 3] on uint8: scale 4/255, zero point round(255/4) = 64.
  const p = computeQParams(-1, 3, 'uint8');
  assert.is(p.scale, Math.fround(4 / 255));
  assert.is(p.zeroPoint, 64);
  // A positive-only range (after ReLU) puts the zero point at qmin.
  assert.is(computeQParams(0.5, 6, 'int8').zeroPoint, -128);
  assert.is(computeQParams(0.5, 6, 'uint8').zeroPoint, 0);
  // Symmetric int8: zero point 0, scale absmax/127; reduce_range halves the levels.
  const s = computeQParams(-2, 5, 'int8', { symmetric: true });
  assert.equal([s.scale, s.zeroPoint], [Math.fround(5 / 127), 0]);
  assert.is(computeQParams(-2, 5, 'int8', { symmetric: true, reduceRange: true }).scale, Math.fround(5 / 63));
  assert.equal(qRange('uint8', { reduceRange: true }), [0, 127]);
  assert.is(roundHalfEven(2.5), 2);
  assert.is(roundHalfEven(-2.5), -2);
  assert.is(roundHalfEven(3.5), 4);
});

test('per-channel symmetric weight scales equal a direct computation', () => {
  const g = gaussian(rng(5));
  const dims = [6, 3, 3, 3];
  const w = Float32Array.from({ length: 6 * 27 }, (_, i) => g() * (1 + Math.floor(i / 27)));
  const q = quantizeWeight(w, dims, { perChannel: true, axis: 0, symmetric: true });
  assert.is(q.axis, 0);
  for (let c = 0; c < 6; c++) {
    let m = 0;
    for (let i = 0; i < 27; i++) m = Math.max(m, Math.abs(w[c * 27 + i]));
    assert.is(q.scales[c], Math.fround(m / 127), `channel ${c}`);
    assert.is(q.zeroPoints[c], 0);
    for (let i = 0; i < 27; i++) {
      const v = w[c * 27 + i] / q.scales[c];
      assert.is(q.data[c * 27 + i], Math.max(-127, Math.min(127, roundHalfEven(v))));
    }
  }
  // Axis 1 (MatMul B [K, N]): one scale per column.
  const b = Float32Array.from({ length: 4 * 5 }, g);
  const qb = quantizeWeight(b, [4, 5], { perChannel: true, axis: 1 });
  for (let n = 0; n < 5; n++) {
    let m = 0;
    for (let k = 0; k < 4; k++) m = Math.max(m, Math.abs(b[k * 5 + n]));
    assert.is(qb.scales[n], Math.fround(m / 127));
  }
  // Per-tensor: one scale for all.
  const qt = quantizeWeight(w, dims, { perChannel: false });
  assert.is(qt.scales.length, 1);
  assert.is(qt.scales[0], Math.fround(6 * Math.max(...Array.from(w.slice(135), Math.abs)) / 6 / 127));
  // Bias: int32 with scale S_in * S_w[c].
  const bias = quantizeBias(Float32Array.of(0.5, -0.25, 0), 0.02, Float32Array.of(0.01, 0.1, 0.5));
  assert.equal(Array.from(bias.data), [roundHalfEven(0.5 / Math.fround(0.02 * 0.01)), roundHalfEven(-0.25 / Math.fround(0.02 * 0.1)), 0]);
});

test('minmax and moving average follow their closed forms', () => {
  const mm = new MinMaxObserver();
  mm.update([1, -2, 3]);
  mm.update([0.5, 7]);
  assert.equal(mm.range(), [-2, 7]);
  const ma = new MovingAverageObserver(0.1);
  const batches = [[-1, 2], [-3, 4], [0, 1], [-2, 10]];
  for (const b of batches) ma.update(b);
  let lo = -1;
  let hi = 2;
  for (const b of batches.slice(1)) {
    lo += 0.1 * (Math.min(...b) - lo);
    hi += 0.1 * (Math.max(...b) - hi);
  }
  near(ma.range()[0], lo, 1e-12, 'ema min');
  near(ma.range()[1], hi, 1e-12, 'ema max');
});

test('percentile: 99.99% of |N(0,1)| is 3.8906; outliers are ignored', () => {
  const clean = normalSamples(400_000, 11);
  const c = createObserver('percentile', { percentile: 99.99 });
  // Fed in batches so that the histogram has to grow after the first one.
  for (let i = 0; i < clean.length; i += 50_000) c.update(clean.subarray(i, i + 50_000));
  near(c.range()[1], 3.8906, 0.02, 'upper');
  near(-c.range()[0], 3.8906, 0.02, 'lower');
  const x = clean.slice();
  for (let i = 0; i < 4; i++) x[i * 1000] = i % 2 ? 1000 : -800;
  const obs = new HistogramObserver('percentile', { percentile: 99.99 });
  obs.update(x);
  // Against the empirical quantile of |x| (sorted), within one histogram bin.
  const sorted = Float64Array.from(x, Math.abs).sort();
  const q = sorted[Math.ceil(0.9999 * sorted.length) - 1];
  const [lo, hi] = obs.range();
  assert.ok(Math.abs(hi - q) <= obs.binWidth, `upper ${hi} vs empirical ${q} (bin ${obs.binWidth})`);
  assert.ok(hi < 5 && lo > -5);
  const mm = createObserver('minmax');
  mm.update(x);
  assert.equal(mm.range(), [-800, 1000]);
});

test('histogram growth keeps counts exact', () => {
  const h = new HistogramObserver('percentile', { bins: 64 });
  h.update([0.5, -0.25, 1]);
  h.update([3.9, -7.5]);
  h.update([0, 0]);
  const { h: abs } = h.absHistogram();
  assert.is(abs.reduce((a, b) => a + b, 0), 7);
  assert.is(h.zeros, 2);
  assert.ok(h.R >= 7.5 && h.R <= 8.0001);
});

test('mse: Gaussian with 16 levels clips at the closed-form optimum', () => {
  // E(t) = step^2/12 * P(|x|<t) + 2 * [(1 + t^2) Q(t) - t phi(t)], step = 2t / 15
  let best = 0;
  let bestE = Infinity;
  for (let t = 1; t <= 4; t += 0.005) {
    const step = (2 * t) / 15;
    const e = ((step * step) / 12) * (1 - 2 * Q(t)) + 2 * ((1 + t * t) * Q(t) - t * phi(t));
    if (e < bestE) {
      bestE = e;
      best = t;
    }
  }
  assert.ok(best > 2.2 && best < 2.9, `closed-form optimum ${best}`);
  const obs = createObserver('mse', { levels: 16 });
  obs.update(normalSamples(300_000, 21));
  const [lo, hi] = obs.range();
  near(hi, best, 0.05, 'mse upper');
  near(-lo, best, 0.05, 'mse lower');
  // 256 levels on a uniform distribution: clipping never pays, the range is (nearly) the full one.
  const u = rng(4);
  const uo = createObserver('mse');
  uo.update(Float32Array.from({ length: 100_000 }, () => u()));
  assert.ok(uo.range()[1] > 0.97, `uniform ${uo.range()[1]}`);
});

test('entropy: clips Gaussian tails and outliers, keeps a uniform range', () => {
  const x = normalSamples(300_000, 31);
  for (let i = 0; i < 10; i++) x[i * 100] = i % 2 ? 25 : -25;
  const obs = createObserver('entropy');
  obs.update(x);
  const [lo, hi] = obs.range();
  // As in TensorRT: the histogram spans max|x| in 2048 bins and candidates start at 128 bins (8-bit, two-sided).
  assert.ok(hi > 2.5 && hi < 8, `gaussian threshold ${hi}`);
  assert.ok(lo < -2.5 && lo > -8, `gaussian low ${lo}`);
  // One-sided (post-ReLU) data with a long tail: all 256 levels on [0, t], t below the max.
  const r = rng(8);
  const e = Float32Array.from({ length: 200_000 }, () => (r() < 0.5 ? 0 : -Math.log(Math.max(r(), 1e-12))));
  const eo = createObserver('entropy');
  eo.update(e);
  const [elo, ehi] = eo.range();
  assert.is(elo, 0);
  const emax = e.reduce((a, b) => Math.max(a, b), 0);
  assert.ok(ehi > 4 && ehi < emax, `exponential threshold ${ehi} (max ${emax})`);
  const u = rng(6);
  const uo = createObserver('entropy');
  uo.update(Float32Array.from({ length: 200_000 }, () => u() * 2 - 1));
  assert.ok(uo.range()[1] > 0.95, `uniform ${uo.range()[1]}`);
});

test('bad observer input', () => {
  assert.throws(() => createObserver('nope' as never), /unknown calibration method 'nope'/);
  assert.throws(() => computeQParams(NaN, 1, 'int8'), /not finite/);
  assert.throws(() => new HistogramObserver('percentile').percentileThreshold(120), /percentile/);
});

test.run();
