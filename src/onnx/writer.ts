// The project's ONNX writer: a small typed graph builder over onnx-proto (protobufjs) that emits ModelProto bytes.
// Used by the reference-architecture builder (src/zoo), the quantizer (src/quant) and tests that need models.
//
//   const g = new GraphBuilder({ opset: 17, domains: { 'com.microsoft': 1 } });
//   const x = g.input('x', 'float32', [1, 3, 'H', 'W']);
//   const w = g.initializer('w', 'float32', weights, [8, 3, 3, 3]);
//   const [y] = g.node('Conv', [x, w], ['y'], { pads: [1, 1, 1, 1], strides: [1, 1] });
//   g.output(y, 'float32', [1, 8, 'H', 'W']);
//   const bytes = g.toBytes();
//
// Tensor data is always stored as raw_data (little-endian), which every ONNX reader accepts. Attributes take
// their kind from the JS value (integer number -> INT, other number -> FLOAT, arrays likewise, string, tensor,
// graph) unless wrapped by `attr.float(...)`, `attr.floats(...)`, `attr.int(...)`, etc. to force the kind
// (e.g. HardSigmoid alpha = 0.5 is fine, but Clip-like float attributes that happen to be integers need attr.float).
import { float32ToFloat16Bits } from './float16.js';
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
type IAttributeProto = onnxProto.onnx.IAttributeProto;
type ITensorProto = onnxProto.onnx.ITensorProto;
type IValueInfoProto = onnxProto.onnx.IValueInfoProto;
type INodeProto = onnxProto.onnx.INodeProto;
type IGraphProto = onnxProto.onnx.IGraphProto;
type IModelProto = onnxProto.onnx.IModelProto;

/** Element types the writer can store. */
export type DType = 'float32' | 'float16' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'int64' | 'bool';

/** ONNX TensorProto.DataType code for each DType. */
export const DTYPE_CODE: Record<DType, number> = {
  float32: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11,
};
const BYTES: Record<DType, number> = {
  float32: 4, uint8: 1, int8: 1, uint16: 2, int16: 2, int32: 4, int64: 8, bool: 1, float16: 2, float64: 8,
};

export type TensorData =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | BigInt64Array
  | readonly number[] | readonly bigint[] | readonly boolean[];

/** A dimension: a fixed size, a symbolic name (dim_param), or null for unknown. */
export type Dim = number | string | null;

/** A tensor value (for initializers, Constant nodes and tensor attributes). */
export interface TensorValue {
  readonly kind: 'tensor';
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: TensorData;
  readonly name?: string;
  /** The little-endian bytes of `data` (made once, by tensor()). */
  readonly raw: Uint8Array;
}

type ForcedAttr =
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'int'; readonly value: number | bigint }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'ints'; readonly value: readonly (number | bigint)[] }
  | { readonly kind: 'strings'; readonly value: readonly string[] }
  | { readonly kind: 'tensors'; readonly value: readonly TensorValue[] }
  | { readonly kind: 'graphs'; readonly value: readonly GraphBuilder[] };

export type AttrValue =
  | number | bigint | string | readonly number[] | readonly bigint[] | readonly string[]
  | TensorValue | GraphBuilder | ForcedAttr;

/** Wrappers that force an attribute kind. */
export const attr = {
  float: (value: number): ForcedAttr => ({ kind: 'float', value }),
  int: (value: number | bigint): ForcedAttr => ({ kind: 'int', value }),
  string: (value: string): ForcedAttr => ({ kind: 'string', value }),
  floats: (value: readonly number[]): ForcedAttr => ({ kind: 'floats', value }),
  ints: (value: readonly (number | bigint)[]): ForcedAttr => ({ kind: 'ints', value }),
  strings: (value: readonly string[]): ForcedAttr => ({ kind: 'strings', value }),
  tensors: (value: readonly TensorValue[]): ForcedAttr => ({ kind: 'tensors', value }),
  graphs: (value: readonly GraphBuilder[]): ForcedAttr => ({ kind: 'graphs', value }),
};

/** Make a tensor value; checks that the element count matches the dims. */
export function tensor(dtype: DType, data: TensorData, dims: readonly number[], name?: string): TensorValue {
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`tensor${name ? ` '${name}'` : ''}: ${data.length} elements for dims [${dims.join(', ')}] (expected ${n})`);
  for (const d of dims) if (!Number.isInteger(d) || d < 0) throw new Error(`tensor${name ? ` '${name}'` : ''}: bad dim ${d}`);
  return { kind: 'tensor', dtype, dims: [...dims], data, name, raw: tensorBytes(dtype, data) };
}

