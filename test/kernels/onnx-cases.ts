// Reads ONNX node test cases from ../shared/conformance/onnx-node (model.onnx + test_data_set_0/*.pb) with
// onnx-proto, for checking the INT8 references against ONNX's own data.
import * as onnxProto from 'onnx-proto';
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const onnx = (onnxProto as any).default?.onnx ?? (onnxProto as any).onnx;
// ../shared relative to the project root; a git worktree under /work/wt/<name> finds it one level further up.
export const CONFORMANCE = [join(process.cwd(), '..', 'shared'), join(process.cwd(), '..', '..', 'shared')]
  .map((d) => join(d, 'conformance', 'onnx-node'))
  .find((d) => existsSync(d)) ?? join(process.cwd(), '..', 'shared', 'conformance', 'onnx-node');

export interface NdArray {
  dims: number[];
  dataType: number;
  data: Float32Array | Uint8Array | Int8Array | Int32Array | BigInt64Array;
}

function num(v: any): number {
  return typeof v === 'number' ? v : v?.toNumber ? v.toNumber() : Number(v);
}

export function readTensor(path: string): NdArray {
  const t = onnx.TensorProto.decode(readFileSync(path));
  const dims = (t.dims ?? []).map(num);
  const n = dims.reduce((a: number, b: number) => a * b, 1);
  const raw: Uint8Array | undefined = t.rawData && t.rawData.length ? t.rawData : undefined;
  const copy = (bytes: Uint8Array) => new Uint8Array(bytes).buffer; // a copy: Buffer.slice would share the pool
  switch (t.dataType) {
    case 1: return { dims, dataType: 1, data: raw ? new Float32Array(copy(raw)) : Float32Array.from(t.floatData) };
    case 2: return { dims, dataType: 2, data: raw ? new Uint8Array(copy(raw)) : Uint8Array.from(t.int32Data) };
    case 3: return { dims, dataType: 3, data: raw ? new Int8Array(copy(raw)) : Int8Array.from(t.int32Data) };
    case 6: return { dims, dataType: 6, data: raw ? new Int32Array(copy(raw)) : Int32Array.from(t.int32Data) };
    case 7: return { dims, dataType: 7, data: raw ? new BigInt64Array(copy(raw)) : BigInt64Array.from((t.int64Data ?? []).map((v: any) => BigInt(num(v)))) };
    default: throw new Error(`readTensor: data type ${t.dataType} not handled (${path}), n=${n}`);
  }
}

export interface NodeCase {
  name: string;
  opType: string;
  attrs: Record<string, any>;
  inputs: NdArray[];
  outputs: NdArray[];
}

export function loadCase(name: string): NodeCase | undefined {
  const dir = join(CONFORMANCE, name);
  if (!existsSync(join(dir, 'model.onnx'))) return undefined;
  const m = onnx.ModelProto.decode(readFileSync(join(dir, 'model.onnx')));
  const node = m.graph.node[0];
  const attrs: Record<string, any> = {};
  for (const a of node.attribute ?? []) {
    if (a.ints && a.ints.length) attrs[a.name] = a.ints.map(num);
    else if (a.floats && a.floats.length) attrs[a.name] = Array.from(a.floats);
    else if (a.s && a.s.length) attrs[a.name] = Buffer.from(a.s).toString();
    else if (a.type === 1 || a.type === 'FLOAT') attrs[a.name] = a.f;
    else attrs[a.name] = num(a.i);
  }
  const ds = join(dir, 'test_data_set_0');
  const files = readdirSync(ds);
  const inputs = files.filter((f) => f.startsWith('input_')).sort((a, b) => num(a.slice(6, -3)) - num(b.slice(6, -3))).map((f) => readTensor(join(ds, f)));
  const outputs = files.filter((f) => f.startsWith('output_')).sort().map((f) => readTensor(join(ds, f)));
  return { name, opType: node.opType, attrs, inputs, outputs };
}

export function casesOf(prefix: string): string[] {
  if (!existsSync(CONFORMANCE)) return [];
  return readdirSync(CONFORMANCE).filter((n) => n.startsWith(prefix)).sort();
}
