// Quantization-aware training and post-training quantization of a trained Sequential, and export of the result
// as a QDQ ONNX model.
//
// toQuantized(model, cfg) groups the layers into quantized blocks:
//   Conv2d [BatchNorm2d] [ReLU|ReLU6]  -> QConv   (per-channel symmetric weight fake-quant, int32 bias fake-quant
//                                                 with scale s_in * s_w, activation fake-quant on the output)
//   Linear [ReLU|ReLU6]                -> QLinear (the same)
//   MaxPool2d, Flatten, Dropout        -> pass-through (the output keeps the input's quantization)
//   AvgPool2d, GlobalAvgPool           -> QPool   (activation fake-quant on the output)
//   Residual [ReLU|ReLU6]              -> QResidual (activation fake-quant after the add and activation)
//   and one activation fake-quant on the network input.
// BatchNorm is simulated while training as in Krishnamoorthi (arXiv 1806.08342) / PyTorch's ConvBn2d: the
// weight is scaled by gamma / sqrt(running_var + eps) before fake-quant, the convolution output divided back and
// batch-normalized with batch statistics; after `freezeBnAfter` steps (0 = at once) the BatchNorm is folded into
// the weight and bias for good. Evaluation always runs the folded form, which is exactly what is exported.
import { Tensor, noGrad } from './tensor.js';
import * as F from './ops.js';
import {
  Module, Sequential, Conv2d, Linear, BatchNorm2d, ReLU, ReLU6, MaxPool2d, AvgPool2d, GlobalAvgPool, Flatten, Dropout, Residual, nameModules,
} from './layers.js';
import { FakeQuant, fakeQuantize, rint, type ObserverKind } from './fakequant.js';
import type { Optimizer } from './optim.js';
import { GraphBuilder, attr } from '../onnx/writer.js';

export interface QuantConfig {
  /** Weight bit width (per-channel symmetric), 8 down to 4. Default 8. */
  weightBits?: number;
  /** Activation bit width (per-tensor asymmetric, unsigned), 8 down to 4. Default 8. */
  activationBits?: number;
  /** Activation observer while training: 'moving-average' (default, averaging 0.01) or 'minmax'. */
  observer?: ObserverKind;
  averaging?: number;
  /** Steps after which BatchNorm is folded into the convolution (0: fold immediately). Default 0. */
  freezeBnAfter?: number;
  /** Steps after which the activation observers stop updating. Default: never. */
  freezeObserversAfter?: number;
  /** Learnable scales (LSQ) for weights and activations, initialised from calibration. */
  lsq?: boolean;
}

type Act = 'relu' | 'relu6' | null;
const applyAct = (y: Tensor, a: Act) => (a === 'relu' ? F.relu(y) : a === 'relu6' ? F.relu6(y) : y);
const actLimits = (a: Act): [number, number] => (a === 'relu' ? [0, Infinity] : a === 'relu6' ? [0, 6] : [-Infinity, Infinity]);

const INT32: { qmin: number; qmax: number } = { qmin: -2147483648, qmax: 2147483647 };

/** Bias fake-quantized to int32 with per-channel scale s_in * s_w[c] (straight-through gradient). */
function fakeQuantBias(b: Tensor, sIn: number, sW: Float32Array): { t: Tensor; scale: Float32Array } {
  const scale = new Float32Array(sW.length);
  for (let c = 0; c < sW.length; c++) scale[c] = Math.fround(sIn * sW[c]);
  return { t: fakeQuantize(b, scale, new Int32Array(sW.length), INT32, 0), scale };
}

export abstract class QNode {
  abstract forward(x: Tensor, inFq: FakeQuant, training: boolean): [Tensor, FakeQuant];
  fakeQuants(): FakeQuant[] {
    return [];
  }
  children(): QNode[] {
    return [];
  }
  freezeBn(_opt?: Optimizer): void {}
  abstract emit(g: GraphBuilder, x: string, inFq: FakeQuant, name: string): [string, FakeQuant];
}

function actFq(cfg: QuantConfig): FakeQuant {
  return new FakeQuant({ bits: cfg.activationBits ?? 8, role: 'activation', observer: cfg.observer ?? 'moving-average', averaging: cfg.averaging });
}
function weightFq(cfg: QuantConfig): FakeQuant {
  return new FakeQuant({ bits: cfg.weightBits ?? 8, role: 'weight', axis: 0 });
}

