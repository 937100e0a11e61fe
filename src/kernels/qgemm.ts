// qs8 GEMM family: variant list, weight packing, and the host API the runtime calls.
//
// Host API (for the runtime / ops):
//   prepareQGemm(p: QGemmParams): PreparedKernel
//     QLinearMatMul / Gemm / fully connected / MatMulInteger. A = activations [M, K] row-major (int8 or uint8),
//     B = weights, given as [K, N] ('kn', MatMul) or [N, K] ('nk', Gemm transB=1 / conv OIHW flattened),
//     int8 or uint8 with per-tensor or per-output-channel zero points and scales.
//     Output [M, N] row-major: int8/uint8 (requantized, 'fixed-point' or 'float' mode, activation clamp fused),
//     int32 (raw accumulators + int32 bias), or float32 (acc * aScale * wScale[n] + float bias[n]).
//     io.inputs = [A offset], io.outputs = [C offset], io.scratch = scratchBytes (16 * ceil(K/2) + 16 for the
//     dot16 kernel, else 0). workItems: row quads or 8-column blocks (gemmSplit).
//     Bad parameters throw an Error naming `p.name` and the problem.
//   planQGemm(...) is the lower-level piece the convolution family reuses (packed weights + tables + a call).
//
// Numerics (every variant is bit-exact with assembly/reference/gemm.ts):
//   acc[m,n] = bias[n] + sum_k (A[m,k] - za) * (B[k,n] - zb[n])  in int32, exact for K <= 16384
//   (|A - za|, |B - zb| <= 255 -> |acc - bias| < 2^30.1). The activation zero point is folded into the packed
//   per-column initial value bias[n] - za * sum_k (B[k,n] - zb[n]), so the inner loop never sees it.
//   uint8 A: the dot16 and scalar kernels read it as is; extmul/rdot xor it with 0x80 and use za - 128.
//   Weights with zb != 0 whose B - zb leaves int8 (ONNX uint8 weights) run on the dot16 layout (int16 weights)
//   on every SIMD path; the relaxed kernel also needs the weights not to contain both -128 and 127.
import type { KernelVariant, PreparedKernel, KernelPath, KernelIO } from './types.js';
import { pickVariant } from './types.js';
import { qrange } from './qcommon.js';
import type { Arch } from '../runtime/features.js';
import type { WasmKernels } from '../runtime/wasm.js';
import { fixedTable, fixedxTable, floatTable, requantScales, outputRange, type QuantType, type RequantMode } from './requant.js';

export type QGemmLayout = 'dot16' | 'extmul' | 'rdot';

export interface QGemmVariant extends KernelVariant {
  layout: QGemmLayout;
  mr: number;
  nr: number;
  kr: number;
}

export const QGEMM_VARIANTS: readonly QGemmVariant[] = [
  { family: 'qs8-gemm', name: 'qs8_gemm_1x8c2__scalar', build: 'scalar', flavor: 'any', layout: 'dot16', mr: 1, nr: 8, kr: 2 },
  { family: 'qs8-gemm', name: 'qs8_gemm_4x8c2__simd128_dot16', build: 'simd128', flavor: 'x86', layout: 'dot16', mr: 4, nr: 8, kr: 2 },
  { family: 'qs8-gemm', name: 'qs8_gemm_4x8c2__simd128_extmul', build: 'simd128', flavor: 'arm', layout: 'extmul', mr: 4, nr: 8, kr: 2 },
  // x86 flavour: on arm64 V8 lowers i16x8.relaxed_dot_i8x16_i7x16_s to smull+smull2+addp, so two of them per
  // 16 MACs lose to extmul (smull/sadalp). On x86 (pmaddubsw + pmaddwd, twice for the 7-bit split) it loses to
  // dot16 too: `npm run bench` (2026-11-27 05:00, load 3) MobileNetV2 24.3 vs 17.0 ms, ResNet-18 101 vs 56.9 ms;
  // bench/profile.ts (MobileNetV2, 1x1 convs) 16.5 vs 9.7 ms. Priority -1: the relaxed path runs dot16 (same
  // build family, simd128 ⊂ relaxed); rdot stays available by name (tests, benchmarks) for engines where V8
  // emits VNNI for the relaxed dot.
  { family: 'qs8-gemm', name: 'qs8_gemm_4x8c4__relaxed_rdot', build: 'relaxed', flavor: 'x86', priority: -1, layout: 'rdot', mr: 4, nr: 8, kr: 4 },
];

