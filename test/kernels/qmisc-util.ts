// Test helpers for the INT8 pool / eltwise / dwconv suites: one wasm instance per code path, seeded random
// data, running a PreparedKernel on given inputs, and the relaxed-SIMD child process (Node 20 needs a flag).
import { spawnSync } from 'node:child_process';
import { WasmKernels, BumpAllocator } from '../../src/runtime/wasm.js';
import { detectFeatures } from '../../src/runtime/features.js';
import { buildOf, type KernelPath } from '../../src/kernels/types.js';
import type { Arch } from '../../src/runtime/features.js';
import type { PreparedKernel } from '../../src/kernels/types.js';

export const RELAXED_CHILD = process.env.OCTET_TEST_RELAXED_CHILD === '1';

export interface PathEnv {
  path: KernelPath;
  arch: Arch;
  wasm: WasmKernels;
}

/** Instances for scalar / x86 / arm here, or only relaxed inside the relaxed child process. */
export async function pathEnvs(): Promise<PathEnv[]> {
  const f = await detectFeatures();
  const paths: KernelPath[] = RELAXED_CHILD ? ['relaxed'] : f.simd128 ? ['scalar', 'x86', 'arm'] : ['scalar'];
  const out: PathEnv[] = [];
  for (const path of paths) {
    const arch: Arch = path === 'x86' || path === 'arm' ? path : f.arch;
    out.push({ path, arch, wasm: await WasmKernels.create(buildOf(path), { initialBytes: 1 << 24 }) });
  }
  return out;
}

/** mulberry32: deterministic per seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
export const randInt = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
export function randBytes(r: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/**
 * Runs a prepared kernel: constants, inputs and outputs placed by a bump allocator (outputs pre-filled with a
 * sentinel so unwritten bytes show), optionally in several ranges. Returns copies of the outputs.
 */
export function runPrepared(
  wasm: WasmKernels, k: PreparedKernel, inputs: ArrayBufferView[], outBytes: number[], splits?: number[],
): Uint8Array[] {
  const a = new BumpAllocator(wasm);
  const constants = a.put(k.constants, k.constantsAlign ?? 64);
  const ins = inputs.map((x) => a.put(x));
  const outs = outBytes.map((n) => {
    const o = a.alloc(n + 16);
    wasm.u8(o, n + 16).fill(0xa5);
    return o;
  });
  const scratch = a.alloc(k.scratchBytes + 64);
  const io = { inputs: ins, outputs: outs, constants, scratch };
  if (splits && splits.length) {
    let b = 0;
    for (const s of [...splits, k.workItems]) {
      const e = Math.min(s, k.workItems);
      if (e > b) k.run(wasm, io, b, e);
      b = Math.max(b, e);
    }
  } else {
    k.run(wasm, io);
  }
  const res = outs.map((o, i) => wasm.u8(o, outBytes[i] + 16).slice());
  for (const r of res) {
    for (let i = r.length - 16; i < r.length; i++) if (r[i] !== 0xa5) throw new Error(`kernel ${k.variant} wrote past its output`);
  }
  return res.map((r, i) => r.subarray(0, outBytes[i]));
}

/** Copies data into a fresh region of `wasm` and returns the offset (for reference calls). */
export function put(a: BumpAllocator, data: ArrayBufferView): number {
  return a.put(data);
}

export function firstDiff(a: Uint8Array, b: Uint8Array): string {
  if (a.length !== b.length) return `lengths ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `index ${i}: ${a[i]} vs ${b[i]}`;
  return '';
}

/**
 * In the parent process: re-runs `file` in a child Node with --experimental-wasm-relaxed-simd and
 * OCTET_TEST_RELAXED_CHILD=1 (which then tests only the relaxed path). Returns the child's output and status.
 */
export function runRelaxedChild(file: string): { ok: boolean; out: string; skipped: boolean } {
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', file], {
    env: { ...process.env, OCTET_TEST_RELAXED_CHILD: '1', FORCE_COLOR: '0' },
    encoding: 'utf8',
    timeout: 300_000,
  });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (/bad option|unknown flag/i.test(out)) return { ok: true, out, skipped: true };
  return { ok: r.status === 0 && /Passed:\s+\d+/.test(out) && !/Skipped:\s+[1-9]/.test(out), out, skipped: false };
}