/** Q -> DQ (with a Clip first when the bit width is below the 8-bit container). */
function emitQdq(g: GraphBuilder, x: string, fq: FakeQuant, name: string): string {
  const s = g.initializer(`${name}.scale`, 'float32', [fq.scale[0]], []);
  const z = g.initializer(`${name}.zero_point`, 'uint8', [fq.zeroPoint[0]], []);
  let v = x;
  if (fq.bits < 8) {
    const lo = g.initializer(`${name}.clip_min`, 'float32', [Math.fround((fq.range.qmin - fq.zeroPoint[0]) * fq.scale[0])], []);
    const hi = g.initializer(`${name}.clip_max`, 'float32', [Math.fround((fq.range.qmax - fq.zeroPoint[0]) * fq.scale[0])], []);
    v = g.node('Clip', [v, lo, hi], 1, {}, { name: `${name}.clip` })[0];
  }
  const q = g.node('QuantizeLinear', [v, s, z], 1, {}, { name: `${name}.quantize` })[0];
  return g.node('DequantizeLinear', [q, s, z], 1, {}, { name: `${name}.dequantize` })[0];
}

function emitAct(g: GraphBuilder, x: string, a: Act, name: string): string {
  if (a === 'relu') return g.node('Relu', [x], 1, {}, { name: `${name}.relu` })[0];
  if (a === 'relu6') {
    const lo = g.initializer(`${name}.relu6_min`, 'float32', [0], []);
    const hi = g.initializer(`${name}.relu6_max`, 'float32', [6], []);
    return g.node('Clip', [x, lo, hi], 1, {}, { name: `${name}.relu6` })[0];
  }
  return x;
}

/** Weight as int8 per channel (axis 0) + bias as int32, each behind a DequantizeLinear. */
function emitQuantWeights(g: GraphBuilder, name: string, w: Tensor, b: Tensor, wfq: FakeQuant, sIn: number): [string, string] {
  const C = w.shape[0];
  const inner = w.size / C;
  const q = new Int8Array(w.size);
  for (let c = 0; c < C; c++) {
    const s = wfq.scale[c];
    for (let i = 0; i < inner; i++) {
      const v = rint(Math.fround(w.data[c * inner + i] / s));
      q[c * inner + i] = Math.max(wfq.range.qmin, Math.min(wfq.range.qmax, v));
    }
  }
  const wq = g.initializer(`${name}.weight_quantized`, 'int8', q, w.shape);
  const ws = g.initializer(`${name}.weight_scale`, 'float32', wfq.scale, [C]);
  const wz = g.initializer(`${name}.weight_zero_point`, 'int8', new Int8Array(C), [C]);
  const wdq = g.node('DequantizeLinear', [wq, ws, wz], 1, { axis: 0 }, { name: `${name}.weight_dequantize` })[0];
  const bs = new Float32Array(C);
  const bq = new Int32Array(C);
  for (let c = 0; c < C; c++) {
    bs[c] = Math.fround(sIn * wfq.scale[c]);
    bq[c] = Math.max(INT32.qmin, Math.min(INT32.qmax, rint(Math.fround(b.data[c] / bs[c]))));
  }
  const bqi = g.initializer(`${name}.bias_quantized`, 'int32', bq, [C]);
  const bsi = g.initializer(`${name}.bias_scale`, 'float32', bs, [C]);
  const bzi = g.initializer(`${name}.bias_zero_point`, 'int32', new Int32Array(C), [C]);
  const bdq = g.node('DequantizeLinear', [bqi, bsi, bzi], 1, { axis: 0 }, { name: `${name}.bias_dequantize` })[0];
  return [wdq, bdq];
}