export const DOT16 = QGEMM_VARIANTS[1];

/** Epilogue kinds (assembly/gemm/epilogue.ts). */
export const EPI = { fixed: 0, float: 1, int32: 2, float32: 3, fixedNoLeftShift: 4, fixedOneMul: 5, floatUnclamped: 6 } as const;

export type QOutput =
  | { type: QuantType; scale: number; zeroPoint: number; clamp?: { min?: number; max?: number } }
  | { type: 'int32' }
  | { type: 'float32' };

export interface QWeights {
  /** Raw weight bytes. */
  data: Int8Array | Uint8Array;
  type: QuantType;
  /** 'kn' = [K, N] row-major (MatMul B); 'nk' = [N, K] (Gemm with transB, conv weights [OC, KH*KW*C]). */
  layout: 'kn' | 'nk';
  zeroPoints?: number | ArrayLike<number>;
  scales: number | ArrayLike<number>;
}

export interface QGemmParams {
  /** Node name, for error messages. */
  name?: string;
  m: number;
  k: number;
  n: number;
  aType: QuantType;
  aScale: number;
  aZeroPoint: number;
  weights: QWeights;
  /** int32 bias (accumulator scale) for int8/uint8/int32 outputs; float bias for float32 output. */
  bias?: Int32Array | Float32Array | ArrayLike<number>;
  output: QOutput;
  requant?: RequantMode;
  path: KernelPath;
  arch?: Arch;
  /** Force a variant by name (tests, benchmarks). */
  variant?: string;
  /** Threads the node will be split over (how work items are cut: gemmSplit). */
  threads?: number;
  /** Where the packed constants are allocated (KernelEnv.constAlloc: straight into wasm memory); default a new array. */
  alloc?: (bytes: number) => Uint8Array | null;
}

function err(name: string | undefined, msg: string): Error {
  return new Error(`octet: ${name ? `node '${name}': ` : ''}${msg}`);
}

function perChannel(v: number | ArrayLike<number> | undefined, n: number, what: string, name?: string): Float64Array {
  const out = new Float64Array(n);
  if (v === undefined) return out;
  if (typeof v === 'number') return out.fill(v);
  if (v.length === 1) return out.fill(v[0]);
  if (v.length !== n) throw err(name, `${what} has ${v.length} values, expected 1 or ${n}`);
  for (let i = 0; i < n; i++) out[i] = v[i];
  return out;
}

const align16 = (x: number) => (x + 15) & ~15;

/**
 * B - zb column by column (WeightRows: column j = output channel j, K values), read from the int8 / uint8 tensor as
 * it is packed: no [N][K] int32 copy of the whole matrix (4 bytes per weight; session creation time).
 */
