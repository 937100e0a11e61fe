// FP32 kernel family: variant lists (read by src/kernels/registry.ts), weight packing and the host factories
// that turn one node's parameters into a PreparedKernel (see ./types.ts).
//
// Every factory takes (params, select) where select = { path, arch?, variant? } picks the variant
// (select.variant forces one by name, for tests and benchmarks). Tensors are float32, activations NHWC,
// row-major; byte offsets in KernelIO point into wasm memory.
//
// prepareF32Gemm({ M, N, K, weights, transB?, bias?, min?, max? })
//   C[M x N] = clamp(A[M x K] * W + bias, min, max). weights: K x N row-major (transB: N x K, as ONNX Gemm
//   with transB=1 gives it). Packed once into constants. io.inputs = [A], io.outputs = [C].
//   workItems = ceil(M / mr) row tiles, times column blocks when there are fewer than 16 tiles (f32ColumnBlocks).
//
// prepareF32Conv2d({ N, H, W, C, Cout, KH, KW, strides?, pads?, dilations?, groups?, weights, bias?, min?, max? })
//   NHWC x[N,H,W,C] -> y[N,OH,OW,Cout]. weights OIHW as ONNX gives them ([Cout][C/groups][KH][KW]); strides
//   [SH,SW], pads [top,left,bottom,right], dilations [DH,DW] (defaults 1 / 0 / 1). Per group: im2col of a block of
//   output pixels into scratch, then the GEMM (1x1 stride-1 unpadded convolutions read x directly, no scratch).
//   io.inputs = [x], io.outputs = [y]; workItems = blocks of output pixels (over N*OH*OW), times column blocks when
//   there are few pixel blocks (under 16 for direct convolutions, under 4 with im2col).
// prepareF32DwConv2d({ N, H, W, C, KH, KW, strides?, pads?, dilations?, multiplier?, weights, bias?, min?, max? })
//   Depthwise (groups = C): weights [C*multiplier][1][KH][KW]. Multiplier 1 runs the depthwise kernels (3x3 has a
//   specialised SIMD kernel); multiplier > 1 runs prepareF32Conv2d with groups = C. io as Conv2d;
//   workItems = output rows (N*OH).
// prepareF32Pool({ kind: 'max' | 'avg', N, H, W, C, KH, KW, strides?, pads?, dilations?, ceilMode?, countIncludePad? })
//   ONNX MaxPool / AveragePool on NHWC. io.inputs = [x], io.outputs = [y]; workItems = output rows.
// prepareF32GlobalAvgPool({ N, H, W, C }): y[N,1,1,C]. workItems = blocks of 64 channels.
// prepareF32Binary({ op: 'add' | 'sub' | 'mul' | 'div', count, channels, broadcast?, min?, max? })
//   out[i] = clamp(a op b); broadcast 'none' (a, b, out all `count` values), 'b-channel' (b has `channels`
//   values, b[i % channels]), 'b-scalar', 'a-channel', 'a-scalar'. io.inputs = [a, b], io.outputs = [out].
//   workItems = blocks of rows (count / channels rows).
// prepareF32Unary({ op, count, alpha?, beta?, min?, max? }): op 'relu' | 'clip' (min, max) | 'relu6' | 'leakyrelu'
//   (alpha, default 0.01) | 'sigmoid' | 'hardsigmoid' (alpha 0.2, beta 0.5) | 'hardswish' | 'tanh' | 'sqrt' | 'square' (x * x).
//   io.inputs = [x], io.outputs = [y] (may alias x). workItems = blocks of 4096 values.
// prepareF32Softmax({ rows, channels }): softmax over the last axis. io.inputs = [x], io.outputs = [y].
// prepareF32FromI32({ count }): Cast int32 -> float32. io.inputs = [x], io.outputs = [y].
// prepareF32ConvTranspose({ N, H, W, C, OC, KH, KW, OH, OW, strides?, padsBegin?, dilations?, groups?, weights, bias?,
//   min?, max? }): NHWC ConvTranspose (weights [C][OC/groups][KH][KW]): GEMM into column scratch per block of output
//   rows, then the col2im gather (f32_col2im_nhwc) with bias and clamp. io.inputs = [x], io.outputs = [y].
// FP16: f16ToF32 / f32ToF16 (wasm, offsets) and halfToFloat (JS, for weights at load time).
import type { KernelPath, KernelVariant, PreparedKernel, KernelIO } from './types.js';
import { pickVariant, kernelFromCalls } from './types.js';
import type { Arch } from '../runtime/features.js';
import type { WasmKernels } from '../runtime/wasm.js';
import { f32Rows, type F32Rows } from '../graph/tensor.js';

/** How a factory picks its variant. */
export interface F32Select {
  path: KernelPath;
  arch?: Arch;
  /** Force a variant by name (tests, benchmarks). */
  variant?: string;
}

export interface F32GemmVariant extends KernelVariant {
  family: 'f32-gemm';
  /** Rows per micro-tile; every variant uses 8-column panels (one packing for all). */
  mr: number;
  nr: 8;
  /** Export that computes a row range: (m_begin, m_end, nc, kc, a, a_rs, a_cs, w, c, c_rs, alpha, beta, lo, hi). */
  rows: string;
  /** Export of the BLAS-style driver, if this tile has one (see f32_sgemm__scalar). */
  sgemm?: string;
}

