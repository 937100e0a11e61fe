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
//   workItems = ceil(M / mr) row tiles.
import type { KernelPath, KernelVariant, PreparedKernel, KernelIO } from './types.js';
import { pickVariant } from './types.js';
import type { Arch } from '../runtime/features.js';
import type { WasmKernels } from '../runtime/wasm.js';

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
  /** K x N row-major, or N x K with transB. */
  weights: Float32Array;
  transB?: boolean;
  bias?: Float32Array;
  min?: number;
  max?: number;
  /** Name for error messages. */
  node?: string;
}

export function prepareF32Gemm(p: F32GemmParams, sel: F32Select): PreparedKernel {
  const who = p.node ? `f32 gemm '${p.node}'` : 'f32 gemm';
  checkDim(`${who}: M`, p.M);
  checkDim(`${who}: N`, p.N);
  checkDim(`${who}: K`, p.K, 0);
  need(p.weights.length === p.N * p.K, `${who}: weights have ${p.weights.length} values, expected N*K = ${p.N * p.K}`);
  need(!p.bias || p.bias.length === p.N, `${who}: bias has ${p.bias?.length} values, expected N = ${p.N}`);
  const v = selectVariant(F32_GEMM_VARIANTS, sel);
  const { M, N, K, weights: W } = p;
  const packed = p.transB
    ? packF32GemmWeights(N, K, (k, n) => W[n * K + k], p.bias)
    : packF32GemmWeights(N, K, (k, n) => W[k * N + n], p.bias);
  const lo = p.min ?? -Infinity;
  const hi = p.max ?? Infinity;
  const tiles = Math.ceil(M / v.mr);
  return {
    variant: v.name,
    constants: bytesOf(packed),
    constantsAlign: 16,
    scratchBytes: 0,
    workItems: tiles,
    run(wasm: WasmKernels, io: KernelIO, begin = 0, end = tiles) {
      const m0 = begin * v.mr;
      const m1 = Math.min(M, end * v.mr);
      if (m1 <= m0) return;
      wasm.exports[v.rows](m0, m1, N, K, io.inputs[0], K * 4, 4, io.constants, io.outputs[0], N * 4, 1, 0, lo, hi);
    },
  };
}