export function centeredWeightRows(w: QWeights, n: number, k: number, name?: string): WeightRows {
  if (w.data.length !== n * k) throw err(name, `weights have ${w.data.length} values, expected ${n}x${k}`);
  const zb = perChannel(w.zeroPoints, n, 'weight zero point', name);
  const [lo, hi] = qrange(w.type);
  for (let j = 0; j < n; j++) if (!(zb[j] >= lo && zb[j] <= hi && Number.isInteger(zb[j]))) throw err(name, `weight zero point ${zb[j]} is not a valid ${w.type}`);
  const src = w.type === 'int8' ? new Int8Array(w.data.buffer, w.data.byteOffset, w.data.length) : new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.length);
  const kn = w.layout === 'kn';
  return (j, out) => {
    const z = zb[j];
    if (!kn && z === 0) {
      out.set(src.subarray(j * k, (j + 1) * k)); // one native int8 -> int32 copy
      return;
    }
    if (kn) for (let kk = 0; kk < k; kk++) out[kk] = src[kk * n + j] - z;
    else for (let kk = 0, s = j * k; kk < k; kk++) out[kk] = src[s + kk] - z;
  };
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Can `layout` hold these centered weights? Returns the rdot offset (127/128) or 0 for other layouts; -1 = no. */
export function layoutFits(layout: QGemmLayout, wc: Int32Array): number {
  if (layout === 'dot16') return 0;
  let mn = 0, mx = 0;
  for (let i = 0; i < wc.length; i++) { if (wc[i] < mn) mn = wc[i]; if (wc[i] > mx) mx = wc[i]; }
  if (mn < -128 || mx > 127) return -1;
  if (layout === 'extmul') return 0;
  if (mn >= -127) return 127;
  if (mx <= 126) return 128;
  return -1;
}

/**
 * Centered weights (B - zb) of one GEMM given column by column: fills out[0..k) with column j (output channel j).
 * Lets the convolution family pack straight from the int8 / uint8 tensor, without an [N][K] int32 copy of all of it.
 */
export type WeightRows = (j: number, out: Int32Array) => void;

/** All columns of `rows` as one [N][K] int32 array. */
export function materializeRows(rows: WeightRows, n: number, k: number): Int32Array {
  const wc = new Int32Array(n * k);
  for (let j = 0; j < n; j++) rows(j, wc.subarray(j * k, (j + 1) * k));
  return wc;
}

/** Bytes of the packed weights of `layout` for an N x K GEMM (header + 8-column blocks). */
export function packedBytes(layout: QGemmLayout, n: number, k: number): number {
  const nb = Math.ceil(n / 8);
  const kp = Math.ceil(k / 2), kq = Math.ceil(k / 4);
  return 16 + nb * (layout === 'dot16' ? 32 + kp * 32 : layout === 'extmul' ? 32 + kp * 16 : 32 + kq * 64);
}

/**
 * Packs centered weights wc ([N][K], values B - zb) for `layout` with initial accumulators bias - zaEff*colsum.
 * Layouts are documented in assembly/gemm/simd128.ts (dot16, extmul) and assembly/gemm/relaxed.ts (rdot).
 */
export function packWeights(layout: QGemmLayout, wc: Int32Array | WeightRows, n: number, k: number, bias: Int32Array | undefined, zaEff: number, rdotOffset = 0): Uint8Array {
  const bytes = new Uint8Array(packedBytes(layout, n, k));
  packWeightsInto(bytes, layout, wc, n, k, bias, zaEff, rdotOffset);
  return bytes;
}

