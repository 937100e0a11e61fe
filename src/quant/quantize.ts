// Post-training quantization entry points: quantize() (ONNX bytes in, ONNX bytes out) and quantizeModel()
// (the same, plus a summary of what was done and the calibrated ranges, reused by mixed precision).
import { type ModelProto, DT, GraphIndex, decodeModel, encodeModel } from './model.js';
import { type CalibrationMethod } from './observers.js';
import { type CalibrationData, type Progress, calibrate } from './calibrate.js';
import { type Executor, defaultExecutor } from './executor.js';
import { prepareModel, type PrepareReport } from './prepare.js';
import { planQuantization, type QuantPlan } from './plan.js';
import { computeQParams, type QParams, type QType } from './qparams.js';
import { rewriteQdq, rewriteQOperator } from './rewrite.js';
import { dynamicQuantize, fp16Weights } from './dynamic.js';

export interface QuantizeOptions {
  /** Array or (async) iterable of feeds ({ inputName: { data, dims } }, or a bare tensor for one-input models). */
  calibration?: CalibrationData;
  method?: CalibrationMethod;
  /** Per-output-channel weight scales (default true). */
  perChannel?: boolean;
  activations?: QType;
  weights?: QType;
  /** Symmetric weights (zero point 0 for int8; default true). */
  symmetricWeights?: boolean;
  /** 7-bit weights, against int16 saturation in u8 x s8 pair sums (pmaddubsw), as onnxruntime's reduce_range. */
  reduceRange?: boolean;
  format?: 'qdq' | 'qoperator';
  /** Node names (or output tensor names) to keep in FP32. */
  exclude?: string[];
  onProgress?: (p: Progress) => void;
  /** Dynamic quantization: int8 weights, activations quantized per inference (no calibration). */
  dynamic?: boolean;
  /** FP16 weight storage (no calibration). */
  fp16?: boolean;
  /** 'percentile': the kept percentile of |x| (default 99.999). */
  percentile?: number;
  /** 'moving-average': averaging constant (default 0.01). */
  averagingConstant?: number;
  /** Histogram bins per side of zero for percentile / entropy / mse (default 4096). */
  bins?: number;
  /** Give both inputs of every Add one scale (for runtimes whose integer Add needs it). */
  shareAddScales?: boolean;
  /** Runs the FP32 model during calibration; default: Octet's InferenceSession. */
  executor?: Executor;
  /** Ranges already calibrated for this model and method (tensor name -> [lo, hi]); missing ones are calibrated. */
  ranges?: Map<string, [number, number]>;
  /** Also observe the inputs of fused Relu/Clip nodes (mixed precision may unfuse them later). */
  observeFusedInputs?: boolean;
}

export interface QuantizeSummary {
  mode: 'static' | 'dynamic' | 'fp16';
  format?: 'qdq' | 'qoperator';
  method?: CalibrationMethod;
  samples: number;
  quantizedOps: Record<string, number>;
  /** Nodes left in FP32 and why (unsupported ops are reported here, not thrown). */
  keptFp32: { name: string; op: string; reason: string }[];
  foldedBatchNorms: string[];
  bytesIn: number;
  bytesOut: number;
}

export interface QuantizeResult {
  model: Uint8Array;
  summary: QuantizeSummary;
  ranges: Map<string, [number, number]>;
}

const METHODS: CalibrationMethod[] = ['minmax', 'moving-average', 'percentile', 'entropy', 'mse'];

function checkOptions(o: QuantizeOptions): void {
  if (o.method !== undefined && !METHODS.includes(o.method)) throw new Error(`quantize: unknown method '${o.method}' (${METHODS.join(', ')})`);
  for (const k of ['activations', 'weights'] as const) {
    const v = o[k];
    if (v !== undefined && v !== 'int8' && v !== 'uint8') throw new Error(`quantize: options.${k} must be 'int8' or 'uint8', got '${v}'`);
  }
  if (o.format !== undefined && o.format !== 'qdq' && o.format !== 'qoperator') throw new Error(`quantize: options.format must be 'qdq' or 'qoperator', got '${o.format}'`);
  if (o.format === 'qoperator' && o.weights === 'uint8' && (o.activations ?? 'int8') === 'int8') {
    throw new Error("quantize: QOperator with int8 activations needs int8 weights (QLinearConv has no int8 x uint8 form in onnxruntime)");
  }
  if (o.dynamic && o.fp16) throw new Error('quantize: choose one of dynamic and fp16');
  if (o.percentile !== undefined && !(o.percentile > 0 && o.percentile <= 100)) throw new Error(`quantize: percentile must be in (0, 100], got ${o.percentile}`);
}

/** Float weights consumed by Conv / Gemm / MatMul: without any there is nothing to quantize. */
function countFloatWeights(m: ModelProto): number {
  const idx = new GraphIndex(m.graph!);
  let k = 0;
  for (const n of m.graph!.node ?? []) {
    if (!['Conv', 'Gemm', 'MatMul', 'ConvTranspose'].includes(n.opType ?? '')) continue;
    const w = idx.inits.get(n.input![1]);
    if (w && (w.dataType === DT.FLOAT || w.dataType === DT.DOUBLE)) k++;
  }
  return k;
}

