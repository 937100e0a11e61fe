// Host-side tensors of the graph IR (constants, folded values, host-executed ops) and their element types.
// A HostTensor is logical (ONNX layout, row-major). float16 is stored as its bits in a Uint16Array, bool as
// 0/1 in a Uint8Array, int64/uint64 as BigInt64Array/BigUint64Array.
import { float16BitsToFloat32 as float16ToFloat32, float32ToFloat16Bits as float32ToFloat16 } from '../onnx/float16.js';

export type DType =
  | 'float32' | 'float16' | 'float64'
  | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'bool';

export type TypedData =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

export interface HostTensor {
  dtype: DType;
  dims: number[];
  data: TypedData;
  /**
   * float32 constants only: where the values come from when `data` has not been built yet (lazyF32). Weight packing
   * reads rows from here (f32Rows) instead of `data`, so a misaligned initializer or a BatchNorm-scaled weight is
   * never copied whole in JS; any other reader of `data` gets the same values, built on first access.
   */
  f32src?: F32Source;
  /**
   * int8 / uint8 constants left in the model file (lazyQ8): reads bytes [offset, offset + dst.length) of the tensor.
   * Weight packing reads them into a reused buffer (weightBytes) instead of `data`, which is built on first access.
   */
  q8src?: (dst: Uint8Array, offset: number) => void;
}

/**
 * float32 values as little-endian bytes at any alignment (e.g. in place in the model's bytes), or read on demand
 * (`read`: large weights left in the model file, src/onnx/reader.ts), each row (first axis) times rowScale[row] if set.
 */
export interface F32Source {
  bytes?: Uint8Array;
  /** Fills dst with the source's bytes from byte `offset` on (when `bytes` is not given). */
  read?: (dst: Uint8Array, offset: number) => void;
  /** Size in bytes of a `read` source. */
  byteLength?: number;
  /** Row multipliers (BatchNorm folding, src/graph/passes.ts); the product is rounded to float32 like a Float32Array store. */
  rowScale?: Float64Array;
}

/** A weight matrix read one row (first axis) at a time into a caller's buffer: what the FP32 packers take. */
export interface F32Rows {
  rows: number;
  cols: number;
  /** dst[0..cols) = row r. */
  read(r: number, dst: Float32Array): void;
}

/** ONNX TensorProto.DataType codes. */
export const ONNX_DTYPE: Record<number, DType> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool',
  10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64',
};
export const ONNX_DTYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED (no type set)', 8: 'string', 14: 'complex64', 15: 'complex128', 16: 'bfloat16', 17: 'float8e4m3fn',
  18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz', 21: 'uint4', 22: 'int4', 23: 'float4e2m1',
  24: 'uint2', 25: 'int2',
};
export function dtypeFromOnnx(code: number, where: string): DType {
  const t = ONNX_DTYPE[code];
  if (!t) throw new Error(`octet: ${where}: unsupported element type ${ONNX_DTYPE_NAMES[code] ? `${ONNX_DTYPE_NAMES[code]}, code ${code}` : code}`);
  return t;
}

export const DTYPE_BYTES: Record<DType, number> = {
  float32: 4, float16: 2, float64: 8, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4,
  int64: 8, uint64: 8, bool: 1,
};

export function isFloat(t: DType): boolean {
  return t === 'float32' || t === 'float16' || t === 'float64';
}
export function isBig(t: DType): boolean {
  return t === 'int64' || t === 'uint64';
}

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function allocData(dtype: DType, n: number): TypedData {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'float16': return new Uint16Array(n);
    case 'int8': return new Int8Array(n);
    case 'uint8': case 'bool': return new Uint8Array(n);
    case 'int16': return new Int16Array(n);
    case 'uint16': return new Uint16Array(n);
    case 'int32': return new Int32Array(n);
    case 'uint32': return new Uint32Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'uint64': return new BigUint64Array(n);
  }
}

