// ONNX reader: model bytes (or a path, in Node) -> graph IR (src/graph/ir.ts). Decodes with src/onnx/decode.ts
// (the runtime's own protobuf decoder: no protobufjs to load at a cold start); initializers and Constant-node
// tensors become constants; external data files are read from the model's folder. Checks opsets (ai.onnx 6..25: the operator semantics Octet implements are the same across them; com.microsoft any) and basic well-formedness.
import type { Graph, Node, ValueInfo } from '../graph/ir.js';
import { phase } from '../runtime/phases.js';
import { tensorFromProto, attrFromProto, valueInfoFromProto, type DeferredPayloads, type ExternalLoader } from './proto.js';
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
  /** Large raw_data payloads left in the model file (readModelFile): read when used. */
  deferred?: DeferredPayloads;
}

const NODE_FS = 'node:fs';
const NODE_PATH = 'node:path';

/** raw_data payloads at least this large are left in the file when reading a model from a path (readModelFile). */
const DEFER_BYTES = 1 << 16;

export async function readModelFile(path: string): Promise<Graph> {
  // Variable specifiers: browser bundlers must never try to resolve Node built-ins from the library.
  const fs: typeof import('node:fs') = await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_FS);
  const pathMod: typeof import('node:path') = await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_PATH);
  let bytes: Uint8Array;
  let deferred: DeferredPayloads | undefined;
  try {
    ({ bytes, deferred } = readLeavingPayloads(fs, path));
  } catch (e: any) {
    throw new Error(`octet: cannot read model file '${path}': ${e.code ?? e.message}`);
  }
  phase('read-file');
  return readModel(bytes, { baseDir: pathMod.dirname(path), externalData: nodeExternalLoader(fs, pathMod, pathMod.dirname(path)), ownBytes: true, deferred });
}

/**
 * Reads a model file except its large initializer payloads (raw_data of at least DEFER_BYTES in graph.initializer):
 * a first pass over the protobuf's tags and lengths, through a small window, finds them; the bytes around them are
 * read into a buffer the size of the file, whose pages under the payloads are never touched. A first touch of a
 * page costs ~20-40 us on this VM, so FP32 MobileNetV2's 14 MB of weights are 3500 faults saved per cold start
 * (bench/cold-phases.ts); the packers read the weights from the file by rows into a reused buffer instead. Reads
 * later (e.g. a new input shape) check that the file is unchanged (size and modification time).
 */
function readLeavingPayloads(fs: typeof import('node:fs'), path: string): { bytes: Uint8Array; deferred?: DeferredPayloads } {
  const fd = fs.openSync(path, 'r');
  try {
    const st = fs.fstatSync(fd);
    const size = st.size;
    const bytes = new Uint8Array(size);
    const ranges = size >= 4 * DEFER_BYTES ? findPayloads(fs, fd, size) : [];
    const fill = (dst: Uint8Array, pos: number) => {
      for (let done = 0; done < dst.length;) {
        const n = fs.readSync(fd, dst, done, dst.length - done, pos + done);
        if (n <= 0) throw new Error(`unexpected end of file at ${pos + done}`);
        done += n;
      }
    };
    let pos = 0;
    for (const [at, len] of ranges) {
      fill(bytes.subarray(pos, at), pos);
      pos = at + len;
    }
    fill(bytes.subarray(pos), pos);
    if (!ranges.length) return { bytes };
    const starts = new Set(ranges.map(([at]) => at));
    return {
      bytes,
      deferred: {
        has: (offset) => starts.has(offset),
        read(dst, offset) {
          const f = fs.openSync(path, 'r');
          try {
            const now = fs.fstatSync(f);
            if (now.size !== st.size || now.mtimeMs !== st.mtimeMs) {
              throw new Error(`octet: model file '${path}' changed since the session read it (its weights are read from the file when used)`);
            }
            for (let done = 0; done < dst.length;) {
              const n = fs.readSync(f, dst, done, dst.length - done, offset + done);
              if (n <= 0) throw new Error(`octet: model file '${path}': unexpected end of file at ${offset + done}`);
              done += n;
            }
          } finally {
            fs.closeSync(f);
          }
        },
      },
    };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * [file offset, length] of every raw_data payload of at least DEFER_BYTES in ModelProto.graph (7) .initializer (5)
 * .raw_data (9), found by walking tags and lengths through a 64 KB window. Stops quietly at anything malformed
 * (the decoder then reports it, reading the bytes as they are).
 */
function findPayloads(fs: typeof import('node:fs'), fd: number, size: number): [number, number][] {
  const win = new Uint8Array(1 << 16);
  let w0 = 0, w1 = 0;
  const byte = (p: number): number => {
    if (p < w0 || p >= w1) {
      w0 = p;
      w1 = p + fs.readSync(fd, win, 0, Math.min(win.length, size - p), p);
      if (w1 <= w0) throw new Error('eof');
    }
    return win[p - w0];
  };
  let p = 0;
  const varint = (): number => {
    let v = 0;
    for (let s = 0; s < 64; s += 7) {
      const b = byte(p++);
      v += (b & 0x7f) * 2 ** s;
      if (b < 0x80) return v;
    }
    throw new Error('bad varint');
  };
  const skip = (wire: number): void => {
    if (wire === 0) varint();
    else if (wire === 1) p += 8;
    else if (wire === 2) { const n = varint(); p += n; } // not `p += varint()`: that reads p before varint moves it
    else if (wire === 5) p += 4;
    else throw new Error('bad wire type');
  };
  const out: [number, number][] = [];
  try {
    const walk = (end: number, depth: number): void => {
      while (p < end) {
        const tag = varint(), f = Math.floor(tag / 8), wire = tag % 8;
        const into = wire === 2 && ((depth === 0 && f === 7) || (depth === 1 && f === 5));
        if (into) {
          const len = varint();
          const e = p + len;
          if (e > end) throw new Error('overrun');
          walk(e, depth + 1);
          p = e;
        } else if (depth === 2 && f === 9 && wire === 2) {
          const len = varint();
          if (p + len > end) throw new Error('overrun');
          if (len >= DEFER_BYTES) out.push([p, len]);
          p += len;
        } else skip(wire);
      }
    };
    walk(size, 0);
  } catch {
    /* malformed or truncated: keep what was found (all of it lies inside the file) */
  }
  return out.filter(([at, len]) => at + len <= size);
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
    consts.set(t.name, tensorFromProto(t, t.name, ext, opts.ownBytes, opts.deferred));
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
  for (const [i, vi] of (gp.input ?? []).entries()) {
    if (!vi.name) throw new Error(`octet: graph input ${i} has no name`);
    if (initNames.has(vi.name)) continue; // IR < 4: initializers are listed as inputs too
    const info = valueInfoFromProto(vi);
    if (!info) throw new Error(`octet: graph input '${vi.name}' is not a tensor (sequences, maps and optionals are unsupported)`);
    inputs.push(info);
  }
  const outputs: ValueInfo[] = [];
  for (const [i, vi] of (gp.output ?? []).entries()) {
    if (!vi.name) throw new Error(`octet: graph output ${i} has no name`);
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
