// Rewriting a prepared FP32 graph into a quantized one, from a plan and activation qparams:
// QDQ (QuantizeLinear/DequantizeLinear pairs around FP32 ops, int8 weights + DQ with per-channel axis, int32 bias)
// or QOperator (QLinearConv, QLinearMatMul, com.microsoft QLinearAdd/QLinearMul/QLinearGlobalAveragePool/
// QLinearConcat/QLinearSigmoid/QLinearLeakyRelu; Q/DQ only at the borders of FP32 regions).
//
// Naming: the quantized form of activation T is `T_quantized` with `T_scale` / `T_zero_point`; the model's
// metadata_props entry `octet.quantized_tensors` maps each FP32 tensor name to those three names, which is what
// the accuracy report reads.
import {
  type ModelProto,
  type NodeProto,
  type TensorProto,
  DT,
  GraphIndex,
  Namer,
  attrInt,
  dimsOf,
  floatTensor,
  getAttr,
  int32Tensor,
  int64Tensor,
  makeAttr,
  makeNode,
  pruneInitializers,
  qTensor,
  setOpset,
  tensorToFloat32,
  topoSort,
} from './model.js';
import type { NodePlan, QuantPlan } from './plan.js';
import { type QParams, type QType, quantizeBias, quantizeWeight, computeQParams } from './qparams.js';

export interface RewriteOptions {
  format: 'qdq' | 'qoperator';
  activations: QType;
  weights: QType;
  perChannel: boolean;
  symmetricWeights: boolean;
  reduceRange: boolean;
}

export interface QuantizedTensorInfo {
  quantized: string;
  scale: string;
  zeroPoint: string;
}

export const METADATA_KEY = 'octet.quantized_tensors';

class Ctx {
  readonly g;
  readonly idx: GraphIndex;
  readonly namer: Namer;
  readonly newInits: TensorProto[] = [];
  readonly info: Record<string, QuantizedTensorInfo> = {};
  private sz = new Map<string, { scale: string; zp: string }>();
  private wcache = new Map<string, { q: string; s: string; z: string; scales: Float32Array; axis: number }>();
  constructor(
    readonly model: ModelProto,
    readonly plan: QuantPlan,
    readonly params: Map<string, QParams>,
    readonly opts: RewriteOptions,
  ) {
    this.g = model.graph!;
    this.idx = new GraphIndex(this.g);
    this.namer = new Namer(this.g);
  }
  qp(t: string): QParams {
    const p = this.params.get(t);
    if (!p) throw new Error(`quantize: no range for tensor '${t}'`);
    return p;
  }
  /** Names of the scale and zero-point initializers of activation t. */
  scaleZp(t: string): { scale: string; zp: string } {
    let r = this.sz.get(t);
    if (r) return r;
    const p = this.qp(t);
    const scale = this.namer.take(`${t}_scale`);
    const zp = this.namer.take(`${t}_zero_point`);
    this.newInits.push(floatTensor(scale, [], [p.scale]), qTensor(zp, p.type, [], [p.zeroPoint]));
    r = { scale, zp };
    this.sz.set(t, r);
    return r;
  }
  quantName(t: string): string {
    const existing = this.info[t];
    if (existing) return existing.quantized;
    const { scale, zp } = this.scaleZp(t);
    const q = this.namer.take(`${t}_quantized`);
    this.info[t] = { quantized: q, scale, zeroPoint: zp };
    return q;
  }
  /** Weight initializer w quantized (per-channel along `axis` when enabled). */
  weight(w: string, axis: number, transpose2d = false): { q: string; s: string; z: string; scales: Float32Array; axis: number } {
    const key = `${w}|${axis}|${transpose2d}`;
    const c = this.wcache.get(key);
    if (c) return c;
    const t = this.idx.inits.get(w)!;
    let data = tensorToFloat32(t);
    let dims = dimsOf(t);
    if (transpose2d) {
      const [r, k] = dims;
      const tr = new Float32Array(data.length);
      for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) tr[j * r + i] = data[i * k + j];
      data = tr;
      dims = [k, r];
    }
    const qw = quantizeWeight(data, dims, {
      type: this.opts.weights,
      perChannel: this.opts.perChannel,
      axis,
      symmetric: this.opts.symmetricWeights,
      reduceRange: this.opts.reduceRange,
    });
    const q = this.namer.take(`${w}_quantized`);
    const s = this.namer.take(`${w}_scale`);
    const z = this.namer.take(`${w}_zero_point`);
    const pc = qw.axis >= 0;
    this.newInits.push(
      qTensor(q, this.opts.weights, dims, qw.data),
      floatTensor(s, pc ? [qw.scales.length] : [], qw.scales),
      qTensor(z, this.opts.weights, pc ? [qw.zeroPoints.length] : [], qw.zeroPoints),
    );
    const r = { q, s, z, scales: qw.scales, axis: qw.axis };
    this.wcache.set(key, r);
    return r;
  }
  /** Bias as int32 with scale S_in * S_w; undefined when the bias is not a 1-D float constant of `channels`. */
  bias(b: string, inputScale: number, wScales: Float32Array, channels: number): { q: string; s: string; z: string } | undefined {
    const t = this.idx.inits.get(b);
    if (!t) return undefined;
    const d = dimsOf(t);
    const n = d.reduce((a, x) => a * x, 1);
    if (n !== channels || d.filter((x) => x !== 1).length > 1) return undefined;
    const qb = quantizeBias(tensorToFloat32(t), inputScale, wScales);
    const q = this.namer.take(`${b}_quantized`);
    const s = this.namer.take(`${b}_scale`);
    const z = this.namer.take(`${b}_zero_point`);
    this.newInits.push(int32Tensor(q, [channels], qb.data), floatTensor(s, [channels], qb.scales), int32Tensor(z, [channels], new Int32Array(channels)));
    return { q, s, z };
  }
  /** A float constant quantized per tensor to the activation type (Add/Mul operands). */
  constAct(c: string): { q: string; s: string; z: string } {
    const t = this.idx.inits.get(c)!;
    const data = tensorToFloat32(t);
    let lo = 0;
    let hi = 0;
    for (const v of data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const p = computeQParams(lo, hi, this.opts.activations);
    const qw = quantizeWeight(data, dimsOf(t), { type: this.opts.activations, perChannel: false, symmetric: false });
    void p;
    const q = this.namer.take(`${c}_quantized`);
    const s = this.namer.take(`${c}_scale`);
    const z = this.namer.take(`${c}_zero_point`);
    this.newInits.push(qTensor(q, this.opts.activations, dimsOf(t), qw.data), floatTensor(s, [], qw.scales), qTensor(z, this.opts.activations, [], qw.zeroPoints));
    return { q, s, z };
  }
  node(op: string, inputs: string[], outputs: string[], base: string, attrs: ReturnType<typeof makeAttr>[] = [], domain?: string): NodeProto {
    return makeNode(op, inputs, outputs, this.namer.take(base), attrs, domain);
  }
  finish(nodes: NodeProto[]): void {
    this.g.node = nodes;
    this.g.initializer!.push(...this.newInits);
    pruneInitializers(this.g);
    topoSort(this.g);
    setOpset(this.model, '', Math.max(13, opsetOf(this.model)));
    this.model.metadataProps = (this.model.metadataProps ?? []).filter((p) => p.key !== METADATA_KEY);
    this.model.metadataProps.push({ key: METADATA_KEY, value: JSON.stringify(this.info) });
    this.model.producerName = 'octet';
  }
}