export class QConv extends QNode {
  readonly wfq: FakeQuant;
  readonly out: FakeQuant;
  folded: boolean;
  constructor(readonly conv: Conv2d, readonly bn: BatchNorm2d | null, readonly act: Act, cfg: QuantConfig) {
    super();
    this.wfq = weightFq(cfg);
    this.out = actFq(cfg);
    if (!conv.bias) conv.bias = Tensor.zeros([conv.outChannels], true, 'bias');
    this.folded = !bn;
  }
  override fakeQuants(): FakeQuant[] {
    return [this.wfq, this.out];
  }
  private bnFactor(): Float32Array {
    const bn = this.bn!;
    const sf = new Float32Array(bn.channels);
    for (let c = 0; c < sf.length; c++) sf[c] = bn.gamma.data[c] / Math.sqrt(bn.runningVar[c] + bn.eps);
    return sf;
  }
  /** The weight and bias the quantized graph uses (BatchNorm folded in when not yet frozen). */
  effective(): { w: Tensor; b: Tensor } {
    const c = this.conv;
    if (this.folded) return { w: c.weight, b: c.bias! };
    const bn = this.bn!;
    const sf = this.bnFactor();
    const b = new Float32Array(sf.length);
    for (let i = 0; i < b.length; i++) b[i] = bn.beta.data[i] + (c.bias!.data[i] - bn.runningMean[i]) * sf[i];
    return { w: F.scaleAxis(c.weight, sf, 0), b: new Tensor(b, [b.length]) };
  }
  forward(x: Tensor, inFq: FakeQuant, training: boolean): [Tensor, FakeQuant] {
    const c = this.conv;
    const o = { stride: c.stride, padding: c.padding, groups: c.groups };
    let y: Tensor;
    if (!this.folded && training) {
      const sf = this.bnFactor();
      const wq = this.wfq.forward(F.scaleAxis(c.weight, sf, 0));
      y = F.conv2d(x, wq, null, o);
      y = F.scaleAxis(y, sf.map((v) => 1 / v), 1);
      y = F.batchNorm(y, this.bn!, true);
    } else {
      const { w, b } = this.effective();
      const wq = this.wfq.forward(w);
      const bq = this.wfq.fakeQuantEnabled && inFq.fakeQuantEnabled ? fakeQuantBias(b, inFq.scale[0], this.wfq.scale).t : b;
      y = F.conv2d(x, wq, bq, o);
    }
    return [this.out.forward(applyAct(y, this.act)), this.out];
  }
  override freezeBn(opt?: Optimizer): void {
    if (this.folded) return;
    const { w, b } = noGrad(() => this.effective());
    this.conv.weight.data.set(w.data);
    this.conv.bias!.data.set(b.data);
    this.folded = true;
    opt?.resetState(this.conv.weight);
    opt?.resetState(this.conv.bias!);
  }
  emit(g: GraphBuilder, x: string, inFq: FakeQuant, name: string): [string, FakeQuant] {
    const c = this.conv;
    const { w, b } = noGrad(() => this.effective());
    noGrad(() => this.wfq.forward(w)); // refresh per-channel scales from the exported weight
    const [wdq, bdq] = emitQuantWeights(g, name, w, b, this.wfq, inFq.scale[0]);
    let y = g.node('Conv', [x, wdq, bdq], 1, {
      kernel_shape: c.kernel, strides: c.stride, pads: [c.padding[0], c.padding[1], c.padding[0], c.padding[1]], group: c.groups, dilations: [1, 1],
    }, { name: `${name}.conv` })[0];
    y = emitAct(g, y, this.act, name);
    return [emitQdq(g, y, this.out, `${name}.output`), this.out];
  }
}

export class QLinear extends QNode {
  readonly wfq: FakeQuant;
  readonly out: FakeQuant;
  constructor(readonly lin: Linear, readonly act: Act, cfg: QuantConfig) {
    super();
    this.wfq = weightFq(cfg);
    this.out = actFq(cfg);
    if (!lin.bias) lin.bias = Tensor.zeros([lin.outFeatures], true, 'bias');
  }
  override fakeQuants(): FakeQuant[] {
    return [this.wfq, this.out];
  }
  forward(x: Tensor, inFq: FakeQuant): [Tensor, FakeQuant] {
    const wq = this.wfq.forward(this.lin.weight);
    const b = this.lin.bias!;
    const bq = this.wfq.fakeQuantEnabled && inFq.fakeQuantEnabled ? fakeQuantBias(b, inFq.scale[0], this.wfq.scale).t : b;
    return [this.out.forward(applyAct(F.linear(x, wq, bq), this.act)), this.out];
  }
  emit(g: GraphBuilder, x: string, inFq: FakeQuant, name: string): [string, FakeQuant] {
    noGrad(() => this.wfq.forward(this.lin.weight));
    const [wdq, bdq] = emitQuantWeights(g, name, this.lin.weight, this.lin.bias!, this.wfq, inFq.scale[0]);
    let y = g.node('Gemm', [x, wdq, bdq], 1, { transB: 1 }, { name: `${name}.gemm` })[0];
    y = emitAct(g, y, this.act, name);
    return [emitQdq(g, y, this.out, `${name}.output`), this.out];
  }
}