/** A typed view of `dtype` over bytes (must be aligned). */
export function viewData(dtype: DType, buffer: ArrayBufferLike, byteOffset: number, n: number): TypedData {
  switch (dtype) {
    case 'float32': return new Float32Array(buffer, byteOffset, n);
    case 'float64': return new Float64Array(buffer, byteOffset, n);
    case 'float16': return new Uint16Array(buffer, byteOffset, n);
    case 'int8': return new Int8Array(buffer, byteOffset, n);
    case 'uint8': case 'bool': return new Uint8Array(buffer, byteOffset, n);
    case 'int16': return new Int16Array(buffer, byteOffset, n);
    case 'uint16': return new Uint16Array(buffer, byteOffset, n);
    case 'int32': return new Int32Array(buffer, byteOffset, n);
    case 'uint32': return new Uint32Array(buffer, byteOffset, n);
    case 'int64': return new BigInt64Array(buffer, byteOffset, n);
    case 'uint64': return new BigUint64Array(buffer, byteOffset, n);
  }
}

export function makeTensor(dtype: DType, dims: number[], data?: TypedData): HostTensor {
  const n = sizeOf(dims);
  const d = data ?? allocData(dtype, n);
  if (d.length !== n) throw new Error(`octet: tensor of dims [${dims}] needs ${n} values, got ${d.length}`);
  return { dtype, dims: dims.slice(), data: d };
}

let alignScratch = new Uint8Array(0);
let alignScratchF = new Float32Array(0);
/** Rows read from a `read` source land here, a chunk at a time (reused: no fresh pages per tensor). */
const CHUNK_BYTES = 1 << 18;
let chunk = new Uint8Array(0);
let chunkF = new Float32Array(0);
let chunkOwner: object | null = null;

/** Rows of a float32 tensor of `rows` rows (data, or its F32Source without building data). */
export function f32Rows(t: HostTensor | Float32Array, rows: number): F32Rows {
  const n = t instanceof Float32Array ? t.length : sizeOf(t.dims);
  const cols = rows > 0 ? n / rows : 0;
  if (!Number.isInteger(cols)) throw new Error(`octet: ${n} weights do not split into ${rows} rows`);
  const src = t instanceof Float32Array ? undefined : t.f32src;
  let all: Float32Array | undefined;
  if (!src) all = (t instanceof Float32Array ? t : t.data) as Float32Array;
  else if (src.bytes && (src.bytes.byteOffset & 3) === 0) all = new Float32Array(src.bytes.buffer, src.bytes.byteOffset, n);
  const bytes = src?.bytes, scale = src?.rowScale, readAt = bytes ? undefined : src?.read;
  const rowBytes = cols * 4;
  const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / Math.max(rowBytes, 1)));
  const me = {};
  let c0 = 0, c1 = 0; // rows [c0, c1) are in `chunk` while chunkOwner === me
  // no allocation per row (a model reads ~20k rows): index loops over one view
  return {
    rows, cols,
    read(r, dst) {
      let v: Float32Array, o = r * cols;
      if (all) v = all;
      else if (readAt) {
        if (chunkOwner !== me || r < c0 || r >= c1) {
          const nr = Math.min(perChunk, rows - r);
          if (chunk.length < nr * rowBytes) {
            chunk = new Uint8Array(Math.max(nr * rowBytes, CHUNK_BYTES));
            chunkF = new Float32Array(chunk.buffer);
          }
          readAt(chunk.subarray(0, nr * rowBytes), r * rowBytes);
          chunkOwner = me;
          c0 = r;
          c1 = r + nr;
        }
        v = chunkF;
        o = (r - c0) * cols;
      } else {
        // misaligned: the row's bytes into an aligned scratch (reused: no fresh pages), read as floats
        if (alignScratch.length < cols * 4) {
          alignScratch = new Uint8Array(Math.max(cols * 4, 4096));
          alignScratchF = new Float32Array(alignScratch.buffer);
        }
        alignScratch.set(bytes!.subarray(o * 4, o * 4 + cols * 4));
        v = alignScratchF;
        o = 0;
      }
      if (!scale) for (let i = 0; i < cols; i++) dst[i] = v[o + i];
      else {
        const s = scale[r];
        for (let i = 0; i < cols; i++) dst[i] = v[o + i] * s;
      }
    },
  };
}

/**
 * A float32 constant whose `data` is built on first access from `src` (then kept, and the source dropped); packers
 * read it through f32Rows without building it. Assigning `data` replaces the values (and drops the source).
 */
