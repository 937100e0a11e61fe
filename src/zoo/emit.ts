// ONNX emitters for the reference-architecture IR (arch.ts), all through the project's writer (src/onnx/writer.ts):
//  - fp32:      Conv + BatchNormalization + Relu/Clip/HardSwish/HardSigmoid, as a float exporter writes it;
//               bn: 'batch' replaces each BatchNormalization by training-mode (batch-statistics) normalisation
//               and outputs the batch mean/var, which is how calibrate.ts sets realistic running statistics.
//  - qdq-ort:   onnxruntime quantizer style: BN folded, scales/zero points as initializers, Q/DQ pairs on every
//               activation, weights int8 per-channel (DQ axis 0), bias int32 (scale s_in*s_w), Relu/Clip removed
//               (their clamp is the output range), ops without integer kernels (HardSwish/HardSigmoid) in float.
//  - qdq-pt:    PyTorch exporter style: scales/zero points from Constant nodes (zero points through Cast), float
//               bias, explicit Relu/Clip before the Q, Flatten written as Shape/Gather/Unsqueeze/Concat/Reshape.
//  - qop:       QOperator: QLinearConv, QLinearMatMul + QLinearAdd (bias), com.microsoft QLinearAdd/QLinearMul/
//               QLinearGlobalAveragePool, MaxPool/Flatten on quantized tensors, DQ -> HardSwish -> Q for the rest.
// Quantized forms need per-tensor activation ranges (`ranges`, from calibrate.ts) and an activation type.
import { GraphBuilder, attr, onnx, type DType } from '../onnx/writer.js';
import { foldedConv, type Layer, type Net } from './arch.js';

export type ActType = 'int8' | 'uint8';
export type Range = { min: number; max: number };
export type QParams = { scale: number; zp: number };

const OPSET = 17;
const F = onnx.TensorProto.DataType;

export interface Fp32Options {
  batch?: number | string;
  bn?: 'running' | 'batch' | 'folded';
  /** Also output every layer output (and gemm pre-bias values as `<name>_mm`), for calibration. */
  exposeAll?: boolean;
}

function inputShape(net: Net, batch: number | string): (number | string)[] {
  return [batch, ...net.shapes[net.input]];
}

function emitAct(g: GraphBuilder, x: string, act: string, y: string): void {
  if (act === 'relu') g.node('Relu', [x], [y]);
  else if (act === 'relu6') g.node('Clip', [x, g.constant(g.fresh('clip_min'), 'float32', [0], []), g.constant(g.fresh('clip_max'), 'float32', [6], [])], [y]);
  else g.node('Identity', [x], [y]);
}

