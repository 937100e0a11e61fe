// Graph preparation before calibration: Constant nodes to initializers, opset raised to 13 (per-channel Q/DQ),
// Identity/Dropout removed, Gemm alpha/beta folded into its constants, BatchNormalization folded into the
// preceding Conv. All of it is exact in real arithmetic (BN folding changes float rounding only).
import {
  type ModelProto,
  type NodeProto,
  type TensorProto,
  DT,
  GraphIndex,
  attrFloat,
  attrInt,
  attrInts,
  dimsOf,
  floatTensor,
  getAttr,
  int64Tensor,
  num,
  opsetVersion,
  setOpset,
  tensorToFloat32,
  topoSort,
  pruneInitializers,
  Namer,
} from './model.js';

export const MIN_OPSET = 13;

export interface PrepareReport {
  foldedBatchNorms: string[];
  removed: string[];
}

export function prepareModel(model: ModelProto): PrepareReport {
  const g = model.graph!;
  const report: PrepareReport = { foldedBatchNorms: [], removed: [] };
  constantsToInitializers(model);
  upgradeOpset(model);
  removeIdentities(model, report);
  foldGemmScalars(model);
  foldBatchNorms(model, report);
  pruneInitializers(g);
  topoSort(g);
  return report;
}

function constantsToInitializers(model: ModelProto): void {
  const g = model.graph!;
  const idx = new GraphIndex(g);
  const keep: NodeProto[] = [];
  for (const n of g.node ?? []) {
    if (n.opType === 'Constant' && (n.domain ?? '') === '' && n.output?.length === 1) {
      const t = idx.constTensor(n.output[0]);
      if (t) {
        g.initializer!.push({ ...t, name: n.output[0] });
        continue;
      }
    }
    keep.push(n);
  }
  g.node = keep;
}

/** Raise the default-domain opset to 13, rewriting the attribute-to-input changes of the ops we meet. */
function upgradeOpset(model: ModelProto): void {
  const v = opsetVersion(model, '');
  if (v >= MIN_OPSET) return;
  const g = model.graph!;
  const namer = new Namer(g);
  for (const n of g.node ?? []) {
    if ((n.domain ?? '') !== '') continue;
    const dropAttr = (name: string) => (n.attribute = (n.attribute ?? []).filter((a) => a.name !== name));
    if (n.opType === 'Clip' && v < 11) {
      const lo = getAttr(n, 'min');
      const hi = getAttr(n, 'max');
      const inputs = [n.input![0], '', ''];
      if (lo) {
        const name = namer.take(`${n.name || n.output![0]}_min`);
        g.initializer!.push(floatTensor(name, [], [lo.f ?? 0]));
        inputs[1] = name;
      }
      if (hi) {
        const name = namer.take(`${n.name || n.output![0]}_max`);
        g.initializer!.push(floatTensor(name, [], [hi.f ?? 0]));
        inputs[2] = name;
      }
      while (inputs.length > 1 && inputs[inputs.length - 1] === '') inputs.pop();
      n.input = inputs;
      dropAttr('min');
      dropAttr('max');
    } else if ((n.opType === 'Squeeze' || n.opType === 'Unsqueeze' || n.opType === 'ReduceSum') && getAttr(n, 'axes')) {
      const axes = attrInts(n, 'axes') ?? [];
      const name = namer.take(`${n.name || n.output![0]}_axes`);
      g.initializer!.push(int64Tensor(name, [axes.length], axes));
      n.input = [n.input![0], name];
      dropAttr('axes');
    } else if (n.opType === 'Split' && getAttr(n, 'split')) {
      const split = attrInts(n, 'split') ?? [];
      const name = namer.take(`${n.name || n.output![0]}_split`);
      g.initializer!.push(int64Tensor(name, [split.length], split));
      n.input = [n.input![0], name];
      dropAttr('split');
    } else if (n.opType === 'BatchNormalization') {
      dropAttr('spatial');
      dropAttr('consumed_inputs');
      dropAttr('is_test');
    } else if (['Upsample', 'Scatter', 'Pad', 'Resize', 'Slice', 'TopK'].includes(n.opType ?? '') && v < 11) {
      throw new Error(`quantize: node '${n.name}' (${n.opType}) uses opset ${v} semantics; convert the model to opset >= 11 first`);
    }
  }
  setOpset(model, '', MIN_OPSET);
  if ((model.irVersion as number) == null || num(model.irVersion as number) < 7) model.irVersion = 7;
}