export const F32_GEMM_VARIANTS: readonly F32GemmVariant[] = [
  { family: 'f32-gemm', name: 'f32_gemm_1x8__scalar', build: 'scalar', flavor: 'any', mr: 1, nr: 8, rows: 'f32_gemm_rows_1x8__scalar', sgemm: 'f32_sgemm__scalar' },
  { family: 'f32-gemm', name: 'f32_gemm_4x8__simd128', build: 'simd128', flavor: 'any', priority: 1, mr: 4, nr: 8, rows: 'f32_gemm_rows_4x8__simd128', sgemm: 'f32_sgemm__simd128' },
  { family: 'f32-gemm', name: 'f32_gemm_6x8__simd128', build: 'simd128', flavor: 'any', priority: 0, mr: 6, nr: 8, rows: 'f32_gemm_rows_6x8__simd128' },
  { family: 'f32-gemm', name: 'f32_gemm_4x8__relaxed', build: 'relaxed', flavor: 'any', priority: 1, mr: 4, nr: 8, rows: 'f32_gemm_rows_4x8__relaxed', sgemm: 'f32_sgemm__relaxed' },
  { family: 'f32-gemm', name: 'f32_gemm_6x8__relaxed', build: 'relaxed', flavor: 'any', priority: 0, mr: 6, nr: 8, rows: 'f32_gemm_rows_6x8__relaxed' },
];

export function selectVariant<V extends KernelVariant>(variants: readonly V[], sel: F32Select): V {
  if (sel.variant) {
    const v = variants.find((x) => x.name === sel.variant);
    if (!v) throw new Error(`octet: unknown ${variants[0]?.family} variant '${sel.variant}'`);
    return v;
  }
  return pickVariant(variants, sel.path, sel.arch ?? 'x86');
}

/** Floats of packed B for N columns and depth K: ceil(N/8) panels of [bias[8]][K][8]. */
export function f32PackedLength(N: number, K: number): number {
  return Math.ceil(N / 8) * (K + 1) * 8;
}

/**
 * Packs weights into the 8-column panel layout (see scripts/gen-f32-gemm.mjs). `get(k, n)` reads W[k, n];
 * bias may be undefined. Columns past N are zero.
 */
export function packF32GemmWeights(N: number, K: number, get: (k: number, n: number) => number, bias?: ArrayLike<number>): Float32Array {
  const out = new Float32Array(f32PackedLength(N, K));
  let o = 0;
  for (let n0 = 0; n0 < N; n0 += 8) {
    const w = Math.min(8, N - n0);
    if (bias) for (let j = 0; j < w; j++) out[o + j] = bias[n0 + j];
    o += 8;
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < w; j++) out[o + j] = get(k, n0 + j);
      o += 8;
    }
  }
  return out;
}

export function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Weights as a row-major Float32Array, or as rows read on demand (src/graph/tensor.ts f32Rows: a constant viewed in
 * the model file at any alignment, BatchNorm scales applied per row): the packers read one row at a time, so the
 * weights are never copied whole before packing.
 */
export type F32Weights = Float32Array | F32Rows;

function countOf(w: F32Weights): number {
  return w instanceof Float32Array ? w.length : w.rows * w.cols;
}

function rowsOf(w: F32Weights, rows: number): F32Rows {
  return w instanceof Float32Array ? f32Rows(w, rows) : w;
}

/** Where packed constants go: `alloc` (zeroed, 16-aligned bytes, e.g. in wasm memory: KernelEnv.constAlloc) or a new array. */
export type ConstAlloc = (bytes: number) => Uint8Array | null;

function allocFloats(n: number, alloc?: ConstAlloc): Float32Array {
  const b = alloc?.(n * 4);
  return b ? new Float32Array(b.buffer, b.byteOffset, n) : new Float32Array(n);
}

let rowBuf = new Float32Array(1024);
function rowBuffer(n: number): Float32Array {
  if (rowBuf.length < n) rowBuf = new Float32Array(Math.max(n, 2 * rowBuf.length));
  return rowBuf;
}

/**
 * Packs `og` output columns whose weights are rows row0.. of `w` into the 8-column panel layout at out[at..]: row n
 * holds cg*taps values ordered [cg][taps] (ONNX OIHW; taps = 1 for a GEMM's transposed B), packed depth k = tap*cg + ci
 * (the im2col order). The same layout as packF32GemmWeights, one sequential read of each row.
 */
function packColumnRows(out: Float32Array, at: number, og: number, cg: number, taps: number, w: F32Rows, row0: number, bias?: ArrayLike<number>): void {
  const K = cg * taps;
  const panel = (K + 1) * 8;
  const buf = rowBuffer(K);
  for (let n = 0; n < og; n++) {
    const p = at + (n >> 3) * panel + (n & 7);
    if (bias) out[p] = bias[n];
    w.read(row0 + n, buf);
    const q = p + 8;
    if (taps === 1) {
      for (let k = 0; k < K; k++) out[q + k * 8] = buf[k];
    } else {
      for (let ci = 0; ci < cg; ci++) for (let t = 0; t < taps; t++) out[q + (t * cg + ci) * 8] = buf[ci * taps + t];
    }
  }
}

/** Packs B given as K rows of N values (a GEMM's B, not transposed) into the panel layout at out[0..]. */
function packDepthRows(out: Float32Array, N: number, K: number, w: F32Rows, bias?: ArrayLike<number>): void {
  const panel = (K + 1) * 8;
  const buf = rowBuffer(N);
  if (bias) for (let n = 0; n < N; n++) out[(n >> 3) * panel + (n & 7)] = bias[n];
  for (let k = 0; k < K; k++) {
    w.read(k, buf);
    const q = 8 + k * 8;
    for (let n = 0; n < N; n++) out[(n >> 3) * panel + q + (n & 7)] = buf[n];
  }
}