// ---------------------------------------------------------------------------------------------------------------
// float16

export { float32ToFloat16Bits, float16BitsToFloat32 } from './float16.js';

/** Little-endian bytes of a tensor's elements in the given dtype. */
export function tensorBytes(dtype: DType, data: TensorData): Uint8Array {
  const n = data.length;
  const out = new Uint8Array(n * BYTES[dtype]);
  const dv = new DataView(out.buffer);
  const num = (i: number): number => Number((data as ArrayLike<number | bigint | boolean>)[i]);
  switch (dtype) {
    case 'float32': for (let i = 0; i < n; i++) dv.setFloat32(i * 4, num(i), true); break;
    case 'float64': for (let i = 0; i < n; i++) dv.setFloat64(i * 8, num(i), true); break;
    case 'float16': for (let i = 0; i < n; i++) dv.setUint16(i * 2, float32ToFloat16Bits(num(i)), true); break;
    case 'int8': for (let i = 0; i < n; i++) dv.setInt8(i, checkInt(num(i), -128, 127, dtype)); break;
    case 'uint8': for (let i = 0; i < n; i++) dv.setUint8(i, checkInt(num(i), 0, 255, dtype)); break;
    case 'bool': for (let i = 0; i < n; i++) dv.setUint8(i, num(i) ? 1 : 0); break;
    case 'int16': for (let i = 0; i < n; i++) dv.setInt16(i * 2, checkInt(num(i), -32768, 32767, dtype), true); break;
    case 'uint16': for (let i = 0; i < n; i++) dv.setUint16(i * 2, checkInt(num(i), 0, 65535, dtype), true); break;
    case 'int32': for (let i = 0; i < n; i++) dv.setInt32(i * 4, checkInt(num(i), -2147483648, 2147483647, dtype), true); break;
    case 'int64':
      for (let i = 0; i < n; i++) {
        const v = (data as ArrayLike<number | bigint>)[i];
        dv.setBigInt64(i * 8, typeof v === 'bigint' ? v : BigInt(checkInt(Number(v), -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, dtype)), true);
      }
      break;
    default: throw new Error(`tensorBytes: unsupported dtype ${dtype as string}`);
  }
  return out;
}

function checkInt(v: number, lo: number, hi: number, dtype: DType): number {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`value ${v} is not a valid ${dtype}`);
  return v;
}

// ---------------------------------------------------------------------------------------------------------------