export function lazyF32(dims: number[], src: F32Source): HostTensor {
  const n = sizeOf(dims);
  const len = src.bytes ? src.bytes.length : src.read ? src.byteLength : undefined;
  if (len !== n * 4) throw new Error(`octet: float32 source of ${len} bytes for dims [${dims}]`);
  let data: Float32Array | undefined;
  const t = { dtype: 'float32', dims: dims.slice(), f32src: src } as HostTensor;
  Object.defineProperty(t, 'data', {
    enumerable: true,
    configurable: true,
    get(): Float32Array {
      if (!data) {
        data = new Float32Array(n);
        const rows = dims.length ? dims[0] : 1;
        const rr = f32Rows(t, rows);
        for (let r = 0; r < rows; r++) rr.read(r, data.subarray(r * rr.cols, (r + 1) * rr.cols));
        delete t.f32src; // from now on `data` is the one source (even if someone writes to it)
      }
      return data;
    },
    set(v: Float32Array) { data = v; delete t.f32src; },
  });
  return t;
}

/** An int8 / uint8 tensor whose bytes are read by `read` when used (weights left in the model file, src/onnx/reader.ts). */
export function lazyQ8(dtype: 'int8' | 'uint8', dims: number[], read: (dst: Uint8Array, offset: number) => void): HostTensor {
  const n = sizeOf(dims);
  let data: Int8Array | Uint8Array | undefined;
  const t = { dtype, dims: dims.slice(), q8src: read } as HostTensor;
  Object.defineProperty(t, 'data', {
    enumerable: true,
    configurable: true,
    get(): Int8Array | Uint8Array {
      if (!data) {
        data = dtype === 'int8' ? new Int8Array(n) : new Uint8Array(n);
        read(new Uint8Array(data.buffer), 0);
        delete t.q8src; // from now on `data` is the one source (even if someone writes to it)
      }
      return data;
    },
    set(v: Int8Array | Uint8Array) { data = v; delete t.q8src; },
  });
  return t;
}

let weightScratch: ArrayBuffer | null = null;

/**
 * An int8 / uint8 constant's values for a packer that reads them once while preparing its kernel: `data`, or for a
 * weight still in the model file (lazyQ8), its bytes read into one buffer reused by every call (a first touch of
 * fresh memory costs ~20 us per 4 KB page here: ResNet-18's 11.7 MB of INT8 weights were 2900 faults at every cold
 * start, bench/cold-phases.ts). The view is valid until the next call; releaseWeightScratch() drops the buffer.
 */
export function weightBytes(t: HostTensor): Int8Array | Uint8Array {
  if (!t.q8src || (t.dtype !== 'int8' && t.dtype !== 'uint8')) return t.data as Int8Array | Uint8Array;
  const n = sizeOf(t.dims);
  if (!weightScratch || weightScratch.byteLength < n) weightScratch = new ArrayBuffer(Math.max(n, 1 << 16));
  const u8 = new Uint8Array(weightScratch, 0, n);
  t.q8src(u8, 0);
  return t.dtype === 'int8' ? new Int8Array(weightScratch, 0, n) : u8;
}

/** Sizes weightBytes' buffer for the largest weight up front (growing it weight by weight touched twice the pages). */
export function reserveWeightScratch(bytes: number): void {
  if (bytes > 0 && (!weightScratch || weightScratch.byteLength < bytes)) weightScratch = new ArrayBuffer(bytes);
}

/** Frees weightBytes' buffer (the executor calls it once a plan's kernels are prepared). */
export function releaseWeightScratch(): void {
  weightScratch = null;
}

export { float16BitsToFloat32 as float16ToFloat32, float32ToFloat16Bits as float32ToFloat16 } from '../onnx/float16.js';

/** Element values as doubles (int64 beyond 2^53 loses precision; shapes and indices never get there). */
export function toNumbers(t: HostTensor): Float64Array {
  const n = t.data.length;
  const out = new Float64Array(n);
  const d = t.data as any;
  if (t.dtype === 'float16') for (let i = 0; i < n; i++) out[i] = float16ToFloat32(d[i]);
  else if (isBig(t.dtype)) for (let i = 0; i < n; i++) out[i] = Number(d[i]);
  else for (let i = 0; i < n; i++) out[i] = d[i];
  return out;
}

