// Requantization: the oracle (assembly/reference/requant.ts) against hand-computed gemmlowp/TFLite and ONNX
// cases, quantizeMultiplier against TFLite's definition, and the scalar/v128 kernels against the oracle.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WasmKernels, BumpAllocator } from '../../src/runtime/wasm.js';
import { quantizeMultiplier, fixedPointMultiplier, fixedPointMultipliers, fixedTable, fixedxTable, floatTable, outputRange } from '../../src/kernels/requant.js';

const scalar = await WasmKernels.create('scalar');
const simd = await WasmKernels.create('simd128');
const R = scalar.exports;
const I32_MIN = -0x80000000;
const I32_MAX = 0x7fffffff;

test('gemmlowp SaturatingRoundingDoublingHighMul, hand-computed', () => {
  assert.is(R.ref_srdhm(I32_MIN, I32_MIN), I32_MAX); // the one saturating case
  assert.is(R.ref_srdhm(1 << 30, 1 << 30), 1 << 29); // 2^60 / 2^31 = 2^29 exactly
  assert.is(R.ref_srdhm(5, 1 << 30), 3); // 2.5 -> 3 (nudge +2^30)
  assert.is(R.ref_srdhm(-5, 1 << 30), -2); // -2.5 -> -2 (nudge 1-2^30, truncating division)
  assert.is(R.ref_srdhm(-6, 1 << 30), -3);
  assert.is(R.ref_srdhm(I32_MAX, I32_MAX), I32_MAX - 1); // (2^31-1)^2 / 2^31 rounded
});

test('gemmlowp RoundingDivideByPOT: ties away from zero, negatives', () => {
  assert.is(R.ref_rdbpot(5, 1), 3); // 2.5 -> 3
  assert.is(R.ref_rdbpot(-5, 1), -3); // -2.5 -> -3
  assert.is(R.ref_rdbpot(6, 2), 2); // 1.5 -> 2
  assert.is(R.ref_rdbpot(-6, 2), -2); // -1.5 -> -2
  assert.is(R.ref_rdbpot(-2, 2), -1); // -0.5 -> -1
  assert.is(R.ref_rdbpot(2, 2), 1); // 0.5 -> 1
  assert.is(R.ref_rdbpot(-1, 2), 0); // -0.25 -> 0
  assert.is(R.ref_rdbpot(7, 0), 7);
  assert.is(R.ref_rdbpot(I32_MIN, 31), -1);
  assert.is(R.ref_rdbpot(I32_MAX, 31), 1);
});

test('quantizeMultiplier matches TFLite QuantizeMultiplier', () => {
  assert.equal(quantizeMultiplier(0.5), { multiplier: 2 ** 30, shift: 0 });
  assert.equal(quantizeMultiplier(1), { multiplier: 2 ** 30, shift: 1 });
  assert.equal(quantizeMultiplier(0.75), { multiplier: 1610612736, shift: 0 });
  assert.equal(quantizeMultiplier(3), { multiplier: 1610612736, shift: 2 });
  assert.equal(quantizeMultiplier(2 ** -31), { multiplier: 2 ** 30, shift: -30 });
  assert.equal(quantizeMultiplier(0.75 * 2 ** -31), { multiplier: 1610612736, shift: -31 });
  assert.equal(quantizeMultiplier(0.75 * 2 ** -32), { multiplier: 0, shift: 0 }); // below 2^-31 after frexp
  assert.equal(quantizeMultiplier(1 - 2 ** -34), { multiplier: 2 ** 30, shift: 1 }); // mantissa rounds to 2^31
  assert.equal(quantizeMultiplier(0), { multiplier: 0, shift: 0 });
  // q * 2^shift / 2^31 reproduces the real value to 31 bits
  for (const r of [1e-9, 3.3e-5, 0.00123, 0.4, 0.9999, 1.7, 250]) {
    const { multiplier, shift } = quantizeMultiplier(r);
    assert.ok(Math.abs((multiplier * 2 ** shift) / 2 ** 31 - r) <= r * 2 ** -30, `${r}`);
  }
  assert.throws(() => quantizeMultiplier(-1), /must be finite and >= 0/);
  assert.throws(() => quantizeMultiplier(2 ** 31), /too large/);
});

