// Shared helpers for the FP32 kernel suites: seeded random data, builds per level, tolerance checks, and
// running a suite again in a child Node with --experimental-wasm-relaxed-simd (Node 20 needs the flag).
import { spawnSync } from 'node:child_process';
import type { Test } from 'uvu';
import * as assert from 'uvu/assert';
import { WasmKernels, BumpAllocator, type BuildLevel } from '../../src/runtime/wasm.js';

export const IS_RELAXED_CHILD = process.env.OCTET_F32_RELAXED_CHILD === '1';
/** Builds this process checks: the child checks relaxed only, the parent scalar and simd128. */
export const LEVELS: BuildLevel[] = IS_RELAXED_CHILD ? ['relaxed'] : ['scalar', 'simd128'];

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

export function randArray(r: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

const cache = new Map<BuildLevel, WasmKernels>();
export async function kernels(level: BuildLevel): Promise<WasmKernels> {
  let k = cache.get(level);
  if (!k) {
    k = await WasmKernels.create(level, { initialBytes: 1 << 24 });
    cache.set(level, k);
  }
  return k;
}

export function allocator(k: WasmKernels): BumpAllocator {
  return new BumpAllocator(k);
}

/**
 * Asserts |got - want| <= rel * (|want| + scale[i]) for every element; scale carries the accumulation
 * magnitude (e.g. sum_k |a||b|) so that long sums in a different order or fused stay within tolerance.
 */
export function close(got: ArrayLike<number>, want: ArrayLike<number>, what: string, rel = 1e-5, scale?: ArrayLike<number> | number): void {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length} != ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    const s = scale === undefined ? 0 : typeof scale === 'number' ? scale : scale[i];
    const tol = rel * (Math.abs(want[i]) + s) + 1e-30;
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= tol) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      throw new Error(`${what}: element ${i}: got ${got[i]}, want ${want[i]} (|diff| ${d} > ${tol})`);
    }
  }
}

export function exact(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      throw new Error(`${what}: element ${i}: got ${got[i]}, want ${want[i]} (expected bit-identical)`);
    }
  }
}

/** Runs `file` again in a child with the relaxed-SIMD flag; returns [exit code, output]. */
export function runRelaxedChild(file: string): [number, string] {
  const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', file], {
    env: { ...process.env, OCTET_F32_RELAXED_CHILD: '1', FORCE_COLOR: '0' },
    encoding: 'utf8',
    timeout: 5 * 60 * 1000,
  });
  return [r.status ?? 1, `${r.stdout}\n${r.stderr}`];
}

/** Registers the suite's last test: the same file, run again in a child with the relaxed-SIMD flag, must pass. */
export function relaxedChildTest(test: Test, fileUrl: string): void {
  test('relaxed build (child process with --experimental-wasm-relaxed-simd) passes the same checks', () => {
    const [code, out] = runRelaxedChild(new URL(fileUrl).pathname);
    if (code !== 0) console.log(out);
    assert.is(code, 0);
    assert.match(out, /Passed:\s+[1-9]/);
  });
}
