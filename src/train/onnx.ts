// FP32 ONNX export of a trained network, and import of an FP32 ONNX model built from the same layers
// (Conv, BatchNormalization, Relu, Clip, MaxPool, AveragePool, GlobalAveragePool, Flatten/Reshape, Gemm,
// MatMul(+Add), Add for residual connections, Dropout/Identity) so it can be fine-tuned.
import onnxProto from 'onnx-proto';
import { GraphBuilder, attr } from '../onnx/writer.js';
import { Tensor } from './tensor.js';
import {
  Module, Sequential, Conv2d, Linear, BatchNorm2d, ReLU, ReLU6, MaxPool2d, AvgPool2d, GlobalAvgPool, Flatten, Dropout, Residual, nameModules,
} from './layers.js';
import { Rng } from './rng.js';

const { onnx } = onnxProto;

export interface ExportOptions {
  /** [C, H, W] of one input sample. */
  inputShape: [number, number, number];
  inputName?: string;
  outputName?: string;
  opset?: number;
  /** Number of classes, for the output shape (optional). */
  docString?: string;
}

/** Emits the nodes of `m` applied to value `x`; returns the output value name. */
export function emitFp32(g: GraphBuilder, m: Module, x: string): string {
  const nm = (s: string) => (m.name ? `${m.name}.${s}` : s);
  if (m instanceof Sequential) {
    let y = x;
    for (const l of m.layers) y = emitFp32(g, l, y);
    return y;
  }
  if (m instanceof Residual) {
    const y = emitFp32(g, m.body, x);
    return g.node('Add', [x, y], 1, {}, { name: nm('add') })[0];
  }
  if (m instanceof Conv2d) {
    const w = g.initializer(nm('weight'), 'float32', m.weight.data, m.weight.shape);
    const ins = [x, w];
    if (m.bias) ins.push(g.initializer(nm('bias'), 'float32', m.bias.data, m.bias.shape));
    return g.node('Conv', ins, 1, {
      kernel_shape: m.kernel, strides: m.stride, pads: [m.padding[0], m.padding[1], m.padding[0], m.padding[1]], group: m.groups, dilations: [1, 1],
    }, { name: nm('conv') })[0];
  }
  if (m instanceof BatchNorm2d) {
    const c = m.channels;
    const ins = [
      x,
      g.initializer(nm('gamma'), 'float32', m.gamma.data, [c]),
      g.initializer(nm('beta'), 'float32', m.beta.data, [c]),
      g.initializer(nm('running_mean'), 'float32', m.runningMean, [c]),
      g.initializer(nm('running_var'), 'float32', m.runningVar, [c]),
    ];
    return g.node('BatchNormalization', ins, 1, { epsilon: attr.float(m.eps) }, { name: nm('bn') })[0];
  }
  if (m instanceof ReLU) return g.node('Relu', [x], 1, {}, { name: nm('relu') })[0];
  if (m instanceof ReLU6) {
    const lo = g.initializer(nm('clip_min'), 'float32', [0], []);
    const hi = g.initializer(nm('clip_max'), 'float32', [6], []);
    return g.node('Clip', [x, lo, hi], 1, {}, { name: nm('relu6') })[0];
  }
  if (m instanceof MaxPool2d || m instanceof AvgPool2d) {
    const attrs: Record<string, any> = { kernel_shape: m.kernel, strides: m.stride, pads: [m.padding[0], m.padding[1], m.padding[0], m.padding[1]] };
    if (m instanceof AvgPool2d) attrs.count_include_pad = 0;
    return g.node(m instanceof MaxPool2d ? 'MaxPool' : 'AveragePool', [x], 1, attrs, { name: nm('pool') })[0];
  }
  if (m instanceof GlobalAvgPool) return g.node('GlobalAveragePool', [x], 1, {}, { name: nm('gap') })[0];
  if (m instanceof Flatten) return g.node('Flatten', [x], 1, { axis: 1 }, { name: nm('flatten') })[0];
  if (m instanceof Dropout) return x; // inference graph: dropout is the identity
  if (m instanceof Linear) {
    const ins = [x, g.initializer(nm('weight'), 'float32', m.weight.data, m.weight.shape)];
    if (m.bias) ins.push(g.initializer(nm('bias'), 'float32', m.bias.data, m.bias.shape));
    return g.node('Gemm', ins, 1, { transB: 1 }, { name: nm('gemm') })[0];
  }
  throw new Error(`octet train: cannot export module kind '${m.kind}' to ONNX`);
}

