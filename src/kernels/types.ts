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
  /**
   * Measured preference within the family (default 0); it outranks the build level and the flavour, so a
   * variant that needs a newer build but runs slower says so here (with the benchmark that showed it), and the
   * older build's variant keeps winning on that path. Ties fall back to: newer build, then matching flavour.
   */
  priority?: number;
  /** Free-form per-family data (tile sizes, packing layout, export names). */
  [key: string]: unknown;
}

const LEVEL_RANK: Record<BuildLevel, number> = { scalar: 0, simd128: 1, relaxed: 2 };

/**
 * Can `v` run on `path` (given the host arch), and how good a fit is it? -1 means not eligible.
 * Order: measured priority first, then the newer build, then a variant tuned for the host's flavour over 'any'.
 */
export function fitness(v: KernelVariant, path: KernelPath, arch: Arch): number {
  const build = buildOf(path);
  if (LEVEL_RANK[v.build] > LEVEL_RANK[build]) return -1;
  const flavor: 'any' | Arch = path === 'x86' || path === 'arm' ? path : path === 'relaxed' ? arch : 'any';
  if (path === 'scalar' && v.build !== 'scalar') return -1;
  if (v.flavor !== 'any' && v.flavor !== flavor) return -1;
  return 10000 + (v.priority ?? 0) * 1000 + LEVEL_RANK[v.build] * 100 + (v.flavor === 'any' ? 0 : 10);
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
  /**
   * Computes work items [begin, end) (default: all). Must only call wasm exports for their side effects
   * (return values are not available when the pool records the calls for a worker, see `calls`).
   */
  run(wasm: import('../runtime/wasm.js').WasmKernels, io: KernelIO, begin?: number, end?: number): void;
  /**
   * Optional, serializable form of `run` for the worker pool (src/runtime/pool.ts): the wasm export calls
   * that compute items [begin, end), in order. Workers cannot receive closures, so for each thread's range
   * the pool sends these calls (export name + numeric arguments) through a SharedArrayBuffer, and the worker
   * makes the same calls on its own instance of the same build over the same shared memory.
   * Families need not write it: `kernelFromCalls` below builds `run` from `calls`; without `calls` the pool
   * records the export calls that `run` makes (a proxy in place of `wasm.exports`), which is correct as long
   * as `run` only calls exports (no reads of their results, no memory writes from JS).
   */
  calls?(io: KernelIO, begin: number, end: number): KernelCall[];
  /**
   * Optional rough cost of the whole node in multiply-accumulates (or bytes touched for memory-bound
   * kernels). The pool keeps nodes cheaper than a wake-up of the workers on the calling thread.
   */
  cost?: number;
  /**
   * Optional: the activation bytes that items [begin, end) may read and write, as [lo, hi) byte intervals (a
   * superset; constants and scratch left out). With it, a plan job can start a node's rows as soon as the rows it
   * reads are done instead of after a barrier on the whole node before (pool.ts planJob: local phases), when the
   * intervals show no other thread's range can conflict. Wrong (too small) intervals break that: keep them exact
   * or larger (test/threads/access.test.ts checks every kernel that has them).
   */
  access?(io: KernelIO, begin: number, end: number): KernelAccess;
}

/** What a range of a node's items touches (PreparedKernel.access): [lo, hi) byte intervals. */
export interface KernelAccess {
  reads: [number, number][];
  writes: [number, number][];
}

/**
 * One call of a wasm export, serializable: the export's name and its arguments (byte offsets, sizes,
 * i32 or f32/f64 values; no i64). Sent to worker threads by the pool.
 */
export interface KernelCall {
  fn: string;
  args: number[];
}

/** Runs a list of export calls on one instance (what a worker does with a range's calls). */
export function runCalls(wasm: { exports: Record<string, any> }, calls: readonly KernelCall[]): void {
  for (const c of calls) {
    const f = wasm.exports[c.fn];
    if (typeof f !== 'function') throw new Error(`octet: wasm build has no export '${c.fn}'`);
    f(...c.args);
  }
}

/**
 * The easy way for a family to support threads: describe a node by the export calls of a range, and get
 * a PreparedKernel whose `run` makes exactly those calls (so one thread and N threads do the same work).
 *
 *   return kernelFromCalls({ variant, constants, scratchBytes: 0, workItems: mBlocks, cost: M * N * K,
 *     calls: (io, begin, end) => [{ fn: 'qs8_gemm_4x8c8__simd128', args: [io.inputs[0], io.constants, io.outputs[0], M, N, K, begin, end] }] });
 */
export function kernelFromCalls(k: Omit<PreparedKernel, 'run' | 'calls'> & { calls(io: KernelIO, begin: number, end: number): KernelCall[] }): PreparedKernel {
  const calls = k.calls;
  return {
    ...k,
    calls,
    run(wasm, io, begin = 0, end = k.workItems) {
      if (end > begin) runCalls(wasm, calls(io, begin, end));
    },
  };
}

export interface KernelIO {
  /** Byte offsets of the inputs (activations), in the order the family documents. */
  inputs: number[];
  /** Byte offsets of the outputs. */
  outputs: number[];
  /** Byte offset where `constants` were placed. */
  constants: number;
  /**
   * Byte offset of this node's scratch (scratchBytes long). With the worker pool, thread t gets
   * scratch + t * alignScratch(scratchBytes): the arena reserves `scratchBytesForThreads(k, threads)`.
   */
  scratch: number;
}

/** Per-thread scratch stride (64-byte aligned so threads never share a cache line). */
export function alignScratch(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

/** Scratch bytes a node needs when the pool may run it on `threads` threads. */
export function scratchBytesForThreads(k: Pick<PreparedKernel, 'scratchBytes'>, threads: number): number {
  return k.scratchBytes > 0 ? alignScratch(k.scratchBytes) * Math.max(1, threads) : 0;
}
