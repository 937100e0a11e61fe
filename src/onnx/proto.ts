// Protobuf message helpers for the reader: TensorProto -> HostTensor (raw_data, typed fields, external data),
// AttributeProto -> AttrValue, ValueInfoProto -> ValueInfo. Messages come from src/onnx/decode.ts (the runtime's
// decoder) or from onnx-proto (protobufjs; same field names): int64 values arrive as number, bigint or Long.
// onnx-proto is only a type here: the runtime does not load protobufjs (cold start).
import type onnxProto from 'onnx-proto';
import type { AttrValue, Dim, ValueInfo } from '../graph/ir.js';
import { DTYPE_BYTES, dtypeFromOnnx, lazyF32, lazyQ8, makeTensor, allocData, sizeOf, viewData, type HostTensor, type DType } from '../graph/tensor.js';
import type { DAttribute, DTensor, DValueInfo } from './decode.js';

type TensorMsg = DTensor | onnxProto.onnx.ITensorProto;
type AttributeMsg = DAttribute | onnxProto.onnx.IAttributeProto;
type ValueInfoMsg = DValueInfo | onnxProto.onnx.IValueInfoProto;

/** TensorProto.DataLocation.EXTERNAL (onnx.proto3). */
const EXTERNAL = 1;
/** AttributeProto.AttributeType (onnx.proto3). */
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 } as const;

export function longToNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v && typeof (v as any).toNumber === 'function') return (v as any).toNumber();
  if (typeof v === 'string') return Number(v);
  return Number(v);
}
function longToBig(v: unknown, unsigned: boolean): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'bigint') return v;
  const l = v as any;
  if (l && typeof l.low === 'number') {
    const lo = BigInt(l.low >>> 0);
    const hi = BigInt(l.high >>> 0);
    const u = (hi << 32n) | lo;
    return unsigned ? u : BigInt.asIntN(64, u);
  }
  return BigInt(String(v));
}

/** Resolves external data: given the `location` and the byte range, returns the bytes. */
export type ExternalLoader = (location: string, offset: number, length: number | undefined, tensor: string) => Uint8Array;

/**
 * raw_data payloads the reader left in the model file (src/onnx/reader.ts readModelFile): the bytes passed to the
 * decoder hold zeros there, never touched (no page faults for 14 MB of FP32 weights); `read` fetches them.
 */
export interface DeferredPayloads {
  /** Is the raw_data starting at this offset of the model bytes (= file offset) left in the file? */
  has(offset: number): boolean;
  /** Fills dst with the file's bytes from `offset` on. */
  read(dst: Uint8Array, offset: number): void;
}

/**
 * `inPlace`: the model bytes belong to the reader (read from a file), so raw_data that is aligned for its element
 * type is viewed where it lies instead of copied (int8 / uint8 weights always are): no second copy of the weights
 * at session creation (bench/cold-phases.ts). Bytes a caller passed in are always copied (the caller may reuse them).
 * `deferred`: large payloads still in the model file (float32 weights become row sources read when packed).
 */
export function tensorFromProto(t: TensorMsg, where: string, ext?: ExternalLoader, inPlace = false, deferred?: DeferredPayloads): HostTensor {
  const name = t.name || where;
  const dtype = dtypeFromOnnx(t.dataType ?? 0, `tensor '${name}'`);
  const dims = (t.dims ?? []).map(longToNumber);
  for (const d of dims) if (!(Number.isInteger(d) && d >= 0)) throw new Error(`octet: tensor '${name}': bad dimension ${d}`);
  const n = sizeOf(dims);
  let raw: Uint8Array | undefined;
  if (t.dataLocation === EXTERNAL) {
    const kv = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = kv.get('location');
    if (!location) throw new Error(`octet: tensor '${name}': external data without a location`);
    if (!ext) throw new Error(`octet: tensor '${name}': external data '${location}' needs the model to be loaded from a path`);
    const offset = kv.has('offset') ? Number(kv.get('offset')) : 0;
    const length = kv.has('length') ? Number(kv.get('length')) : undefined;
    raw = ext(location, offset, length, name);
  } else if (t.rawData && t.rawData.length > 0) {
    raw = t.rawData;
  }
  if (raw) {
    const need = n * DTYPE_BYTES[dtype];
    if (raw.length !== need) {
      throw new Error(`octet: tensor '${name}': has ${raw.length} bytes of data, dims [${dims}] of ${dtype} need ${need}`);
    }
    if (deferred?.has(raw.byteOffset)) {
      // float32 weights stay in the file, read by rows when packed (tensor.ts f32Rows); anything else is read now
      const at = raw.byteOffset;
      if (dtype === 'float32' && dims.length >= 2) return lazyF32(dims, { read: (dst, off) => deferred.read(dst, at + off), byteLength: need });
      // int8 / uint8 weights too: the packers read each into one reused buffer (tensor.ts weightBytes)
      if ((dtype === 'int8' || dtype === 'uint8') && dims.length >= 2) return lazyQ8(dtype, dims, (dst, off) => deferred.read(dst, at + off));
      deferred.read(raw, at);
    }
    if (inPlace && raw.byteOffset % DTYPE_BYTES[dtype] === 0) {
      return makeTensor(dtype, dims, viewData(dtype, raw.buffer, raw.byteOffset, n));
    }
    // misaligned float32 weights (rank >= 2) stay where they are too: packing reads them by rows (f32Rows), anything else
    // that reads `data` gets an aligned copy then
    if (inPlace && dtype === 'float32' && dims.length >= 2 && n >= 256) return lazyF32(dims, { bytes: raw });
    const out = makeTensor(dtype, dims);
    new Uint8Array(out.data.buffer, out.data.byteOffset, need).set(raw);
    return out;
  }
  const out = makeTensor(dtype, dims);
  const d = out.data as any;
  const src = pickField(t, dtype);
  if (n === 0) return out;
  if (src.length !== n) {
    throw new Error(`octet: tensor '${name}': has ${src.length} values, dims [${dims}] need ${n}`);
  }
  switch (dtype) {
    case 'int64': for (let i = 0; i < n; i++) d[i] = longToBig(src[i], false); break;
    case 'uint64': for (let i = 0; i < n; i++) d[i] = longToBig(src[i], true); break;
    case 'uint32': for (let i = 0; i < n; i++) d[i] = longToNumber(src[i]); break;
    default: for (let i = 0; i < n; i++) d[i] = src[i] as number;
  }
  return out;
}

