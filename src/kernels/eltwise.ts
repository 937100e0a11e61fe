// INT8 element-wise family (host side): variant list and factories. Semantics in assembly/reference/eltwise.ts.
//
// prepareQAdd / prepareQMul(p: QBinaryParams, target)   io.inputs = [a, b], io.outputs = [y]
//   QBinaryParams: { dtype, aShape, bShape (NHWC or any rank; numpy broadcasting of the forms: same shape,
//   trailing vector (per-channel [C] / [1,1,1,C]), per-image vector ([N,1,1,C]), scalar, per-image scalar),
//   aScale, aZero, bScale, bZero, yScale, yZero, outer? (add), name? }. Output shape: broadcastShape(aShape, bShape).
//   Add computes onnxruntime's x86 formula bit for bit (fused multiply-adds, see assembly/eltwise/qadd.ts); which
//   input is the outer operand follows onnxruntime's broadcaster on the ONNX shapes (ortAddOuter), so a caller
//   that passes channels-last shapes passes outer from the logical ones.
// prepareQConcat(p: QConcatParams, target)   io.inputs = [x0, x1, ...], io.outputs = [y]
//   QConcatParams: { dtype (output), axis, shapes: number[][], inputs: { dtype?, scale, zero }[],
//   yScale, yZero, name? }; an input whose quantization differs is requantized through a 256-entry table
//   (y = sat(rne(f32(f32(x - zx) * sx) / sy) + zy), as QLinearConcat dequantizes then quantizes).
// prepareQuantize(p: QuantizeParams, target)   io.inputs = [x (float32)], io.outputs = [y (int8/uint8)]
// prepareDequantize(p: QuantizeParams, target) io.inputs = [x (int8/uint8)], io.outputs = [y (float32)]
//   QuantizeParams: { dtype, shape, axis? (per-axis when scale is an array), scale: number | number[],
//   zeroPoint?: number | number[], name? }
// prepareQLut(kind, p: QLutParams, target)   io.inputs = [x], io.outputs = [y] (same shape)
//   kind: 'requantize' | 'sigmoid' | 'hardsigmoid' | 'hardswish' | 'leakyrelu' | 'tanh' | 'relu' | 'clip'
//   QLutParams: { dtype (input), outDtype? (default dtype), count (elements), xScale, xZero, yScale, yZero,
//   alpha?, beta? (hardsigmoid alpha 0.2 beta 0.5; leakyrelu alpha 0.01), min?, max? (clip), name? }.
//   The table is built here: y = quantize(f(dequantize(x))) in float32; the kernel only applies it.
// prepareQResizeNearest(p: QResizeNearestParams, target)   io.inputs = [x], io.outputs = [y]
//   QResizeNearestParams: { dtype?, shape: [N, H, W, C], outH, outW, scales?: [sh, sw] (when the node had scales;
//   otherwise outH/H), coordinateTransformationMode? ('half_pixel'), nearestMode? ('round_prefer_floor'), name? }
//   Works on bytes: any element size can be passed as C * bytesPerElement.
// Work items: rows of the flattened output (add, mul, lut, quantize), outer rows (concat), output rows (resize).
import type { KernelVariant, PreparedKernel, KernelIO } from './types.js';
import type { WasmKernels } from '../runtime/wasm.js';
import {
  ConstantsBuilder, checkPositiveInt, checkQ8Type, checkScale, checkZero, fma32, prod, qprefix, qrange, quantizeValue, range,
  variantFor, type KernelTarget, type Q8Type,
} from './qcommon.js';

export interface EltwiseVariant extends KernelVariant {
  suffix: string;
}

export const ELTWISE_VARIANTS: readonly EltwiseVariant[] = [
  { family: 'q8-eltwise', name: 'q8_eltwise__scalar', build: 'scalar', flavor: 'any', suffix: 'scalar' },
  { family: 'q8-eltwise', name: 'q8_eltwise__simd128', build: 'simd128', flavor: 'any', suffix: 'simd128' },
];

// ---------------------------------------------------------------------------------------------- add / mul

export interface QBinaryParams {
  dtype: Q8Type;
  aShape: number[];
  bShape: number[];
  aScale: number;
  aZero: number;
  bScale: number;
  bZero: number;
  yScale: number;
  yZero: number;
  /** add only: which input is the outer operand of onnxruntime's fused formula (default: ortAddOuter(aShape, bShape)). */
  outer?: 'a' | 'b';
  /** add only: integer output bounds [lo, hi] applied after the add (a fused Relu / Clip; default the type's range). */
  clamp?: [number, number];
  name?: string;
}

