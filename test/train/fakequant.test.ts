// Fake quantization against its closed form: forward values, clipped straight-through gradient, LSQ scale
// gradient, observers and parameter choice.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/train/tensor.js';
import { Rng } from '../../src/train/rng.js';
import { fakeQuantize, qrange, rint, asymmetricParams, symmetricScale, FakeQuant, weightScales } from '../../src/train/fakequant.js';
import { randn } from './grad-util.js';

test('rint rounds half to even', () => {
  assert.equal([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6, -2.6].map(rint), [0, 2, 2, -0, -2, -2, 2, 3, -3]);
});

test('ranges for 8 down to 4 bits', () => {
  assert.equal(qrange(8, true), { qmin: -127, qmax: 127 });
  assert.equal(qrange(4, true), { qmin: -7, qmax: 7 });
  assert.equal(qrange(8, false), { qmin: 0, qmax: 255 });
  assert.equal(qrange(4, false), { qmin: 0, qmax: 15 });
  assert.throws(() => qrange(9, true), /bit width/);
});

test('per-tensor forward and clipped STE backward match the closed form', () => {
  const rng = new Rng(1);
  for (const bits of [8, 6, 4]) {
    const r = qrange(bits, false);
    const x = randn([2, 3, 4, 5], rng, 3);
    const s = Math.fround(0.05 * (9 - bits)), z = Math.floor(r.qmax / 3);
    const y = fakeQuantize(x, new Float32Array([s]), new Int32Array([z]), r);
    const g = new Float32Array(x.size).map(() => rng.normal());
    x.grad = null;
    y.backward(g);
    for (let i = 0; i < x.size; i++) {
      const v = x.data[i];
      const q = Math.round(v / s) + z; // no ties for random data
      const qc = Math.min(r.qmax, Math.max(r.qmin, q));
      assert.ok(Math.abs(y.data[i] - (qc - z) * s) < 1e-6, `forward ${v}`);
      assert.is(x.grad![i], q >= r.qmin && q <= r.qmax ? g[i] : 0, `grad at ${v}`);
    }
  }
});

test('per-channel symmetric weights: scale = max|w_c| / qmax, values on the grid, extremes exact', () => {
  const rng = new Rng(2);
  const w = randn([4, 3, 3, 3], rng);
  const r = qrange(4, true);
  const s = weightScales(w, 0, r);
  for (let c = 0; c < 4; c++) {
    let m = 0;
    for (let i = 0; i < 27; i++) m = Math.max(m, Math.abs(w.data[c * 27 + i]));
    assert.ok(Math.abs(s[c] - m / 7) < 1e-7);
  }
  const y = fakeQuantize(w, s, new Int32Array(4), r, 0);
  for (let c = 0; c < 4; c++) {
    for (let i = 0; i < 27; i++) {
      const q = y.data[c * 27 + i] / s[c];
      assert.ok(Math.abs(q - Math.round(q)) < 1e-4 && Math.abs(q) <= 7 + 1e-4);
    }
  }
  // Axis 1 (e.g. a transposed layout) gives the same values on the transposed tensor.
  assert.equal(weightScales(new Tensor(w.data, [1, 4, 27]), 1, r), s);
});

test('LSQ scale gradient matches finite differences away from rounding boundaries', () => {
  const rng = new Rng(3);
  const r = qrange(4, true);
  const x = randn([64], rng, 1, false);
  const sc = new Tensor(new Float32Array([0.2]), [1], true);
  const g = new Float32Array(64).map(() => rng.normal());
  const f = (s: number) => fakeQuantize(x, new Float32Array([s]), new Int32Array(1), r, 1, null);
  const y = fakeQuantize(x, sc.data, new Int32Array(1), r, 1, sc);
  y.backward(g);
  // Closed form (Esser et al.): d/ds sum g * y = sum g * (round(x/s) - x/s) inside, g * qmin|qmax outside.
  let ref = 0;
  for (let i = 0; i < 64; i++) {
    const q = Math.round(x.data[i] / 0.2);
    ref += g[i] * (q < r.qmin ? r.qmin : q > r.qmax ? r.qmax : q - x.data[i] / 0.2);
  }
  ref /= Math.sqrt(64 * r.qmax);
  assert.ok(Math.abs(sc.grad![0] - ref) < 1e-4, `${sc.grad![0]} vs ${ref}`);
  assert.ok(f(0.2).size === 64);
});

test('asymmetric parameters keep 0 exact; moving-average and min/max observers', () => {
  const r = qrange(8, false);
  const p = asymmetricParams(-1, 3, r);
  assert.ok(Math.abs(p.scale - 4 / 255) < 1e-7);
  assert.is(p.zeroPoint, Math.round(255 / 4));
  assert.is(Math.fround((p.zeroPoint - p.zeroPoint) * p.scale), 0);
  assert.equal(asymmetricParams(0.5, 2, r).zeroPoint, 0); // range widened to include 0
  assert.ok(Math.abs(symmetricScale(1.27, qrange(8, true)) - 0.01) < 1e-8);

  const mm = new FakeQuant({ bits: 8, role: 'activation', observer: 'minmax' });
  mm.observe(new Float32Array([-1, 2]));
  mm.observe(new Float32Array([0, 4]));
  assert.equal([mm.lo, mm.hi], [-1, 4]);
  const ma = new FakeQuant({ bits: 8, role: 'activation', observer: 'moving-average', averaging: 0.5 });
  ma.observe(new Float32Array([-1, 2]));
  ma.observe(new Float32Array([0, 4]));
  assert.equal([ma.lo, ma.hi], [-0.5, 3]);
  ma.observerEnabled = false;
  ma.forward(new Tensor(new Float32Array([100, -100]), [1, 2]));
  assert.equal([ma.lo, ma.hi], [-0.5, 3]);
});

test('activation fake-quant before any observation is an error', () => {
  const f = new FakeQuant({ bits: 8, role: 'activation' });
  f.observerEnabled = false;
  assert.throws(() => f.forward(new Tensor(new Float32Array(2), [1, 2])), /before it observed/);
});

test.run();