/** The FP32 model. */
export function emitFp32(net: Net, opts: Fp32Options = {}): Uint8Array {
  const batch = opts.batch ?? 1;
  const bnMode = opts.bn ?? 'running';
  const g = new GraphBuilder({ name: `${net.name}_fp32`, opset: OPSET });
  g.input(net.input, 'float32', inputShape(net, batch));
  for (const l of net.layers) {
    switch (l.op) {
      case 'conv': {
        const folded = bnMode === 'folded' ? foldedConv(l) : null;
        const w = g.initializer(`${l.name}.weight`, 'float32', folded ? folded.w : l.w, l.shape);
        const bias = folded ? folded.b : l.b;
        const ins = [l.x, w];
        if (bias) ins.push(g.initializer(`${l.name}.bias`, 'float32', bias, [l.shape[0]]));
        const convAttrs = { kernel_shape: [l.shape[2], l.shape[3]], strides: [l.stride, l.stride], pads: [l.pad, l.pad, l.pad, l.pad], group: l.group, dilations: [1, 1] };
        let [t] = g.node('Conv', ins, l.bn && !folded ? [`${l.name}_conv`] : l.act === 'none' ? [l.y] : [`${l.name}_pre`], convAttrs, { name: l.name });
        if (l.bn && !folded) {
          const bn = l.bn;
          const out = l.act === 'none' ? l.y : `${l.name}_pre`;
          const m = l.shape[0];
          const gamma = g.initializer(`${l.name}.bn.weight`, 'float32', bn.gamma, [m]);
          const beta = g.initializer(`${l.name}.bn.bias`, 'float32', bn.beta, [m]);
          if (bnMode === 'batch') {
            const mean = g.node('ReduceMean', [t], [`${l.name}.bmean`], { axes: [0, 2, 3], keepdims: 1 })[0];
            const d = g.node('Sub', [t, mean], 1)[0];
            const v = g.node('ReduceMean', [g.node('Mul', [d, d], 1)[0]], [`${l.name}.bvar`], { axes: [0, 2, 3], keepdims: 1 })[0];
            const eps = g.constant(g.fresh('eps'), 'float32', [bn.eps], []);
            const sd = g.node('Sqrt', [g.node('Add', [v, eps], 1)[0]], 1)[0];
            const shp = g.constant(g.fresh('cshape'), 'int64', [1, m, 1, 1], [4]);
            const gm = g.node('Reshape', [gamma, shp], 1)[0];
            const bt = g.node('Reshape', [beta, shp], 1)[0];
            const nrm = g.node('Div', [d, sd], 1)[0];
            g.node('Add', [g.node('Mul', [nrm, gm], 1)[0], bt], [out]);
            g.output(mean, 'float32');
            g.output(v, 'float32');
          } else {
            const mean = g.initializer(`${l.name}.bn.running_mean`, 'float32', bn.mean, [m]);
            const vr = g.initializer(`${l.name}.bn.running_var`, 'float32', bn.var, [m]);
            g.node('BatchNormalization', [t, gamma, beta, mean, vr], [out], { epsilon: bn.eps, momentum: 0.9 }, { name: `${l.name}_bn` });
          }
          t = out;
        }
        if (l.act !== 'none') emitAct(g, t, l.act, l.y);
        break;
      }
      case 'gemm': {
        const w = g.initializer(`${l.name}.weight`, 'float32', l.w, l.shape);
        const b = g.initializer(`${l.name}.bias`, 'float32', l.b, [l.shape[0]]);
        const out = l.act === 'none' ? l.y : `${l.name}_pre`;
        if (opts.exposeAll) {
          const wt = g.node('Transpose', [w], 1, { perm: [1, 0] })[0];
          g.node('MatMul', [l.x, wt], [`${l.name}_mm`]);
          g.node('Add', [`${l.name}_mm`, b], [out]);
          g.output(`${l.name}_mm`, 'float32');
        } else {
          g.node('Gemm', [l.x, w, b], [out], { transB: 1, alpha: attr.float(1), beta: attr.float(1) }, { name: l.name });
        }
        if (l.act !== 'none') emitAct(g, out, l.act, l.y);
        break;
      }
      case 'add': {
        const out = l.act === 'none' ? l.y : `${l.name}_pre`;
        g.node('Add', [l.a, l.b], [out], {}, { name: l.name });
        if (l.act !== 'none') emitAct(g, out, l.act, l.y);
        break;
      }
      case 'mul': g.node('Mul', [l.a, l.b], [l.y], {}, { name: l.name }); break;
      case 'hardswish': g.node('HardSwish', [l.x], [l.y], {}, { name: l.name }); break;
      case 'hardsigmoid': g.node('HardSigmoid', [l.x], [l.y], { alpha: 1 / 6, beta: 0.5 }, { name: l.name }); break;
      case 'gap': g.node('GlobalAveragePool', [l.x], [l.y], {}, { name: l.name }); break;
      case 'maxpool': g.node('MaxPool', [l.x], [l.y], { kernel_shape: [l.k, l.k], strides: [l.stride, l.stride], pads: [l.pad, l.pad, l.pad, l.pad] }, { name: l.name }); break;
      case 'flatten': g.node('Flatten', [l.x], [l.y], { axis: 1 }, { name: l.name }); break;
    }
    if (opts.exposeAll && l.y !== net.output) g.output(l.y, 'float32');
  }
  emitOutput(g, net, batch, net.output);
  return g.toBytes();
}