/** MaxPool, Flatten, Dropout: values stay on the input's grid, so no new quantizer. */
export class QPass extends QNode {
  constructor(readonly m: Module) {
    super();
  }
  forward(x: Tensor, inFq: FakeQuant): [Tensor, FakeQuant] {
    return [this.m.forward(x), inFq];
  }
  emit(g: GraphBuilder, x: string, inFq: FakeQuant, name: string): [string, FakeQuant] {
    const m = this.m;
    if (m instanceof Dropout) return [x, inFq];
    let y: string;
    if (m instanceof Flatten) y = g.node('Flatten', [x], 1, { axis: 1 }, { name: `${name}.flatten` })[0];
    else if (m instanceof MaxPool2d) {
      y = g.node('MaxPool', [x], 1, { kernel_shape: m.kernel, strides: m.stride, pads: [m.padding[0], m.padding[1], m.padding[0], m.padding[1]] }, { name: `${name}.maxpool` })[0];
    } else throw new Error(`octet train: no QDQ export for ${m.kind}`);
    // Same scale and zero point: re-quantizing an on-grid value is exact; it marks the input of the next op.
    return [emitQdq(g, y, inFq, `${name}.output`), inFq];
  }
}

/** AvgPool / GlobalAvgPool / standalone activation with a new output quantizer. */
export class QPool extends QNode {
  readonly out: FakeQuant;
  constructor(readonly m: Module, cfg: QuantConfig) {
    super();
    this.out = actFq(cfg);
  }
  override fakeQuants(): FakeQuant[] {
    return [this.out];
  }
  forward(x: Tensor): [Tensor, FakeQuant] {
    return [this.out.forward(this.m.forward(x)), this.out];
  }
  emit(g: GraphBuilder, x: string, _inFq: FakeQuant, name: string): [string, FakeQuant] {
    const m = this.m;
    let y: string;
    if (m instanceof GlobalAvgPool) y = g.node('GlobalAveragePool', [x], 1, {}, { name: `${name}.gap` })[0];
    else if (m instanceof AvgPool2d) {
      y = g.node('AveragePool', [x], 1, { kernel_shape: m.kernel, strides: m.stride, pads: [m.padding[0], m.padding[1], m.padding[0], m.padding[1]], count_include_pad: 0 }, { name: `${name}.avgpool` })[0];
    } else if (m instanceof ReLU) y = emitAct(g, x, 'relu', name);
    else if (m instanceof ReLU6) y = emitAct(g, x, 'relu6', name);
    else throw new Error(`octet train: no QDQ export for ${m.kind}`);
    return [emitQdq(g, y, this.out, `${name}.output`), this.out];
  }
}

export class QResidual extends QNode {
  readonly out: FakeQuant;
  constructor(readonly body: QNode[], readonly act: Act, cfg: QuantConfig) {
    super();
    this.out = actFq(cfg);
  }
  override children(): QNode[] {
    return this.body;
  }
  override fakeQuants(): FakeQuant[] {
    return [this.out];
  }
  forward(x: Tensor, inFq: FakeQuant, training: boolean): [Tensor, FakeQuant] {
    let y = x, fq = inFq;
    for (const n of this.body) [y, fq] = n.forward(y, fq, training);
    return [this.out.forward(applyAct(F.add(x, y), this.act)), this.out];
  }
  emit(g: GraphBuilder, x: string, inFq: FakeQuant, name: string): [string, FakeQuant] {
    let y = x, fq = inFq;
    this.body.forEach((n, i) => ([y, fq] = n.emit(g, y, fq, `${name}.body.${i}`)));
    let s = g.node('Add', [x, y], 1, {}, { name: `${name}.add` })[0];
    s = emitAct(g, s, this.act, name);
    return [emitQdq(g, s, this.out, `${name}.output`), this.out];
  }
}

function actAfter(layers: Module[], i: number): Act {
  const n = layers[i];
  return n instanceof ReLU ? 'relu' : n instanceof ReLU6 ? 'relu6' : null;
}

function convert(layers: Module[], cfg: QuantConfig): QNode[] {
  const out: QNode[] = [];
  for (let i = 0; i < layers.length; i++) {
    const m = layers[i];
    if (m instanceof Conv2d) {
      const bn = layers[i + 1] instanceof BatchNorm2d ? (layers[++i] as BatchNorm2d) : null;
      const act = actAfter(layers, i + 1);
      if (act) i++;
      out.push(new QConv(m, bn, act, cfg));
    } else if (m instanceof Linear) {
      const act = actAfter(layers, i + 1);
      if (act) i++;
      out.push(new QLinear(m, act, cfg));
    } else if (m instanceof Residual) {
      const act = actAfter(layers, i + 1);
      if (act) i++;
      out.push(new QResidual(convert(m.body.layers, cfg), act, cfg));
    } else if (m instanceof MaxPool2d || m instanceof Flatten || m instanceof Dropout) out.push(new QPass(m));
    else if (m instanceof AvgPool2d || m instanceof GlobalAvgPool || m instanceof ReLU || m instanceof ReLU6) out.push(new QPool(m, cfg));
    else if (m instanceof Sequential) out.push(...convert(m.layers, cfg));
    else throw new Error(`octet train: cannot quantize a standalone ${m.kind} (BatchNorm must follow a Conv2d)`);
  }
  return out;
}