function opsetOf(m: ModelProto): number {
  const o = (m.opsetImport ?? []).find((x) => (x.domain ?? '') === '');
  return o ? Number(o.version) : 13;
}

/** Axis of the output channels of a constant B and whether it must be transposed for [K, N] use. */
function gemmWeightAxis(n: NodeProto): number {
  return attrInt(n, 'transB', 0) === 1 ? 0 : 1;
}

export function rewriteQdq(model: ModelProto, plan: QuantPlan, params: Map<string, QParams>, opts: RewriteOptions): Record<string, QuantizedTensorInfo> {
  const ctx = new Ctx(model, plan, params, opts);
  const { idx } = ctx;
  const extra: NodeProto[] = [];
  const nodes = ctx.g.node!;
  // Activations: Q -> DQ after the producer; every consumer reads the DQ output.
  const dqName = new Map<string, string>();
  for (const t of plan.tensors) {
    const q = ctx.quantName(t);
    const { scale, zp } = ctx.scaleZp(t);
    let src = t;
    let dq: string;
    if (idx.graphOutputs.has(t)) {
      src = ctx.namer.take(`${t}_float`);
      const p = idx.producer.get(t);
      if (p) p.output = p.output!.map((o) => (o === t ? src : o));
      dq = t;
    } else dq = ctx.namer.take(`${t}_dequantized`);
    extra.push(ctx.node('QuantizeLinear', [src, scale, zp], [q], `${t}_QuantizeLinear`));
    extra.push(ctx.node('DequantizeLinear', [q, scale, zp], [dq], `${t}_DequantizeLinear`));
    dqName.set(t, dq);
  }
  const origIn = new Map(nodes.map((n) => [n, [...n.input!]]));
  for (const n of nodes) n.input = n.input!.map((i) => (i !== '' && dqName.has(i) && dqName.get(i) !== i ? dqName.get(i)! : i));
  // Weights and biases: int8 / int32 initializers behind DequantizeLinear.
  const dqConst = (q: string, s: string, z: string, axis: number, base: string): string => {
    const out = ctx.namer.take(`${base}_dequantized`);
    extra.push(ctx.node('DequantizeLinear', [q, s, z], [out], `${base}_DequantizeLinear`, axis >= 0 ? [makeAttr('axis', axis)] : []));
    return out;
  };
  for (const p of plan.nodes.values()) {
    const n = p.node;
    if (p.role === 'conv' || p.role === 'gemm' || (p.role === 'matmul' && p.actInputs.length === 1)) {
      const wName = n.input![1];
      const wDims = dimsOf(idx.inits.get(wName)!);
      const axis = p.role === 'conv' ? 0 : p.role === 'gemm' ? gemmWeightAxis(n) : wDims.length - 1;
      const w = ctx.weight(wName, axis);
      n.input![1] = dqConst(w.q, w.s, w.z, w.axis, wName);
      if ((p.role === 'conv' || p.role === 'gemm') && n.input![2]) {
        const inScale = ctx.qp(origIn.get(n)![0]).scale;
        const b = ctx.bias(n.input![2], inScale, w.scales, wDims[axis]);
        if (b) n.input![2] = dqConst(b.q, b.s, b.z, 0, n.input![2]);
      }
    }
    if (p.role === 'add' || p.role === 'mul') {
      for (const i of [0, 1]) {
        if (p.actInputs.includes(i) || !n.input![i] || !idx.inits.get(n.input![i])) continue;
        if (idx.inits.get(n.input![i])!.dataType !== DT.FLOAT) continue;
        const c = ctx.constAct(n.input![i]);
        n.input![i] = dqConst(c.q, c.s, c.z, -1, n.input![i]);
      }
    }
  }
  ctx.finish([...nodes, ...extra]);
  return ctx.info;
}