function emitOutput(g: GraphBuilder, net: Net, batch: number | string, from: string): void {
  if (from !== 'logits') g.node('Identity', [from], ['logits']);
  g.output('logits', 'float32', [batch, net.classes]);
}

// ---------------------------------------------------------------------------------------------------------------
// quantization parameters

export function actQParams(r: Range, type: ActType): QParams {
  const [qmin, qmax] = type === 'int8' ? [-128, 127] : [0, 255];
  const lo = Math.min(0, r.min), hi = Math.max(0, r.max);
  if (!(hi > lo)) return { scale: 1, zp: type === 'int8' ? 0 : 0 };
  const scale = (hi - lo) / (qmax - qmin);
  const zp = Math.min(qmax, Math.max(qmin, Math.round(qmin - lo / scale)));
  return { scale: Math.fround(scale), zp };
}

/** Per-output-channel symmetric int8 weights in [-127, 127]. */
export function quantizeWeightsPerChannel(w: Float32Array, m: number): { q: Int8Array; scales: Float32Array } {
  const per = w.length / m;
  const q = new Int8Array(w.length);
  const scales = new Float32Array(m);
  for (let o = 0; o < m; o++) {
    let amax = 0;
    for (let i = 0; i < per; i++) amax = Math.max(amax, Math.abs(w[o * per + i]));
    const s = Math.fround(amax > 0 ? amax / 127 : 1);
    scales[o] = s;
    for (let i = 0; i < per; i++) q[o * per + i] = Math.max(-127, Math.min(127, Math.round(w[o * per + i] / s)));
  }
  return { q, scales };
}

function quantizeBias(b: Float32Array, sIn: number, sW: Float32Array): { q: Int32Array; scales: Float32Array } {
  const q = new Int32Array(b.length);
  const scales = new Float32Array(b.length);
  for (let o = 0; o < b.length; o++) {
    scales[o] = Math.fround(sIn * sW[o]);
    q[o] = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(b[o] / scales[o])));
  }
  return { q, scales };
}

/** Activation qparams of every tensor; MaxPool and Flatten outputs share their input's (as quantizers do). */
export function tensorQParams(net: Net, ranges: Record<string, Range>, type: ActType): Record<string, QParams> {
  const qp: Record<string, QParams> = {};
  const need = (t: string): Range => {
    const r = ranges[t];
    if (!r) throw new Error(`zoo: no calibration range for tensor '${t}'`);
    return r;
  };
  qp[net.input] = actQParams(need(net.input), type);
  for (const l of net.layers) {
    if (l.op === 'maxpool' || l.op === 'flatten') qp[l.y] = qp[l.x];
    else qp[l.y] = actQParams(need(l.y), type);
    if (l.op === 'gemm') qp[`${l.name}_mm`] = actQParams(need(`${l.name}_mm`), type);
  }
  return qp;
}

// ---------------------------------------------------------------------------------------------------------------
// QDQ

export type QdqStyle = 'ort' | 'pytorch';

