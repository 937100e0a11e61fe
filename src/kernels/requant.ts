// Host side of requantization: multiplier decomposition and the per-channel tables the kernels read.
// Semantics and table layouts are documented at the top of assembly/requant/core.ts; in short:
//   'fixed-point' (default): gemmlowp arithmetic. real = q * 2^shift / 2^31, (q, shift) per channel from
//   fixedPointMultipliers (TFLite's normalized quantizeMultiplier, except groups of 4 channels all in 2^-11..1:
//   unnormalized q with shift 0, a single rounding).
//   'float': ONNX QLinear* reference. y = round_half_even(f32(acc) * f32(scale)) + zp, saturated.
// Other families use: quantizeMultiplier, fixedTable / floatTable (bytes to place in wasm memory, 16-byte aligned),
// outputRange (qmin/qmax after an activation clamp).

import { qrange } from './qcommon.js';

export type RequantMode = 'fixed-point' | 'float';
export type QuantType = 'int8' | 'uint8';

export interface QuantizedMultiplier {
  /** int32 multiplier in [2^30, 2^31), or 0. */
  multiplier: number;
  /** Power of two: positive = left shift, negative = right shift (>= -31). */
  shift: number;
}

/**
 * TFLite QuantizeMultiplier: real = multiplier * 2^shift / 2^31. frexp, round half away from zero on the
 * 31-bit mantissa; a mantissa that rounds up to 2^31 is halved (shift + 1); below 2^-31 (shift < -31) the
 * result is 0. Multipliers >= 2^30 are rejected (the left shift is limited to 30).
 */
export function quantizeMultiplier(real: number): QuantizedMultiplier {
  if (!(real >= 0) || !Number.isFinite(real)) throw new Error(`octet: requantization multiplier ${real} must be finite and >= 0`);
  if (real === 0) return { multiplier: 0, shift: 0 };
  // frexp: real = q * 2^e, q in [0.5, 1)
  let e = Math.floor(Math.log2(real)) + 1;
  let q = real / 2 ** e;
  while (q >= 1) { q /= 2; e++; }
  while (q < 0.5) { q *= 2; e--; }
  let qFixed = Math.round(q * 2 ** 31); // q > 0: Math.round is half away from zero
  if (qFixed === 2 ** 31) { qFixed /= 2; e++; }
  if (e < -31) return { multiplier: 0, shift: 0 };
  if (e > 30) throw new Error(`octet: requantization multiplier ${real} is too large (>= 2^30)`);
  return { multiplier: qFixed, shift: e };
}

/** Smallest multiplier that fixedPointMultiplier keeps unnormalized (single rounding); see there. */
export const SINGLE_ROUNDING_MIN = 2 ** -11;

/**
 * Octet's fixed-point decomposition of a requantization multiplier, fed to the gemmlowp arithmetic (SRDHM, then
 * RoundingDivideByPOT) that every kernel and oracle implements. gemmlowp rounds twice when the shift is negative
 * (SRDHM, then the rounding shift by e bits), which flips about 2^-e of the results against one exact rounding
 * (onnxruntime's float path): 0.05% to 1% for the usual multipliers 2^-11..2^-7. So for 2^-11 <= real < 1 the
 * multiplier is left unnormalized: q = round(real * 2^31) (>= 2^20, 20+ significant bits), shift 0, and SRDHM is
 * the only (single) rounding; its error from q's precision flips about 2^-22 * 512 / real ~ 0.01% at most.
 * Below 2^-11 (e >= 11, double rounding flips <= 0.05%) and from 1 up: TFLite's normalized quantizeMultiplier.
 */
export function fixedPointMultiplier(real: number): QuantizedMultiplier {
  if (real >= SINGLE_ROUNDING_MIN && real < 1) {
    const q = Math.round(real * 2 ** 31);
    if (q < 2 ** 31) return { multiplier: q, shift: 0 };
  }
  return quantizeMultiplier(real);
}

/**
 * fixedPointMultiplier per channel, decided per aligned group of 4 channels (the kernels' table blocks): a group
 * with any channel that must stay normalized (a nonzero multiplier below 2^-11 or from 1 up) is normalized
 * throughout, so a block never mixes shift 0 with large right shifts (the one-multiply form needs a uniform
 * scale per block). Every table builder and the host reference use this, so kernels and oracle agree.
 */
export function fixedPointMultipliers(reals: ArrayLike<number>): QuantizedMultiplier[] {
  const out: QuantizedMultiplier[] = [];
  for (let g = 0; g < reals.length; g += 4) {
    let single = true;
    for (let c = g; c < Math.min(g + 4, reals.length); c++) if (reals[c] !== 0 && fixedPointMultiplier(reals[c]).shift !== 0) single = false;
    for (let c = g; c < Math.min(g + 4, reals.length); c++) out.push(single ? fixedPointMultiplier(reals[c]) : quantizeMultiplier(reals[c]));
  }
  return out;
}

/** FIXED table for per-channel real multipliers (length = channels), padded to a multiple of `pad` channels. */
export function fixedTable(reals: ArrayLike<number>, pad = 4): Uint8Array {
  const n = reals.length;
  const np = Math.ceil(Math.max(n, 1) / pad) * pad;
  const t = new Int32Array((np / 4) * 24);
  const qm = fixedPointMultipliers(reals);
  for (let c = 0; c < np; c++) {
    const { multiplier, shift } = c < n ? qm[c] : { multiplier: 0, shift: 0 };
    const l = Math.max(shift, 0);
    const e = Math.max(-shift, 0);
    const b = (c >> 2) * 24 + (c & 3);
    t[b] = multiplier;
    t[b + 4] = -0x80000000 >> l;
    t[b + 8] = 0x7fffffff >> l;
    t[b + 12] = 2 ** l;
    t[b + 16] = e === 0 ? 0 : 2 ** (31 - e);
    t[b + 20] = e === 0 ? -1 : 0;
  }
  return new Uint8Array(t.buffer);
}

