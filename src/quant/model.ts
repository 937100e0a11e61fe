// Small helpers over onnx-proto's ModelProto used by the quantizer: decoding/encoding, reading initializers as
// typed arrays, building tensors, attributes and nodes, and a producer/consumer view of a graph.
import { float32ToFloat16Bits as floatToHalf, float16BitsToFloat32 as halfToFloat } from '../onnx/float16.js';
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type ModelProto = onnxProto.onnx.IModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

export const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

export function decodeModel(bytes: Uint8Array): ModelProto {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new Error('quantize: model bytes are empty or not a Uint8Array');
  let m: ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`quantize: cannot decode the ONNX model (${(e as Error).message})`);
  }
  if (!m.graph) throw new Error('quantize: the ONNX model has no graph');
  m.graph.node ??= [];
  m.graph.initializer ??= [];
  m.graph.input ??= [];
  m.graph.output ??= [];
  m.graph.valueInfo ??= [];
  return m;
}

export function encodeModel(m: ModelProto): Uint8Array {
  const buf = onnx.ModelProto.encode(onnx.ModelProto.fromObject(m as Record<string, unknown>)).finish();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength).slice();
}

export function cloneModel(m: ModelProto): ModelProto {
  return decodeModel(encodeModel(m));
}

export const num = (x: number | { toNumber(): number } | null | undefined): number =>
  x == null ? 0 : typeof x === 'number' ? x : x.toNumber();

export function dimsOf(t: TensorProto): number[] {
  return (t.dims ?? []).map((d) => num(d as number));
}

export function numel(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function rawView(t: TensorProto): DataView | null {
  const r = t.rawData;
  if (!r || r.length === 0) return null;
  const copy = r.slice();
  return new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
}

/** Float view of a FLOAT, FLOAT16, DOUBLE or integer initializer (values converted to float). */
export function tensorToFloat32(t: TensorProto): Float32Array {
  const n = numel(dimsOf(t));
  const dv = rawView(t);
  const out = new Float32Array(n);
  switch (t.dataType) {
    case DT.FLOAT:
      if (dv) for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      else out.set(t.floatData ?? []);
      return out;
    case DT.DOUBLE:
      if (dv) for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      else out.set(t.doubleData ?? []);
      return out;
    case DT.FLOAT16:
      for (let i = 0; i < n; i++) out[i] = halfToFloat(dv ? dv.getUint16(2 * i, true) : (t.int32Data ?? [])[i]);
      return out;
    case DT.INT8:
      for (let i = 0; i < n; i++) out[i] = dv ? dv.getInt8(i) : (t.int32Data ?? [])[i];
      return out;
    case DT.UINT8:
      for (let i = 0; i < n; i++) out[i] = dv ? dv.getUint8(i) : (t.int32Data ?? [])[i];
      return out;
    case DT.INT32:
      for (let i = 0; i < n; i++) out[i] = dv ? dv.getInt32(4 * i, true) : (t.int32Data ?? [])[i];
      return out;
    case DT.INT64:
      for (let i = 0; i < n; i++) out[i] = dv ? Number(dv.getBigInt64(8 * i, true)) : num((t.int64Data ?? [])[i] as number);
      return out;
    default:
      throw new Error(`initializer '${t.name}': unsupported data type ${t.dataType}`);
  }
}

export function tensorToInts(t: TensorProto): number[] {
  return Array.from(tensorToFloat32(t));
}

export function floatTensor(name: string, dims: readonly number[], data: ArrayLike<number>): TensorProto {
  const f = Float32Array.from(data);
  return { name, dataType: DT.FLOAT, dims: [...dims], rawData: new Uint8Array(f.buffer) };
}

export function int8Tensor(name: string, dims: readonly number[], data: ArrayLike<number>): TensorProto {
  const a = Int8Array.from(data);
  return { name, dataType: DT.INT8, dims: [...dims], rawData: new Uint8Array(a.buffer) };
}

export function uint8Tensor(name: string, dims: readonly number[], data: ArrayLike<number>): TensorProto {
  return { name, dataType: DT.UINT8, dims: [...dims], rawData: Uint8Array.from(data) };
}

export function qTensor(name: string, type: 'int8' | 'uint8', dims: readonly number[], data: ArrayLike<number>): TensorProto {
  return type === 'int8' ? int8Tensor(name, dims, data) : uint8Tensor(name, dims, data);
}

export function int32Tensor(name: string, dims: readonly number[], data: ArrayLike<number>): TensorProto {
  const a = Int32Array.from(data);
  return { name, dataType: DT.INT32, dims: [...dims], rawData: new Uint8Array(a.buffer) };
}

export function int64Tensor(name: string, dims: readonly number[], data: ArrayLike<number>): TensorProto {
  const a = BigInt64Array.from(Array.from(data, (v) => BigInt(v)));
  return { name, dataType: DT.INT64, dims: [...dims], rawData: new Uint8Array(a.buffer) };
}

export function float16Tensor(name: string, dims: readonly number[], data: ArrayLike<number>): TensorProto {
  const a = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) a[i] = floatToHalf(data[i]);
  return { name, dataType: DT.FLOAT16, dims: [...dims], rawData: new Uint8Array(a.buffer) };
}