/** FP32 ONNX bytes of the model in eval form (BatchNorm with running statistics, no dropout). */
export function exportOnnx(model: Module, o: ExportOptions): Uint8Array {
  nameModules(model);
  const g = new GraphBuilder({ opset: o.opset ?? 13, producerName: 'octet-train', docString: o.docString });
  const x = g.input(o.inputName ?? 'input', 'float32', ['N', ...o.inputShape]);
  const y = emitFp32(g, model, x);
  const out = g.node('Identity', [y], [o.outputName ?? 'logits'], {}, { name: 'output' })[0];
  g.output(out, 'float32', ['N', null]);
  return g.toBytes();
}

// ---- import ---------------------------------------------------------------------------------------------

type NodeP = onnxProto.onnx.INodeProto;

function tensorToFloat32(t: onnxProto.onnx.ITensorProto): Float32Array {
  const dims = (t.dims ?? []).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  if (t.rawData && t.rawData.length) {
    const raw = t.rawData;
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(n);
    if (t.dataType === 1) for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
    else if (t.dataType === 7) for (let i = 0; i < n; i++) out[i] = Number(dv.getBigInt64(i * 8, true));
    else if (t.dataType === 11) for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
    else throw new Error(`octet train import: initializer '${t.name}' has data type ${t.dataType}, expected float`);
    return out;
  }
  if (t.floatData && t.floatData.length) return Float32Array.from(t.floatData);
  if (t.int64Data && t.int64Data.length) return Float32Array.from(t.int64Data.map(Number));
  if (t.doubleData && t.doubleData.length) return Float32Array.from(t.doubleData);
  if (n === 0) return new Float32Array(0);
  throw new Error(`octet train import: initializer '${t.name}' has no data (external data is not supported here)`);
}

function attrOf(n: NodeP, name: string): onnxProto.onnx.IAttributeProto | undefined {
  return (n.attribute ?? []).find((a) => a.name === name);
}
const ints = (n: NodeP, name: string, d: number[]): number[] => {
  const a = attrOf(n, name);
  return a && a.ints && a.ints.length ? a.ints.map(Number) : d;
};
const int = (n: NodeP, name: string, d: number): number => {
  const a = attrOf(n, name);
  return a && a.i !== undefined && a.i !== null ? Number(a.i) : d;
};
const flt = (n: NodeP, name: string, d: number): number => {
  const a = attrOf(n, name);
  return a && a.f !== undefined && a.f !== null ? a.f : d;
};

function symPads(n: NodeP, pads: number[]): [number, number] {
  if (pads.length === 4 && (pads[0] !== pads[2] || pads[1] !== pads[3])) {
    throw new Error(`octet train import: node '${n.name}' has asymmetric pads [${pads}], not supported`);
  }
  const ap = attrOf(n, 'auto_pad');
  if (ap && ap.s && new TextDecoder().decode(ap.s) !== 'NOTSET') throw new Error(`octet train import: node '${n.name}' uses auto_pad, not supported`);
  return [pads[0] ?? 0, pads[1] ?? 0];
}

/**
 * Builds a trainable Sequential from FP32 ONNX bytes. The graph must be a chain of the supported operators,
 * optionally with residual Add nodes (one input an earlier value of the chain). Returns the model and the
 * input/output names. The model starts in eval mode.
 */