function allNodes(ns: QNode[]): QNode[] {
  return ns.flatMap((n) => [n, ...allNodes(n.children())]);
}

/** A network with fake quantization; wraps (and trains) the original layers' parameters in place. */
export class QuantizedModel {
  readonly input: FakeQuant;
  readonly nodes: QNode[];
  training = false;
  private stepCount = 0;
  constructor(readonly model: Sequential, readonly cfg: QuantConfig = {}) {
    nameModules(model);
    this.input = actFq(cfg);
    this.nodes = convert(model.layers, cfg);
    if ((cfg.freezeBnAfter ?? 0) === 0) this.freezeBn();
  }
  fakeQuants(): FakeQuant[] {
    return [this.input, ...allNodes(this.nodes).flatMap((n) => n.fakeQuants())];
  }
  activationQuants(): FakeQuant[] {
    return this.fakeQuants().filter((f) => f.cfg.role === 'activation');
  }
  parameters(): Tensor[] {
    const ps = this.model.parameters();
    for (const f of this.fakeQuants()) if (f.lsqScale) ps.push(f.lsqScale);
    return ps;
  }
  train(on = true): this {
    this.training = on;
    this.model.train(on);
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  forward(x: Tensor): Tensor {
    let y = this.input.forward(x);
    let fq = this.input;
    for (const n of this.nodes) [y, fq] = n.forward(y, fq, this.training);
    return y;
  }
  freezeBn(opt?: Optimizer): void {
    for (const n of allNodes(this.nodes)) n.freezeBn(opt);
  }
  freezeObservers(): void {
    for (const f of this.activationQuants()) f.observerEnabled = false;
  }
  /**
   * Calibration: runs the batches in eval mode with fake quantization off and min/max observers, then turns fake
   * quantization on (this is post-training quantization). With cfg.lsq the scales become learnable afterwards.
   */
  calibrate(batches: Iterable<Tensor>): void {
    const fqs = this.fakeQuants();
    const acts = this.activationQuants();
    const saved = acts.map((f) => f.cfg.observer);
    for (const f of acts) {
      f.reset();
      (f.cfg as { observer?: ObserverKind }).observer = 'minmax';
      f.observerEnabled = true;
    }
    for (const f of fqs) f.fakeQuantEnabled = false;
    const was = this.training;
    this.eval();
    noGrad(() => {
      for (const b of batches) this.forward(b);
    });
    acts.forEach((f, i) => ((f.cfg as { observer?: ObserverKind }).observer = saved[i]));
    for (const f of fqs) f.fakeQuantEnabled = true;
    if (this.cfg.lsq) {
      noGrad(() => {
        for (const b of batches) {
          this.forward(b); // sets weight scales
          break;
        }
      });
      for (const f of fqs) f.enableLsq();
    }
    this.train(was);
  }
  /** Call after every optimizer step while fine-tuning: applies the BatchNorm and observer freeze schedule. */
  afterStep(opt?: Optimizer): void {
    this.stepCount++;
    if (this.cfg.freezeBnAfter !== undefined && this.stepCount === this.cfg.freezeBnAfter) this.freezeBn(opt);
    if (this.cfg.freezeObserversAfter !== undefined && this.stepCount === this.cfg.freezeObserversAfter) this.freezeObservers();
  }
  /** QDQ ONNX: QuantizeLinear/DequantizeLinear around every quantized value, int8 weights, int32 biases. */
  exportQdq(o: { inputShape: [number, number, number]; inputName?: string; outputName?: string; opset?: number; docString?: string }): Uint8Array {
    const g = new GraphBuilder({ opset: o.opset ?? 13, producerName: 'octet-train', docString: o.docString });
    const xin = g.input(o.inputName ?? 'input', 'float32', ['N', ...o.inputShape]);
    let y = emitQdq(g, xin, this.input, 'input');
    let fq = this.input;
    this.nodes.forEach((n, i) => ([y, fq] = n.emit(g, y, fq, `${i}`)));
    const out = g.node('Identity', [y], [o.outputName ?? 'logits'], {}, { name: 'output' })[0];
    g.output(out, 'float32', ['N', null]);
    return g.toBytes();
  }
}

export { attr };
