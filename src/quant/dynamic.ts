// Dynamic quantization and FP16 weight storage; neither needs calibration data.
//
// Dynamic: weights become symmetric int8 offline (per output channel when asked, zero point 0, so one scalar zero
// point serves every channel: onnxruntime's ConvInteger takes only a scalar one). Per inference,
// DynamicQuantizeLinear turns the activation into uint8 with a scale and zero point from its own min/max, then
//   Conv      -> ConvInteger   -> Cast(float) -> Mul(x_scale * w_scale[c]) -> Add(bias)
//   MatMul    -> MatMulInteger -> Cast(float) -> Mul(x_scale * w_scale[n])
//   Gemm      -> MatMulInteger (B stored [K, N]) -> Cast -> Mul -> Add(C)
//
// FP16: float initializers stored as float16 and widened by a Cast node in front of their consumers.
import {
  type ModelProto,
  type NodeProto,
  type TensorProto,
  DT,
  GraphIndex,
  Namer,
  attrInt,
  dimsOf,
  float16Tensor,
  floatTensor,
  int8Tensor,
  makeAttr,
  makeNode,
  pruneInitializers,
  setOpset,
  tensorToFloat32,
  topoSort,
} from './model.js';
import { quantizeWeight } from './qparams.js';

export interface DynamicOptions {
  perChannel: boolean;
  exclude?: string[];
  reduceRange?: boolean;
}

export interface DynamicReport {
  quantized: { name: string; op: string }[];
  skipped: { name: string; op: string; reason: string }[];
}