/**
 * Which input onnxruntime's QLinearAdd treats as its span "A" (the outer fused multiply-add), from the ONNX (logical)
 * shapes: its broadcaster walks the innermost output dimension that is not 1; when both inputs are full there it is
 * input 0, when one input is broadcast there (a scalar per span) it is the other, full one; a one-element output
 * counts input 0 as the scalar.
 */
export function ortAddOuter(aShape: readonly number[], bShape: readonly number[]): 'a' | 'b' {
  const y = broadcastShape(aShape, bShape);
  const pad = (s: readonly number[]) => [...Array(y.length - s.length).fill(1), ...s];
  const a = pad(aShape);
  let k = y.length - 1;
  while (k >= 0 && y[k] === 1) k--;
  if (k < 0) return 'b';
  return a[k] === y[k] ? 'a' : 'b';
}

/**
 * Whether every f64 sum inside the add kernel's two fused multiply-adds is exact for these parameters (then the
 * SIMD kernel skips its round-to-odd correction): inner x * ri + fixed for all 256 bytes x, outer x * ro + t for
 * all 256 x and every inner result t. TwoSum errors, 65,536 checks at most.
 */
export function qaddSumsExact(dtype: Q8Type, ro: number, ri: number, fixed: number): boolean {
  const xs = rangeOf(dtype);
  // Sufficient condition first (session creation time, bench/cold-phases.ts): a + b is exact in f64 when both are
  // multiples of 2^L and |a + b| < 2^(L + 53). x * r is a multiple of r's lowest bit (x an integer), so one bound
  // per stage settles all 256 x at once; only when it fails are the sums checked one by one.
  const maxX = dtype === 'int8' ? 128 : 255;
  let maxT = 0, lo2 = lowBit(ro);
  let fast = maxX * Math.abs(ri) + Math.abs(fixed) < 2 ** (Math.min(lowBit(ri), lowBit(fixed)) + 53);
  if (fast) {
    for (const x of xs) {
      const t = fma32(x, ri, fixed);
      maxT = Math.max(maxT, Math.abs(t));
      lo2 = Math.min(lo2, lowBit(t));
    }
    fast = maxX * Math.abs(ro) + maxT < 2 ** (lo2 + 53);
  }
  if (fast) return true;
  const exact = (p: number, t: number) => {
    const s = p + t, bb = s - p;
    return (p - (s - bb)) + (t - bb) === 0;
  };
  const ts = new Set<number>();
  for (const x of xs) {
    if (!exact(x * ri, fixed)) return false;
    ts.add(fma32(x, ri, fixed));
  }
  for (const t of ts) for (const x of xs) if (!exact(x * ro, t)) return false;
  return true;
}

/** Exponent of the lowest set bit of a finite double (Infinity for 0): v is a multiple of 2^lowBit(v). */
function lowBit(v: number): number {
  if (v === 0) return Infinity;
  let a = Math.abs(v), e = 0;
  while (!Number.isInteger(a)) { a *= 2; e--; }
  while (a >= 2 ** 53) { a /= 2; e++; }
  while (a % 2 === 0) { a /= 2; e++; }
  return e;
}

/**
 * The fixed-point screen of the SIMD add kernel (assembly/eltwise/simd128.ts): acc = x_big * M_big + x_small * M_small + F
 * in i32 with M = rne(r * 2^s), F = rne(fixed * 2^s) + 2^(s-1), so acc / 2^s - 1/2 is within E of v (the float32 result
 * of the fused formula): E = 2^-s (maxX + 1/2) for the multiplier and constant roundings, plus half an ulp each for the
 * two float32 roundings of v and of the inner sum. W = ceil(E 2^s) + 1: whenever acc is at least W away from every
 * multiple of 2^s, floor(acc / 2^s) = rne(v) (no half-integer between v and acc / 2^s - 1/2), and the kernel stores it;
 * other 16-element steps take the exact form. s = 0 (no screen) when more than 1/64 of the 65,536 byte pairs would
 * fall in the window (e.g. ratios that put many sums on half-integers, or very large ratios).
 */
