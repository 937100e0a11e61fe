// Host feature detection: which wasm builds this engine can run, and whether it behaves like x86 or ARM.
// - SIMD / relaxed SIMD: WebAssembly.validate on the real binaries (a build that validates will run).
// - x86 vs ARM inside wasm: the sign of the default NaN from inf - inf (XNNPACK, src/configs/hardware-config.c).
import { loadWasmBytes, WasmKernels, type BuildLevel, type WasmSource } from './wasm.js';

export type Arch = 'x86' | 'arm';

export interface HostFeatures {
  simd128: boolean;
  relaxedSimd: boolean;
  /** How the engine's NaNs (and so, its relaxed-SIMD lowering) behave. */
  arch: Arch;
  /** SharedArrayBuffer + shared WebAssembly.Memory usable (worker pool possible). */
  sharedMemory: boolean;
  /** Logical cores reported by the host. */
  cores: number;
}

async function validates(level: BuildLevel, source?: WasmSource): Promise<boolean> {
  try {
    return WebAssembly.validate((await loadWasmBytes(level, false, source)) as unknown as BufferSource);
  } catch {
    return false;
  }
}

function sharedMemoryWorks(): boolean {
  try {
    if (typeof SharedArrayBuffer === 'undefined') return false;
    const m = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
    return m.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

const NODE_OS = 'node:os';

async function hostCores(): Promise<number> {
  if (typeof navigator !== 'undefined' && (navigator as any).hardwareConcurrency) return (navigator as any).hardwareConcurrency;
  if (typeof process !== 'undefined' && (process as any).versions?.node) {
    const os: any = await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_OS);
    return (os as any).availableParallelism?.() ?? os.cpus().length;
  }
  return 1;
}

const cache = new Map<WasmSource | undefined, Promise<HostFeatures>>();

export function detectFeatures(source?: WasmSource): Promise<HostFeatures> {
  let p = cache.get(source);
  if (!p) {
    p = (async () => {
      const [simd128, relaxedSimd, cores] = await Promise.all([
        validates('simd128', source),
        validates('relaxed', source),
        hostCores(),
      ]);
      const probe = await WasmKernels.create('scalar', { source, initialBytes: 65536 });
      const bits = probe.exports.probe_f32_sub_bits(Infinity, Infinity) >>> 0;
      const arch: Arch = bits & 0x80000000 ? 'x86' : 'arm';
      return { simd128, relaxedSimd: simd128 && relaxedSimd, arch, sharedMemory: sharedMemoryWorks(), cores };
    })();
    cache.set(source, p);
  }
  return p;
}