export function dynamicQuantize(model: ModelProto, opts: DynamicOptions): DynamicReport {
  const g = model.graph!;
  const idx = new GraphIndex(g);
  const namer = new Namer(g);
  const exclude = new Set(opts.exclude ?? []);
  const inits: TensorProto[] = [];
  const out: NodeProto[] = [];
  const report: DynamicReport = { quantized: [], skipped: [] };
  const dq = new Map<string, [string, string, string]>();
  const dynQ = (x: string): [string, string, string] => {
    let r = dq.get(x);
    if (r) return r;
    r = [namer.take(`${x}_quantized`), namer.take(`${x}_scale`), namer.take(`${x}_zero_point`)];
    out.push(makeNode('DynamicQuantizeLinear', [x], r, namer.take(`${x}_DynamicQuantizeLinear`)));
    dq.set(x, r);
    return r;
  };
  const isW = (t: string | undefined) => !!t && idx.inits.get(t)?.dataType === DT.FLOAT;
  for (const n of g.node ?? []) {
    const name = n.name || n.output![0];
    const op = n.opType ?? '';
    const supported = (op === 'Conv' || op === 'MatMul' || (op === 'Gemm' && attrInt(n, 'transA', 0) === 0)) && (n.domain ?? '') === '';
    if (!supported) {
      out.push(n);
      continue;
    }
    if (exclude.has(name)) {
      report.skipped.push({ name, op, reason: 'excluded' });
      out.push(n);
      continue;
    }
    if (!isW(n.input![1]) || idx.isConst(n.input![0]) || (n.input![2] && !isW(n.input![2]))) {
      report.skipped.push({ name, op, reason: 'weights are not constant floats' });
      out.push(n);
      continue;
    }
    const wT = idx.inits.get(n.input![1])!;
    let w = tensorToFloat32(wT);
    let wd = dimsOf(wT);
    if (op === 'MatMul' && wd.length !== 2) {
      report.skipped.push({ name, op, reason: 'weights are not 2-D' });
      out.push(n);
      continue;
    }
    if (op === 'Gemm' && attrInt(n, 'transB', 0) === 1) {
      const [N, K] = wd;
      const t = new Float32Array(w.length);
      for (let i = 0; i < N; i++) for (let k = 0; k < K; k++) t[k * N + i] = w[i * K + k];
      w = t;
      wd = [K, N];
    }
    const axis = op === 'Conv' ? 0 : 1;
    const qw = quantizeWeight(w, wd, { type: 'int8', perChannel: opts.perChannel, axis, symmetric: true, reduceRange: opts.reduceRange });
    const channels = wd[axis];
    const wq = namer.take(`${n.input![1]}_quantized`);
    const wz = namer.take(`${n.input![1]}_zero_point`);
    const ws = namer.take(`${n.input![1]}_scale`);
    const sShape = op === 'Conv' ? [1, qw.scales.length, ...wd.slice(2).map(() => 1)] : [qw.scales.length];
    inits.push(int8Tensor(wq, wd, qw.data), int8Tensor(wz, [], [0]), floatTensor(ws, qw.axis >= 0 ? sShape : [], qw.scales));
    const [xq, xs, xz] = dynQ(n.input![0]);
    const acc = namer.take(`${name}_int32`);
    if (op === 'Conv') {
      const attrs = (n.attribute ?? []).filter((a) => ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'].includes(a.name ?? ''));
      out.push(makeNode('ConvInteger', [xq, wq, xz, wz], [acc], namer.take(`${name}_ConvInteger`), attrs));
    } else out.push(makeNode('MatMulInteger', [xq, wq, xz, wz], [acc], namer.take(`${name}_MatMulInteger`)));
    const accF = namer.take(`${name}_int32_float`);
    out.push(makeNode('Cast', [acc], [accF], namer.take(`${name}_Cast`), [makeAttr('to', DT.FLOAT)]));
    const scale = namer.take(`${name}_output_scale`);
    out.push(makeNode('Mul', [xs, ws], [scale], namer.take(`${name}_scale_Mul`)));
    const bias = n.input![2];
    const y = n.output![0];
    const scaled = bias ? namer.take(`${name}_scaled`) : y;
    out.push(makeNode('Mul', [accF, scale], [scaled], namer.take(`${name}_Mul`)));
    if (bias) {
      let b = bias;
      if (op === 'Conv') {
        b = namer.take(`${bias}_reshaped`);
        inits.push(floatTensor(b, [1, channels, ...wd.slice(2).map(() => 1)], tensorToFloat32(idx.inits.get(bias)!)));
      }
      out.push(makeNode('Add', [scaled, b], [y], namer.take(`${name}_bias_Add`)));
    }
    report.quantized.push({ name, op });
  }
  if (!report.quantized.length) throw new Error('quantize: the model has no Conv/MatMul/Gemm with float weights to quantize dynamically');
  g.node = out;
  g.initializer!.push(...inits);
  pruneInitializers(g);
  topoSort(g);
  setOpset(model, '', Math.max(13, Number((model.opsetImport ?? []).find((o) => (o.domain ?? '') === '')?.version ?? 13)));
  model.producerName = 'octet';
  return report;
}

/** Consumers for which a float initializer must stay a constant float (shape-like inputs). */
const KEEP_FLOAT_INPUT: Record<string, number[]> = { Resize: [1, 2], Upsample: [1], Clip: [1, 2], Pad: [2], ConstantOfShape: [0] };

export function fp16Weights(model: ModelProto, minElements = 16): { converted: string[]; bytesBefore: number; bytesAfter: number } {
  const g = model.graph!;
  const namer = new Namer(g);
  const keep = new Set<string>();
  for (const n of g.node ?? []) for (const i of KEEP_FLOAT_INPUT[n.opType ?? ''] ?? []) if (n.input![i]) keep.add(n.input![i]);
  const outputs = new Set((g.output ?? []).map((o) => o.name));
  const casts: NodeProto[] = [];
  const converted: string[] = [];
  let before = 0;
  let after = 0;
  g.initializer = (g.initializer ?? []).map((t) => {
    const n = dimsOf(t).reduce((a, b) => a * b, 1);
    if (t.dataType !== DT.FLOAT || n < minElements || keep.has(t.name ?? '') || outputs.has(t.name ?? '')) return t;
    const name = t.name ?? '';
    const half = namer.take(`${name}_fp16`);
    casts.push(makeNode('Cast', [half], [name], namer.take(`${name}_Cast`), [makeAttr('to', DT.FLOAT)]));
    converted.push(name);
    before += 4 * n;
    after += 2 * n;
    return float16Tensor(half, dimsOf(t), tensorToFloat32(t));
  });
  if (!converted.length) throw new Error('quantize: the model has no float weights to store as FP16');
  // Drop IR<4-style graph-input declarations of the converted initializers (they are computed now).
  const conv = new Set(converted);
  g.input = (g.input ?? []).filter((i) => !conv.has(i.name ?? ''));
  g.node = [...casts, ...(g.node ?? [])];
  topoSort(g);
  model.producerName = 'octet';
  return { converted, bytesBefore: before, bytesAfter: after };
}