function pickField(t: TensorMsg, dtype: DType): ArrayLike<unknown> {
  switch (dtype) {
    case 'float32': return t.floatData ?? [];
    case 'float64': return t.doubleData ?? [];
    case 'int64': return t.int64Data ?? [];
    case 'uint32': case 'uint64': return t.uint64Data ?? [];
    default: return t.int32Data ?? []; // int8/16/32, uint8/16, bool, float16 bits
  }
}

export function attrFromProto(a: AttributeMsg, where: string, ext?: ExternalLoader, inPlace = false): AttrValue {
  const T = ATTR;
  switch (a.type) {
    case T.FLOAT: return a.f ?? 0;
    case T.INT: return longToNumber(a.i ?? 0);
    case T.STRING: return new TextDecoder().decode(a.s ?? new Uint8Array());
    case T.TENSOR: return tensorFromProto(a.t ?? {}, `${where}.${a.name}`, ext, inPlace);
    case T.FLOATS: return Array.from(a.floats ?? []);
    case T.INTS: return (a.ints ?? []).map(longToNumber);
    case T.STRINGS: return (a.strings ?? []).map((s) => new TextDecoder().decode(s));
    case T.TENSORS: return (a.tensors ?? []).map((t, i) => tensorFromProto(t, `${where}.${a.name}[${i}]`, ext, inPlace));
    case T.GRAPH: case T.GRAPHS: return { graph: true };
    default: {
      // Old models may omit `type`: infer from which field is set.
      if (a.ints && a.ints.length) return a.ints.map(longToNumber);
      if (a.floats && a.floats.length) return Array.from(a.floats);
      if (a.t) return tensorFromProto(a.t, `${where}.${a.name}`, ext, inPlace);
      if (a.s && a.s.length) return new TextDecoder().decode(a.s);
      if (a.i !== undefined && a.i !== null && longToNumber(a.i) !== 0) return longToNumber(a.i);
      if (a.f) return a.f;
      throw new Error(`octet: ${where}: attribute '${a.name}' has ${a.type === undefined ? 'no type and no value' : `an unsupported type ${a.type}`}`);
    }
  }
}

export function valueInfoFromProto(v: ValueInfoMsg): ValueInfo | null {
  const tt = v.type?.tensorType;
  if (!tt) return null;
  const code = tt.elemType ?? 0;
  const dtype = dtypeFromOnnx(code, v.name ? `value '${v.name}'` : 'a value with no name');
  let dims: Dim[] | null = null;
  if (tt.shape) {
    dims = (tt.shape.dim ?? []).map((d) => {
      if (d.dimValue !== undefined && d.dimValue !== null && (d as any).value === 'dimValue') return longToNumber(d.dimValue);
      if (d.dimParam) return d.dimParam;
      if (d.dimValue !== undefined && d.dimValue !== null) {
        const x = longToNumber(d.dimValue);
        return x > 0 || (d as any).value === 'dimValue' ? x : null;
      }
      return null;
    });
  }
  return { name: v.name ?? '', dtype, dims };
}

export { allocData };
