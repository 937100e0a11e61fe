// Host helpers shared by the INT8 pool / eltwise / dwconv families (qmisc): dtypes, float32 rounding as the
// kernels do it, constant-section layout, variant lookup by path.
import type { Arch } from '../runtime/features.js';
import { pickVariant, type KernelPath, type KernelVariant } from './types.js';

export type Q8Type = 'int8' | 'uint8';

/** Where a factory's kernel will run: the path chosen by src/runtime/select.ts and the host arch. */
export interface KernelTarget {
  path: KernelPath;
  arch?: Arch;
}

export function qrange(t: Q8Type): [number, number] {
  return t === 'int8' ? [-128, 127] : [0, 255];
}

/** Export-name prefix of a dtype: qs8 (int8) or qu8 (uint8). */
export function qprefix(t: Q8Type): 'qs8' | 'qu8' {
  return t === 'int8' ? 'qs8' : 'qu8';
}

export function checkQ8Type(t: unknown, what: string): Q8Type {
  if (t !== 'int8' && t !== 'uint8') throw new Error(`octet: ${what}: dtype must be 'int8' or 'uint8', got ${String(t)}`);
  return t;
}

export function checkZero(z: number, t: Q8Type, what: string): number {
  const [lo, hi] = qrange(t);
  if (!Number.isInteger(z) || z < lo || z > hi) throw new Error(`octet: ${what}: zero point ${z} is outside the ${t} range`);
  return z;
}

export function checkScale(s: number, what: string): number {
  if (!(s > 0) || !Number.isFinite(s)) throw new Error(`octet: ${what}: scale must be a finite positive number, got ${s}`);
  return Math.fround(s);
}

export function checkPositiveInt(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`octet: ${what} must be a positive integer, got ${v}`);
  return v;
}

/** Round half to even of a double (what f32.nearest and the magic-bias trick give on float32 values). */
export function rne(v: number): number {
  const r = Math.round(v);
  if (Math.abs(v - Math.trunc(v)) === 0.5) return 2 * Math.round(v / 2);
  return r;
}

const f64buf = new DataView(new ArrayBuffer(8));
/** float32 fused multiply-add x * y + z rounded once, for float32 x, y, z whose product is exact in f64 (one
 *  of them an integer below 2^29 in magnitude): the f64 sum made round-to-odd with its TwoSum error, then
 *  rounded to float32 (53 >= 24 + 2 bits, so the result is correctly rounded). */
export function fma32(x: number, y: number, z: number): number {
  const p = x * y, s = p + z;
  const bb = s - p, err = (p - (s - bb)) + (z - bb);
  if (err === 0) return Math.fround(s);
  f64buf.setFloat64(0, s);
  const lo = f64buf.getUint32(4);
  if ((lo & 1) === 0) {
    // move one ulp towards err: the 64-bit pattern +-1 (the low word of an even mantissa never wraps on +1,
    // and -1 on an even nonzero low word never borrows; a zero low word borrows from the high word)
    const up = (err > 0) === (s > 0);
    if (up) f64buf.setUint32(4, lo + 1);
    else if (lo !== 0) f64buf.setUint32(4, lo - 1);
    else { f64buf.setUint32(4, 0xffffffff); f64buf.setUint32(0, f64buf.getUint32(0) - 1); }
  }
  return Math.fround(f64buf.getFloat64(0));
}

/** onnxruntime's x86 QLinearAdd output: cvtps_epi32 (NaN and |v| >= 2^31 give INT32_MIN), saturated to the type. */
export function qaddOut(v: number, t: Q8Type): number {
  const [lo, hi] = qrange(t);
  const r = v >= -2147483648 && v < 2147483648 ? rne(v) : -2147483648;
  return r < lo ? lo : r > hi ? hi : r;
}

/** sat(rne(v) + zp) to the dtype range. */
export function quantizeValue(v: number, zp: number, t: Q8Type): number {
  const [lo, hi] = qrange(t);
  if (Number.isNaN(v)) return Math.min(hi, Math.max(lo, zp));
  const q = rne(v) + zp;
  return q < lo ? lo : q > hi ? hi : q;
}

/** Picks a variant's suffix for a target. */
export function variantFor<V extends KernelVariant>(variants: readonly V[], target: KernelTarget): V {
  return pickVariant(variants, target.path, target.arch ?? 'x86');
}

/** Lays out constant sections (16-byte aligned) into one Uint8Array; returns the bytes and each section's offset. */
export class ConstantsBuilder {
  private parts: { at: number; bytes: Uint8Array }[] = [];
  private size = 0;
  add(data: ArrayBufferView, align = 16): number {
    const at = Math.ceil(this.size / align) * align;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.parts.push({ at, bytes });
    this.size = at + bytes.byteLength;
    return at;
  }
  /** The parts in one buffer: from `alloc` (zeroed, e.g. KernelEnv.constAlloc: wasm memory) or a new array. */
  build(alloc?: (bytes: number) => Uint8Array | null): Uint8Array {
    const size = Math.max(16, Math.ceil(this.size / 16) * 16);
    const out = alloc?.(size) ?? new Uint8Array(size);
    for (const p of this.parts) out.set(p.bytes, p.at);
    return out;
  }
}

/** Splits [0, items) default range handling for run(). */
export function range(items: number, begin?: number, end?: number): [number, number] {
  const b = Math.max(0, begin ?? 0);
  const e = Math.min(items, end ?? items);
  return [b, e];
}

export const prod = (a: readonly number[]): number => a.reduce((x, y) => x * y, 1);