export function qaddScreen(dtype: Q8Type, rBig: number, rSmall: number, fixed: number): { s: number; mh: number; ml: number; F: number; W: number } {
  const none = { s: 0, mh: 0, ml: 0, F: 0, W: 0 };
  const maxX = dtype === 'int8' ? 128 : 255;
  const umax = maxX * (Math.abs(rBig) + Math.abs(rSmall)) + Math.abs(fixed);
  if (!Number.isFinite(umax)) return none;
  const s = Math.min(24, Math.floor(Math.log2(2 ** 30 / (umax + 2))));
  if (s < 8) return none;
  const mb = Math.round(rBig * 2 ** s), ms = Math.round(rSmall * 2 ** s);
  const F = Math.round(fixed * 2 ** s) + 2 ** (s - 1);
  const ulpHalf = 2 ** (Math.ceil(Math.log2(umax + 1)) - 24);
  const W = Math.ceil((2 ** -s * (maxX + 0.5) + 2 * ulpHalf) * 2 ** s) + 1;
  const mask = 2 ** s - 1;
  if (4 * W > mask) return none;
  // every byte pair (a, b) of the type (plain counted loops: this runs per QLinearAdd at session creation)
  const [lo, hi] = qrange(dtype), W2 = 2 * W;
  let near = 0;
  for (let b = lo; b <= hi; b++) {
    const base = b * ms + F + W;
    for (let a = lo; a <= hi; a++) if (((a * mb + base) & mask) < W2) near++;
  }
  if (near * 64 > 65536) return none;
  // (hi, lo) 15-bit halves: M = hi * 2^15 + lo with lo in [0, 2^15), hi fits int16 since |M| < 2^30 / maxX
  return { s, mh: ((Math.floor(mb / 32768) & 0xffff) | (Math.floor(ms / 32768) << 16)) | 0, ml: ((mb & 0x7fff) | ((ms & 0x7fff) << 16)) | 0, F, W };
}

/** The fused formula's constant: f32(zy - fma(ro, zo, f32(ri * zi))) (as onnxruntime's compiled kernel rounds it). */
export function qaddFixed(ro: number, zo: number, ri: number, zi: number, zy: number): number {
  return Math.fround(zy - fma32(ro, zo, Math.fround(ri * zi)));
}

export function broadcastShape(a: readonly number[], b: readonly number[], who = 'node'): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1, y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`octet: ${who}: shapes [${a}] and [${b}] do not broadcast`);
    out.push(Math.max(x, y));
  }
  return out;
}

/** Kernel geometry for y = op(big, small): rows x C with small indexed (r / rdiv) * bstride + c * bcs. */
export interface BroadcastPlan {
  swap: boolean;
  rows: number;
  C: number;
  rdiv: number;
  bstride: number;
  bcs: number;
  total: number;
}

export function planBroadcast(aShape: readonly number[], bShape: readonly number[], who: string): BroadcastPlan {
  const y = broadcastShape(aShape, bShape, who);
  const total = prod(y);
  const pad = (s: readonly number[]) => [...Array(y.length - s.length).fill(1), ...s];
  const a = pad(aShape), b = pad(bShape);
  const aFull = a.every((v, i) => v === y[i]);
  const bFull = b.every((v, i) => v === y[i]);
  if (!aFull && !bFull) throw new Error(`octet: ${who}: broadcasting both inputs ([${aShape}] and [${bShape}]) is not supported`);
  const swap = !aFull;
  const s = swap ? a : b;
  const last = y.length ? y[y.length - 1] : 1;
  if (total === 0) return { swap, rows: 0, C: 1, rdiv: 1, bstride: 0, bcs: 0, total };
  if (s.every((v, i) => v === y[i])) {
    return { swap, rows: total / last, C: last, rdiv: 1, bstride: last, bcs: 1, total };
  }
  if (s.every((v) => v === 1)) {
    return { swap, rows: total / last, C: last, rdiv: total / last, bstride: 0, bcs: 0, total };
  }
  // prefix where small == y, then dims where small == 1 (and y may be > 1), then a suffix where small == y
  let i = 0;
  while (i < y.length && s[i] === y[i]) i++;
  let j = i;
  while (j < y.length && s[j] === 1) j++;
  const rest = s.slice(j);
  if (!rest.every((v, k) => v === y[j + k])) {
    throw new Error(`octet: ${who}: broadcast of [${s}] against [${y}] is not supported (only same shape, trailing vector, per-image vector, scalar)`);
  }
  const pre = prod(y.slice(0, i)), mid = prod(y.slice(i, j)), suf = prod(y.slice(j));
  if (j < y.length) return { swap, rows: pre * mid, C: suf, rdiv: mid, bstride: suf, bcs: 1, total };
  return { swap, rows: pre, C: mid, rdiv: 1, bstride: 1, bcs: 0, total };
}