export function emitQdq(net: Net, ranges: Record<string, Range>, type: ActType, style: QdqStyle): Uint8Array {
  const qp = tensorQParams(net, ranges, type);
  const g = new GraphBuilder({ name: `${net.name}_qdq_${style}_${type}`, opset: OPSET });
  const pt = style === 'pytorch';
  g.input(net.input, 'float32', inputShape(net, 1));
  const dqOf: Record<string, string> = {};
  let k = 0;
  // scale / zero point operands: shared initializers (ort) or a fresh Constant per use (pytorch).
  const sInit: Record<string, [string, string]> = {};
  const actQ = (t: string): [string, string] => {
    const p = qp[t];
    if (!pt) {
      if (!sInit[t]) sInit[t] = [g.initializer(`${t}_scale`, 'float32', [p.scale], []), g.initializer(`${t}_zero_point`, type, [p.zp], [])];
      return sInit[t];
    }
    const s = g.constant(g.fresh('Constant'), 'float32', [p.scale], []);
    const z64 = g.constant(g.fresh('Constant'), 'int64', [p.zp], []);
    const z = g.node('Cast', [z64], 1, { to: type === 'int8' ? F.INT8 : F.UINT8 })[0];
    return [s, z];
  };
  // quantize float value `f` as tensor t, then dequantize; record the DQ output as t's float view.
  const qdq = (f: string, t: string): void => {
    const [s, z] = actQ(t);
    const q = g.node('QuantizeLinear', [f, s, z], [`${t}_QuantizeLinear_Output`])[0];
    const [s2, z2] = pt ? actQ(t) : [s, z];
    dqOf[t] = g.node('DequantizeLinear', [q, s2, z2], [`${t}_DequantizeLinear_Output`])[0];
  };
  const weightDq = (name: string, w: Float32Array, shape: number[]): { dq: string; scales: Float32Array } => {
    const { q, scales } = quantizeWeightsPerChannel(w, shape[0]);
    const wq = g.initializer(`${name}_quantized`, 'int8', q, shape);
    const s = pt ? g.constant(g.fresh('Constant'), 'float32', scales, [shape[0]]) : g.initializer(`${name}_scale`, 'float32', scales, [shape[0]]);
    const zero = new Int8Array(shape[0]);
    const z = pt ? g.constant(g.fresh('Constant'), 'int8', zero, [shape[0]]) : g.initializer(`${name}_zero_point`, 'int8', zero, [shape[0]]);
    return { dq: g.node('DequantizeLinear', [wq, s, z], [`${name}_DequantizeLinear_Output`], { axis: 0 })[0], scales };
  };
  const biasIn = (name: string, b: Float32Array, sIn: number, sW: Float32Array): string => {
    if (pt) return g.initializer(name, 'float32', b, [b.length]);
    const { q, scales } = quantizeBias(b, sIn, sW);
    const bq = g.initializer(`${name}_quantized`, 'int32', q, [b.length]);
    const s = g.initializer(`${name}_quantized_scale`, 'float32', scales, [b.length]);
    const z = g.initializer(`${name}_quantized_zero_point`, 'int32', new Int32Array(b.length), [b.length]);
    return g.node('DequantizeLinear', [bq, s, z], [`${name}_DequantizeLinear_Output`], { axis: 0 })[0];
  };
  // ort: the activation is the quantizer's clamp (removed); pytorch: explicit before the Q.
  const withAct = (f: string, act: string): string => {
    if (!pt || act === 'none') return f;
    const y = g.fresh('act');
    emitAct(g, f, act, y);
    return y;
  };
  qdq(net.input, net.input);
  for (const l of net.layers) {
    switch (l.op) {
      case 'conv': {
        const { w, b } = foldedConv(l);
        const wd = weightDq(`${l.name}.weight`, w, l.shape);
        const bias = biasIn(`${l.name}.bias`, b, qp[l.x].scale, wd.scales);
        const [y] = g.node('Conv', [dqOf[l.x], wd.dq, bias], [`${l.name}_output_0`], { kernel_shape: [l.shape[2], l.shape[3]], strides: [l.stride, l.stride], pads: [l.pad, l.pad, l.pad, l.pad], group: l.group, dilations: [1, 1] }, { name: l.name });
        qdq(withAct(y, l.act), l.y);
        break;
      }
      case 'gemm': {
        const wd = weightDq(`${l.name}.weight`, l.w, l.shape);
        const bias = biasIn(`${l.name}.bias`, l.b, qp[l.x].scale, wd.scales);
        const [y] = g.node('Gemm', [dqOf[l.x], wd.dq, bias], [`${l.name}_output_0`], { transB: 1, alpha: attr.float(1), beta: attr.float(1) }, { name: l.name });
        qdq(withAct(y, l.act), l.y);
        break;
      }
      case 'add': {
        const [y] = g.node('Add', [dqOf[l.a], dqOf[l.b]], [`${l.name}_output_0`], {}, { name: l.name });
        qdq(withAct(y, l.act), l.y);
        break;
      }
      case 'mul': qdq(g.node('Mul', [dqOf[l.a], dqOf[l.b]], [`${l.name}_output_0`], {}, { name: l.name })[0], l.y); break;
      case 'hardswish': qdq(g.node('HardSwish', [dqOf[l.x]], [`${l.name}_output_0`], {}, { name: l.name })[0], l.y); break;
      case 'hardsigmoid': qdq(g.node('HardSigmoid', [dqOf[l.x]], [`${l.name}_output_0`], { alpha: 1 / 6, beta: 0.5 }, { name: l.name })[0], l.y); break;
      case 'gap': qdq(g.node('GlobalAveragePool', [dqOf[l.x]], [`${l.name}_output_0`], {}, { name: l.name })[0], l.y); break;
      case 'maxpool': qdq(g.node('MaxPool', [dqOf[l.x]], [`${l.name}_output_0`], { kernel_shape: [l.k, l.k], strides: [l.stride, l.stride], pads: [l.pad, l.pad, l.pad, l.pad] }, { name: l.name })[0], l.y); break;
      case 'flatten': {
        let y: string;
        if (pt) {
          // x.view(x.size(0), -1) as torch.onnx writes it
          const shp = g.node('Shape', [dqOf[l.x]], 1)[0];
          const idx = g.constant(g.fresh('Constant'), 'int64', [0], []);
          const n = g.node('Gather', [shp, idx], 1, { axis: 0 })[0];
          const ax = g.constant(g.fresh('Constant'), 'int64', [0], [1]);
          const n1 = g.node('Unsqueeze', [n, ax], 1)[0];
          const m1 = g.constant(g.fresh('Constant'), 'int64', [-1], [1]);
          const cat = g.node('Concat', [n1, m1], 1, { axis: 0 })[0];
          y = g.node('Reshape', [dqOf[l.x], cat], [`${l.name}_output_0`], {}, { name: l.name })[0];
        } else {
          y = g.node('Flatten', [dqOf[l.x]], [`${l.name}_output_0`], { axis: 1 }, { name: l.name })[0];
        }
        qdq(y, l.y);
        break;
      }
    }
    k++;
  }
  emitOutput(g, net, 1, dqOf[net.output]);
  return g.toBytes();
}