export function rewriteQOperator(model: ModelProto, plan: QuantPlan, params: Map<string, QParams>, opts: RewriteOptions): Record<string, QuantizedTensorInfo> {
  const ctx = new Ctx(model, plan, params, opts);
  const { idx } = ctx;
  const out: NodeProto[] = [];
  const quantAvail = new Set<string>(); // tensors whose quantized form exists
  const floatAvail = new Set<string>(); // tensors whose FP32 form exists
  for (const i of idx.graphInputs) floatAvail.add(i);
  for (const t of idx.inits.keys()) floatAvail.add(t);
  const needQ = (t: string): string => {
    const q = ctx.quantName(t);
    if (!quantAvail.has(t)) {
      const { scale, zp } = ctx.scaleZp(t);
      out.push(ctx.node('QuantizeLinear', [t, scale, zp], [q], `${t}_QuantizeLinear`));
      quantAvail.add(t);
    }
    return q;
  };
  const needF = (t: string): void => {
    if (floatAvail.has(t) || !quantAvail.has(t)) return;
    const { scale, zp } = ctx.scaleZp(t);
    out.push(ctx.node('DequantizeLinear', [ctx.quantName(t), scale, zp], [t], `${t}_DequantizeLinear`));
    floatAvail.add(t);
  };
  const act = (t: string) => {
    const q = needQ(t);
    const { scale, zp } = ctx.scaleZp(t);
    return [q, scale, zp];
  };
  const outQ = (p: NodePlan) => {
    const q = ctx.quantName(p.output);
    const { scale, zp } = ctx.scaleZp(p.output);
    return { q, scale, zp };
  };
  const ms = 'com.microsoft';
  for (const n of ctx.g.node!) {
    if (plan.fused.has(n)) continue;
    const p = plan.nodes.get(n);
    const base = n.name || n.output![0];
    if (!p) {
      for (const i of n.input!) if (i) needF(i);
      out.push(n);
      for (const o of n.output!) floatAvail.add(o);
      continue;
    }
    const y = outQ(p);
    const keepAttrs = (names: string[]) => (n.attribute ?? []).filter((a) => names.includes(a.name ?? ''));
    switch (p.role) {
      case 'conv': {
        const wDims = dimsOf(idx.inits.get(n.input![1])!);
        const w = ctx.weight(n.input![1], 0);
        const inputs = [...act(n.input![0]), w.q, w.s, w.z, y.scale, y.zp];
        if (n.input![2]) {
          const b = ctx.bias(n.input![2], ctx.qp(n.input![0]).scale, w.scales, wDims[0]);
          if (!b) throw new Error(`quantize: Conv '${base}': bias is not a 1-D constant`);
          inputs.push(b.q);
        }
        out.push(ctx.node('QLinearConv', inputs, [y.q], `${base}_quant`, keepAttrs(['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'])));
        break;
      }
      case 'gemm': {
        // Gemm as a 1x1 QLinearConv between two Reshapes: exact, with int32 bias and per-channel weights.
        const bT = idx.inits.get(n.input![1])!;
        const transB = attrInt(n, 'transB', 0) === 1;
        const w = ctx.weight(n.input![1], 0, !transB); // [N, K]
        const [N, K] = transB ? dimsOf(bT) : [dimsOf(bT)[1], dimsOf(bT)[0]];
        const w4 = ctx.namer.take(`${n.input![1]}_quantized_4d`);
        const shape4 = ctx.namer.take(`${base}_shape_4d`);
        const shape2 = ctx.namer.take(`${base}_shape_2d`);
        ctx.newInits.push(int64Tensor(shape4, [4], [N, K, 1, 1]), int64Tensor(shape2, [2], [0, 0]));
        const x4shape = ctx.namer.take(`${base}_in_shape_4d`);
        ctx.newInits.push(int64Tensor(x4shape, [4], [0, 0, 1, 1]));
        out.push(ctx.node('Reshape', [w.q, shape4], [w4], `${base}_weight_reshape`));
        const xq = act(n.input![0]);
        const x4 = ctx.namer.take(`${xq[0]}_4d`);
        out.push(ctx.node('Reshape', [xq[0], x4shape], [x4], `${base}_in_reshape`));
        const inputs = [x4, xq[1], xq[2], w4, w.s, w.z, y.scale, y.zp];
        if (n.input![2]) {
          const b = ctx.bias(n.input![2], ctx.qp(n.input![0]).scale, w.scales, N);
          if (!b) throw new Error(`quantize: Gemm '${base}': bias C is not a 1-D constant of ${N}`);
          inputs.push(b.q);
        }
        const y4 = ctx.namer.take(`${y.q}_4d`);
        out.push(ctx.node('QLinearConv', inputs, [y4], `${base}_quant`));
        out.push(ctx.node('Reshape', [y4, shape2], [y.q], `${base}_out_reshape`));
        break;
      }
      case 'matmul': {
        if (p.actInputs.length === 1) {
          const wDims = dimsOf(idx.inits.get(n.input![1])!);
          const w = ctx.weight(n.input![1], wDims.length - 1);
          out.push(ctx.node('QLinearMatMul', [...act(n.input![0]), w.q, w.s, w.z, y.scale, y.zp], [y.q], `${base}_quant`));
        } else out.push(ctx.node('QLinearMatMul', [...act(n.input![0]), ...act(n.input![1]), y.scale, y.zp], [y.q], `${base}_quant`));
        break;
      }
      case 'add':
      case 'mul': {
        const ins: string[] = [];
        for (const i of [0, 1]) {
          if (p.actInputs.includes(i)) ins.push(...act(n.input![i]));
          else {
            const c = ctx.constAct(n.input![i]);
            ins.push(c.q, c.s, c.z);
          }
        }
        out.push(ctx.node(p.role === 'add' ? 'QLinearAdd' : 'QLinearMul', [...ins, y.scale, y.zp], [y.q], `${base}_quant`, [], ms));
        break;
      }
      case 'gap':
        out.push(ctx.node('QLinearGlobalAveragePool', [...act(n.input![0]), y.scale, y.zp], [y.q], `${base}_quant`, [makeAttr('channels_last', 0)], ms));
        break;
      case 'concat': {
        const ins = [y.scale, y.zp];
        for (const i of n.input!) ins.push(...act(i));
        out.push(ctx.node('QLinearConcat', ins, [y.q], `${base}_quant`, keepAttrs(['axis']), ms));
        break;
      }
      case 'sigmoid':
        out.push(ctx.node('QLinearSigmoid', [...act(n.input![0]), y.scale, y.zp], [y.q], `${base}_quant`, [], ms));
        break;
      case 'leakyrelu':
        out.push(ctx.node('QLinearLeakyRelu', [...act(n.input![0]), y.scale, y.zp], [y.q], `${base}_quant`, keepAttrs(['alpha']), ms));
        break;
      case 'maxpool':
      case 'move': {
        const xq = act(n.input![0]);
        for (const i of n.input!.slice(1)) if (i) needF(i);
        out.push(ctx.node(n.opType!, [xq[0], ...n.input!.slice(1)], [y.q], `${base}_quant`, n.attribute ?? []));
        break;
      }
      default:
        throw new Error(`quantize: role ${p.role} has no QOperator form`);
    }
    quantAvail.add(p.output);
  }
  for (const o of idx.graphOutputs) needF(o);
  if (out.some((n) => n.domain === ms)) setOpset(model, ms, 1);
  ctx.finish(out);
  void getAttr;
  return ctx.info;
}