/** IR version that goes with a default-domain opset (onnx/docs/Versioning.md). */
export function irVersionForOpset(opset: number): number {
  if (opset <= 8) return 3;
  if (opset === 9) return 4;
  if (opset === 10) return 5;
  if (opset === 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

export interface GraphBuilderOptions {
  /** Graph name. */
  name?: string;
  /** Default-domain ('' / ai.onnx) opset. Default 17. */
  opset?: number;
  /** Other domains and their versions, e.g. { 'com.microsoft': 1 }. */
  domains?: Record<string, number>;
  /** Model IR version; default follows the opset. */
  irVersion?: number;
  producerName?: string;
  docString?: string;
}

export interface NodeOptions {
  name?: string;
  domain?: string;
  docString?: string;
}

export interface ExternalDataOptions {
  /** File name of the data file, relative to the model file (e.g. 'model.onnx.data'). */
  location: string;
  /** Tensors with at least this many bytes go to the data file. Default 1024. */
  threshold?: number;
  /** Offsets are aligned to this many bytes. Default 64. */
  align?: number;
}

function isTensorValue(v: unknown): v is TensorValue {
  return typeof v === 'object' && v !== null && (v as TensorValue).kind === 'tensor' && 'dtype' in (v as object);
}

/** Builds one ONNX graph (and, for the top-level graph, the model around it). */
export class GraphBuilder {
  readonly opset: number;
  readonly domains: Record<string, number>;
  readonly name: string;
  private readonly opts: GraphBuilderOptions;
  private readonly nodes: INodeProto[] = [];
  private readonly inits: TensorValue[] = [];
  private readonly inputs: IValueInfoProto[] = [];
  private readonly outputs: IValueInfoProto[] = [];
  private readonly valueInfos: IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  /** Names handed out by fresh() and not yet defined (claiming one of these is fine, once). */
  private readonly pending = new Set<string>();
  private counter = 0;

  constructor(opts: GraphBuilderOptions = {}) {
    this.opts = opts;
    this.opset = opts.opset ?? 17;
    this.domains = { ...(opts.domains ?? {}) };
    this.name = opts.name ?? 'graph';
  }

  /** A fresh value or node name starting with `prefix` (never returned twice, never equal to a declared name). */
  fresh(prefix = 't'): string {
    let n: string;
    do n = `${prefix}_${this.counter++}`; while (this.names.has(n));
    this.names.add(n);
    this.pending.add(n);
    return n;
  }

  private claim(name: string, what: string): string {
    if (!name) throw new Error(`${what}: empty name`);
    if (this.pending.delete(name)) return name;
    if (this.names.has(name)) throw new Error(`${what} '${name}': name already used in graph '${this.name}'`);
    this.names.add(name);
    return name;
  }

  /** Declare a graph input. Returns its name. */
  input(name: string, dtype: DType, shape?: readonly Dim[]): string {
    this.claim(name, 'input');
    this.inputs.push(valueInfo(name, dtype, shape));
    return name;
  }

  /** Declare a graph output (the value must be produced by a node, an input or an initializer). */
  output(name: string, dtype: DType, shape?: readonly Dim[]): string {
    this.outputs.push(valueInfo(name, dtype, shape));
    return name;
  }

  /** Add a value_info entry (type/shape of an intermediate value). */
  valueInfo(name: string, dtype: DType, shape?: readonly Dim[]): void {
    this.valueInfos.push(valueInfo(name, dtype, shape));
  }

  /** Add an initializer. Returns its name. */
  initializer(name: string, dtype: DType, data: TensorData, dims: readonly number[]): string {
    this.claim(name, 'initializer');
    this.inits.push(tensor(dtype, data, dims, name));
    return name;
  }

  /** Add a Constant node whose output is `name`. Returns the name. */
  constant(name: string, dtype: DType, data: TensorData, dims: readonly number[]): string {
    this.node('Constant', [], [name], { value: tensor(dtype, data, dims) });
    return name;
  }

  /**
   * Add a node. `outputs` is a list of names or a count (fresh names are made from the op type).
   * Empty-string inputs mean "optional input omitted". Returns the output names.
   */
  node(opType: string, inputs: readonly string[], outputs: readonly string[] | number = 1, attrs: Record<string, AttrValue | undefined> = {}, opts: NodeOptions = {}): string[] {
    const domain = opts.domain ?? '';
    if (domain && domain !== 'ai.onnx' && !(domain in this.domains)) {
      throw new Error(`node ${opType}: domain '${domain}' is not imported (add it to GraphBuilderOptions.domains)`);
    }
    const base = opType.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
    const outs = typeof outputs === 'number'
      ? Array.from({ length: outputs }, () => this.claim(this.fresh(base), opType))
      : outputs.map((o) => (o === '' ? '' : this.claim(o, `output of ${opType}`)));
    const attribute: IAttributeProto[] = [];
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) attribute.push(encodeAttr(k, v, opType));
    this.nodes.push({
      opType, input: [...inputs], output: outs, attribute,
      name: opts.name ?? this.nodeName(`${base}_node`), domain, docString: opts.docString,
    });
    return outs;
  }

  private nodeName(prefix: string): string {
    const n = this.fresh(prefix);
    this.pending.delete(n);
    return n;
  }

  /** Number of nodes so far. */
  get nodeCount(): number { return this.nodes.length; }

  /** The GraphProto (plain object form), with tensors in raw_data; `external` moves big ones out. */
  toGraphProto(external?: ExternalWriter): IGraphProto {
    return {
      name: this.name,
      node: this.nodes,
      initializer: this.inits.map((t) => encodeTensor(t, external)),
      input: this.inputs,
      output: this.outputs,
      valueInfo: this.valueInfos,
      docString: this.opts.docString,
    };
  }

  /** The ModelProto (plain object form). */
  toModelProto(external?: ExternalWriter): IModelProto {
    const opsetImport = [{ domain: '', version: this.opset }, ...Object.entries(this.domains).map(([domain, version]) => ({ domain, version }))];
    return {
      irVersion: this.opts.irVersion ?? irVersionForOpset(this.opset),
      producerName: this.opts.producerName ?? 'octet',
      producerVersion: '0.1.0',
      opsetImport,
      graph: this.toGraphProto(external),
    };
  }

  /** Serialized model bytes, everything inline. */
  toBytes(): Uint8Array {
    return onnx.ModelProto.encode(onnx.ModelProto.create(this.toModelProto())).finish();
  }

  /** Serialized model bytes plus one external data file (tensors >= threshold bytes go there). */
  toBytesWithExternalData(opts: ExternalDataOptions): { model: Uint8Array; data: Uint8Array } {
    const ext = new ExternalWriter(opts);
    const model = onnx.ModelProto.encode(onnx.ModelProto.create(this.toModelProto(ext))).finish();
    return { model, data: ext.finish() };
  }
}

/** Collects tensor bytes for an external data file. */
export class ExternalWriter {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  readonly location: string;
  readonly threshold: number;
  readonly align: number;
  constructor(opts: ExternalDataOptions) {
    this.location = opts.location;
    this.threshold = opts.threshold ?? 1024;
    this.align = opts.align ?? 64;
  }
  /** Appends bytes; returns the offset. */
  add(bytes: Uint8Array): number {
    const pad = (this.align - (this.size % this.align)) % this.align;
    if (pad) { this.chunks.push(new Uint8Array(pad)); this.size += pad; }
    const off = this.size;
    this.chunks.push(bytes);
    this.size += bytes.length;
    return off;
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) { out.set(c, o); o += c.length; }
    return out;
  }
}