function prepareBinary(op: 'add' | 'mul', p: QBinaryParams, target: KernelTarget): PreparedKernel {
  const who = `${op === 'add' ? 'QLinearAdd' : 'QLinearMul'}${p.name ? ` '${p.name}'` : ''}`;
  const dtype = checkQ8Type(p.dtype, who);
  const sa = checkScale(p.aScale, `${who} a`), sb = checkScale(p.bScale, `${who} b`), sy = checkScale(p.yScale, `${who} y`);
  const za = checkZero(p.aZero, dtype, `${who} a`), zb = checkZero(p.bZero, dtype, `${who} b`), zy = checkZero(p.yZero, dtype, `${who} y`);
  const plan = planBroadcast(p.aShape, p.bShape, who);
  const v = variantFor(ELTWISE_VARIANTS, target);
  const fname = `${qprefix(dtype)}_${op}__${v.suffix}`;
  // params block: add: f32 r_big, f32 r_small, f32 fixed, i32 outer_is_big, i32 exact (sums exact in f64), i32 lo, i32 hi
  // (output clamp), then the SIMD kernel's fixed-point screen (qaddScreen; layout in assembly/eltwise/simd128.ts);
  // mul: f32 r, -, i32 z_big, i32 z_small, i32 zy
  const prm = new ArrayBuffer(64);
  const f = new Float32Array(prm), i = new Int32Array(prm);
  const [zBig, zSmall] = plan.swap ? [zb, za] : [za, zb];
  if (op === 'add') {
    const ra = Math.fround(sa / sy), rb = Math.fround(sb / sy);
    const outerA = (p.outer ?? ortAddOuter(p.aShape, p.bShape)) === 'a';
    f[0] = plan.swap ? rb : ra;
    f[1] = plan.swap ? ra : rb;
    f[2] = outerA ? qaddFixed(ra, za, rb, zb, zy) : qaddFixed(rb, zb, ra, za, zy);
    i[3] = outerA !== plan.swap ? 1 : 0;
    i[4] = qaddSumsExact(dtype, outerA ? ra : rb, outerA ? rb : ra, f[2]) ? 1 : 0;
    const [qlo, qhi] = qrange(dtype);
    const [lo, hi] = p.clamp ?? [qlo, qhi];
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < qlo || hi > qhi || lo > hi) {
      throw new Error(`octet: ${who}: output clamp [${lo}, ${hi}] must be integers within the ${dtype} range, lo <= hi`);
    }
    i[5] = lo;
    i[6] = hi;
    if (v.suffix !== 'scalar') {
      const sc = qaddScreen(dtype, f[0], f[1], f[2]);
      i.set([sc.s, sc.mh, sc.ml, sc.F, sc.W, 2 ** sc.s - 1, 2 * sc.W], 7);
    }
  } else {
    f[0] = Math.fround(Math.fround(sa * sb) / sy);
    i[2] = zBig;
    i[3] = zSmall;
    i[4] = zy;
  }
  const items = plan.rows;
  return {
    variant: fname,
    constants: new Uint8Array(prm),
    scratchBytes: 0,
    workItems: items,
    cost: plan.total,
    // same shapes: rows [b, e) of C bytes read the same rows of both inputs and write those of the output
    access: plan.rdiv === 1 && plan.bcs === 1 && plan.bstride === plan.C ? (io: KernelIO, begin: number, end: number) => {
      const span = (at: number): [number, number] => [at + begin * plan.C, at + end * plan.C];
      return { reads: [span(io.inputs[0]), span(io.inputs[1])], writes: [span(io.outputs[0])] };
    } : undefined,
    run(wasm: WasmKernels, io: KernelIO, begin?: number, end?: number) {
      const [b, e] = range(items, begin, end);
      if (b >= e) return;
      const [big, small] = plan.swap ? [io.inputs[1], io.inputs[0]] : [io.inputs[0], io.inputs[1]];
      wasm.exports[fname](big, small, io.outputs[0], plan.C, plan.rdiv, plan.bstride, plan.bcs, io.constants, b, e);
    },
  };
}

export const prepareQAdd = (p: QBinaryParams, target: KernelTarget) => prepareBinary('add', p, target);
export const prepareQMul = (p: QBinaryParams, target: KernelTarget) => prepareBinary('mul', p, target);