function need(cond: boolean, what: string): void {
  if (!cond) throw new Error(`octet: ${what}`);
}

function checkDim(name: string, v: number, min = 1): void {
  need(Number.isInteger(v) && v >= min, `${name} must be an integer >= ${min}, got ${v}`);
}

export interface F32GemmParams {
  M: number;
  N: number;
  K: number;
  /** K x N row-major, or N x K with transB (as rows: K rows of N, or N rows of K). */
  weights: F32Weights;
  transB?: boolean;
  bias?: Float32Array;
  min?: number;
  max?: number;
  /** Name for error messages. */
  node?: string;
  /** Where the packed weights are allocated (KernelEnv.constAlloc); default a new array. */
  alloc?: ConstAlloc;
}

export function prepareF32Gemm(p: F32GemmParams, sel: F32Select): PreparedKernel {
  const who = p.node ? `f32 gemm '${p.node}'` : 'f32 gemm';
  checkDim(`${who}: M`, p.M);
  checkDim(`${who}: N`, p.N);
  checkDim(`${who}: K`, p.K, 0);
  need(countOf(p.weights) === p.N * p.K, `${who}: weights have ${countOf(p.weights)} values, expected N*K = ${p.N * p.K}`);
  need(!p.bias || p.bias.length === p.N, `${who}: bias has ${p.bias?.length} values, expected N = ${p.N}`);
  const v = selectVariant(F32_GEMM_VARIANTS, sel);
  const { M, N, K } = p;
  const packed = allocFloats(f32PackedLength(N, K), p.alloc);
  if (p.transB) packColumnRows(packed, 0, N, K, 1, rowsOf(p.weights, N), 0, p.bias);
  else packDepthRows(packed, N, K, rowsOf(p.weights, K), p.bias);
  const lo = p.min ?? -Infinity;
  const hi = p.max ?? Infinity;
  const tiles = Math.ceil(M / v.mr);
  const cols = f32ColumnBlocks(tiles, N);
  const items = tiles * cols.blocks;
  return {
    variant: v.name,
    constants: bytesOf(packed),
    constantsAlign: 16,
    scratchBytes: 0,
    workItems: items,
    run(wasm: WasmKernels, io: KernelIO, begin = 0, end = items) {
      const rows = wasm.exports[v.rows];
      forColumnRuns(cols, begin, end, (t, n0, n1) => {
        const m0 = t * v.mr, m1 = Math.min(M, m0 + v.mr);
        rows(m0, m1, n1 - n0, K, io.inputs[0], K * 4, 4, io.constants + n0 * (K + 1) * 4, io.outputs[0] + n0 * 4, N * 4, 1, 0, lo, hi);
      });
    },
  };
}

/**
 * Column blocks of a GEMM with few row items (the 7x7 and 14x14 stages of a CNN, a classifier with M = 1), so a
 * node still has enough work items for the worker pool to split: blocks of whole 8-column panels, at most
 * `panels`, enough for about `target` items in all. Each output element is computed by the same tile code either way
 * (a tile's columns never depend on the others), so outputs do not change with the split.
 */
export function f32ColumnBlocks(rowItems: number, N: number, target = 16): { blocks: number; panelsPerBlock: number; N: number } {
  const panels = Math.ceil(N / 8);
  if (rowItems >= target || panels < 2) return { blocks: 1, panelsPerBlock: panels, N };
  const want = Math.min(panels, Math.ceil(target / rowItems));
  const panelsPerBlock = Math.ceil(panels / want);
  return { blocks: Math.ceil(panels / panelsPerBlock), panelsPerBlock, N };
}

/**
 * Items [begin, end) of a (row item x column block) grid, row-major, as one call per row item: f(row, n0, n1)
 * with the column range [n0, n1) of the consecutive blocks of that row in the range.
 */