function valueInfo(name: string, dtype: DType, shape?: readonly Dim[]): IValueInfoProto {
  const tensorType: onnxProto.onnx.TypeProto.ITensor = { elemType: DTYPE_CODE[dtype] };
  if (shape) tensorType.shape = { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})) };
  return { name, type: { tensorType } };
}

function encodeTensor(t: TensorValue, external?: ExternalWriter): ITensorProto {
  const raw = t.raw;
  const base: ITensorProto = { name: t.name ?? '', dims: [...t.dims], dataType: DTYPE_CODE[t.dtype] };
  if (external && raw.length >= external.threshold) {
    const offset = external.add(raw);
    return {
      ...base,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: external.location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw.length) },
      ],
    };
  }
  return { ...base, rawData: raw };
}

const AT = onnxProto.onnx.AttributeProto.AttributeType;

function encodeAttr(name: string, v: AttrValue, opType: string): IAttributeProto {
  const fail = (why: string): never => { throw new Error(`node ${opType}: attribute '${name}': ${why}`); };
  if (v instanceof GraphBuilder) return { name, type: AT.GRAPH, g: v.toGraphProto() };
  if (isTensorValue(v)) return { name, type: AT.TENSOR, t: encodeTensor(v) };
  if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'bigint') return { name, type: AT.INT, i: v.toString() as unknown as number };
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return { name, type: AT.FLOAT, f: v };
    return Number.isInteger(v) ? { name, type: AT.INT, i: v } : { name, type: AT.FLOAT, f: v };
  }
  if (Array.isArray(v)) {
    if (v.length === 0) fail('empty list: use attr.ints([]) / attr.floats([]) to say which kind');
    if (v.every((x) => typeof x === 'string')) return { name, type: AT.STRINGS, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) };
    if (v.every((x) => typeof x === 'bigint' || (typeof x === 'number' && Number.isInteger(x)))) return { name, type: AT.INTS, ints: v.map(intField) };
    if (v.every((x) => typeof x === 'number')) return { name, type: AT.FLOATS, floats: v as number[] };
    fail('mixed list');
  }
  const f = v as ForcedAttr;
  switch (f.kind) {
    case 'float': return { name, type: AT.FLOAT, f: f.value };
    case 'int': return { name, type: AT.INT, i: intField(f.value) };
    case 'string': return { name, type: AT.STRING, s: new TextEncoder().encode(f.value) };
    case 'floats': return { name, type: AT.FLOATS, floats: [...f.value] };
    case 'ints': return { name, type: AT.INTS, ints: f.value.map(intField) };
    case 'strings': return { name, type: AT.STRINGS, strings: f.value.map((s) => new TextEncoder().encode(s)) };
    case 'tensors': return { name, type: AT.TENSORS, tensors: f.value.map((t) => encodeTensor(t)) };
    case 'graphs': return { name, type: AT.GRAPHS, graphs: f.value.map((g) => g.toGraphProto()) };
  }
  return fail('unsupported value');
}

// protobufjs accepts numbers or decimal strings for int64 fields (strings keep bigint precision).
function intField(x: number | bigint): number {
  if (typeof x === 'bigint') return x.toString() as unknown as number;
  if (!Number.isInteger(x)) throw new Error(`attribute int value ${x} is not an integer`);
  return x;
}
