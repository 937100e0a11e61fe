// ONNX reader: model bytes (or a path, in Node) -> graph IR (src/graph/ir.ts). Decodes with src/onnx/decode.ts
// (the runtime's own protobuf decoder: no protobufjs to load at a cold start); initializers and Constant-node
// tensors become constants; external data files are read from the model's folder. Checks opsets (ai.onnx 6..25: the operator semantics Octet implements are the same across them; com.microsoft any) and basic well-formedness.
import type { Graph, Node, ValueInfo } from '../graph/ir.js';
import { phase } from '../runtime/phases.js';
import { tensorFromProto, attrFromProto, valueInfoFromProto, type ExternalLoader } from './proto.js';
import { decodeModel } from './decode.js';

export const MIN_OPSET = 6;
export const MAX_OPSET = 25;

export interface ReadOptions {
  /** Folder for external data (Node). Set automatically when reading from a path. */
  baseDir?: string;
  /** Custom loader for external data (e.g. in browsers). */
  externalData?: ExternalLoader;
  /**
   * The bytes are the reader's own (read from a file, not reused by anyone): aligned tensor data is viewed in place,
   * not copied. Set by readModelFile.
   */
  ownBytes?: boolean;
}

const NODE_FS = 'node:fs';
const NODE_PATH = 'node:path';

export async function readModelFile(path: string): Promise<Graph> {
  // Variable specifiers: browser bundlers must never try to resolve Node built-ins from the library.
  const fs: typeof import('node:fs') = await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_FS);
  const pathMod: typeof import('node:path') = await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_PATH);
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (e: any) {
    throw new Error(`octet: cannot read model file '${path}': ${e.code ?? e.message}`);
  }
  phase('read-file');
  return readModel(bytes, { baseDir: pathMod.dirname(path), externalData: nodeExternalLoader(fs, pathMod, pathMod.dirname(path)), ownBytes: true });
}

function nodeExternalLoader(fs: typeof import('node:fs'), pathMod: typeof import('node:path'), baseDir: string): ExternalLoader {
  const cache = new Map<string, Uint8Array>();
  return (location, offset, length, tensor) => {
    const full = pathMod.resolve(baseDir, location);
    const rel = pathMod.relative(baseDir, full);
    if (rel.startsWith('..') || pathMod.isAbsolute(rel)) {
      throw new Error(`octet: tensor '${tensor}': external data location '${location}' leaves the model's folder`);
    }
    let buf = cache.get(full);
    if (!buf) {
      try {
        buf = fs.readFileSync(full);
      } catch (e: any) {
        throw new Error(`octet: tensor '${tensor}': cannot read external data file '${location}': ${e.code ?? e.message}`);
      }
      cache.set(full, buf);
    }
    const len = length ?? buf.length - offset;
    if (offset < 0 || offset + len > buf.length) {
      throw new Error(`octet: tensor '${tensor}': external data range ${offset}+${len} exceeds '${location}' (${buf.length} bytes)`);
    }
    return buf.subarray(offset, offset + len);
  };
}

export function readModel(bytes: Uint8Array, opts: ReadOptions = {}): Graph {
  if (!(bytes instanceof Uint8Array)) throw new Error('octet: model must be a Uint8Array, an ArrayBuffer or a path');
  if (bytes.length === 0) throw new Error('octet: model bytes are empty');
  let model: ReturnType<typeof decodeModel>;
  try {
    model = decodeModel(bytes);
  } catch (e: any) {
    throw new Error(`octet: model bytes are not a valid ONNX protobuf (${e.message}); truncated or not an .onnx file?`);
  }
  phase('decode');
  if (!model.graph) throw new Error('octet: the ONNX model has no graph (truncated or not an .onnx file?)');
  const opsets = new Map<string, number>();
  for (const o of model.opsetImport ?? []) {
    const dom = o.domain === 'ai.onnx' ? '' : o.domain ?? '';
    opsets.set(dom, Number(o.version ?? 0));
  }
  if (!opsets.has('')) {
    if ((model.opsetImport ?? []).length === 0) opsets.set('', 1);
  }
  const v = opsets.get('');
  if (v !== undefined && (v < MIN_OPSET || v > MAX_OPSET)) {
    throw new Error(`octet: unsupported opset ai.onnx ${v} (supported ${MIN_OPSET}..${MAX_OPSET})`);
  }
  const ext = opts.externalData;
  const gp = model.graph;
  const consts = new Map<string, ReturnType<typeof tensorFromProto>>();
  for (const t of gp.initializer ?? []) {
    if (!t.name) throw new Error('octet: an initializer has no name');
    consts.set(t.name, tensorFromProto(t, t.name, ext, opts.ownBytes));
  }
  const nodes: Node[] = [];
  const seenOut = new Set<string>();
  (gp.node ?? []).forEach((np: any, i: number) => {
    const name = np.name || `${np.opType}_${i}`;
    const where = `node '${name}' (${np.opType})`;
    if (!np.opType) throw new Error(`octet: node #${i} has no op_type`);
    const attrs: Node['attrs'] = {};
    for (const a of np.attribute ?? []) {
      if (!a.name) continue;
      attrs[a.name] = attrFromProto(a, where, ext, opts.ownBytes);
    }
    const node: Node = {
      name,
      op: np.opType,
      domain: np.domain === 'ai.onnx' ? '' : np.domain ?? '',
      inputs: (np.input ?? []).slice(),
      outputs: (np.output ?? []).slice(),
      attrs,
    };
    for (const o of node.outputs) {
      if (!o) continue;
      if (seenOut.has(o)) throw new Error(`octet: ${where}: output '${o}' is produced twice`);
      seenOut.add(o);
    }
    nodes.push(node);
  });
  const initNames = new Set(consts.keys());
  const inputs: ValueInfo[] = [];
  for (const vi of gp.input ?? []) {
    if (initNames.has(vi.name ?? '')) continue; // IR < 4: initializers are listed as inputs too
    const info = valueInfoFromProto(vi);
    if (!info) throw new Error(`octet: graph input '${vi.name}' is not a tensor (sequences, maps and optionals are unsupported)`);
    inputs.push(info);
  }
  const outputs: ValueInfo[] = [];
  for (const vi of gp.output ?? []) {
    const info = valueInfoFromProto(vi);
    if (!info) throw new Error(`octet: graph output '${vi.name}' is not a tensor (sequences, maps and optionals are unsupported)`);
    outputs.push(info);
  }
  const valueInfo = new Map<string, ValueInfo>();
  for (const vi of gp.valueInfo ?? []) {
    try {
      const info = valueInfoFromProto(vi);
      if (info) valueInfo.set(info.name, info);
    } catch {
      /* hints only */
    }
  }
  // Every node input must come from somewhere.
  const known = new Set<string>([...consts.keys(), ...inputs.map((x) => x.name), ...seenOut]);
  for (const n of nodes) {
    for (const i of n.inputs) {
      if (i && !known.has(i)) throw new Error(`octet: node '${n.name}' (${n.op}): input '${i}' is not produced by any node, input or initializer`);
    }
  }
  for (const o of outputs) {
    if (!known.has(o.name)) throw new Error(`octet: graph output '${o.name}' is not produced by any node`);
  }
  phase('graph');
  return { nodes, inputs, outputs, consts, valueInfo, opsets, producer: model.producerName ?? undefined };
}
