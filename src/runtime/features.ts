// Host feature detection: which wasm builds this engine can run, and whether it behaves like x86 or ARM.
// - SIMD / relaxed SIMD: WebAssembly.validate on a one-instruction module of each instruction set (on the builds
//   themselves when the `wasm` option names where they come from).
// - x86 vs ARM inside wasm: the sign of the default NaN from inf - inf (XNNPACK, src/configs/hardware-config.c).
import { loadWasmBytes, type WasmSource } from './wasm.js';

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

const ZERO_V128 = [0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]; // v128.const 0
const PROBE_HEAD = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00]; // () -> v128
/** (func (result v128) (v128.const i32x4 0 0 0 0)): validates iff the engine has SIMD128. */
const SIMD_PROBE = new Uint8Array([...PROBE_HEAD, 0x0a, 0x16, 0x01, 0x14, 0x00, ...ZERO_V128, 0x0b]);
/** The same with i32x4.relaxed_trunc_f32x4_s (0xfd 0x101) applied: validates iff the engine has relaxed SIMD. */
const RELAXED_PROBE = new Uint8Array([...PROBE_HEAD, 0x0a, 0x19, 0x01, 0x17, 0x00, ...ZERO_V128, 0xfd, 0x81, 0x02, 0x0b]);

/**
 * Whether the engine takes a build's instruction set. With the default files: WebAssembly.validate on a
 * one-instruction module of that set (the builds use no other proposal), instead of reading and validating the
 * 250 KB builds at every cold start (bench/cold-phases.ts). With a `wasm` source (which may lack some builds):
 * validate that source's build, as a build that validates will run.
 */
async function validates(level: 'simd128' | 'relaxed', source?: WasmSource): Promise<boolean> {
  try {
    const bytes = source === undefined ? (level === 'simd128' ? SIMD_PROBE : RELAXED_PROBE) : await loadWasmBytes(level, false, source);
    return WebAssembly.validate(bytes as unknown as BufferSource);
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

/**
 * (func (export "f") (param f32 f32) (result i32) (i32.reinterpret_f32 (f32.sub (local.get 0) (local.get 1)))):
 * the same computation as the builds' probe_f32_sub_bits, in a 40-byte module (no build compiled for the probe).
 */
const NAN_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7d, 0x7d, 0x01, 0x7f, // type: (f32, f32) -> i32
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, // export "f" = function 0
  0x0a, 0x0a, 0x01, 0x08, 0x00, 0x20, 0x00, 0x20, 0x01, 0x93, 0xbc, 0x0b, // local.get 0, local.get 1, f32.sub, i32.reinterpret_f32
]);

function nanSignProbe(): (a: number, b: number) => number {
  return new WebAssembly.Instance(new WebAssembly.Module(NAN_PROBE)).exports.f as (a: number, b: number) => number;
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
      const bits = nanSignProbe()(Infinity, Infinity) >>> 0;
      const arch: Arch = bits & 0x80000000 ? 'x86' : 'arm';
      return { simd128, relaxedSimd: simd128 && relaxedSimd, arch, sharedMemory: sharedMemoryWorks(), cores };
    })();
    cache.set(source, p);
  }
  return p;
}
