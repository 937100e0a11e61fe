// Loads one Octet wasm build (scalar | simd128 | relaxed, private or shared memory) over a host-owned
// WebAssembly.Memory. The kernels never allocate: callers place data at byte offsets >= heapBase.

export type BuildLevel = 'scalar' | 'simd128' | 'relaxed';
export const BUILD_LEVELS: readonly BuildLevel[] = ['scalar', 'simd128', 'relaxed'];

/**
 * Where wasm bytes come from: default (next to this file, via import.meta.url), or
 *  - a base URL (string or URL) of a folder holding the six files (octet-scalar.wasm, octet-scalar-mt.wasm,
 *    octet-simd128[-mt].wasm, octet-relaxed[-mt].wasm), e.g. a CDN path ending in '/';
 *  - per file: { 'octet-relaxed-mt.wasm': bytes | ArrayBuffer | URL, ... }; a key may also be a level
 *    ('scalar' | 'simd128' | 'relaxed'), used for both memory flavours of that level when no file key is given.
 *    Files not listed come from the default location.
 */
export type WasmSource = string | URL | Partial<Record<string, Uint8Array | ArrayBuffer | string | URL>>;

const PAGE = 65536;

export function wasmFileName(level: BuildLevel, shared: boolean): string {
  return `octet-${level}${shared ? '-mt' : ''}.wasm`;
}

function isNode(): boolean {
  return typeof process !== 'undefined' && !!(process as any).versions?.node;
}

/**
 * Where each build sits next to the compiled code. Every URL is a literal `new URL('…', import.meta.url)`
 * so that bundlers (Vite, webpack 5, Rollup, esbuild) see the files and copy them into the bundle.
 */
function defaultWasmUrl(level: BuildLevel, shared: boolean): URL {
  switch (`${level}${shared ? '-mt' : ''}`) {
    case 'scalar': return new URL('../../build/wasm/octet-scalar.wasm', import.meta.url);
    case 'scalar-mt': return new URL('../../build/wasm/octet-scalar-mt.wasm', import.meta.url);
    case 'simd128': return new URL('../../build/wasm/octet-simd128.wasm', import.meta.url);
    case 'simd128-mt': return new URL('../../build/wasm/octet-simd128-mt.wasm', import.meta.url);
    case 'relaxed': return new URL('../../build/wasm/octet-relaxed.wasm', import.meta.url);
    case 'relaxed-mt': return new URL('../../build/wasm/octet-relaxed-mt.wasm', import.meta.url);
  }
  throw new Error(`octet: unknown wasm build ${level}`);
}

const bytesCache = new Map<string, Promise<Uint8Array>>();

/** Reads a build's bytes. Cached per file name (and per explicit source). */
export function loadWasmBytes(level: BuildLevel, shared = false, source?: WasmSource): Promise<Uint8Array> {
  const file = wasmFileName(level, shared);
  const given = typeof source === 'string' || source instanceof URL
    ? new URL(file, baseUrl(source))
    : source?.[file] ?? source?.[level];
  if (given instanceof Uint8Array) return Promise.resolve(given);
  if (given instanceof ArrayBuffer) return Promise.resolve(new Uint8Array(given));
  const key = given ? String(given) : file;
  let p = bytesCache.get(key);
  if (!p) {
    const url = given ? new URL(String(given), import.meta.url) : defaultWasmUrl(level, shared);
    p = readUrl(url);
    bytesCache.set(key, p);
    p.catch(() => bytesCache.delete(key));
  }
  return p;
}

/** A base URL always ends with '/' (so 'https://cdn/octet' means the folder, not a file in https://cdn/). */
function baseUrl(base: string | URL): URL {
  const s = String(base);
  return new URL(s.endsWith('/') ? s : `${s}/`, import.meta.url);
}

// A variable specifier: browser bundlers must never try to resolve a Node built-in from this file.
const NODE_FS = 'node:fs/promises';

