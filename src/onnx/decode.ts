// A small protobuf decoder for the part of ONNX (onnx/onnx.proto3) the runtime reads: ModelProto -> graph (nodes,
// attributes, initializers, value infos), opset imports, producer name. It stands in for onnx-proto (protobufjs) when
// a session loads a model: importing protobufjs and onnx-proto's generated code costs ~80 ms of CPU at every cold
// start (bench/cold-phases.ts, "import"), and tensor bytes here stay views into the model bytes (raw_data, packed
// floats) instead of copies. Objects have onnx-proto's field names (ITensorProto, INodeProto ...), so src/onnx/proto.ts
// reads either. Subgraph attributes (If / Loop bodies) are skipped (the runtime does not run them); unknown fields are
// skipped; a truncated message or a bad wire type throws. Int64 fields are numbers, or bigints beyond 2^53.
// The quantizer and the writer keep onnx-proto (they also encode).
import type onnxProto from 'onnx-proto';

type Int64 = number | bigint;

export interface DTensor extends Omit<onnxProto.onnx.ITensorProto, 'dims' | 'int64Data' | 'uint64Data' | 'floatData' | 'doubleData' | 'int32Data'> {
  dims?: Int64[];
  floatData?: ArrayLike<number>;
  doubleData?: ArrayLike<number>;
  int32Data?: number[];
  int64Data?: Int64[];
  uint64Data?: Int64[];
}
export interface DAttribute {
  name?: string; type?: number; f?: number; i?: Int64; s?: Uint8Array; t?: DTensor;
  floats?: ArrayLike<number>; ints?: Int64[]; strings?: Uint8Array[]; tensors?: DTensor[];
  /** A subgraph (g / graphs) was present; its content is not decoded. */
  g?: true; graphs?: true[];
}
export interface DNode { input?: string[]; output?: string[]; name?: string; opType?: string; domain?: string; attribute?: DAttribute[] }
export interface DDim { dimValue?: Int64; dimParam?: string; value?: 'dimValue' | 'dimParam' }
export interface DValueInfo { name?: string; type?: { tensorType?: { elemType?: number; shape?: { dim?: DDim[] } } } }
export interface DGraph { node?: DNode[]; name?: string; initializer?: DTensor[]; input?: DValueInfo[]; output?: DValueInfo[]; valueInfo?: DValueInfo[] }
export interface DModel { irVersion?: Int64; producerName?: string; graph?: DGraph; opsetImport?: { domain?: string; version?: Int64 }[] }

class Reader {
  readonly dv: DataView;
  p = 0;
  constructor(readonly b: Uint8Array) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  fail(what: string): never {
    throw new Error(`${what} at offset ${this.p}`);
  }