test('fixed-point requantization oracle, hand-computed', () => {
  const q = (acc: number, real: number, zp = 0, lo = -128, hi = 127) => {
    const m = quantizeMultiplier(real);
    return R.ref_requant_fixed(acc, m.multiplier, m.shift, zp, lo, hi);
  };
  assert.is(q(100, 0.5), 50);
  assert.is(q(5, 0.5), 3); // one rounding stage (shift 0): 2.5 -> 3
  assert.is(q(-5, 0.5), -2); // -2.5 -> -2 (SRDHM's nudge)
  assert.is(q(-5, 0.25), -1); // SRDHM(-5, 2^30) = -2, RDBPOT(-2, 1) = -1
  assert.is(q(-6, 0.25), -2); // SRDHM = -3, RDBPOT(-3, 1) = -1.5 -> -2
  assert.is(q(6, 0.25), 2); // SRDHM = 3, 1.5 -> 2
  assert.is(q(1000, 0.01, 3), 13); // 10 + 3
  assert.is(q(1e6, 1), 127); // saturation
  assert.is(q(-1e6, 1, 0, 0, 255), 0);
  assert.is(q(3, 3), 9); // multiplier > 1 (left shift 2)
  assert.is(q(-3, 3, 10), 1);
  assert.is(q(2 ** 30, 4), 127); // left shift saturates
  assert.is(q(-(2 ** 30), 4), -128);
  assert.is(q(2 ** 31 - 1, 0.3 * 2 ** -32), 0); // multiplier below 2^-31 -> 0
  assert.is(q(2 ** 31 - 1, 2 ** -31, 0), 1); // 0.99999... -> 1
});

test('float (ONNX) requantization oracle: round half to even, zero point, saturation', () => {
  const f = (acc: number, s: number, zp = 0, lo = -128, hi = 127) => R.ref_requant_float(acc, s, zp, lo, hi);
  assert.is(f(5, 0.5), 2); // 2.5 -> 2
  assert.is(f(7, 0.5), 4); // 3.5 -> 4
  assert.is(f(-5, 0.5), -2);
  assert.is(f(-7, 0.5), -4);
  assert.is(f(3, 0.5, 1), 3); // 1.5 -> 2, + 1
  assert.is(f(1000, 1, 10), 127);
  assert.is(f(-1000, 1, 10, 0, 255), 0);
  assert.is(f(200, 1, 50, 0, 255), 250);
  assert.is(f(2 ** 31 - 1, 1e-12), 0);
  // The product is rounded to float32 first: 25 * 0.1f = 2.50000004 in double but exactly 2.5 in float32,
  // which then ties to even (2); 35 * 0.1f = 3.5 in float32 -> 4.
  assert.is(f(25, Math.fround(0.1)), 2);
  assert.is(f(35, Math.fround(0.1)), 4);
});

test('outputRange: ReLU / ReLU6 / Clip narrow the quantized bounds', () => {
  assert.equal(outputRange('int8', -5, 0.05, { min: 0 }), { qmin: -5, qmax: 127 });
  assert.equal(outputRange('uint8', 10, 0.05, { min: 0, max: 6 }), { qmin: 10, qmax: 130 });
  assert.equal(outputRange('int8', 0, 1, undefined), { qmin: -128, qmax: 127 });
});

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

for (const [name, k] of [['scalar', scalar], ['simd128', simd]] as const) {
  test(`${name} requant kernels equal the oracle (random accumulators, multipliers from 2^-40 to 200)`, () => {
    const rand = rng(name.length * 7 + 1);
    const a = new BumpAllocator(k);
    const rows = 37, ch = 23;
    const acc = new Int32Array(rows * ch);
    for (let i = 0; i < acc.length; i++) {
      const mode = rand();
      acc[i] = mode < 0.1 ? (rand() < 0.5 ? I32_MIN : I32_MAX) : mode < 0.5 ? Math.floor((rand() - 0.5) * 2 ** 32) : Math.floor((rand() - 0.5) * 2 ** (4 + rand() * 20));
    }
    const reals = Array.from({ length: ch }, (_, i) => (i === 0 ? 0 : i === 1 ? 0.3 * 2 ** -32 : i === 2 ? 2 ** -31 : i === 3 ? 1 : 2 ** (-40 + rand() * 48)));
    const scales = reals.map((r) => Math.fround(r));
    for (const [zp, lo, hi] of [[0, -128, 127], [-128, -128, 127], [127, -128, 127], [0, 0, 255], [255, 0, 255], [3, 3, 90]]) {
      const pa = a.put(acc);
      const po = a.alloc(acc.length);
      const tf = a.put(fixedTable(reals), 16);
      k.exports[`qs8_requant_fixed__${name}`](pa, po, rows, ch, tf, zp, lo, hi);
      const got = lo < 0 ? k.i8(po, acc.length).slice() : k.u8(po, acc.length).slice();
      for (let i = 0; i < acc.length; i++) {
        const m = fixedPointMultipliers(reals)[i % ch];
        const want = R.ref_requant_fixed(acc[i], m.multiplier, m.shift, zp, lo, hi);
        if (got[i] !== want) assert.unreachable(`fixed acc=${acc[i]} real=${reals[i % ch]} zp=${zp}: got ${got[i]} want ${want}`);
      }
      const tfl = a.put(floatTable(scales), 16);
      k.exports[`qs8_requant_float__${name}`](pa, po, rows, ch, tfl, zp, lo, hi);
      const gotf = lo < 0 ? k.i8(po, acc.length).slice() : k.u8(po, acc.length).slice();
      for (let i = 0; i < acc.length; i++) {
        const want = R.ref_requant_float(acc[i], scales[i % ch], zp, lo, hi);
        if (gotf[i] !== want) assert.unreachable(`float acc=${acc[i]} scale=${scales[i % ch]} zp=${zp}: got ${gotf[i]} want ${want}`);
      }
      a.reset();
    }
  });
}