/** packWeights into the first packedBytes(layout, n, k) bytes of `bytes` (zeroed, byteOffset a multiple of 4). */
export function packWeightsInto(bytes: Uint8Array, layout: QGemmLayout, wc: Int32Array | WeightRows, n: number, k: number, bias: Int32Array | undefined, zaEff: number, rdotOffset = 0): void {
  const nb = Math.ceil(n / 8);
  const kp = Math.ceil(k / 2), kq = Math.ceil(k / 4);
  const bstride = layout === 'dot16' ? 32 + kp * 32 : layout === 'extmul' ? 32 + kp * 16 : 32 + kq * 64;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  dv.setInt32(0, rdotOffset, true);
  if (layout === 'dot16' && LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) {
    // one pass per column over its K weights (column sum and int16 scatter together), through aligned typed views
    // (every block starts at a multiple of 16): session creation time, bench/cold-phases.ts
    const w16 = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1);
    const i32 = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
    const row = typeof wc === 'function' ? new Int32Array(k) : null;
    for (let b = 0; b < nb; b++) {
      const base = 16 + b * bstride;
      for (let j = 0; j < 8; j++) {
        const col = b * 8 + j;
        if (col >= n) continue;
        let r: Int32Array;
        if (row) { (wc as WeightRows)(col, row); r = row; } else r = (wc as Int32Array).subarray(col * k, col * k + k);
        let cs = 0;
        let d = ((base + 32) >> 1) + (j >> 2) * 8 + (j & 3) * 2;
        let kk = 0;
        for (; kk + 1 < k; kk += 2, d += 16) {
          const a = r[kk], c = r[kk + 1];
          cs += a + c;
          w16[d] = a;
          w16[d + 1] = c;
        }
        if (kk < k) { cs += r[kk]; w16[d] = r[kk]; }
        i32[(base >> 2) + j] = ((bias ? bias[col] : 0) - Math.imul(zaEff, cs)) | 0;
      }
    }
    return;
  }
  if (typeof wc === 'function') wc = materializeRows(wc, n, k);
  for (let b = 0; b < nb; b++) {
    const base = 16 + b * bstride;
    for (let j = 0; j < 8; j++) {
      const col = b * 8 + j;
      if (col >= n) continue;
      let cs = 0;
      for (let kk = 0; kk < k; kk++) cs += wc[col * k + kk];
      dv.setInt32(base + 4 * j, ((bias ? bias[col] : 0) - Math.imul(zaEff, cs)) | 0, true);
      for (let kk = 0; kk < k; kk++) {
        const v = wc[col * k + kk];
        if (layout === 'dot16') {
          // pair kk>>1, half j>>2, position ((j&3)*2 + (kk&1)) int16
          dv.setInt16(base + 32 + (kk >> 1) * 32 + (j >> 2) * 16 + ((j & 3) * 2 + (kk & 1)) * 2, v, true);
        } else if (layout === 'extmul') {
          dv.setInt8(base + 32 + (kk >> 1) * 16 + j * 2 + (kk & 1), v);
        } else {
          const u = v + rdotOffset;
          const ua = u >> 1, ub = u - ua;
          const q = base + 32 + (kk >> 2) * 64 + (j >> 2) * 16 + (j & 3) * 4 + (kk & 3);
          bytes[q] = ua;
          bytes[q + 32] = ub;
        }
      }
    }
  }
}

/** Packed weights + epilogue tables of one GEMM (one conv group), ready to place in wasm memory. */
export interface QGemmPlan {
  variant: QGemmVariant;
  n: number;
  k: number;
  aUnsigned: boolean;
  kind: number;
  zp: number;
  qmin: number;
  qmax: number;
  /** constants = packed weights | table | table2, at these offsets (16-aligned). */
  constants: Uint8Array;
  tableOffset: number;
  table2Offset: number;
}

export interface QGemmPlanParams {
  name?: string;
  n: number;
  k: number;
  aType: QuantType;
  aScale: number;
  aZeroPoint: number;
  /** Centered weights [N][K] (B - zb), or column by column (WeightRows: packed without an int32 copy of all). */
  wc: Int32Array | WeightRows;
  wScales: Float64Array;
  bias?: ArrayLike<number>;
  output: QOutput;
  requant?: RequantMode;
  variant: QGemmVariant;
  /**
   * Fixed-point epilogue form: 'auto' = the one-multiply form where it applies (default), 'two-multiply' = the
   * gemmlowp-shaped form always (benchmarks; also forced by OCTET_FIXED_FORM=two-multiply). Same results.
   */
  epilogue?: 'auto' | 'two-multiply';
  /** Extra zeroed bytes at the end of `constants` (16-aligned start) for the caller's own records. */
  tailBytes?: number;
  /** Where `constants` is allocated (zeroed, 16-aligned; e.g. in wasm memory: KernelEnv.constAlloc); null = a new array. */
  alloc?: (bytes: number) => Uint8Array | null;
  /** Only the epilogue tables (tableOffset 0, `wc` unused): the Winograd kernel packs its own weights. */
  tablesOnly?: boolean;
}

