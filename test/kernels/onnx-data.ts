// Reads one ONNX node test case (../shared/conformance/onnx-node/<case>): the node's attributes from model.onnx
// and the TensorProto .pb inputs/outputs of test_data_set_0, decoded with onnx-proto.
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';

const onnx = onnxProto.onnx;
// ../shared relative to the project root; a git worktree under /work/wt/<name> finds it one level further up.
export const CONFORMANCE = [join(process.cwd(), '..', 'shared'), join(process.cwd(), '..', '..', 'shared')]
  .map((d) => join(d, 'conformance', 'onnx-node'))
  .find((d) => existsSync(d)) ?? join(process.cwd(), '..', 'shared', 'conformance', 'onnx-node');

export interface T {
  dims: number[];
  type: number; // TensorProto.DataType
  data: number[];
}

const num = (v: any) => (typeof v === 'number' ? v : v.toNumber());

export function decodeTensor(bytes: Uint8Array): T {
  const t = onnx.TensorProto.decode(bytes);
  const dims = (t.dims ?? []).map(num);
  const count = dims.reduce((a, b) => a * b, 1);
  const type = t.dataType ?? 0;
  let data: number[] = [];
  const raw = t.rawData && t.rawData.length ? t.rawData : undefined;
  if (raw) {
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < count; i++) {
      switch (type) {
        case 1: data.push(dv.getFloat32(i * 4, true)); break;
        case 2: data.push(dv.getUint8(i)); break;
        case 3: data.push(dv.getInt8(i)); break;
        case 6: data.push(dv.getInt32(i * 4, true)); break;
        default: throw new Error(`unsupported raw type ${type}`);
      }
    }
  } else if (type === 1) data = Array.from(t.floatData ?? []);
  else data = Array.from(t.int32Data ?? []).map(num);
  return { dims, type, data };
}

export interface NodeCase {
  attrs: Record<string, any>;
  inputs: T[];
  outputs: T[];
}

export function hasCase(name: string): boolean {
  return existsSync(join(CONFORMANCE, name, 'model.onnx'));
}

export function loadCase(name: string): NodeCase {
  const dir = join(CONFORMANCE, name);
  const model = onnx.ModelProto.decode(readFileSync(join(dir, 'model.onnx')));
  const node = model.graph!.node![0];
  const attrs: Record<string, any> = {};
  for (const a of node.attribute ?? []) {
    attrs[a.name!] = a.ints && a.ints.length ? a.ints.map(num) : a.s && a.s.length ? new TextDecoder().decode(a.s) : a.i !== undefined && a.i !== null ? num(a.i) : a.f;
  }
  const ds = join(dir, 'test_data_set_0');
  const files = readdirSync(ds);
  const read = (prefix: string) => files.filter((f) => f.startsWith(prefix)).sort((a, b) => parseInt(a.slice(prefix.length)) - parseInt(b.slice(prefix.length))).map((f) => decodeTensor(readFileSync(join(ds, f))));
  return { attrs, inputs: read('input_'), outputs: read('output_') };
}