function forColumnRuns(c: { blocks: number; panelsPerBlock: number; N: number }, begin: number, end: number, f: (row: number, n0: number, n1: number) => void): void {
  for (let it = begin; it < end;) {
    const r = Math.floor(it / c.blocks);
    const j0 = it - r * c.blocks;
    const j1 = Math.min(c.blocks, j0 + (end - it));
    const n0 = j0 * c.panelsPerBlock * 8, n1 = Math.min(c.N, j1 * c.panelsPerBlock * 8);
    if (n1 > n0) f(r, n0, n1);
    it += j1 - j0;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Convolution

export interface F32ConvGeometry {
  N: number; H: number; W: number; C: number;
  KH: number; KW: number;
  /** [SH, SW], default [1, 1]. */
  strides?: number[];
  /** [top, left, bottom, right], default 0. */
  pads?: number[];
  /** [DH, DW], default [1, 1]. */
  dilations?: number[];
  node?: string;
}

export interface ResolvedGeometry {
  N: number; H: number; W: number; C: number; KH: number; KW: number;
  SH: number; SW: number; DH: number; DW: number; padT: number; padL: number; padB: number; padR: number;
  OH: number; OW: number;
}

/** Output size and defaults (floor mode; ceil mode for pooling with ONNX/PyTorch's last-window rule). */
export function resolveGeometry(g: F32ConvGeometry, who: string, ceilMode = false): ResolvedGeometry {
  const [SH, SW] = g.strides ?? [1, 1];
  const [padT, padL, padB, padR] = g.pads ?? [0, 0, 0, 0];
  const [DH, DW] = g.dilations ?? [1, 1];
  for (const [k, v] of Object.entries({ N: g.N, H: g.H, W: g.W, C: g.C, KH: g.KH, KW: g.KW, SH, SW, DH, DW })) checkDim(`${who}: ${k}`, v);
  for (const [k, v] of Object.entries({ padT, padL, padB, padR })) checkDim(`${who}: ${k}`, v, 0);
  const ext = (n: number, k: number, d: number, s: number, p0: number, p1: number) => {
    const span = n + p0 + p1 - (d * (k - 1) + 1);
    if (span < 0) return 0;
    let o = (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    if (ceilMode && (o - 1) * s >= n + p0) o--;
    return o;
  };
  const OH = ext(g.H, g.KH, DH, SH, padT, padB);
  const OW = ext(g.W, g.KW, DW, SW, padL, padR);
  need(OH > 0 && OW > 0, `${who}: kernel ${g.KH}x${g.KW} (dilation ${DH}x${DW}) does not fit the padded ${g.H}x${g.W} input`);
  return { N: g.N, H: g.H, W: g.W, C: g.C, KH: g.KH, KW: g.KW, SH, SW, DH, DW, padT, padL, padB, padR, OH, OW };
}

export interface F32Conv2dParams extends F32ConvGeometry {
  Cout: number;
  groups?: number;
  /** OIHW: [Cout][C/groups][KH][KW] (as rows: Cout rows). */
  weights: F32Weights;
  bias?: Float32Array;
  min?: number;
  max?: number;
  /** Where the packed weights are allocated (KernelEnv.constAlloc); default a new array. */
  alloc?: ConstAlloc;
}

export interface F32PreparedConv extends PreparedKernel {
  OH: number;
  OW: number;
}

export function prepareF32Conv2d(p: F32Conv2dParams, sel: F32Select): F32PreparedConv {
  const who = p.node ? `f32 conv '${p.node}'` : 'f32 conv';
  const g = resolveGeometry(p, who);
  const groups = p.groups ?? 1;
  checkDim(`${who}: Cout`, p.Cout);
  checkDim(`${who}: groups`, groups);
  need(g.C % groups === 0 && p.Cout % groups === 0, `${who}: groups ${groups} must divide C ${g.C} and Cout ${p.Cout}`);
  const cg = g.C / groups;
  const og = p.Cout / groups;
  const taps = g.KH * g.KW;
  const Kg = taps * cg;
  need(countOf(p.weights) === p.Cout * Kg, `${who}: weights have ${countOf(p.weights)} values, expected Cout*C/groups*KH*KW = ${p.Cout * Kg}`);
  need(!p.bias || p.bias.length === p.Cout, `${who}: bias has ${p.bias?.length} values, expected Cout = ${p.Cout}`);
  const v = selectVariant(F32_GEMM_VARIANTS, sel);
  const panelLen = f32PackedLength(og, Kg);
  const packed = allocFloats(panelLen * groups, p.alloc);
  const rows = rowsOf(p.weights, p.Cout);
  for (let gi = 0; gi < groups; gi++) {
    packColumnRows(packed, gi * panelLen, og, cg, taps, rows, gi * og, p.bias?.subarray(gi * og, gi * og + og));
  }
  const { N, H, W, C, OH, OW } = g;
  const M = N * OH * OW;
  const direct = g.KH === 1 && g.KW === 1 && g.SH === 1 && g.SW === 1 && g.padT + g.padL + g.padB + g.padR === 0;
  // Rows per work item: im2col block of about 64 KB (L2-resident next to the packed weights), a multiple of mr.
  const rbMax = direct ? v.mr * Math.max(1, Math.ceil(64 / v.mr)) : v.mr * Math.max(1, Math.floor(65536 / (Kg * 4 * v.mr)));
  const rowItems = Math.ceil(M / rbMax);
  // Rows spread evenly over the row items (a multiple of mr, at most rbMax): 196 rows are 4 items of 52, 52, 52, 40.
  const rb = v.mr * Math.ceil(M / (rowItems * v.mr));
  // Few row items (7x7, 14x14 stages): also cut into column blocks (see prepareF32Gemm). An im2col convolution
  // redoes the row's im2col for each call, so it gets fewer blocks (about 4 items in all).
  const cols = f32ColumnBlocks(rowItems, og, direct ? 16 : 4);
  const items = rowItems * cols.blocks;
  const lo = p.min ?? -Infinity;
  const hi = p.max ?? Infinity;
  const Cout = p.Cout;
  return {
    variant: direct ? `${v.name} (1x1 direct)` : `f32_im2col_nhwc + ${v.name}`,
    constants: bytesOf(packed),
    constantsAlign: 16,
    scratchBytes: direct ? 0 : rb * Kg * 4,
    workItems: items,
    OH, OW,
    run(wasm: WasmKernels, io: KernelIO, begin = 0, end = items) {
      const k = wasm.exports;
      const rows = k[v.rows];
      const x = io.inputs[0], y = io.outputs[0];
      forColumnRuns(cols, begin, end, (r, n0, n1) => {
        const m0 = r * rb, m1 = Math.min(M, m0 + rb);
        for (let gi = 0; gi < groups; gi++) {
          const w = io.constants + (gi * panelLen + n0 * (Kg + 1)) * 4;
          const c = y + (m0 * Cout + gi * og + n0) * 4;
          if (direct) {
            rows(0, m1 - m0, n1 - n0, cg, x + (m0 * C + gi * cg) * 4, C * 4, 4, w, c, Cout * 4, 1, 0, lo, hi);
          } else {
            k.f32_im2col_nhwc(x, H, W, C, gi * cg, cg, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.padT, g.padL, OH, OW, m0, m1, io.scratch);
            rows(0, m1 - m0, n1 - n0, Kg, io.scratch, Kg * 4, 4, w, c, Cout * 4, 1, 0, lo, hi);
          }
        }
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Depthwise convolution

export interface F32DwVariant extends KernelVariant {
  family: 'f32-dwconv';
  general: string;
  /** Specialised 3x3 kernel per output pixel (any stride, dilation, padding), takes a zero row as its last argument. */
  k3x3?: string;
  /** The 3x3 kernel per output row (weights in registers over the row interior; borders via k3x3). */
  k3x3rows?: string;
}

export const F32_DWCONV_VARIANTS: readonly F32DwVariant[] = [
  { family: 'f32-dwconv', name: 'f32_dwconv__scalar', build: 'scalar', flavor: 'any', general: 'f32_dwconv__scalar' },
  { family: 'f32-dwconv', name: 'f32_dwconv__simd128', build: 'simd128', flavor: 'any', general: 'f32_dwconv__simd128', k3x3: 'f32_dwconv_3x3__simd128', k3x3rows: 'f32_dwconv_3x3_rows__simd128' },
  { family: 'f32-dwconv', name: 'f32_dwconv__relaxed', build: 'relaxed', flavor: 'any', general: 'f32_dwconv__relaxed', k3x3: 'f32_dwconv_3x3__relaxed', k3x3rows: 'f32_dwconv_3x3_rows__relaxed' },
];

/** Packs depthwise weights [C][1][KH][KW] and bias into [bias Cp][tap][Cp] (Cp = roundup(C, 4)), one row (channel) at a time. */
export function packF32DwWeights(C: number, KH: number, KW: number, weights: F32Weights, bias?: Float32Array, alloc?: ConstAlloc): Float32Array {
  const Cp = (C + 3) & ~3;
  const taps = KH * KW;
  const out = allocFloats(Cp * (taps + 1), alloc);
  if (bias) out.set(bias.subarray(0, C), 0);
  const rows = rowsOf(weights, C);
  const buf = rowBuffer(taps);
  for (let c = 0; c < C; c++) {
    rows.read(c, buf);
    for (let t = 0; t < taps; t++) out[(t + 1) * Cp + c] = buf[t];
  }
  return out;
}

export interface F32DwConv2dParams extends F32ConvGeometry {
  /** Channel multiplier (Cout = C * multiplier), default 1. */
  multiplier?: number;
  /** [C*multiplier][1][KH][KW] (as rows: C*multiplier rows). */
  weights: F32Weights;
  bias?: Float32Array;
  min?: number;
  max?: number;
  /** Where the packed weights are allocated (KernelEnv.constAlloc); default a new array. */
  alloc?: ConstAlloc;
}

export function prepareF32DwConv2d(p: F32DwConv2dParams, sel: F32Select): F32PreparedConv {
  const who = p.node ? `f32 dwconv '${p.node}'` : 'f32 dwconv';
  const mult = p.multiplier ?? 1;
  if (mult !== 1) {
    checkDim(`${who}: multiplier`, mult);
    return prepareF32Conv2d({ ...p, Cout: p.C * mult, groups: p.C }, sel);
  }
  const g = resolveGeometry(p, who);
  const { N, H, W, C, KH, KW, OH, OW } = g;
  need(countOf(p.weights) === C * KH * KW, `${who}: weights have ${countOf(p.weights)} values, expected C*KH*KW = ${C * KH * KW}`);
  need(!p.bias || p.bias.length === C, `${who}: bias has ${p.bias?.length} values, expected C = ${C}`);
  const v = selectVariant(F32_DWCONV_VARIANTS, sel);
  const packed = packF32DwWeights(C, KH, KW, p.weights, p.bias, p.alloc);
  const Cp = (C + 3) & ~3;
  const use3 = !!v.k3x3rows && KH === 3 && KW === 3;
  const items = N * OH;
  const lo = p.min ?? -Infinity;
  const hi = p.max ?? Infinity;
  return {
    variant: use3 ? v.k3x3rows! : v.general,
    constants: bytesOf(packed),
    constantsAlign: 16,
    // zero row standing in for padding rows (the row kernel reads up to W*C of it)
    scratchBytes: use3 ? Math.max(W * C, Cp) * 4 : 0,
    workItems: items,
    OH, OW,
    run(wasm: WasmKernels, io: KernelIO, begin = 0, end = items) {
      const k = wasm.exports;
      const p0 = begin * OW, p1 = Math.min(N * OH, end) * OW;
      if (p1 <= p0) return;
      if (use3) {
        k.x8_fill(io.scratch, 0, Math.max(W * C, Cp) * 4); // an export call: replayable by a pool worker
        k[v.k3x3rows!](io.inputs[0], H, W, C, g.SH, g.SW, g.DH, g.DW, g.padT, g.padL, OH, OW, io.constants, io.outputs[0], lo, hi, begin, Math.min(N * OH, end), io.scratch);
      } else {
        k[v.general](io.inputs[0], H, W, C, KH, KW, g.SH, g.SW, g.DH, g.DW, g.padT, g.padL, OH, OW, io.constants, io.outputs[0], lo, hi, p0, p1);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Pooling, element-wise, activations, softmax

export interface F32MiscVariant extends KernelVariant {
  family: 'f32-misc';
  pool: string;
  gavgpool: string;
  binary: string;
  unary: string;
  softmax: string;
  fromI32: string;
  col2im: string;
}

export const F32_MISC_VARIANTS: readonly F32MiscVariant[] = [
  { family: 'f32-misc', name: 'f32_misc__scalar', build: 'scalar', flavor: 'any', pool: 'f32_pool__scalar', gavgpool: 'f32_gavgpool__scalar', binary: 'f32_binary__scalar', unary: 'f32_unary__scalar', softmax: 'f32_softmax__scalar', fromI32: 'f32_from_i32__scalar', col2im: 'f32_col2im_nhwc__scalar' },
  { family: 'f32-misc', name: 'f32_misc__simd128', build: 'simd128', flavor: 'any', pool: 'f32_pool__simd128', gavgpool: 'f32_gavgpool__simd128', binary: 'f32_binary__simd128', unary: 'f32_unary__simd128', softmax: 'f32_softmax__simd128', fromI32: 'f32_from_i32__simd128', col2im: 'f32_col2im_nhwc__simd128' },
];

export interface F32PoolParams extends F32ConvGeometry {
  kind: 'max' | 'avg';
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

export function prepareF32Pool(p: F32PoolParams, sel: F32Select): F32PreparedConv {
  const who = p.node ? `f32 ${p.kind}pool '${p.node}'` : `f32 ${p.kind}pool`;
  need(p.kind === 'max' || p.kind === 'avg', `${who}: kind must be 'max' or 'avg', got '${p.kind}'`);
  const g = resolveGeometry(p, who, !!p.ceilMode);
  const v = selectVariant(F32_MISC_VARIANTS, sel);
  const kind = p.kind === 'max' ? 0 : p.countIncludePad ? 2 : 1;
  const { N, H, W, C, OH, OW } = g;
  const items = N * OH;
  return {
    variant: v.pool,
    constants: new Uint8Array(0),
    scratchBytes: 0,
    workItems: items,
    OH, OW,
    run(wasm, io, begin = 0, end = items) {
      const p0 = begin * OW, p1 = Math.min(items, end) * OW;
      if (p1 <= p0) return;
      wasm.exports[v.pool](kind, H, W, C, OH, OW, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.padT, g.padL, g.padB, g.padR, io.inputs[0], io.outputs[0], p0, p1);
    },
  };
}

export function prepareF32GlobalAvgPool(p: { N: number; H: number; W: number; C: number; node?: string }, sel: F32Select): PreparedKernel {
  const who = p.node ? `f32 globalavgpool '${p.node}'` : 'f32 globalavgpool';
  for (const k of ['N', 'H', 'W', 'C'] as const) checkDim(`${who}: ${k}`, p[k]);
  const v = selectVariant(F32_MISC_VARIANTS, sel);
  const items = Math.ceil(p.C / 64);
  return {
    variant: v.gavgpool,
    constants: new Uint8Array(0),
    scratchBytes: 0,
    workItems: items,
    run(wasm, io, begin = 0, end = items) {
      const c0 = begin * 64, c1 = Math.min(p.C, end * 64);
      if (c1 > c0) wasm.exports[v.gavgpool](p.N, p.H * p.W, p.C, io.inputs[0], io.outputs[0], c0, c1);
    },
  };
}

const BINARY_OPS = { add: 0, sub: 1, mul: 2, div: 3 } as const;
const BROADCASTS = { none: 0, 'b-channel': 1, 'b-scalar': 2, 'a-channel': 3, 'a-scalar': 4 } as const;

export interface F32BinaryParams {
  op: keyof typeof BINARY_OPS;
  /** Output (and full-size operand) element count. */
  count: number;
  /** Innermost dimension (NHWC channels); count must be a multiple. */
  channels: number;
  broadcast?: keyof typeof BROADCASTS;
  min?: number;
  max?: number;
  node?: string;
}

export function prepareF32Binary(p: F32BinaryParams, sel: F32Select): PreparedKernel {
  const who = p.node ? `f32 ${p.op} '${p.node}'` : `f32 ${p.op}`;
  need(p.op in BINARY_OPS, `${who}: unknown op '${p.op}' (add, sub, mul, div)`);
  const mode = BROADCASTS[p.broadcast ?? 'none'];
  need(mode !== undefined, `${who}: unknown broadcast '${p.broadcast}'`);
  checkDim(`${who}: count`, p.count, 0);
  checkDim(`${who}: channels`, p.channels);
  need(p.count % p.channels === 0, `${who}: count ${p.count} is not a multiple of channels ${p.channels}`);
  const v = selectVariant(F32_MISC_VARIANTS, sel);
  const rows = p.count / p.channels;
  const rb = Math.max(1, Math.ceil(4096 / p.channels));
  const items = Math.ceil(rows / rb);
  const op = BINARY_OPS[p.op], C = p.channels, lo = p.min ?? -Infinity, hi = p.max ?? Infinity;
  return {
    variant: v.binary,
    constants: new Uint8Array(0),
    scratchBytes: 0,
    workItems: items,
    run(wasm, io, begin = 0, end = items) {
      const r0 = begin * rb, r1 = Math.min(rows, end * rb);
      if (r1 <= r0) return;
      const off = r0 * C * 4;
      const a = io.inputs[0] + (mode === 3 || mode === 4 ? 0 : off);
      const b = io.inputs[1] + (mode === 1 || mode === 2 ? 0 : off);
      wasm.exports[v.binary](op, mode, a, b, io.outputs[0] + off, r1 - r0, C, lo, hi);
    },
  };
}

const UNARY_OPS = { relu: 0, clip: 1, relu6: 1, leakyrelu: 2, sigmoid: 3, hardsigmoid: 4, hardswish: 5, tanh: 6, sqrt: 7, square: 8 } as const;

export interface F32UnaryParams {
  op: keyof typeof UNARY_OPS;
  count: number;
  alpha?: number;
  beta?: number;
  min?: number;
  max?: number;
  node?: string;
}

export function prepareF32Unary(p: F32UnaryParams, sel: F32Select): PreparedKernel {
  const who = p.node ? `f32 ${p.op} '${p.node}'` : `f32 ${p.op}`;
  need(p.op in UNARY_OPS, `${who}: unknown activation '${p.op}'`);
  checkDim(`${who}: count`, p.count, 0);
  const v = selectVariant(F32_MISC_VARIANTS, sel);
  const kind = UNARY_OPS[p.op];
  let p0 = 0, p1 = 0;
  if (p.op === 'clip') [p0, p1] = [p.min ?? -Infinity, p.max ?? Infinity];
  if (p.op === 'relu6') [p0, p1] = [0, 6];
  if (p.op === 'leakyrelu') p0 = p.alpha ?? 0.01;
  if (p.op === 'hardsigmoid') [p0, p1] = [p.alpha ?? 0.2, p.beta ?? 0.5];
  const B = 4096;
  const items = Math.ceil(p.count / B);
  return {
    variant: v.unary,
    constants: new Uint8Array(0),
    scratchBytes: 0,
    workItems: items,
    run(wasm, io, begin = 0, end = items) {
      const i0 = begin * B, i1 = Math.min(p.count, end * B);
      if (i1 > i0) wasm.exports[v.unary](kind, io.inputs[0] + i0 * 4, io.outputs[0] + i0 * 4, i1 - i0, p0, p1);
    },
  };
}

export function prepareF32Softmax(p: { rows: number; channels: number; node?: string }, sel: F32Select): PreparedKernel {
  const who = p.node ? `f32 softmax '${p.node}'` : 'f32 softmax';
  checkDim(`${who}: rows`, p.rows);
  checkDim(`${who}: channels`, p.channels);
  const v = selectVariant(F32_MISC_VARIANTS, sel);
  const rb = Math.max(1, Math.ceil(1024 / p.channels));
  const items = Math.ceil(p.rows / rb);
  return {
    variant: v.softmax,
    constants: new Uint8Array(0),
    scratchBytes: 0,
    workItems: items,
    run(wasm, io, begin = 0, end = items) {
      const r0 = begin * rb, r1 = Math.min(p.rows, end * rb);
      if (r1 > r0) wasm.exports[v.softmax](p.channels, io.inputs[0], io.outputs[0], r0, r1);
    },
  };
}

/** Cast int32 -> float32 over `count` values (round to nearest even). io.inputs = [x], io.outputs = [y]. */
export function prepareF32FromI32(p: { count: number; node?: string }, sel: F32Select): PreparedKernel {
  const who = p.node ? `cast int32 -> float32 '${p.node}'` : 'cast int32 -> float32';
  checkDim(`${who}: count`, p.count);
  const v = selectVariant(F32_MISC_VARIANTS, sel);
  const B = 4096, items = Math.ceil(p.count / B);
  return kernelFromCalls({
    variant: v.fromI32,
    constants: new Uint8Array(0),
    scratchBytes: 0,
    workItems: items,
    cost: p.count,
    calls: (io, begin, end) => {
      const i0 = Math.max(0, begin) * B, i1 = Math.min(p.count, end * B);
      return i1 > i0 ? [{ fn: v.fromI32, args: [io.inputs[0] + i0 * 4, io.outputs[0] + i0 * 4, i1 - i0] }] : [];
    },
  });
}

// ---------------------------------------------------------------------------------------------------------
// ConvTranspose

export interface F32ConvTransposeParams {
  N: number; H: number; W: number; C: number;
  /** Output channels (weights [C][OC/groups][KH][KW], as ONNX gives them). */
  OC: number;
  KH: number; KW: number;
  /** Output size (from the ONNX rules: pads, output_padding, output_shape, auto_pad). */
  OH: number; OW: number;
  strides?: number[];
  /** Begin pads [top, left] (the end pads are implied by OH / OW). */
  padsBegin?: number[];
  dilations?: number[];
  groups?: number;
  weights: Float32Array;
  bias?: Float32Array;
  min?: number;
  max?: number;
  node?: string;
}

/** Bytes of column scratch per work item are kept under this (L2-sized; the GEMM writes it, the gather reads it). */
const CONVT_SCRATCH_BUDGET = 1 << 20;

/**
 * ConvTranspose, NHWC: per group, the f32 GEMM x[pixels, cg] * W[cg, (ky, kx, oc)] into a column scratch for the
 * input rows that reach a block of output rows, then f32_col2im_nhwc gathers the taps of every output pixel onto
 * the bias (+ fused clamp). io.inputs = [x], io.outputs = [y]; workItems = (image, block of output rows).
 */
export function prepareF32ConvTranspose(p: F32ConvTransposeParams, sel: F32Select): PreparedKernel {
  const who = p.node ? `f32 convtranspose '${p.node}'` : 'f32 convtranspose';
  for (const k of ['N', 'H', 'W', 'C', 'OC', 'KH', 'KW', 'OH', 'OW'] as const) checkDim(`${who}: ${k}`, p[k]);
  const [SH, SW] = p.strides ?? [1, 1], [DH, DW] = p.dilations ?? [1, 1], [PT, PL] = p.padsBegin ?? [0, 0];
  const G = p.groups ?? 1;
  for (const [k, v] of Object.entries({ SH, SW, DH, DW, groups: G })) checkDim(`${who}: ${k}`, v);
  need(Number.isInteger(PT) && Number.isInteger(PL), `${who}: pads must be integers`);
  need(p.C % G === 0 && p.OC % G === 0, `${who}: groups ${G} do not divide channels ${p.C} / ${p.OC}`);
  const { N, H, W, C, OC, KH, KW, OH, OW } = p;
  const cg = C / G, ocg = OC / G, nc = KH * KW * ocg;
  need(p.weights.length === C * ocg * KH * KW, `${who}: weights have ${p.weights.length} values, expected ${C}x${ocg}x${KH}x${KW}`);
  need(!p.bias || p.bias.length === OC, `${who}: bias has ${p.bias?.length} values, expected ${OC}`);
  const gv = selectVariant(F32_GEMM_VARIANTS, sel);
  const mv = selectVariant(F32_MISC_VARIANTS, { path: sel.path, arch: sel.arch });
  const col2im = mv.col2im;
  // packed B per group: column (ky*KW + kx)*ocg + o of row c is w[g*cg + c][o][ky][kx]
  const panel = f32PackedLength(nc, cg);
  const packed = new Float32Array(panel * G + OC + 4);
  const wv = p.weights;
  for (let g = 0; g < G; g++) {
    packed.set(packF32GemmWeights(nc, cg, (c, j) => {
      const t = Math.floor(j / ocg), o = j - t * ocg;
      return wv[(((g * cg + c) * ocg + o) * KH + Math.floor(t / KW)) * KW + (t % KW)];
    }), g * panel);
  }
  if (p.bias) packed.set(p.bias, panel * G);
  // input rows feeding output rows [a, b)
  const inRows = (a: number, b: number): [number, number] => {
    const lo = Math.max(0, Math.ceil((a + PT - (KH - 1) * DH) / SH)), hi = Math.min(H - 1, Math.floor((b - 1 + PT) / SH));
    return [lo, Math.max(lo, hi + 1)];
  };
  let RB = Math.max(1, Math.min(OH, 16));
  const rowBytes = W * nc * 4;
  const scratchOf = (rb: number) => {
    let m = 0;
    for (let a = 0; a < OH; a += rb) { const [l, h] = inRows(a, Math.min(OH, a + rb)); m = Math.max(m, h - l); }
    return m * rowBytes;
  };
  while (RB > 1 && scratchOf(RB) > CONVT_SCRATCH_BUDGET) RB = Math.max(1, RB >> 1);
  const blocks = Math.ceil(OH / RB);
  const items = N * blocks;
  const lo = p.min ?? -Infinity, hi = p.max ?? Infinity;
  return kernelFromCalls({
    variant: `${gv.name}+${col2im}`,
    constants: bytesOf(packed),
    constantsAlign: 16,
    scratchBytes: Math.max(16, scratchOf(RB)),
    workItems: items,
    cost: N * H * W * C * nc,
    calls: (io, begin, end) => {
      const calls: { fn: string; args: number[] }[] = [];
      for (let it = Math.max(0, begin); it < Math.min(items, end); it++) {
        const n = Math.floor(it / blocks), oy0 = (it % blocks) * RB, oy1 = Math.min(OH, oy0 + RB);
        const [i0, i1] = inRows(oy0, oy1);
        for (let g = 0; g < G; g++) {
          if (i1 > i0) {
            calls.push({ fn: gv.rows, args: [0, (i1 - i0) * W, nc, cg, io.inputs[0] + (((n * H + i0) * W) * C + g * cg) * 4, C * 4, 4,
              io.constants + g * panel * 4, io.scratch, nc * 4, 1, 0, -Infinity, Infinity] });
          }
          calls.push({ fn: col2im, args: [io.scratch, i0, H, W, KH, KW, SH, SW, DH, DW, PT, PL, OW, ocg, OC, io.constants + (panel * G + g * ocg) * 4,
            io.outputs[0] + (n * OH * OW * OC + g * ocg) * 4, oy0, oy1, lo, hi] });
        }
      }
      return calls;
    },
  });
}

// ---------------------------------------------------------------------------------------------------------
// FP16

/** IEEE half -> float for n values at byte offsets src (u16) -> dst (f32), in wasm. */
export function f16ToF32(wasm: WasmKernels, src: number, dst: number, n: number): void {
  wasm.exports.f32_from_f16(src, dst, n);
}

/** float -> IEEE half (round to nearest even), in wasm. */
export function f32ToF16(wasm: WasmKernels, src: number, dst: number, n: number): void {
  wasm.exports.f32_to_f16(src, dst, n);
}

/** IEEE half -> float in JS (for FP16 weights at load time, before any wasm memory exists). */
export function halfToFloat(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const v = h[i];
    const s = v & 0x8000 ? -1 : 1;
    const e = (v >> 10) & 0x1f;
    const m = v & 0x3ff;
    out[i] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return out;
}