function removeIdentities(model: ModelProto, report: PrepareReport): void {
  const g = model.graph!;
  const outputs = new Set((g.output ?? []).map((o) => o.name));
  const rename = new Map<string, string>();
  const keep: NodeProto[] = [];
  for (const n of g.node ?? []) {
    const isId = (n.opType === 'Identity' || n.opType === 'Dropout') && (n.domain ?? '') === '';
    const extraOutputsUsed = n.opType === 'Dropout' && (n.output ?? []).length > 1 && n.output![1] !== '';
    if (isId && !outputs.has(n.output![0]) && !extraOutputsUsed) {
      rename.set(n.output![0], n.input![0]);
      report.removed.push(n.name || n.output![0]);
      continue;
    }
    keep.push(n);
  }
  const resolve = (t: string): string => {
    while (rename.has(t)) t = rename.get(t)!;
    return t;
  };
  for (const n of keep) n.input = (n.input ?? []).map(resolve);
  g.node = keep;
}

function replaceInit(model: ModelProto, t: TensorProto): void {
  const g = model.graph!;
  const i = g.initializer!.findIndex((x) => x.name === t.name);
  if (i >= 0) g.initializer![i] = t;
  else g.initializer!.push(t);
}

/** Gemm: alpha folded into B, beta into C (when they are constants), so that quantized Gemm sees alpha = beta = 1. */
function foldGemmScalars(model: ModelProto): void {
  const g = model.graph!;
  const idx = new GraphIndex(g);
  const namer = new Namer(g);
  for (const n of g.node ?? []) {
    if (n.opType !== 'Gemm') continue;
    const alpha = attrFloat(n, 'alpha', 1);
    const beta = attrFloat(n, 'beta', 1);
    if (alpha !== 1 && idx.inits.get(n.input![1])?.dataType === DT.FLOAT) {
      const b = idx.inits.get(n.input![1])!;
      const name = namer.take(`${b.name}_alpha`);
      replaceInit(model, floatTensor(name, dimsOf(b), tensorToFloat32(b).map((x) => x * alpha)));
      n.input![1] = name;
      n.attribute = (n.attribute ?? []).filter((a) => a.name !== 'alpha');
    }
    if (beta !== 1 && n.input![2] && idx.inits.get(n.input![2])?.dataType === DT.FLOAT) {
      const c = idx.inits.get(n.input![2])!;
      const name = namer.take(`${c.name}_beta`);
      replaceInit(model, floatTensor(name, dimsOf(c), tensorToFloat32(c).map((x) => x * beta)));
      n.input![2] = name;
      n.attribute = (n.attribute ?? []).filter((a) => a.name !== 'beta');
    }
  }
}

/**
 * Conv -> BatchNormalization with constant parameters becomes one Conv:
 * W'[o] = W[o] * gamma[o] / sqrt(var[o] + eps), b'[o] = (b[o] - mean[o]) * gamma[o] / sqrt(var[o] + eps) + beta[o].
 */
function foldBatchNorms(model: ModelProto, report: PrepareReport): void {
  const g = model.graph!;
  const idx = new GraphIndex(g);
  const namer = new Namer(g);
  const drop = new Set<NodeProto>();
  for (const bn of g.node ?? []) {
    if (bn.opType !== 'BatchNormalization' || (bn.output ?? []).filter((o) => o).length !== 1) continue;
    const conv = idx.producer.get(bn.input![0]);
    if (!conv || conv.opType !== 'Conv' || idx.consumersOf(bn.input![0]).length !== 1) continue;
    if (idx.graphOutputs.has(bn.input![0])) continue;
    const w = idx.inits.get(conv.input![1]);
    const params = bn.input!.slice(1, 5).map((t) => idx.inits.get(t));
    if (!w || w.dataType !== DT.FLOAT || params.some((p) => !p)) continue;
    const [gamma, beta, mean, variance] = params.map((p) => tensorToFloat32(p!));
    const eps = attrFloat(bn, 'epsilon', 1e-5);
    const wd = dimsOf(w);
    const cout = wd[0];
    if (gamma.length !== cout) continue;
    const wf = tensorToFloat32(w);
    const inner = wf.length / cout;
    const bias = conv.input![2] && idx.inits.get(conv.input![2]) ? tensorToFloat32(idx.inits.get(conv.input![2])!) : new Float32Array(cout);
    const nw = new Float32Array(wf.length);
    const nb = new Float32Array(cout);
    for (let o = 0; o < cout; o++) {
      const s = gamma[o] / Math.sqrt(variance[o] + eps);
      for (let k = 0; k < inner; k++) nw[o * inner + k] = wf[o * inner + k] * s;
      nb[o] = (bias[o] - mean[o]) * s + beta[o];
    }
    const wName = namer.take(`${w.name}_bnfold`);
    const bName = namer.take(`${conv.name || conv.output![0]}_bias_bnfold`);
    g.initializer!.push(floatTensor(wName, wd, nw), floatTensor(bName, [cout], nb));
    conv.input = [conv.input![0], wName, bName];
    conv.output = [bn.output![0]];
    drop.add(bn);
    report.foldedBatchNorms.push(bn.name || bn.output![0]);
  }
  g.node = (g.node ?? []).filter((n) => !drop.has(n));
  void attrInt;
}