// ---------------------------------------------------------------------------------------------------------------
// QOperator

export function emitQop(net: Net, ranges: Record<string, Range>, type: ActType): Uint8Array {
  const qp = tensorQParams(net, ranges, type);
  const MS = 'com.microsoft';
  const g = new GraphBuilder({ name: `${net.name}_qop_${type}`, opset: OPSET, domains: { [MS]: 1 } });
  g.input(net.input, 'float32', inputShape(net, 1));
  const sz: Record<string, [string, string]> = {};
  const params = (t: string): [string, string] => {
    if (!sz[t]) {
      const p = qp[t];
      sz[t] = [g.initializer(`${t}_scale`, 'float32', [p.scale], []), g.initializer(`${t}_zero_point`, type as DType, [p.zp], [])];
    }
    return sz[t];
  };
  const qOf: Record<string, string> = {};
  const q = (t: string): [string, string, string] => [qOf[t], ...params(t)];
  qOf[net.input] = g.node('QuantizeLinear', [net.input, ...params(net.input)], [`${net.input}_quantized`])[0];
  const floatOp = (t: string, y: string, op: string, attrs: Record<string, number> = {}): void => {
    const f = g.node('DequantizeLinear', q(t), 1)[0];
    const r = g.node(op, [f], 1, attrs)[0];
    qOf[y] = g.node('QuantizeLinear', [r, ...params(y)], [`${y}_quantized`])[0];
  };
  for (const l of net.layers) {
    const yq = `${l.y}_quantized`;
    switch (l.op) {
      case 'conv': {
        const { w, b } = foldedConv(l);
        const m = l.shape[0];
        const wq = quantizeWeightsPerChannel(w, m);
        const bq = quantizeBias(b, qp[l.x].scale, wq.scales);
        const ins = [
          ...q(l.x),
          g.initializer(`${l.name}.weight_quantized`, 'int8', wq.q, l.shape),
          g.initializer(`${l.name}.weight_scale`, 'float32', wq.scales, [m]),
          g.initializer(`${l.name}.weight_zero_point`, 'int8', new Int8Array(m), [m]),
          ...params(l.y),
          g.initializer(`${l.name}.bias_quantized`, 'int32', bq.q, [m]),
        ];
        qOf[l.y] = g.node('QLinearConv', ins, [yq], { kernel_shape: [l.shape[2], l.shape[3]], strides: [l.stride, l.stride], pads: [l.pad, l.pad, l.pad, l.pad], group: l.group, dilations: [1, 1] }, { name: l.name })[0];
        break;
      }
      case 'gemm': {
        // MatMul with per-tensor weights [K, N], then the bias through QLinearAdd (its own int8 scale).
        const [n, kk] = l.shape;
        const wt = new Float32Array(n * kk);
        let amax = 0;
        for (let i = 0; i < n; i++) for (let j = 0; j < kk; j++) { wt[j * n + i] = l.w[i * kk + j]; amax = Math.max(amax, Math.abs(l.w[i * kk + j])); }
        const ws = Math.fround(amax / 127 || 1);
        const wq = Int8Array.from(wt, (v) => Math.max(-127, Math.min(127, Math.round(v / ws))));
        const mm = `${l.name}_mm`;
        qOf[mm] = g.node('QLinearMatMul', [
          ...q(l.x),
          g.initializer(`${l.name}.weight_quantized`, 'int8', wq, [kk, n]),
          g.initializer(`${l.name}.weight_scale`, 'float32', [ws], []),
          g.initializer(`${l.name}.weight_zero_point`, 'int8', [0], []),
          ...params(mm),
        ], [`${mm}_quantized`], {}, { name: `${l.name}_MatMul` })[0];
        let bmax = 0;
        for (const v of l.b) bmax = Math.max(bmax, Math.abs(v));
        const bs = Math.fround(bmax / 127 || 1);
        const bqv = Int8Array.from(l.b, (v) => Math.round(v / bs));
        const bqArr = type === 'int8' ? bqv : Uint8Array.from(bqv, (v) => v + 128);
        const bzp = type === 'int8' ? 0 : 128;
        qOf[l.y] = g.node('QLinearAdd', [
          ...q(mm),
          g.initializer(`${l.name}.bias_quantized`, type, bqArr, [n]),
          g.initializer(`${l.name}.bias_scale`, 'float32', [bs], []),
          g.initializer(`${l.name}.bias_zero_point`, type, [bzp], []),
          ...params(l.y),
        ], [yq], {}, { name: `${l.name}_Add`, domain: MS })[0];
        break;
      }
      case 'add': qOf[l.y] = g.node('QLinearAdd', [...q(l.a), ...q(l.b), ...params(l.y)], [yq], {}, { name: l.name, domain: MS })[0]; break;
      case 'mul': qOf[l.y] = g.node('QLinearMul', [...q(l.a), ...q(l.b), ...params(l.y)], [yq], {}, { name: l.name, domain: MS })[0]; break;
      case 'gap': qOf[l.y] = g.node('QLinearGlobalAveragePool', [...q(l.x), ...params(l.y)], [yq], { channels_last: 0 }, { name: l.name, domain: MS })[0]; break;
      case 'maxpool': qOf[l.y] = g.node('MaxPool', [qOf[l.x]], [yq], { kernel_shape: [l.k, l.k], strides: [l.stride, l.stride], pads: [l.pad, l.pad, l.pad, l.pad] }, { name: l.name })[0]; break;
      case 'flatten': qOf[l.y] = g.node('Flatten', [qOf[l.x]], [yq], { axis: 1 }, { name: l.name })[0]; break;
      case 'hardswish': floatOp(l.x, l.y, 'HardSwish'); break;
      case 'hardsigmoid': floatOp(l.x, l.y, 'HardSigmoid', { alpha: 1 / 6, beta: 0.5 }); break;
    }
  }
  g.node('DequantizeLinear', q(net.output), ['logits']);
  g.output('logits', 'float32', [1, net.classes]);
  return g.toBytes();
}

export type { Layer };