// ---------------------------------------------------------------------------------------------- tables

function rangeOf(t: Q8Type): number[] {
  return t === 'int8' ? Array.from({ length: 256 }, (_, b) => (b < 128 ? b : b - 256)) : Array.from({ length: 256 }, (_, b) => b);
}

/** 256-entry table indexed by the input byte: y = quantize(f(dequantize(x))), float32 steps. */
export function buildLut(
  inType: Q8Type, outType: Q8Type, xScale: number, xZero: number, yScale: number, yZero: number, f: (x: number) => number,
): Uint8Array {
  const t = new Uint8Array(256);
  const vals = rangeOf(inType);
  for (let b = 0; b < 256; b++) {
    const x = Math.fround(Math.fround(vals[b] - xZero) * Math.fround(xScale));
    const y = Math.fround(f(x));
    const q = quantizeValue(Math.fround(y / Math.fround(yScale)), yZero, outType);
    t[b] = q & 0xff;
  }
  return t;
}

export type LutKind = 'requantize' | 'sigmoid' | 'hardsigmoid' | 'hardswish' | 'leakyrelu' | 'tanh' | 'relu' | 'clip';

export interface QLutParams {
  dtype: Q8Type;
  outDtype?: Q8Type;
  count: number;
  xScale: number;
  xZero: number;
  yScale: number;
  yZero: number;
  alpha?: number;
  beta?: number;
  min?: number;
  max?: number;
  name?: string;
}

export function lutFunction(kind: LutKind, p: { alpha?: number; beta?: number; min?: number; max?: number }): (x: number) => number {
  switch (kind) {
    case 'requantize': return (x) => x;
    case 'sigmoid': return (x) => 1 / (1 + Math.exp(-x));
    case 'tanh': return (x) => Math.tanh(x);
    case 'relu': return (x) => Math.max(0, x);
    case 'clip': { const lo = p.min ?? -Infinity, hi = p.max ?? Infinity; return (x) => Math.min(hi, Math.max(lo, x)); }
    case 'leakyrelu': { const a = Math.fround(p.alpha ?? 0.01); return (x) => (x >= 0 ? x : Math.fround(a * x)); }
    case 'hardsigmoid': {
      const a = Math.fround(p.alpha ?? 0.2), b = Math.fround(p.beta ?? 0.5);
      return (x) => Math.max(0, Math.min(1, Math.fround(Math.fround(a * x) + b)));
    }
    case 'hardswish': return (x) => Math.fround(x * Math.max(0, Math.min(1, Math.fround(Math.fround(x / 6) + 0.5))));
    default: throw new Error(`octet: unknown lookup-table activation '${String(kind)}'`);
  }
}

/**
 * The 256-entry table kernels (family 'x8-lut'; all exact, they only differ in speed). bench/eltwise-q8.ts, 200 KB,
 * AMD EPYC 2-core VM, Node 20, load 14: the scalar u32-packed loop 2.3-2.5 GB/s; the 16 strict i8x16.swizzle lookups
 * 0.8x its speed on x86 (V8 lowers each to paddusb + pshufb), so the x86 path keeps the scalar loop; the
 * relaxed-swizzle kernel with pshufb semantics (XOR-telescoped sub-tables, 32 bytes per step) 1.35-1.45x its speed on
 * the relaxed path of x86-like engines, the only ones where it is valid. The strict-swizzle kernel runs on ARM-like
 * paths, where swizzle is one tbl (as XNNPACK chooses for wasm on ARM; not measured here: no ARM host).
 */
export const LUT_VARIANTS: readonly KernelVariant[] = [
  { family: 'x8-lut', name: 'x8_lut__scalar', build: 'scalar', flavor: 'any' },
  { family: 'x8-lut', name: 'x8_lut__simd128_swizzle', build: 'simd128', flavor: 'arm' },
  { family: 'x8-lut', name: 'x8_lut__relaxed_pshufb', build: 'relaxed', flavor: 'x86' },
];

function lutKernel(target: KernelTarget): string {
  return variantFor(LUT_VARIANTS, target).name;
}

const LUT_ROW = 4096;