export function importOnnx(bytes: Uint8Array): { model: Sequential; inputName: string; outputName: string; inputShape: number[] } {
  let mp: onnxProto.onnx.ModelProto;
  try {
    mp = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`octet train import: not a valid ONNX model (${(e as Error).message})`);
  }
  const graph = mp.graph;
  if (!graph) throw new Error('octet train import: model has no graph');
  const inits = new Map<string, onnxProto.onnx.ITensorProto>();
  for (const t of graph.initializer ?? []) inits.set(t.name!, t);
  const consts = new Map<string, Float32Array>();
  const valOf = (name: string, who: string): Float32Array => {
    const c = consts.get(name);
    if (c) return c;
    const t = inits.get(name);
    if (!t) throw new Error(`octet train import: node '${who}' needs constant input '${name}', which is not an initializer`);
    return tensorToFloat32(t);
  };
  const dimsOf = (name: string): number[] => (inits.get(name)?.dims ?? []).map(Number);
  const realInputs = (graph.input ?? []).filter((i) => !inits.has(i.name!));
  if (realInputs.length !== 1) throw new Error(`octet train import: expected one graph input, found ${realInputs.length}`);
  const inputName = realInputs[0].name!;
  const inputShape = (realInputs[0].type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue != null ? Number(d.dimValue) : -1));
  // chain[i] = [value name after i modules, modules so far]
  const mods: Module[] = [];
  const valueAt = new Map<string, number>([[inputName, 0]]);
  let cur = inputName;
  const rng = new Rng(0);
  for (const n of graph.node ?? []) {
    const op = n.opType!;
    const who = n.name || op;
    const ins = n.input ?? [];
    const out = n.output![0];
    if (op === 'Constant') {
      const t = attrOf(n, 'value')?.t;
      if (!t) throw new Error(`octet train import: Constant '${who}' without a tensor value`);
      consts.set(out, tensorToFloat32(t));
      continue;
    }
    const isParam = (name: string) => inits.has(name) || consts.has(name);
    if (op === 'Add' && ins.length === 2 && !isParam(ins[0]) && !isParam(ins[1])) {
      const other = ins[0] === cur ? ins[1] : ins[1] === cur ? ins[0] : null;
      const at = other !== null ? valueAt.get(other) : undefined;
      if (at === undefined) throw new Error(`octet train import: Add '${who}' is not a residual connection of the chain`);
      const body = new Sequential(mods.splice(at));
      mods.push(new Residual(body));
      cur = out;
      valueAt.set(out, mods.length);
      continue;
    }
    if (ins[0] !== cur) throw new Error(`octet train import: node '${who}' (${op}) does not continue the chain (input '${ins[0]}', expected '${cur}')`);
    let m: Module | null = null;
    switch (op) {
      case 'Conv': {
        const w = valOf(ins[1], who);
        const ws = dimsOf(ins[1]);
        const group = int(n, 'group', 1);
        const dil = ints(n, 'dilations', [1, 1]);
        if (dil.some((d) => d !== 1)) throw new Error(`octet train import: Conv '${who}' has dilations [${dil}], not supported`);
        const c = new Conv2d(ws[1] * group, ws[0], {
          kernel: [ws[2], ws[3]], stride: ints(n, 'strides', [1, 1]) as [number, number], padding: symPads(n, ints(n, 'pads', [0, 0, 0, 0])), groups: group, bias: ins.length > 2 && !!ins[2],
        });
        c.weight.data.set(w);
        if (c.bias) c.bias.data.set(valOf(ins[2], who));
        m = c;
        break;
      }
      case 'BatchNormalization': {
        const gamma = valOf(ins[1], who);
        const bn = new BatchNorm2d(gamma.length, 0.1, flt(n, 'epsilon', 1e-5));
        bn.gamma.data.set(gamma);
        bn.beta.data.set(valOf(ins[2], who));
        bn.runningMean.set(valOf(ins[3], who));
        bn.runningVar.set(valOf(ins[4], who));
        m = bn;
        break;
      }
      case 'Relu':
        m = new ReLU();
        break;
      case 'Clip': {
        const lo = ins[1] ? valOf(ins[1], who)[0] : flt(n, 'min', -Infinity);
        const hi = ins[2] ? valOf(ins[2], who)[0] : flt(n, 'max', Infinity);
        if (lo === 0 && hi === 6) m = new ReLU6();
        else if (lo === 0 && hi === Infinity) m = new ReLU();
        else throw new Error(`octet train import: Clip '${who}' with range [${lo}, ${hi}] is not ReLU or ReLU6`);
        break;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const k = ints(n, 'kernel_shape', []) as [number, number];
        const s = ints(n, 'strides', [1, 1]) as [number, number];
        const p = symPads(n, ints(n, 'pads', [0, 0, 0, 0]));
        if (int(n, 'ceil_mode', 0)) throw new Error(`octet train import: ${op} '${who}' uses ceil_mode, not supported`);
        if (op === 'AveragePool' && p.some((v) => v) && int(n, 'count_include_pad', 0)) {
          throw new Error(`octet train import: AveragePool '${who}' with count_include_pad=1 and padding is not supported`);
        }
        m = op === 'MaxPool' ? new MaxPool2d(k, s, p) : new AvgPool2d(k, s, p);
        break;
      }
      case 'GlobalAveragePool':
        m = new GlobalAvgPool();
        break;
      case 'Flatten':
        if (int(n, 'axis', 1) !== 1) throw new Error(`octet train import: Flatten '${who}' with axis != 1`);
        m = new Flatten();
        break;
      case 'Reshape': {
        const shp = valOf(ins[1], who);
        if (shp.length !== 2 || !(shp[1] === -1 || shp[0] === -1 || shp[0] === 0)) {
          throw new Error(`octet train import: Reshape '${who}' to [${shp}] is not a flatten`);
        }
        m = new Flatten();
        break;
      }
      case 'Gemm': {
        if (flt(n, 'alpha', 1) !== 1 || flt(n, 'beta', 1) !== 1 || int(n, 'transA', 0)) throw new Error(`octet train import: Gemm '${who}' with alpha/beta/transA not supported`);
        const transB = int(n, 'transB', 0);
        const wd = dimsOf(ins[1]);
        const w = valOf(ins[1], who);
        const [O, I] = transB ? wd : [wd[1], wd[0]];
        const l = new Linear(I, O, rng, ins.length > 2 && !!ins[2]);
        if (transB) l.weight.data.set(w);
        else for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) l.weight.data[o * I + i] = w[i * O + o];
        if (l.bias) l.bias.data.set(valOf(ins[2], who));
        m = l;
        break;
      }
      case 'MatMul': {
        const wd = dimsOf(ins[1]);
        const w = valOf(ins[1], who);
        const [I, O] = wd;
        const l = new Linear(I, O, rng, false);
        for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) l.weight.data[o * I + i] = w[i * O + o];
        m = l;
        break;
      }
      case 'Add': {
        // Bias after MatMul.
        const last = mods[mods.length - 1];
        const b = valOf(ins[1], who);
        if (!(last instanceof Linear) || last.bias || b.length !== last.outFeatures) throw new Error(`octet train import: Add '${who}' is neither a residual nor a MatMul bias`);
        last.bias = new Tensor(Float32Array.from(b), [b.length], true, 'bias');
        cur = out;
        valueAt.set(out, mods.length);
        continue;
      }
      case 'Dropout':
      case 'Identity':
        cur = out;
        valueAt.set(out, mods.length);
        continue;
      default:
        throw new Error(`octet train import: operator '${op}' (node '${who}') is not supported for training`);
    }
    mods.push(m);
    cur = out;
    valueAt.set(out, mods.length);
  }
  const outputName = graph.output?.[0]?.name ?? cur;
  if (outputName !== cur) throw new Error(`octet train import: graph output '${outputName}' is not the end of the chain ('${cur}')`);
  const model = new Sequential(mods);
  nameModules(model);
  model.eval();
  return { model, inputName, outputName, inputShape };
}
