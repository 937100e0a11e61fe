// The one place that decides which code path runs on this host.
// Order: explicit option > OCTET_KERNELS environment variable > best the host supports
// (relaxed > simd128 with the detected arch flavour > scalar). Per-family variants are then
// picked from the registry (src/kernels/registry.ts) with pickVariant(): a variant's measured `priority` outranks
// its build level, so on the relaxed path a family whose relaxed kernel measured slower than its simd128 one
// (qs8-gemm on x86: rdot vs dot16) keeps running the simd128 kernel, while families whose relaxed kernels win
// (f32 GEMM/depthwise with relaxed_madd) use them. Hence 'relaxed' is never slower than the arch path for any
// family, and auto prefers it (test/runtime/select.test.ts checks both properties on the registry).
import { detectFeatures, type HostFeatures, type Arch } from './features.js';
import { KERNEL_PATHS, pickVariant, type KernelPath } from '../kernels/types.js';
import { FAMILIES } from '../kernels/registry.js';
import type { WasmSource } from './wasm.js';

export type KernelsOption = 'auto' | KernelPath;

export interface PathChoice {
  path: KernelPath;
  features: HostFeatures;
  /** Why this path: 'option', 'env' or 'auto'. */
  reason: 'option' | 'env' | 'auto';
}

function envPath(): string | undefined {
  if (typeof process === 'undefined') return undefined;
  const v = (process as any).env?.OCTET_KERNELS;
  return v && v !== 'auto' ? v : undefined;
}

export function supported(path: KernelPath, f: HostFeatures): boolean {
  if (path === 'scalar') return true;
  if (path === 'relaxed') return f.relaxedSimd;
  return f.simd128;
}

export async function choosePath(option: KernelsOption = 'auto', source?: WasmSource): Promise<PathChoice> {
  const features = await detectFeatures(source);
  let forced: string | undefined;
  let reason: PathChoice['reason'] = 'auto';
  if (option && option !== 'auto') {
    forced = option;
    reason = 'option';
  } else if (envPath()) {
    forced = envPath();
    reason = 'env';
  }
  if (forced !== undefined) {
    if (!(KERNEL_PATHS as readonly string[]).includes(forced)) {
      throw new Error(`octet: unknown kernel path '${forced}' (expected auto, ${KERNEL_PATHS.join(', ')})`);
    }
    const path = forced as KernelPath;
    if (!supported(path, features)) {
      throw new Error(
        `octet: kernel path '${path}' is not supported by this engine` +
          (path === 'relaxed' ? ' (relaxed SIMD; in Node 20 run with --experimental-wasm-relaxed-simd)' : ' (no SIMD128)'),
      );
    }
    return { path, features, reason };
  }
  const path: KernelPath = features.relaxedSimd ? 'relaxed' : features.simd128 ? features.arch : 'scalar';
  return { path, features, reason };
}

/** Every path this host can run (tests and benchmarks iterate these). */
export async function availablePaths(source?: WasmSource): Promise<KernelPath[]> {
  const f = await detectFeatures(source);
  return KERNEL_PATHS.filter((p) => supported(p, f));
}

/** The variant each kernel family runs on a path (for session diagnostics, benchmarks and tests). */
export function familyChoices(path: KernelPath, arch: Arch): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [family, variants] of Object.entries(FAMILIES)) out[family] = pickVariant(variants, path, arch).name;
  return out;
}