/** Largest right shift the one-multiply fixed-point form takes (assembly/requant/core.ts 1b: T = e + 2 <= 19). */
export const FIXEDX_MAX_SHIFT = 17;

/**
 * FIXEDX table (one-multiply fixed-point form, output zero point folded in; layout and derivation in
 * assembly/requant/core.ts, 1b) for per-channel multipliers, padded to a multiple of `pad` channels; null when a
 * channel needs a left shift (multiplier >= 1) or a right shift above FIXEDX_MAX_SHIFT: use fixedTable then.
 * Same results as fixedTable + zp for every int32 accumulator (test/kernels/requant.test.ts).
 */
export function fixedxTable(reals: ArrayLike<number>, zp: number, pad = 4): Uint8Array | null {
  const n = reals.length;
  const np = Math.ceil(Math.max(n, 1) / pad) * pad;
  const qs = new Array<number>(np), es = new Array<number>(np);
  const qm = fixedPointMultipliers(reals);
  for (let c = 0; c < np; c++) {
    const { multiplier, shift } = c < n ? qm[c] : { multiplier: 0, shift: 0 };
    if (multiplier !== 0 && (shift > 0 || -shift > FIXEDX_MAX_SHIFT)) return null;
    qs[c] = multiplier;
    es[c] = multiplier === 0 ? 0 : -shift;
  }
  // accumulator clamp per channel: beyond B the result saturates either way (|r| > 512); a normalized q (>= 2^30)
  // needs B = 2^(11+e), an unnormalized one (fixedPointMultiplier, e = 0) B = ceil(513 * 2^31 / q). And |x| * 2^(T-e)
  // must stay <= 2^30 for the block's uniform T >= e + 2: otherwise this form does not apply (null).
  const bound = (q: number, e: number) => (q >= 2 ** 30 || q === 0 ? 2 ** (11 + e) : 2 ** Math.ceil(Math.log2(Math.ceil((513 * 2 ** 31) / q))));
  const t = new Int32Array((np / 4) * 32);
  for (let b = 0; b < np / 4; b++) {
    let T = 2;
    for (let j = 0; j < 4; j++) T = Math.max(T, es[b * 4 + j] + 2);
    for (let j = 0; j < 4; j++) {
      const c = b * 4 + j;
      if (bound(qs[c], es[c]) * 2 ** (T - es[c]) > 2 ** 30) return null;
    }
    for (let j = 0; j < 4; j++) {
      const c = b * 4 + j, q = qs[c], e = es[c], o = b * 32 + j;
      t[o] = q;
      t[o + 4] = -bound(q, e);
      t[o + 8] = bound(q, e);
      t[o + 12] = 2 ** (T - e);
      t[o + 16] = q === 0 ? -0x80000000 : q > 2 ** 30 ? 0 : -1;
      t[o + 20] = q === 0 || e === 0 ? 0 : 2 ** (T - e - 1);
      t[o + 24] = (q === 0 ? 0 : e === 0 ? 2 ** (T - 2) : 2 ** (T - e - 2) + 2 ** (T - 2)) + zp * 2 ** (T - 1);
    }
    t[b * 32 + 28] = T - 1;
  }
  return new Uint8Array(t.buffer);
}

/** FLOAT table: per-channel float32 scales, padded to a multiple of `pad` channels with 0. */
export function floatTable(scales: ArrayLike<number>, pad = 4): Uint8Array {
  const n = scales.length;
  const t = new Float32Array(Math.ceil(Math.max(n, 1) / pad) * pad);
  for (let c = 0; c < n; c++) t[c] = scales[c];
  return new Uint8Array(t.buffer);
}

/**
 * Per-channel real multipliers for a node, as each mode computes them: 'fixed-point' in double precision
 * (TFLite), 'float' in float32 (ONNX Runtime: a_scale * w_scale[n] / y_scale in float).
 */
export function requantScales(mode: RequantMode, inScale: number, weightScales: ArrayLike<number>, outScale: number): Float64Array {
  const out = new Float64Array(weightScales.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = mode === 'float'
      ? Math.fround(Math.fround(Math.fround(inScale) * Math.fround(weightScales[i])) / Math.fround(outScale))
      : (inScale * weightScales[i]) / outScale;
  }
  return out;
}

/**
 * Quantized output bounds after an activation clamp given in real units (ReLU: {min: 0}; ReLU6: {min: 0, max: 6};
 * Clip: any). Bounds are quantized as the output would be: round half to even (min/scale) + zp, saturated.
 */
export function outputRange(t: QuantType, zeroPoint: number, scale: number, clamp?: { min?: number; max?: number }): { qmin: number; qmax: number } {
  let [qmin, qmax] = qrange(t);
  const q = (x: number) => Math.min(Math.max(roundHalfEven(x / scale) + zeroPoint, qmin), qmax);
  if (clamp?.min !== undefined && clamp.min > -Infinity) qmin = Math.max(qmin, q(clamp.min));
  if (clamp?.max !== undefined && clamp.max < Infinity) qmax = Math.min(qmax, q(clamp.max));
  if (qmin > qmax) qmax = qmin;
  return { qmin, qmax };
}

export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