  /** A varint as a number when it fits 2^53 (signed: two's complement 64-bit), else a bigint. */
  varint(signed = true): Int64 {
    const b = this.b;
    let p = this.p;
    if (p >= b.length) this.fail('truncated varint');
    let x = b[p++];
    if (x < 0x80) { this.p = p; return x; }
    let lo = x & 0x7f;
    for (let s = 7; s < 28; s += 7) {
      if (p >= b.length) this.fail('truncated varint');
      x = b[p++];
      lo |= (x & 0x7f) << s;
      if (x < 0x80) { this.p = p; return lo >>> 0; }
    }
    if (p >= b.length) this.fail('truncated varint');
    x = b[p++];
    lo = (lo | ((x & 0x0f) << 28)) >>> 0;
    let hi = (x & 0x7f) >> 4;
    for (let s = 3; x >= 0x80; s += 7) {
      if (s > 31 || p >= b.length) this.fail(s > 31 ? 'varint longer than 10 bytes' : 'truncated varint');
      x = b[p++];
      hi |= (x & 0x7f) << s;
    }
    this.p = p;
    hi >>>= 0;
    if (signed && hi & 0x80000000) {
      const nlo = (~lo + 1) >>> 0, nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
      const mag = nhi * 4294967296 + nlo;
      return mag <= Number.MAX_SAFE_INTEGER ? -mag : BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
    }
    return hi < 0x200000 ? hi * 4294967296 + lo : (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** int32 / enum fields (negative values come as 10-byte varints). */
  int32(): number {
    const v = this.varint();
    return typeof v === 'number' ? v | 0 : Number(BigInt.asIntN(32, v));
  }

  /** End offset of a length-delimited field starting here. */
  len(): number {
    const n = this.varint(false);
    if (typeof n !== 'number' || this.p + n > this.b.length) this.fail('length past the end of the message');
    return this.p + n;
  }

  bytes(): Uint8Array {
    const e = this.len();
    const v = this.b.subarray(this.p, e);
    this.p = e;
    return v;
  }

  string(): string {
    const e = this.len();
    const b = this.b, p0 = this.p;
    this.p = e;
    for (let p = p0; p < e; p++) if (b[p] >= 0x80) return utf8.decode(b.subarray(p0, e));
    // ASCII names (thousands per model): Node's latin1 slice, else char codes; TextDecoder costs more per call on
    // short strings (measured cold: 3000 names of 48 bytes, latin1Slice 3 ms, char codes 20 ms, TextDecoder 15 ms)
    if (latin1Slice) return latin1Slice.call(b, p0, e);
    let s = '';
    for (let p = p0; p < e; p++) s += String.fromCharCode(b[p]);
    return s;
  }

  float(): number {
    if (this.p + 4 > this.b.length) this.fail('truncated float');
    const v = this.dv.getFloat32(this.p, true);
    this.p += 4;
    return v;
  }

  double(): number {
    if (this.p + 8 > this.b.length) this.fail('truncated double');
    const v = this.dv.getFloat64(this.p, true);
    this.p += 8;
    return v;
  }

  skip(wire: number): void {
    switch (wire) {
      case 0: this.varint(false); return;
      case 1: this.p += 8; break;
      case 2: this.p = this.len(); return;
      case 5: this.p += 4; break;
      default: this.fail(`invalid wire type ${wire}`);
    }
    if (this.p > this.b.length) this.fail('truncated field');
  }

  /** Repeated int64 / int32, packed (wire 2) or one value (wire 0). */
  ints(wire: number, out: Int64[], signed = true): void {
    if (wire === 0) { out.push(this.varint(signed)); return; }
    if (wire !== 2) { this.skip(wire); return; }
    const e = this.len();
    while (this.p < e) out.push(this.varint(signed));
    if (this.p !== e) this.fail('packed varints overrun');
  }

  /** Repeated float (fixed32) or double (fixed64), packed or one value. */
  reals(wire: number, prev: ArrayLike<number> | undefined, size: 4 | 8): ArrayLike<number> {
    const one = size === 4 ? 5 : 1;
    let add: ArrayLike<number>;
    if (wire === one) add = [size === 4 ? this.float() : this.double()];
    else if (wire === 2) {
      const e = this.len();
      const n = (e - this.p) / size;
      if (!Number.isInteger(n)) this.fail('packed reals of a length not a multiple of their size');
      const at = this.b.byteOffset + this.p;
      if (at % size === 0) add = size === 4 ? new Float32Array(this.b.buffer, at, n) : new Float64Array(this.b.buffer, at, n);
      else {
        const a = size === 4 ? new Float32Array(n) : new Float64Array(n);
        for (let i = 0; i < n; i++) a[i] = size === 4 ? this.dv.getFloat32(this.p + 4 * i, true) : this.dv.getFloat64(this.p + 8 * i, true);
        add = a;
      }
      this.p = e;
    } else { this.skip(wire); return prev ?? []; }
    if (!prev || prev.length === 0) return add;
    return [...Array.from(prev), ...Array.from(add)];
  }
}

const utf8 = new TextDecoder('utf-8');
const latin1Slice = (globalThis as { Buffer?: { prototype: { latin1Slice?: (this: Uint8Array, start: number, end: number) => string } } }).Buffer?.prototype.latin1Slice;

// Each message decoder is a plain loop over its fields (no closures: a model has tens of thousands of fields, and
// protobufjs's generated code sets the bar).

/** The next field's tag of the message ending at `end`, or -1 at its end. */
function tag(r: Reader, end: number): number {
  if (r.p >= end) {
    if (r.p !== end) r.fail('message overrun');
    return -1;
  }
  const t = r.varint(false);
  if (typeof t !== 'number' || t > 0xffffffff) r.fail('field tag too large');
  if (t >>> 3 === 0) r.fail('field number 0');
  return t;
}

function strField(r: Reader, wire: number): string | undefined {
  if (wire !== 2) { r.skip(wire); return undefined; }
  return r.string();
}

function tensor(r: Reader, end: number): DTensor {
  const t: DTensor = {};
  for (let g = tag(r, end); g >= 0; g = tag(r, end)) {
    const w = g & 7;
    switch (g >>> 3) {
      case 1: t.dims ??= []; r.ints(w, t.dims); break;
      case 2: if (w === 0) t.dataType = r.int32(); else r.skip(w); break;
      case 4: t.floatData = r.reals(w, t.floatData, 4); break;
      case 5: {
        const a: Int64[] = [];
        r.ints(w, a);
        t.int32Data ??= [];
        for (const x of a) t.int32Data.push(typeof x === 'number' ? x | 0 : Number(BigInt.asIntN(32, x)));
        break;
      }
      case 7: t.int64Data ??= []; r.ints(w, t.int64Data); break;
      case 8: t.name = strField(r, w); break;
      case 9: if (w === 2) t.rawData = r.bytes(); else r.skip(w); break;
      case 10: t.doubleData = r.reals(w, t.doubleData, 8); break;
      case 11: t.uint64Data ??= []; r.ints(w, t.uint64Data, false); break;
      case 13: {
        if (w !== 2) { r.skip(w); break; }
        const e = r.len();
        const kv: { key?: string; value?: string } = {};
        for (let h = tag(r, e); h >= 0; h = tag(r, e)) {
          if (h >>> 3 === 1) kv.key = strField(r, h & 7);
          else if (h >>> 3 === 2) kv.value = strField(r, h & 7);
          else r.skip(h & 7);
        }
        (t.externalData ??= []).push(kv);
        break;
      }
      case 14: if (w === 0) t.dataLocation = r.int32(); else r.skip(w); break;
      default: r.skip(w);
    }
  }
  return t;
}

function attribute(r: Reader, end: number): DAttribute {
  const a: DAttribute = {};
  for (let g = tag(r, end); g >= 0; g = tag(r, end)) {
    const w = g & 7;
    switch (g >>> 3) {
      case 1: a.name = strField(r, w); break;
      case 2: if (w === 5) a.f = r.float(); else r.skip(w); break;
      case 3: if (w === 0) a.i = r.varint(); else r.skip(w); break;
      case 4: if (w === 2) a.s = r.bytes(); else r.skip(w); break;
      case 5: if (w === 2) a.t = tensor(r, r.len()); else r.skip(w); break;
      case 6: r.skip(w); a.g = true; break;
      case 7: a.floats = r.reals(w, a.floats, 4); break;
      case 8: a.ints ??= []; r.ints(w, a.ints); break;
      case 9: if (w === 2) (a.strings ??= []).push(r.bytes()); else r.skip(w); break;
      case 10: if (w === 2) (a.tensors ??= []).push(tensor(r, r.len())); else r.skip(w); break;
      case 11: r.skip(w); (a.graphs ??= []).push(true); break;
      case 20: if (w === 0) a.type = r.int32(); else r.skip(w); break;
      default: r.skip(w);
    }
  }
  return a;
}

function node(r: Reader, end: number): DNode {
  const n: DNode = { input: [], output: [], attribute: [] };
  for (let g = tag(r, end); g >= 0; g = tag(r, end)) {
    const w = g & 7;
    switch (g >>> 3) {
      case 1: n.input!.push(strField(r, w) ?? ''); break;
      case 2: n.output!.push(strField(r, w) ?? ''); break;
      case 3: n.name = strField(r, w); break;
      case 4: n.opType = strField(r, w); break;
      case 5: if (w === 2) n.attribute!.push(attribute(r, r.len())); else r.skip(w); break;
      case 7: n.domain = strField(r, w); break;
      default: r.skip(w);
    }
  }
  return n;
}

function dim(r: Reader, end: number): DDim {
  const d: DDim = {};
  for (let g = tag(r, end); g >= 0; g = tag(r, end)) {
    if (g === ((1 << 3) | 0)) { d.dimValue = r.varint(); d.value = 'dimValue'; }
    else if (g === ((2 << 3) | 2)) { d.dimParam = r.string(); d.value = 'dimParam'; }
    else r.skip(g & 7);
  }
  return d;
}

type DTensorType = NonNullable<NonNullable<DValueInfo['type']>['tensorType']>;

function tensorType(r: Reader, end: number): DTensorType {
  const tt: DTensorType = {};
  for (let g = tag(r, end); g >= 0; g = tag(r, end)) {
    if (g === ((1 << 3) | 0)) tt.elemType = r.int32();
    else if (g === ((2 << 3) | 2)) {
      const e = r.len();
      const shape: { dim: DDim[] } = { dim: [] };
      for (let h = tag(r, e); h >= 0; h = tag(r, e)) {
        if (h === ((1 << 3) | 2)) shape.dim.push(dim(r, r.len()));
        else r.skip(h & 7);
      }
      tt.shape = shape;
    } else r.skip(g & 7);
  }
  return tt;
}

function valueInfo(r: Reader, end: number): DValueInfo {
  const v: DValueInfo = {};
  for (let g = tag(r, end); g >= 0; g = tag(r, end)) {
    if (g >>> 3 === 1) v.name = strField(r, g & 7);
    else if (g === ((2 << 3) | 2)) {
      const e = r.len();
      const ty: NonNullable<DValueInfo['type']> = {};
      for (let h = tag(r, e); h >= 0; h = tag(r, e)) {
        if (h === ((1 << 3) | 2)) ty.tensorType = tensorType(r, r.len());
        else r.skip(h & 7);
      }
      v.type = ty;
    } else r.skip(g & 7);
  }
  return v;
}

function graph(r: Reader, end: number): DGraph {
  const g: DGraph = { node: [], initializer: [], input: [], output: [], valueInfo: [] };
  for (let t = tag(r, end); t >= 0; t = tag(r, end)) {
    const w = t & 7;
    if (w !== 2) { r.skip(w); continue; }
    switch (t >>> 3) {
      case 1: g.node!.push(node(r, r.len())); break;
      case 2: g.name = r.string(); break;
      case 5: g.initializer!.push(tensor(r, r.len())); break;
      case 11: g.input!.push(valueInfo(r, r.len())); break;
      case 12: g.output!.push(valueInfo(r, r.len())); break;
      case 13: g.valueInfo!.push(valueInfo(r, r.len())); break;
      default: r.skip(w);
    }
  }
  return g;
}

/** Decodes ONNX ModelProto bytes (throws on malformed protobuf). Tensor data are views into `bytes`. */
export function decodeModel(bytes: Uint8Array): DModel {
  const r = new Reader(bytes);
  const m: DModel = { opsetImport: [] };
  const end = bytes.length;
  for (let t = tag(r, end); t >= 0; t = tag(r, end)) {
    const w = t & 7;
    switch (t >>> 3) {
      case 1: if (w === 0) m.irVersion = r.varint(); else r.skip(w); break;
      case 2: m.producerName = strField(r, w); break;
      case 7: if (w === 2) m.graph = graph(r, r.len()); else r.skip(w); break;
      case 8: {
        if (w !== 2) { r.skip(w); break; }
        const e = r.len();
        const o: { domain?: string; version?: Int64 } = {};
        for (let h = tag(r, e); h >= 0; h = tag(r, e)) {
          if (h >>> 3 === 1) o.domain = strField(r, h & 7);
          else if (h === ((2 << 3) | 0)) o.version = r.varint();
          else r.skip(h & 7);
        }
        m.opsetImport!.push(o);
        break;
      }
      default: r.skip(w);
    }
  }
  return m;
}