/** Float bit pattern of the magic rounding bias 12582912.0 (assembly/requant/core.ts MAGIC_I). */
const MAGIC_I = 0x4b400000;

/**
 * The v128 constants of the int8/uint8-output epilogues (kinds fixed, float, fixedNoLeftShift, fixedOneMul), passed
 * as `table2` so the kernels load them instead of splatting per tile (assembly/gemm/epilogue.ts, 128 bytes):
 * i8x16 qmin, i8x16 qmax, f32x4 qmin - zp, f32x4 qmax - zp, i32x4 MAGIC_I - zp, i32x4 zp, i32x4 qmin, i32x4 qmax.
 */
export function clampConstants(zp: number, qmin: number, qmax: number): Uint8Array {
  const b = new ArrayBuffer(128);
  new Uint8Array(b, 0, 16).fill(qmin & 0xff);
  new Uint8Array(b, 16, 16).fill(qmax & 0xff);
  new Float32Array(b, 32, 4).fill(qmin - zp);
  new Float32Array(b, 48, 4).fill(qmax - zp);
  new Int32Array(b, 64, 16).set([0, 1, 2, 3].map(() => (MAGIC_I - zp) | 0).concat([zp, zp, zp, zp, qmin, qmin, qmin, qmin, qmax, qmax, qmax, qmax]));
  return new Uint8Array(b);
}

function fixedForm(p: QGemmPlanParams): 'auto' | 'two-multiply' {
  if (p.epilogue) return p.epilogue;
  const env = typeof process !== 'undefined' ? (process as any).env?.OCTET_FIXED_FORM : undefined;
  return env === 'two-multiply' ? 'two-multiply' : 'auto';
}