export { float32ToFloat16Bits as floatToHalf, float16BitsToFloat32 as halfToFloat } from '../onnx/float16.js';

export type AttrValue = number | string | number[] | TensorProto;

export function makeAttr(name: string, v: AttrValue, float = false): AttributeProto {
  if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return float ? { name, type: AT.FLOATS, floats: v } : { name, type: AT.INTS, ints: v };
  if (typeof v === 'number') return float ? { name, type: AT.FLOAT, f: v } : { name, type: AT.INT, i: v };
  return { name, type: AT.TENSOR, t: v };
}

export function getAttr(node: NodeProto, name: string): AttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function attrInt(node: NodeProto, name: string, dflt: number): number {
  const a = getAttr(node, name);
  return a ? num(a.i as number) : dflt;
}

export function attrFloat(node: NodeProto, name: string, dflt: number): number {
  const a = getAttr(node, name);
  return a ? (a.f ?? dflt) : dflt;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = getAttr(node, name);
  return a ? (a.ints ?? []).map((x) => num(x as number)) : undefined;
}

export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  name: string,
  attrs: AttributeProto[] = [],
  domain?: string,
): NodeProto {
  const n: NodeProto = { opType, input: inputs, output: outputs, name, attribute: attrs };
  if (domain) n.domain = domain;
  return n;
}

export function valueInfo(name: string, elemType: number, dims?: (number | string)[]): ValueInfoProto {
  const shape = dims ? { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } : undefined;
  return { name, type: { tensorType: { elemType, shape } } };
}

/** Static shape of a graph input / value info (-1 for symbolic dims), or undefined when unknown. */
export function shapeOf(v: ValueInfoProto): number[] | undefined {
  const s = v.type?.tensorType?.shape;
  if (!s) return undefined;
  return (s.dim ?? []).map((d) => (d.dimValue != null && num(d.dimValue as number) > 0 ? num(d.dimValue as number) : -1));
}

export function opsetVersion(m: ModelProto, domain = ''): number {
  const o = (m.opsetImport ?? []).find((x) => (x.domain ?? '') === domain || (domain === '' && x.domain === 'ai.onnx'));
  return o ? num(o.version as number) : 0;
}

export function setOpset(m: ModelProto, domain: string, version: number): void {
  m.opsetImport ??= [];
  const o = m.opsetImport.find((x) => (x.domain ?? '') === domain || (domain === '' && x.domain === 'ai.onnx'));
  if (o) o.version = version;
  else m.opsetImport.push({ domain, version });
}