export async function quantizeModel(fp32: Uint8Array, options: QuantizeOptions = {}): Promise<QuantizeResult> {
  checkOptions(options);
  const model = decodeModel(fp32);
  const prep: PrepareReport = prepareModel(model);
  if (countFloatWeights(model) === 0) {
    throw new Error('quantize: the model has no float weights (no Conv/Gemm/MatMul with a float initializer as weight); is it already quantized?');
  }
  if (options.fp16) {
    fp16Weights(model);
    const out = encodeModel(model);
    return {
      model: out,
      summary: { mode: 'fp16', samples: 0, quantizedOps: {}, keptFp32: [], foldedBatchNorms: prep.foldedBatchNorms, bytesIn: fp32.length, bytesOut: out.length },
      ranges: new Map(),
    };
  }
  if (options.dynamic) {
    const r = dynamicQuantize(model, { perChannel: options.perChannel ?? true, exclude: options.exclude, reduceRange: options.reduceRange });
    const out = encodeModel(model);
    const ops: Record<string, number> = {};
    for (const q of r.quantized) ops[q.op] = (ops[q.op] ?? 0) + 1;
    return {
      model: out,
      summary: { mode: 'dynamic', samples: 0, quantizedOps: ops, keptFp32: r.skipped, foldedBatchNorms: prep.foldedBatchNorms, bytesIn: fp32.length, bytesOut: out.length },
      ranges: new Map(),
    };
  }
  const format = options.format ?? 'qdq';
  const method = options.method ?? 'minmax';
  const activations = options.activations ?? 'int8';
  const plan: QuantPlan = planQuantization(model, { format, exclude: options.exclude, shareAddScales: options.shareAddScales });
  if (plan.nodes.size === 0) throw new Error('quantize: no node can be quantized (all excluded or unsupported)');
  const ranges = new Map(options.ranges ?? []);
  const wanted = [...plan.tensors];
  if (options.observeFusedInputs) for (const n of plan.fused) if (!wanted.includes(n.input![0])) wanted.push(n.input![0]);
  const missing = wanted.filter((t) => !ranges.has(t));
  let samples = 0;
  if (missing.length) {
    if (options.calibration == null) throw new Error('quantize: static quantization needs options.calibration (or use dynamic: true / fp16: true)');
    const executor = options.executor ?? (await defaultExecutor());
    const levels = 256;
    const res = await calibrate(model, missing, options.calibration, {
      method,
      executor,
      onProgress: options.onProgress,
      observer: { percentile: options.percentile, averagingConstant: options.averagingConstant, bins: options.bins, levels },
    });
    samples = res.samples;
    for (const [k, v] of res.ranges) ranges.set(k, v);
  }
  options.onProgress?.({ phase: 'quantize', done: 0, total: 1 });
  const params = groupParams(plan, ranges, activations);
  const rw = { format, activations, weights: options.weights ?? 'int8', perChannel: options.perChannel ?? true, symmetricWeights: options.symmetricWeights ?? true, reduceRange: options.reduceRange ?? false };
  if (format === 'qdq') rewriteQdq(model, plan, params, rw);
  else rewriteQOperator(model, plan, params, rw);
  const nodeOf: Record<string, string> = {};
  for (const p of plan.nodes.values()) nodeOf[p.output] = p.node.name || p.node.output![0];
  model.metadataProps!.push({ key: 'octet.tensor_nodes', value: JSON.stringify(nodeOf) });
  const out = encodeModel(model);
  options.onProgress?.({ phase: 'quantize', done: 1, total: 1 });
  return {
    model: out,
    summary: {
      mode: 'static',
      format,
      method,
      samples,
      quantizedOps: plan.quantizedOps,
      keptFp32: plan.skipped,
      foldedBatchNorms: prep.foldedBatchNorms,
      bytesIn: fp32.length,
      bytesOut: out.length,
    },
    ranges,
  };
}

/** One QParams per scale-sharing group: the union of its members' ranges. */
function groupParams(plan: QuantPlan, ranges: Map<string, [number, number]>, type: QType): Map<string, QParams> {
  const gr = new Map<string, [number, number]>();
  for (const t of plan.tensors) {
    const r = ranges.get(t);
    if (!r) throw new Error(`quantize: no calibrated range for '${t}'`);
    const root = plan.group.get(t)!;
    const cur = gr.get(root);
    gr.set(root, cur ? [Math.min(cur[0], r[0]), Math.max(cur[1], r[1])] : [r[0], r[1]]);
  }
  const params = new Map<string, QParams>();
  const byRoot = new Map<string, QParams>();
  for (const [root, [lo, hi]] of gr) byRoot.set(root, computeQParams(lo, hi, type));
  for (const t of plan.tensors) params.set(t, byRoot.get(plan.group.get(t)!)!);
  return params;
}

/** Quantize an FP32 ONNX model; resolves to the quantized model's ONNX bytes. */
export async function quantize(fp32: Uint8Array, options: QuantizeOptions = {}): Promise<Uint8Array> {
  return (await quantizeModel(fp32, options)).model;
}
