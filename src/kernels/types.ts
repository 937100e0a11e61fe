// The contract between kernel families and the selector.
// A family (gemm, conv, dwconv, ...) lists its variants once in src/kernels/<family>.ts; tests and
// benchmarks iterate those lists, and src/runtime/select.ts picks one per family for the host.
import type { BuildLevel } from '../runtime/wasm.js';
import type { Arch } from '../runtime/features.js';

/**
 * A code path the whole runtime runs on:
 * - `scalar`: scalar build, portable kernels;
 * - `x86`: simd128 build, FBGEMM-like kernels (i32x4.dot_i16x8_s, lowered to pmaddwd);
 * - `arm`: simd128 build, QNNPACK-like kernels (extmul / extadd_pairwise, lowered to smull / saddlp);
 * - `relaxed`: relaxed build, relaxed-SIMD kernels where a family has them, else the host arch's simd128 kernels.
 */
export type KernelPath = 'scalar' | 'x86' | 'arm' | 'relaxed';
export const KERNEL_PATHS: readonly KernelPath[] = ['scalar', 'x86', 'arm', 'relaxed'];

export function buildOf(path: KernelPath): BuildLevel {
  return path === 'scalar' ? 'scalar' : path === 'relaxed' ? 'relaxed' : 'simd128';
}

export interface KernelVariant {
  /** Family name, e.g. 'qs8-gemm'. */
  family: string;
  /** Full descriptive name, e.g. 'qs8_gemm_4x8c8__simd128_dot16'. */
  name: string;
  /** Lowest build that contains it. */
  build: BuildLevel;
  /** Which ISA flavour it is tuned for; 'any' runs well everywhere its build runs. */
  flavor: 'any' | Arch;
  /** Higher wins among eligible variants (e.g. a tuned kernel over a generic one). */
  priority?: number;
  /** Free-form per-family data (tile sizes, packing layout, export names). */
  [key: string]: unknown;
}

const LEVEL_RANK: Record<BuildLevel, number> = { scalar: 0, simd128: 1, relaxed: 2 };

/** Can `v` run on `path` (given the host arch), and how good a fit is it? -1 means not eligible. */
export function fitness(v: KernelVariant, path: KernelPath, arch: Arch): number {
  const build = buildOf(path);
  if (LEVEL_RANK[v.build] > LEVEL_RANK[build]) return -1;
  const flavor: 'any' | Arch = path === 'x86' || path === 'arm' ? path : path === 'relaxed' ? arch : 'any';
  if (path === 'scalar' && v.build !== 'scalar') return -1;
  if (v.flavor !== 'any' && v.flavor !== flavor) return -1;
  return LEVEL_RANK[v.build] * 100 + (v.flavor === 'any' ? 0 : 10) + (v.priority ?? 0);
}

/** Picks the best variant of one family for a path; throws if none fits (a registry bug, not user error). */
export function pickVariant<V extends KernelVariant>(variants: readonly V[], path: KernelPath, arch: Arch): V {
  let best: V | undefined;
  let bestFit = -1;
  for (const v of variants) {
    const f = fitness(v, path, arch);
    if (f > bestFit) {
      best = v;
      bestFit = f;
    }
  }
  if (!best) throw new Error(`octet: no ${variants[0]?.family ?? 'kernel'} variant runs on path '${path}'`);
  return best;
}

/**
 * What a family's host module hands the runtime for one node, after weights are known (load time):
 * constants to place once in the session's weights region, scratch the kernel needs while running,
 * and a run function that touches only the offsets it is given (so the arena planner owns all memory
 * and the worker pool can split the work).
 */
export interface PreparedKernel {
  /** Variant chosen (for session.profile()). */
  variant: string;
  /** Bytes to copy into wasm memory once (packed weights, folded bias, requantization params). */
  constants: Uint8Array;
  /** Alignment the constants need (bytes). */
  constantsAlign?: number;
  /** Scratch bytes needed during run (im2col buffer, indirection buffer, ...). */
  scratchBytes: number;
  /**
   * Number of independent work items (output row blocks / channel blocks). `run` with a range
   * [begin, end) of them computes only that part; disjoint ranges write disjoint memory.
   */
  workItems: number;
  run(wasm: import('../runtime/wasm.js').WasmKernels, io: KernelIO, begin?: number, end?: number): void;
}

export interface KernelIO {
  /** Byte offsets of the inputs (activations), in the order the family documents. */
  inputs: number[];
  /** Byte offsets of the outputs. */
  outputs: number[];
  /** Byte offset where `constants` were placed. */
  constants: number;
  /** Byte offset of this node's scratch (scratchBytes long, per worker when run in parallel). */
  scratch: number;
}