async function readUrl(url: URL): Promise<Uint8Array> {
  if (url.protocol === 'file:' && isNode()) {
    const fs = await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_FS);
    try {
      return new Uint8Array(await fs.readFile(url));
    } catch (e: any) {
      throw new Error(`octet: cannot read wasm build ${url.pathname} (${e.code ?? e.message}); run \`npm run build:wasm\``);
    }
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`octet: cannot fetch wasm build ${url.href}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

const moduleCache = new Map<Uint8Array, Promise<WebAssembly.Module>>();
function compile(bytes: Uint8Array, file: string): Promise<WebAssembly.Module> {
  let m = moduleCache.get(bytes);
  if (!m) {
    m = WebAssembly.compile(bytes as unknown as BufferSource).catch((e: unknown) => {
      moduleCache.delete(bytes);
      throw new Error(`octet: the wasm build ${file} does not compile (${(e as Error)?.message ?? e}); pass the files of this Octet version`);
    });
    moduleCache.set(bytes, m);
  }
  return m;
}

export interface WasmInstanceOptions {
  shared?: boolean;
  /** Initial size in bytes (rounded up to pages). */
  initialBytes?: number;
  /** Upper bound in bytes; growth beyond it fails with an error. */
  maxBytes?: number;
  source?: WasmSource;
  /** Reuse an existing memory (worker threads instantiate the same module over one shared memory). */
  memory?: WebAssembly.Memory;
}

/** One instantiated build with its memory. `exports` holds the raw kernel functions (offsets in, offsets out). */
export class WasmKernels {
  readonly heapBase: number;
  private constructor(
    readonly level: BuildLevel,
    readonly shared: boolean,
    readonly module: WebAssembly.Module,
    readonly memory: WebAssembly.Memory,
    readonly exports: Record<string, any>,
    readonly maxBytes: number,
  ) {
    this.heapBase = (exports.heap_base() + 63) & ~63;
  }

  static async create(level: BuildLevel, opts: WasmInstanceOptions = {}): Promise<WasmKernels> {
    const shared = !!opts.shared;
    const bytes = await loadWasmBytes(level, shared, opts.source);
    const module = await compile(bytes, wasmFileName(level, shared));
    const maxBytes = Math.min(opts.maxBytes ?? (shared ? 1 << 30 : 4 * 1024 * 1024 * 1024 - PAGE), shared ? 1 << 30 : 65536 * PAGE);
    const maxPages = Math.floor(maxBytes / PAGE);
    const initialPages = Math.min(maxPages, Math.max(1, Math.ceil((opts.initialBytes ?? PAGE * 16) / PAGE)));
    const memory =
      opts.memory ??
      new WebAssembly.Memory({ initial: initialPages, maximum: maxPages, shared } as WebAssembly.MemoryDescriptor);
    // Plain WebAssembly.instantiate: the builds import only env.memory and export raw functions (no loader glue;
    // the AssemblyScript loader's Response check also made Node load its fetch implementation at startup).
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    // A plain object copy: the instance's exports object is frozen, and the worker pool wraps `exports` in a Proxy
    // that substitutes functions (src/runtime/pool.ts recordCalls), which a frozen target's invariants forbid.
    const exports: Record<string, unknown> = { ...instance.exports };
    return new WasmKernels(level, shared, module, memory, exports as any, maxPages * PAGE);
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Grows memory so that [0, bytes) is addressable. Throws a clear error past maxBytes. */
  ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    if (bytes > this.maxBytes) {
      throw new Error(`octet: needs ${bytes} bytes of wasm memory, above the limit of ${this.maxBytes} bytes`);
    }
    this.memory.grow(Math.ceil((bytes - have) / PAGE));
  }

  // Views are created per call: growing memory detaches old (non-shared) views.
  u8(offset: number, length: number): Uint8Array { return new Uint8Array(this.memory.buffer, offset, length); }
  i8(offset: number, length: number): Int8Array { return new Int8Array(this.memory.buffer, offset, length); }
  i16(offset: number, length: number): Int16Array { return new Int16Array(this.memory.buffer, offset, length); }
  i32(offset: number, length: number): Int32Array { return new Int32Array(this.memory.buffer, offset, length); }
  f32(offset: number, length: number): Float32Array { return new Float32Array(this.memory.buffer, offset, length); }
}

/**
 * A bump allocator over a WasmKernels instance, for tests, benchmarks and one-off calls.
 * The runtime proper plans offsets ahead of time (src/runtime/arena.ts) instead.
 */
export class BumpAllocator {
  private top: number;
  constructor(readonly wasm: WasmKernels, start = wasm.heapBase) {
    this.top = start;
  }
  alloc(bytes: number, align = 64): number {
    const at = Math.ceil(this.top / align) * align;
    this.top = at + bytes;
    this.wasm.ensure(this.top);
    return at;
  }
  /** Copies a typed array into fresh wasm memory and returns its offset. */
  put(data: ArrayBufferView, align = 64): number {
    const at = this.alloc(data.byteLength, align);
    this.wasm.u8(at, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return at;
  }
  reset(to = this.wasm.heapBase): void {
    this.top = to;
  }
  get used(): number {
    return this.top;
  }
}