export function prepareQLut(kind: LutKind, p: QLutParams, target: KernelTarget): PreparedKernel {
  const who = `${kind}${p.name ? ` '${p.name}'` : ''}`;
  const inT = checkQ8Type(p.dtype, who);
  const outT = checkQ8Type(p.outDtype ?? p.dtype, who);
  const xs = checkScale(p.xScale, `${who} x`), ys = checkScale(p.yScale, `${who} y`);
  const zx = checkZero(p.xZero, inT, `${who} x`), zy = checkZero(p.yZero, outT, `${who} y`);
  if (!Number.isInteger(p.count) || p.count < 0) throw new Error(`octet: ${who}: count must be a non-negative integer`);
  const table = buildLut(inT, outT, xs, zx, ys, zy, lutFunction(kind, p));
  const fname = lutKernel(target);
  const n = p.count;
  const items = Math.ceil(n / LUT_ROW);
  return {
    variant: fname,
    constants: table,
    scratchBytes: 0,
    workItems: items,
    cost: n,
    run(wasm: WasmKernels, io: KernelIO, begin?: number, end?: number) {
      const [b, e] = range(items, begin, end);
      if (b >= e) return;
      const f = wasm.exports[fname];
      const full = Math.min(e, Math.floor(n / LUT_ROW));
      if (full > b) f(io.inputs[0], io.outputs[0], LUT_ROW, LUT_ROW, LUT_ROW, io.constants, b, full);
      if (e > full && full * LUT_ROW < n) {
        const off = full * LUT_ROW;
        f(io.inputs[0] + off, io.outputs[0] + off, n - off, 0, 0, io.constants, 0, 1);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------- concat

export interface QConcatParams {
  dtype: Q8Type;
  axis: number;
  shapes: number[][];
  inputs: { dtype?: Q8Type; scale: number; zero: number }[];
  yScale: number;
  yZero: number;
  name?: string;
}

export function prepareQConcat(p: QConcatParams, target: KernelTarget): PreparedKernel {
  const who = `Concat${p.name ? ` '${p.name}'` : ''}`;
  const outT = checkQ8Type(p.dtype, who);
  const ys = checkScale(p.yScale, `${who} y`), zy = checkZero(p.yZero, outT, `${who} y`);
  if (!p.shapes.length || p.shapes.length !== p.inputs.length) throw new Error(`octet: ${who}: needs one shape and one quantization per input`);
  const rank = p.shapes[0].length;
  const axis = p.axis < 0 ? p.axis + rank : p.axis;
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) throw new Error(`octet: ${who}: axis ${p.axis} out of range for rank ${rank}`);
  p.shapes.forEach((s, k) => {
    if (s.length !== rank || s.some((d, i) => i !== axis && d !== p.shapes[0][i])) {
      throw new Error(`octet: ${who}: input ${k} shape [${s}] does not match [${p.shapes[0]}] outside axis ${axis}`);
    }
  });
  const outer = prod(p.shapes[0].slice(0, axis));
  const inners = p.shapes.map((s) => prod(s.slice(axis)));
  const ystride = inners.reduce((a, b) => a + b, 0);
  const cb = new ConstantsBuilder();
  const plan = p.inputs.map((q, k) => {
    const inT = checkQ8Type(q.dtype ?? outT, `${who} input ${k}`);
    const xs = checkScale(q.scale, `${who} input ${k}`), zx = checkZero(q.zero, inT, `${who} input ${k}`);
    const same = inT === outT && xs === ys && zx === zy;
    const table = same ? -1 : cb.add(buildLut(inT, outT, xs, zx, ys, zy, (x) => x));
    return { table, inner: inners[k] };
  });
  const suffix = variantFor(ELTWISE_VARIANTS, target).suffix;
  const lut = lutKernel(target), copy = `x8_copy__${suffix}`;
  return {
    variant: `${lut}+${copy}`,
    constants: cb.build(),
    scratchBytes: 0,
    workItems: outer,
    cost: outer * ystride,
    run(wasm: WasmKernels, io: KernelIO, begin?: number, end?: number) {
      const [b, e] = range(outer, begin, end);
      if (b >= e) return;
      let off = 0;
      plan.forEach((q, k) => {
        if (q.inner > 0) {
          if (q.table < 0) wasm.exports[copy](io.inputs[k], io.outputs[0] + off, q.inner, q.inner, ystride, b, e);
          else wasm.exports[lut](io.inputs[k], io.outputs[0] + off, q.inner, q.inner, ystride, io.constants + q.table, b, e);
        }
        off += q.inner;
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------- quantize

export interface QuantizeParams {
  dtype: Q8Type;
  shape: number[];
  axis?: number;
  scale: number | number[];
  zeroPoint?: number | number[];
  name?: string;
}

const Q_ROW = 4096;

function prepareQ(dir: 'quantize' | 'dequantize', p: QuantizeParams, target: KernelTarget): PreparedKernel {
  const who = `${dir === 'quantize' ? 'QuantizeLinear' : 'DequantizeLinear'}${p.name ? ` '${p.name}'` : ''}`;
  const dtype = checkQ8Type(p.dtype, who);
  const total = prod(p.shape);
  const scales = Array.isArray(p.scale) ? p.scale : [p.scale];
  const zps = p.zeroPoint === undefined ? scales.map(() => 0) : Array.isArray(p.zeroPoint) ? p.zeroPoint : [p.zeroPoint];
  if (zps.length !== scales.length) throw new Error(`octet: ${who}: ${scales.length} scales but ${zps.length} zero points`);
  let rows: number, cols: number, perCol: number, period: number;
  if (scales.length === 1 && !(Array.isArray(p.scale) && p.axis !== undefined && p.shape.length)) {
    cols = Math.min(total, Q_ROW);
    rows = cols ? Math.ceil(total / cols) : 0;
    perCol = 0;
    period = 1;
  } else {
    const rank = p.shape.length;
    const axis = (p.axis ?? 1) < 0 ? (p.axis ?? 1) + rank : p.axis ?? 1;
    if (axis < 0 || axis >= rank) throw new Error(`octet: ${who}: axis ${p.axis} out of range for rank ${rank}`);
    if (p.shape[axis] !== scales.length) throw new Error(`octet: ${who}: ${scales.length} scales for axis ${axis} of size ${p.shape[axis]}`);
    const inner = prod(p.shape.slice(axis + 1));
    if (inner === 1) {
      cols = scales.length; rows = total / cols; perCol = 1; period = 1;
    } else {
      cols = inner; rows = total / inner; perCol = 0; period = scales.length;
    }
  }
  const sc = new Float32Array(Math.max(4, scales.length + 8));
  const zp = new Int32Array(Math.max(4, zps.length + 8));
  scales.forEach((s, k) => (sc[k] = checkScale(s, `${who} scale ${k}`)));
  zps.forEach((z, k) => (zp[k] = checkZero(z, dtype, `${who} zero point ${k}`)));
  const cb = new ConstantsBuilder();
  const so = cb.add(sc), zo = cb.add(zp);
  const fname = `${qprefix(dtype)}_${dir}__${variantFor(ELTWISE_VARIANTS, target).suffix}`;
  const esz = dir === 'quantize' ? 4 : 1;
  return {
    variant: fname,
    constants: cb.build(),
    scratchBytes: 0,
    workItems: rows,
    cost: total,
    run(wasm: WasmKernels, io: KernelIO, begin?: number, end?: number) {
      const [b, e] = range(rows, begin, end);
      if (b >= e) return;
      const f = wasm.exports[fname];
      // the last row may be partial in the per-tensor layout
      const lastFull = Math.min(e, Math.floor(total / cols));
      if (lastFull > b) f(io.inputs[0], io.outputs[0], cols, io.constants + so, io.constants + zo, perCol, period, b, lastFull);
      if (e > lastFull && lastFull * cols < total) {
        const off = lastFull * cols;
        f(io.inputs[0] + off * esz, io.outputs[0] + off * (5 - esz), total - off, io.constants + so, io.constants + zo, perCol, period, 0, 1);
      }
    },
  };
}

/** Requantize between two scales (and int8 <-> uint8): a 256-entry table, y = sat(rne(f32(f32(x - zx) * sx) / sy) + zy). */
export function prepareQRequantize(p: Omit<QLutParams, 'alpha' | 'beta' | 'min' | 'max'>, target: KernelTarget): PreparedKernel {
  return prepareQLut('requantize', p, target);
}

export const prepareQuantize = (p: QuantizeParams, target: KernelTarget) => prepareQ('quantize', p, target);
export const prepareDequantize = (p: QuantizeParams, target: KernelTarget) => prepareQ('dequantize', p, target);

// ---------------------------------------------------------------------------------------------- resize

export type CoordMode = 'half_pixel' | 'half_pixel_symmetric' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric' | 'tf_half_pixel_for_nn';
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

export interface QResizeNearestParams {
  shape: [number, number, number, number];
  outH: number;
  outW: number;
  scales?: [number, number];
  coordinateTransformationMode?: CoordMode;
  nearestMode?: NearestMode;
  name?: string;
}

/** Source index for each output index along one axis (ONNX Resize, mode nearest). */
export function nearestMap(inLen: number, outLen: number, scale: number, cmode: CoordMode, nmode: NearestMode): Int32Array {
  const m = new Int32Array(Math.max(4, outLen));
  for (let o = 0; o < outLen; o++) {
    let x: number;
    switch (cmode) {
      case 'half_pixel': x = (o + 0.5) / scale - 0.5; break;
      case 'half_pixel_symmetric': {
        const adj = outLen / (scale * inLen);
        const center = inLen / 2;
        x = center * (1 - adj) + (o + 0.5) / scale - 0.5;
        break;
      }
      case 'pytorch_half_pixel': x = outLen > 1 ? (o + 0.5) / scale - 0.5 : 0; break;
      case 'align_corners': x = outLen === 1 ? 0 : (o * (inLen - 1)) / (outLen - 1); break;
      case 'asymmetric': x = o / scale; break;
      case 'tf_half_pixel_for_nn': x = (o + 0.5) / scale; break;
      default: throw new Error(`octet: Resize: unknown coordinate_transformation_mode '${String(cmode)}'`);
    }
    let i: number;
    switch (nmode) {
      case 'round_prefer_floor': i = x - Math.floor(x) === 0.5 ? Math.floor(x) : Math.round(x); break;
      case 'round_prefer_ceil': i = x - Math.floor(x) === 0.5 ? Math.ceil(x) : Math.round(x); break;
      case 'floor': i = Math.floor(x); break;
      case 'ceil': i = Math.ceil(x); break;
      default: throw new Error(`octet: Resize: unknown nearest_mode '${String(nmode)}'`);
    }
    m[o] = Math.min(inLen - 1, Math.max(0, i));
  }
  return m;
}

export function prepareQResizeNearest(p: QResizeNearestParams, target: KernelTarget): PreparedKernel {
  const who = `Resize${p.name ? ` '${p.name}'` : ''}`;
  if (!Array.isArray(p.shape) || p.shape.length !== 4) throw new Error(`octet: ${who}: input shape must be [N, H, W, C]`);
  const [N, H, W, C] = p.shape.map((v, i) => checkPositiveInt(v, `${who}: input dim ${i}`));
  const OH = checkPositiveInt(p.outH, `${who}: output height`), OW = checkPositiveInt(p.outW, `${who}: output width`);
  const [sh, sw] = p.scales ?? [OH / H, OW / W];
  const cm = p.coordinateTransformationMode ?? 'half_pixel', nm = p.nearestMode ?? 'round_prefer_floor';
  const cb = new ConstantsBuilder();
  const yo = cb.add(nearestMap(H, OH, sh, cm, nm)), xo = cb.add(nearestMap(W, OW, sw, cm, nm));
  const fname = `x8_resize_nearest__${variantFor(ELTWISE_VARIANTS, target).suffix}`;
  const items = N * OH;
  return {
    variant: fname,
    constants: cb.build(),
    scratchBytes: 0,
    workItems: items,
    cost: N * OH * OW * C,
    run(wasm: WasmKernels, io: KernelIO, begin?: number, end?: number) {
      const [b, e] = range(items, begin, end);
      if (b >= e) return;
      wasm.exports[fname](io.inputs[0], io.outputs[0], H, W, C, OH, OW, io.constants + yo, io.constants + xo, b, e);
    },
  };
}

// ---------------------------------------------------------------------------------------------- dynamic quantization

/**
 * DynamicQuantizeLinear over `count` float32 values: io.inputs = [x], io.outputs = [y (uint8), scale (f32), zp (u8)].
 * One work item (min / max over the whole tensor first). Semantics: ref_f32_dynquant_u8 (assembly/reference/eltwise.ts).
 */
export function prepareDynamicQuantize(p: { count: number; name?: string }, target: KernelTarget): PreparedKernel {
  const who = `DynamicQuantizeLinear${p.name ? ` '${p.name}'` : ''}`;
  const n = checkPositiveInt(p.count, `${who}: element count`);
  const fname = `f32_dynquant_u8__${variantFor(ELTWISE_VARIANTS, target).suffix}`;
  return {
    variant: fname,
    constants: new Uint8Array(0),
    scratchBytes: 0,
    workItems: 1,
    cost: n * 2,
    run(wasm: WasmKernels, io: KernelIO, begin = 0, end = 1) {
      if (end > begin) wasm.exports[fname](io.inputs[0], n, io.outputs[0], io.outputs[1], io.outputs[2]);
    },
  };
}