/** Producer / consumer index of a graph; rebuild after edits. */
export class GraphIndex {
  readonly producer = new Map<string, NodeProto>();
  readonly consumers = new Map<string, NodeProto[]>();
  readonly inits = new Map<string, TensorProto>();
  readonly graphInputs = new Set<string>();
  readonly graphOutputs = new Set<string>();
  constructor(readonly graph: GraphProto) {
    for (const t of graph.initializer ?? []) this.inits.set(t.name ?? '', t);
    for (const i of graph.input ?? []) if (!this.inits.has(i.name ?? '')) this.graphInputs.add(i.name ?? '');
    for (const o of graph.output ?? []) this.graphOutputs.add(o.name ?? '');
    for (const n of graph.node ?? []) {
      for (const o of n.output ?? []) if (o) this.producer.set(o, n);
      for (const i of n.input ?? []) {
        if (!i) continue;
        const l = this.consumers.get(i);
        if (l) l.push(n);
        else this.consumers.set(i, [n]);
      }
    }
  }
  consumersOf(t: string): NodeProto[] {
    return this.consumers.get(t) ?? [];
  }
  isConst(t: string): boolean {
    if (this.inits.has(t)) return true;
    const p = this.producer.get(t);
    return !!p && p.opType === 'Constant';
  }
  /** The constant value of a tensor given as an initializer or a Constant node, or undefined. */
  constTensor(t: string): TensorProto | undefined {
    const i = this.inits.get(t);
    if (i) return i;
    const p = this.producer.get(t);
    if (p && p.opType === 'Constant') {
      const a = getAttr(p, 'value');
      if (a?.t) return { ...a.t, name: t };
      const fv = getAttr(p, 'value_float');
      if (fv) return floatTensor(t, [], [fv.f ?? 0]);
      const fvs = getAttr(p, 'value_floats');
      if (fvs) return floatTensor(t, [(fvs.floats ?? []).length], fvs.floats ?? []);
      const iv = getAttr(p, 'value_int');
      if (iv) return int64Tensor(t, [], [num(iv.i as number)]);
      const ivs = getAttr(p, 'value_ints');
      if (ivs) return int64Tensor(t, [(ivs.ints ?? []).length], (ivs.ints ?? []).map((x) => num(x as number)));
    }
    return undefined;
  }
}

/** Unique-name generator for tensors and nodes added to a graph. */
export class Namer {
  private used = new Set<string>();
  constructor(graph: GraphProto) {
    for (const t of graph.initializer ?? []) this.used.add(t.name ?? '');
    for (const i of graph.input ?? []) this.used.add(i.name ?? '');
    for (const n of graph.node ?? []) {
      for (const o of n.output ?? []) this.used.add(o);
      for (const o of n.input ?? []) this.used.add(o);
      if (n.name) this.used.add(n.name);
    }
  }
  take(want: string): string {
    let n = want;
    for (let k = 1; this.used.has(n); k++) n = `${want}_${k}`;
    this.used.add(n);
    return n;
  }
  has(n: string): boolean {
    return this.used.has(n);
  }
}

/** Order nodes topologically (the ONNX requirement); throws on a cycle. */
export function topoSort(graph: GraphProto): void {
  const nodes = graph.node ?? [];
  const avail = new Set<string>(['']);
  for (const t of graph.initializer ?? []) avail.add(t.name ?? '');
  for (const i of graph.input ?? []) avail.add(i.name ?? '');
  const out: NodeProto[] = [];
  let pending = nodes.slice();
  while (pending.length) {
    const next: NodeProto[] = [];
    for (const n of pending) {
      if ((n.input ?? []).every((i) => avail.has(i))) {
        out.push(n);
        for (const o of n.output ?? []) avail.add(o);
      } else next.push(n);
    }
    if (next.length === pending.length) {
      const n = next[0];
      const missing = (n.input ?? []).filter((i) => !avail.has(i));
      throw new Error(`graph: node '${n.name}' (${n.opType}) has inputs nobody produces: ${missing.join(', ')}`);
    }
    pending = next;
  }
  graph.node = out;
}

/** Remove initializers nobody reads (and their IR<4 style graph-input declarations). */
export function pruneInitializers(graph: GraphProto): void {
  const used = new Set<string>();
  for (const n of graph.node ?? []) for (const i of n.input ?? []) used.add(i);
  for (const o of graph.output ?? []) used.add(o.name ?? '');
  const removed = new Set<string>();
  graph.initializer = (graph.initializer ?? []).filter((t) => {
    const keep = used.has(t.name ?? '');
    if (!keep) removed.add(t.name ?? '');
    return keep;
  });
  graph.input = (graph.input ?? []).filter((i) => !removed.has(i.name ?? ''));
}