/** Converts doubles to `dtype` the way ONNX Cast does (floats round, integers truncate toward zero and wrap). */
export function fromNumbers(dtype: DType, dims: number[], v: ArrayLike<number>): HostTensor {
  const t = makeTensor(dtype, dims);
  const d = t.data as any;
  const n = v.length;
  if (dtype === 'float16') for (let i = 0; i < n; i++) d[i] = float32ToFloat16(v[i]);
  else if (dtype === 'bool') for (let i = 0; i < n; i++) d[i] = v[i] !== 0 && !Number.isNaN(v[i]) ? 1 : 0;
  else if (isFloat(dtype)) for (let i = 0; i < n; i++) d[i] = v[i];
  else if (isBig(dtype)) for (let i = 0; i < n; i++) d[i] = BigInt(Number.isFinite(v[i]) ? Math.trunc(v[i]) : 0);
  else for (let i = 0; i < n; i++) d[i] = Number.isFinite(v[i]) ? Math.trunc(v[i]) : 0;
  return t;
}

/** Integer list from an int32/int64 tensor (shapes, axes, indices). */
export function toInts(t: HostTensor): number[] {
  return Array.from(toNumbers(t));
}

export function scalarOf(t: HostTensor | undefined, fallback: number): number {
  if (!t || t.data.length === 0) return fallback;
  return toNumbers(t)[0];
}

export function cloneTensor(t: HostTensor): HostTensor {
  return { dtype: t.dtype, dims: t.dims.slice(), data: (t.data as any).slice() };
}

export function strides(dims: readonly number[]): number[] {
  const s = new Array(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/** Generic transpose of a logical tensor: out.dims[i] = dims[perm[i]]. */
export function transposeData(t: HostTensor, perm: readonly number[]): HostTensor {
  const r = t.dims.length;
  const outDims = perm.map((p) => t.dims[p]);
  const out = makeTensor(t.dtype, outDims);
  const inS = strides(t.dims);
  const n = out.data.length;
  if (n === 0) return out;
  const src = t.data as any;
  const dst = out.data as any;
  const idx = new Array(r).fill(0);
  const ps = perm.map((p) => inS[p]);
  let off = 0;
  for (let i = 0; i < n; i++) {
    dst[i] = src[off];
    for (let a = r - 1; a >= 0; a--) {
      idx[a]++;
      off += ps[a];
      if (idx[a] < outDims[a]) break;
      off -= ps[a] * outDims[a];
      idx[a] = 0;
    }
  }
  return out;
}

/** Numpy-style broadcast of several shapes; throws with `who` on mismatch. */
export function broadcastShapes(shapes: readonly (readonly number[])[], who: string): number[] {
  const r = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array(r).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const a = r - s.length + i;
      const d = s[i];
      if (d === out[a] || d === 1) continue;
      if (out[a] === 1) out[a] = d;
      else throw new Error(`octet: ${who}: shapes ${shapes.map((x) => `[${x}]`).join(' and ')} do not broadcast`);
    }
  }
  return out;
}

/** For each output flat index, the flat index into an input of shape `s` broadcast to `out`. */
export function broadcastIndex(s: readonly number[], out: readonly number[]): Int32Array {
  const n = sizeOf(out);
  const r = out.length;
  const res = new Int32Array(n);
  const inDims = new Array(r - s.length).fill(1).concat(s);
  const inS = strides(inDims).map((st, i) => (inDims[i] === 1 ? 0 : st));
  const idx = new Array(r).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    res[i] = off;
    for (let a = r - 1; a >= 0; a--) {
      idx[a]++;
      off += inS[a];
      if (idx[a] < out[a]) break;
      off -= inS[a] * out[a];
      idx[a] = 0;
    }
  }
  return res;
}

export function normAxis(axis: number, rank: number, who: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!(a >= 0 && a < rank)) throw new Error(`octet: ${who}: axis ${axis} out of range for rank ${rank}`);
  return a;
}