export function planQGemm(p: QGemmPlanParams): QGemmPlan {
  const { n, k, name } = p;
  let variant = p.variant;
  let wc = p.wc;
  if (typeof wc === 'function' && variant.layout !== 'dot16') wc = materializeRows(wc, n, k);
  let off = variant.layout === 'dot16' ? 0 : layoutFits(variant.layout, wc as Int32Array);
  if (off < 0) {
    variant = DOT16;
    off = 0;
  }
  const [alo, ahi] = qrange(p.aType);
  if (!Number.isInteger(p.aZeroPoint) || p.aZeroPoint < alo || p.aZeroPoint > ahi) throw err(name, `input zero point ${p.aZeroPoint} is not a valid ${p.aType}`);
  if (k < 1 || n < 1) throw err(name, `empty GEMM (K=${k}, N=${n})`);
  if (k > 16384) throw err(name, `K=${k} exceeds 16384 (int32 accumulation would not be exact)`);
  const aUnsigned = p.aType === 'uint8';
  const zaEff = aUnsigned && variant.layout !== 'dot16' ? p.aZeroPoint - 128 : p.aZeroPoint;
  const out = p.output;
  let intBias: Int32Array | undefined;
  let table: Uint8Array = new Uint8Array(0), table2: Uint8Array = new Uint8Array(0);
  let kind: number, zp = 0, qmin = 0, qmax = 0;
  const npad = Math.ceil(n / 8) * 8;
  if (out.type === 'float32') {
    kind = EPI.float32;
    const s = new Float64Array(n);
    for (let j = 0; j < n; j++) s[j] = Math.fround(Math.fround(p.aScale) * Math.fround(p.wScales[j]));
    table = floatTable(s, 8);
    const fb = new Float32Array(npad);
    if (p.bias) {
      if (p.bias.length !== n) throw err(name, `bias has ${p.bias.length} values, expected ${n}`);
      for (let j = 0; j < n; j++) fb[j] = p.bias[j];
    }
    table2 = new Uint8Array(fb.buffer);
  } else {
    if (p.bias) {
      if (p.bias.length !== n) throw err(name, `bias has ${p.bias.length} values, expected ${n}`);
      intBias = new Int32Array(n);
      for (let j = 0; j < n; j++) {
        if (!Number.isInteger(p.bias[j])) throw err(name, `bias must be int32 for ${out.type} output`);
        intBias[j] = p.bias[j];
      }
    }
    if (out.type === 'int32') {
      kind = EPI.int32;
    } else {
      if (!(out.scale > 0) || !Number.isFinite(out.scale)) throw err(name, `output scale ${out.scale} must be finite and > 0`);
      if (!(p.aScale > 0) || !Number.isFinite(p.aScale)) throw err(name, `input scale ${p.aScale} must be finite and > 0`);
      const mode = p.requant ?? 'fixed-point';
      const reals = requantScales(mode, p.aScale, p.wScales, out.scale);
      for (const r of reals) if (!(r >= 0) || !Number.isFinite(r)) throw err(name, `weight scales must be finite and >= 0`);
      try {
        table = mode === 'float' ? floatTable(reals, 8) : fixedTable(reals, 8);
      } catch (e: any) {
        throw err(name, e.message.replace(/^octet: /, ''));
      }
      kind = mode === 'float' ? EPI.float : reals.every((r) => r < 1) ? EPI.fixedNoLeftShift : EPI.fixed;
      const [tlo, thi] = qrange(out.type);
      if (!Number.isInteger(out.zeroPoint) || out.zeroPoint < tlo || out.zeroPoint > thi) throw err(name, `output zero point ${out.zeroPoint} is not a valid ${out.type}`);
      zp = out.zeroPoint;
      // fixed-point: the one-multiply form when every channel allows it (same results, ~40% fewer epilogue
      // instructions: bench/profile.ts, README "Model benchmarks")
      const tx = mode === 'fixed-point' && fixedForm(p) === 'auto' ? fixedxTable(reals, zp, 8) : null;
      if (tx) { table = tx; kind = EPI.fixedOneMul; }
      // float: the v128 4x8 epilogue may skip the float clamp when |acc * scale| < 2^21 on every channel (the
      // magic-number rounding is exact below 2^22), with |acc| <= |bias| + 255 * 255 * K (|a - za|, |w - zb| <= 255)
      // (OCTET_FLOATU=off keeps the clamped form: A/B in bench/model-ab.ts)
      const fuOff = typeof process !== 'undefined' && (process as any).env?.OCTET_FLOATU === 'off';
      if (mode === 'float' && !fuOff && floatUnclampedFits(reals, k, intBias)) kind = EPI.floatUnclamped;
      ({ qmin, qmax } = outputRange(out.type, zp, out.scale, out.clamp));
      table2 = clampConstants(zp, qmin, qmax);
    }
  }
  // one buffer: packed weights written in place, then the tables (and the caller's tail)
  const tableOffset = p.tablesOnly ? 0 : align16(packedBytes(variant.layout, n, k));
  const table2Offset = align16(tableOffset + table.length);
  const size = align16(table2Offset + table2.length) + (p.tailBytes ?? 0);
  const constants = p.alloc?.(size) ?? new Uint8Array(size);
  if (!p.tablesOnly) packWeightsInto(constants, variant.layout, wc, n, k, intBias, zaEff, off);
  constants.set(table, tableOffset);
  constants.set(table2, table2Offset);
  return { variant, n, k, aUnsigned, kind, zp, qmin, qmax, constants, tableOffset, table2Offset };
}

/** Runs a plan whose constants sit at `constants`: rows x n outputs from A rows at a (stride in bytes). */
/**
 * Whether the EPI_FLOATU epilogue (assembly/gemm/epilogue.ts) gives EPI_FLOAT's results: every channel's
 * |acc| * scale stays below 2^21, |acc| <= |bias| + 65025 K (scale rounded up by 2^-20 relative for its float32).
 */