for (const [name, k] of [['scalar', scalar], ['simd128', simd]] as const) {
  test(`${name} one-multiply fixed-point form (FIXEDX) equals the gemmlowp oracle for every accumulator class`, () => {
    const rand = rng(name.length * 13 + 5);
    const a = new BumpAllocator(k);
    const rows = 41, ch = 27;
    const acc = new Int32Array(rows * ch);
    for (let i = 0; i < acc.length; i++) {
      const mode = rand();
      acc[i] = mode < 0.08 ? (rand() < 0.5 ? I32_MIN : I32_MAX) : mode < 0.3 ? Math.floor((rand() - 0.5) * 2 ** 32)
        : mode < 0.4 ? Math.floor((rand() - 0.5) * 8) : Math.floor((rand() - 0.5) * 2 ** (4 + rand() * 24));
    }
    // Normalized multipliers (below 2^-11: every right shift 11..17 and the exact boundaries of a shift, q = 2^30),
    // and unnormalized ones (2^-11 <= real < 1: shift 0, single rounding, q from 2^20 up), zero multipliers in both.
    // A block of 4 channels that mixes the two kinds has no uniform T: the form does not apply (null).
    const normal = Array.from({ length: ch }, (_, i) => (i === 0 ? 0 : i === 1 ? 2 ** -12 : i === 2 ? 2 ** -18 : i === 3 ? 0.999999 * 2 ** -11
      : i < 11 ? (0.5 + 0.5 * rand()) * 2 ** -(i + 7) : 2 ** (-18 + rand() * 7)));
    const single = Array.from({ length: ch }, (_, i) => (i === 0 ? 0 : i === 1 ? 0.5 : i === 2 ? 2 ** -11 : i === 3 ? 0.999999 : i === 4 ? 2 ** -10
      : 2 ** (-11 + rand() * 11)));
    assert.ok(fixedxTable(normal.concat([2 ** -19]), 0) === null, 'a right shift of 18 needs the two-multiply form');
    assert.ok(fixedxTable(normal.concat([1.5]), 0) === null, 'a left shift needs the two-multiply form');
    // a group of 4 with a multiplier below 2^-11 is normalized throughout (no block mixes the two kinds)
    assert.equal(fixedPointMultipliers([2 ** -15, 0.01, 0.02, 0.03, 0.01]).map((m) => m.shift), [-14, -6, -5, -5, 0]);
    assert.ok(fixedxTable([2 ** -15, 0.01, 0.02, 0.03, 0.01], 0) !== null);
    assert.is(fixedPointMultiplier(0.01).shift, 0);
    assert.is(fixedPointMultiplier(2 ** -12).shift, -11); // 0.5 * 2^-11, normalized
    for (const reals of [normal, single])
    for (const [zp, lo, hi] of [[0, -128, 127], [-128, -128, 127], [127, -128, 127], [0, 0, 255], [255, 0, 255], [3, 3, 90]]) {
      const pa = a.put(acc);
      const po = a.alloc(acc.length);
      const tx = fixedxTable(reals, zp)!;
      assert.ok(tx, 'table');
      k.exports[`qs8_requant_fixedx__${name}`](pa, po, rows, ch, a.put(tx, 16), zp, lo, hi);
      const got = lo < 0 ? k.i8(po, acc.length).slice() : k.u8(po, acc.length).slice();
      for (let i = 0; i < acc.length; i++) {
        const m = fixedPointMultipliers(reals)[i % ch];
        const want = R.ref_requant_fixed(acc[i], m.multiplier, m.shift, zp, lo, hi);
        if (got[i] !== want) assert.unreachable(`fixedx acc=${acc[i]} real=${reals[i % ch]} zp=${zp}: got ${got[i]} want ${want}`);
      }
      a.reset();
    }
  });
}

test.run();