export function floatUnclampedFits(reals: ArrayLike<number>, k: number, bias?: Int32Array): boolean {
  for (let j = 0; j < reals.length; j++) {
    const bound = (Math.abs(bias?.[j] ?? 0) + 65025 * k) * reals[j] * (1 + 2 ** -20);
    if (!(bound < 2 ** 21)) return false;
  }
  return true;
}

/** Scratch bytes a plan's kernel needs per call (16-byte aligned): widened A rows of the dot16 kernel. */
export function planScratch(plan: QGemmPlan): number {
  return plan.variant.layout === 'dot16' ? 16 * Math.ceil(plan.k / 2) + 16 : 0;
}

export function runPlan(wasm: WasmKernels, plan: QGemmPlan, constants: number, rows: number, a: number, aStride: number, c: number, cStride: number, scratch: number): void {
  const fn = wasm.exports[plan.variant.name];
  if (!fn) throw new Error(`octet: kernel ${plan.variant.name} is missing from the ${wasm.level} build`);
  fn(rows, plan.n, plan.k, a, aStride, plan.aUnsigned ? 1 : 0, constants, c, cStride, plan.kind,
    constants + plan.tableOffset, constants + plan.table2Offset, plan.zp, plan.qmin, plan.qmax, (scratch + 15) & ~15);
}

/** Can a plan's call be cut into ranges of 8-column blocks (runPlanColumns)? Not the rdot layout: it keeps its
 * weight offset in the packed header, which a shifted weights pointer would not see. */
export function columnSplittable(plan: QGemmPlan): boolean {
  return plan.variant.layout !== 'rdot';
}

/**
 * runPlan restricted to the 8-column blocks [b0, b1): the same kernel on shifted pointers (packed weights,
 * epilogue tables, output) with n = the block range's width, so every output element is computed exactly as by
 * the whole call (bit-identical), and disjoint block ranges write disjoint columns. Needs columnSplittable(plan).
 */
/**
 * The pointers and width of a plan restricted to its 8-column blocks [b0, b1) (null when empty): packed weights,
 * epilogue tables and output shifted so the same kernel computes exactly those columns (runPlanColumns, and the
 * indirect dot16 convolution in ./qconv.ts).
 */
export function planColumns(plan: QGemmPlan, constants: number, c: number, b0: number, b1: number): { n: number; w: number; c: number; table: number; table2: number } | null {
  const col0 = b0 * 8, col1 = Math.min(plan.n, b1 * 8);
  if (col1 <= col0) return null;
  const kp = Math.ceil(plan.k / 2);
  const bstride = plan.variant.layout === 'dot16' ? 32 + kp * 32 : 32 + kp * 16;
  const k = plan.kind;
  // FIXED tables hold 4 channels per FIXED_BLOCK (96 bytes), FIXEDX per FIXEDX_BLOCK (128 bytes; both in
  // assembly/requant/core.ts); FLOAT / f32 tables 4 bytes each; table2 is per channel only for f32 output.
  const tOff = k === EPI.fixed || k === EPI.fixedNoLeftShift ? (col0 / 4) * 96 : k === EPI.fixedOneMul ? (col0 / 4) * 128 : k === EPI.int32 ? 0 : col0 * 4;
  const t2Off = k === EPI.float32 ? col0 * 4 : 0;
  const es = k === EPI.int32 || k === EPI.float32 ? 4 : 1;
  return { n: col1 - col0, w: constants + b0 * bstride, c: c + col0 * es, table: constants + plan.tableOffset + tOff, table2: constants + plan.table2Offset + t2Off };
}

export function runPlanColumns(wasm: WasmKernels, plan: QGemmPlan, constants: number, rows: number, a: number, aStride: number,
  c: number, cStride: number, scratch: number, b0: number, b1: number): void {
  const fn = wasm.exports[plan.variant.name];
  if (!fn) throw new Error(`octet: kernel ${plan.variant.name} is missing from the ${wasm.level} build`);
  const r = planColumns(plan, constants, c, b0, b1);
  if (!r) return;
  fn(rows, r.n, plan.k, a, aStride, plan.aUnsigned ? 1 : 0, r.w, r.c, cStride, plan.kind, r.table, r.table2, plan.zp, plan.qmin, plan.qmax, (scratch + 15) & ~15);
}

/**
 * How a GEMM-shaped node of M rows and N columns is cut into work items for the worker pool (`threads`: the plan's
 * thread count). Rows in quads (the micro-kernels' MR = 4); when M has fewer than 4 quads per thread, 8-column blocks
 * split better, and each thread then reads only its part of the weights. Either way each output element is computed
 * the same way.
 */
export function gemmSplit(m: number, n: number, splittable: boolean, threads = 1): { byColumns: boolean; items: number } {
  const quads = Math.ceil(m / 4), blocks = Math.ceil(n / 8);
  // Column blocks read all of A, half of it written by the other core; rows read what this thread wrote. At 2 threads
  // MobileNetV2's 7x7-stage 1x1 convolutions (13 quads) run faster split by rows (whole model 0.966-0.983x, interleaved
  // A/B), and they become row-local (pool.ts localDeps). One thread: no difference; the old limit of 32 kept.
  const limit = threads > 1 ? 4 * threads : 32;
  if (splittable && quads < limit && blocks >= 4) return { byColumns: true, items: blocks };
  return { byColumns: false, items: quads };
}

export function outputElementSize(o: QOutput): number {
  return o.type === 'int32' || o.type === 'float32' ? 4 : 1;
}

export function chooseQGemmVariant(path: KernelPath, arch: Arch = 'x86', name?: string): QGemmVariant {
  if (name) {
    const v = QGEMM_VARIANTS.find((x) => x.name === name);
    if (!v) throw new Error(`octet: unknown qs8-gemm variant '${name}'`);
    return v;
  }
  return pickVariant(QGEMM_VARIANTS, path, arch);
}

export function prepareQGemm(p: QGemmParams): PreparedKernel & { byColumns: boolean } {
  const { m, k, n, name } = p;
  if (!(m >= 1 && k >= 1 && n >= 1 && [m, k, n].every(Number.isInteger))) throw err(name, `bad GEMM shape M=${m} K=${k} N=${n}`);
  const wc = centeredWeightRows(p.weights, n, k, name);
  const wScales = perChannel(p.weights.scales, n, 'weight scale', name);
  const plan = planQGemm({
    name, n, k, aType: p.aType, aScale: p.aScale, aZeroPoint: p.aZeroPoint, wc, wScales, bias: p.bias,
    output: p.output, requant: p.requant, variant: chooseQGemmVariant(p.path, p.arch, p.variant), alloc: p.alloc,
  });
  const es = outputElementSize(p.output);
  const { byColumns, items } = gemmSplit(m, n, columnSplittable(plan), p.threads);
  return {
    variant: plan.variant.name,
    byColumns,
    constants: plan.constants,
    constantsAlign: 16,
    scratchBytes: planScratch(plan),
    workItems: items,
    cost: m * n * k,
    run(wasm: WasmKernels, io: KernelIO, begin = 0, end = items) {
      if (end <= begin) return;
      if (byColumns) {
        runPlanColumns(wasm, plan, io.constants, m, io.inputs[0], k, io.outputs[0], n * es, io.scratch, begin, end);
        return;
      }
      const r0 = begin * 4;
      const r1 = Math.min(m, end * 4);
      if (r1 <= r0) return;
      runPlan(wasm, plan, io.constants, r1 - r0, io.inputs[0] + r0 * k, k, io.outputs[0] + r0 * n * es, n * es, io.scratch);
    },
  };
}
