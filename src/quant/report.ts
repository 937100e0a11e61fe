// Accuracy debugging: per quantized tensor, SQNR (dB) and cosine similarity between the FP32 model's activation
// and the quantized model's dequantized one, worst first; and automatic mixed precision, which keeps the most
// sensitive layers in FP32 one at a time until a target is met.
import {
  type ModelProto,
  DT,
  GraphIndex,
  Namer,
  decodeModel,
  encodeModel,
  makeNode,
  valueInfo,
} from './model.js';
import type { Executor, TensorLike } from './executor.js';
import { defaultExecutor } from './executor.js';
import { type CalibrationData, type Progress, checkSample, iterate, modelInputs, type Sample } from './calibrate.js';
import { METADATA_KEY, type QuantizedTensorInfo } from './rewrite.js';
import { fmt } from './format.js';
import { quantizeModel, type QuantizeOptions, type QuantizeResult, type QuantizeSummary } from './quantize.js';

export const NODES_METADATA_KEY = 'octet.tensor_nodes';

export interface LayerStat {
  /** FP32 tensor name. */
  tensor: string;
  /** Node whose quantized output this is (the op before a fused Relu/Clip), and its op type. */
  node: string;
  op: string;
  sqnr: number;
  cosine: number;
  maxAbsError: number;
}

export interface QuantizationReport {
  samples: number;
  /** Every quantized activation, worst SQNR first. */
  layers: LayerStat[];
  /** The model outputs, worst first. */
  outputs: LayerStat[];
}

class Acc {
  s = 0;
  q = 0;
  e = 0;
  d = 0;
  m = 0;
  add(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
    if (a.length !== b.length) throw new Error(`report: tensor '${what}' has ${a.length} elements in the FP32 model but ${b.length} in the quantized one`);
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      const y = b[i];
      this.s += x * x;
      this.q += y * y;
      this.e += (x - y) * (x - y);
      this.d += x * y;
      const ae = Math.abs(x - y);
      if (ae > this.m) this.m = ae;
    }
  }
  get sqnr(): number {
    return this.e === 0 ? Infinity : this.s === 0 ? -Infinity : 10 * Math.log10(this.s / this.e);
  }
  get cosine(): number {
    return this.s === 0 || this.q === 0 ? (this.s === this.q ? 1 : 0) : this.d / Math.sqrt(this.s * this.q);
  }
}

function metaJson<T>(m: ModelProto, key: string): T | undefined {
  const p = (m.metadataProps ?? []).find((x) => x.key === key);
  return p?.value ? (JSON.parse(p.value) as T) : undefined;
}

/** Quantized tensors of a model: from Octet's metadata, or (any QDQ model) from its QuantizeLinear nodes. */
export function quantizedTensors(m: ModelProto): Record<string, QuantizedTensorInfo> {
  const meta = metaJson<Record<string, QuantizedTensorInfo>>(m, METADATA_KEY);
  if (meta) return meta;
  const out: Record<string, QuantizedTensorInfo> = {};
  for (const n of m.graph!.node ?? []) {
    if (n.opType !== 'QuantizeLinear' || n.input!.length < 2) continue;
    out[n.input![0]] = { quantized: n.output![0], scale: n.input![1], zeroPoint: n.input![2] ?? '' };
  }
  return out;
}

function toFloat(t: TensorLike): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (t.data instanceof BigInt64Array) return Float32Array.from(t.data, Number);
  return Float32Array.from(t.data as ArrayLike<number>);
}

export interface ReportOptions {
  executor?: Executor;
  onProgress?: (p: Progress) => void;
}

export async function quantizationReport(
  fp32: Uint8Array,
  quantized: Uint8Array,
  samples: CalibrationData,
  opts: ReportOptions = {},
): Promise<QuantizationReport> {
  const exec = opts.executor ?? (await defaultExecutor());
  const fm = decodeModel(fp32);
  const qm = decodeModel(quantized);
  const fidx = new GraphIndex(fm.graph!);
  const infos = quantizedTensors(qm);
  const nodeOf = metaJson<Record<string, string>>(qm, NODES_METADATA_KEY) ?? {};
  const fpTensors = new Set<string>([...fidx.producer.keys(), ...fidx.graphInputs]);
  const tensors = Object.keys(infos).filter((t) => fpTensors.has(t));
  // FP32 model with the tensors as outputs.
  const fOut = new Set((fm.graph!.output ?? []).map((o) => o.name));
  for (const t of tensors) if (!fOut.has(t)) fm.graph!.output!.push(valueInfo(t, DT.FLOAT));
  // Quantized model with a DequantizeLinear per quantized tensor as extra outputs.
  const namer = new Namer(qm.graph!);
  const dqOf = new Map<string, string>();
  for (const t of tensors) {
    const info = infos[t];
    const o = namer.take(`${t}_report_dequantized`);
    const ins = [info.quantized, info.scale];
    if (info.zeroPoint) ins.push(info.zeroPoint);
    qm.graph!.node!.push(makeNode('DequantizeLinear', ins, [o], namer.take(`${t}_report_DequantizeLinear`)));
    qm.graph!.output!.push(valueInfo(o, DT.FLOAT));
    dqOf.set(t, o);
  }
  const outputs = (decodeModel(fp32).graph!.output ?? []).map((o) => o.name ?? '');
  const fr = await exec(encodeModel(fm));
  const qr = await exec(encodeModel(qm));
  const inputs = modelInputs(fm);
  const acc = new Map<string, Acc>();
  const oacc = new Map<string, Acc>();
  for (const t of tensors) acc.set(t, new Acc());
  for (const o of outputs) oacc.set(o, new Acc());
  let k = 0;
  const total = Array.isArray(samples) ? samples.length : undefined;
  try {
    for await (const s of iterate(samples)) {
      const feeds = checkSample(s as Sample, inputs, k);
      const a = await fr.run(feeds);
      const b = await qr.run(feeds);
      for (const t of tensors) acc.get(t)!.add(toFloat(a[t]), toFloat(b[dqOf.get(t)!]), t);
      for (const o of outputs) oacc.get(o)!.add(toFloat(a[o]), toFloat(b[o]), o);
      k++;
      opts.onProgress?.({ phase: 'report', done: k, total });
    }
  } finally {
    await fr.release?.();
    await qr.release?.();
  }
  if (k === 0) throw new Error('report: no samples given');
  const stat = (t: string, a: Acc): LayerStat => {
    const nodeName = nodeOf[t];
    const prod = fidx.producer.get(t);
    const node = nodeName ?? (prod ? prod.name || t : `(input ${t})`);
    const n = (fm.graph!.node ?? []).find((x) => x.name === node) ?? prod;
    return { tensor: t, node, op: n?.opType ?? 'input', sqnr: a.sqnr, cosine: a.cosine, maxAbsError: a.m };
  };
  const byWorst = (x: LayerStat, y: LayerStat) => x.sqnr - y.sqnr;
  return {
    samples: k,
    layers: [...acc].map(([t, a]) => stat(t, a)).sort(byWorst),
    outputs: [...oacc].map(([t, a]) => stat(t, a)).sort(byWorst),
  };
}

export { formatReport } from './format.js';

export interface MixedPrecisionOptions extends QuantizeOptions {
  /** Minimum SQNR (dB) of every model output on `evalSamples`. */
  minOutputSqnr?: number;
  /** A user metric on the quantized model's bytes (higher is better) and its minimum. */
  metric?: (model: Uint8Array) => number | Promise<number>;
  minMetric?: number;
  /** Samples the SQNR is measured on (default: the first 8 calibration samples when calibration is an array). */
  evalSamples?: Sample[];
  /** Give up after keeping this many layers in FP32 (default 20). */
  maxFp32Layers?: number;
  /** Candidates tried per step (default 3). */
  candidatesPerStep?: number;
}

export interface MixedPrecisionStep {
  keptFp32: string[];
  score: number;
}

export interface MixedPrecisionResult {
  model: Uint8Array;
  /** Layers (node names) kept in FP32, most sensitive first. */
  keptFp32: string[];
  met: boolean;
  steps: MixedPrecisionStep[];
  summary: QuantizeSummary;
}

/** Minimum over the model outputs of the SQNR of the quantized model against FP32 outputs computed once. */
class OutputScorer {
  private ref?: Record<string, Float32Array>[];
  constructor(
    private fp32: Uint8Array,
    private samples: Sample[],
    private exec: Executor,
  ) {}
  private async outputs(model: Uint8Array): Promise<Record<string, Float32Array>[]> {
    const m = decodeModel(model);
    const inputs = modelInputs(m);
    const r = await this.exec(model);
    try {
      const res: Record<string, Float32Array>[] = [];
      for (let k = 0; k < this.samples.length; k++) {
        const o = await r.run(checkSample(this.samples[k], inputs, k));
        const x: Record<string, Float32Array> = {};
        for (const [name, t] of Object.entries(o)) x[name] = toFloat(t);
        res.push(x);
      }
      return res;
    } finally {
      await r.release?.();
    }
  }
  async score(model: Uint8Array): Promise<number> {
    this.ref ??= await this.outputs(this.fp32);
    const got = await this.outputs(model);
    let worst = Infinity;
    for (const name of Object.keys(this.ref[0])) {
      const a = new Acc();
      for (let k = 0; k < this.ref.length; k++) a.add(this.ref[k][name], got[k][name], name);
      worst = Math.min(worst, a.sqnr);
    }
    return worst;
  }
}

/**
 * Quantize; while the target is not met, take the few quantized nodes that lose the most SQNR (output SQNR
 * against the worst of their inputs' SQNR, from the layer report), try keeping each in FP32, keep the one that
 * helps most, and go on. Calibration runs once: later rounds reuse the ranges.
 */
export async function mixedPrecision(fp32: Uint8Array, opts: MixedPrecisionOptions): Promise<MixedPrecisionResult> {
  if (opts.minOutputSqnr === undefined && (!opts.metric || opts.minMetric === undefined)) {
    throw new Error('mixedPrecision: give minOutputSqnr, or metric and minMetric');
  }
  if (opts.calibration && !Array.isArray(opts.calibration)) throw new Error('mixedPrecision: options.calibration must be an array (it is replayed)');
  const evalSamples = opts.evalSamples ?? (opts.calibration as Sample[] | undefined)?.slice(0, 8);
  if (!evalSamples || !evalSamples.length) throw new Error('mixedPrecision: no evaluation samples');
  const executor = opts.executor ?? (await defaultExecutor());
  const scorer = new OutputScorer(fp32, evalSamples, executor);
  const target = opts.metric ? opts.minMetric! : opts.minOutputSqnr!;
  const evaluate = async (m: Uint8Array) => (opts.metric ? opts.metric(m) : scorer.score(m));
  const exclude = [...(opts.exclude ?? [])];
  const kept: string[] = [];
  const steps: MixedPrecisionStep[] = [];
  const maxLayers = opts.maxFp32Layers ?? 20;
  const candidates = opts.candidatesPerStep ?? 3;
  let q = await quantizeModel(fp32, { ...opts, executor, exclude, observeFusedInputs: true });
  const ranges = q.ranges;
  let score = await evaluate(q.model);
  steps.push({ keptFp32: [], score });
  for (;;) {
    opts.onProgress?.({ phase: 'mixed-precision', done: kept.length, message: `${kept.length} layers in FP32, score ${fmt(score)}` });
    if (score >= target) return { model: q.model, keptFp32: kept, met: true, steps, summary: q.summary };
    if (kept.length >= maxLayers) break;
    const report = await quantizationReport(fp32, q.model, evalSamples, { executor });
    const ranked = rankSensitivity(fp32, q.model, report, new Set(exclude)).slice(0, candidates);
    if (!ranked.length) break;
    let best: { node: string; q: QuantizeResult; score: number } | undefined;
    for (const node of ranked) {
      let tq: QuantizeResult;
      try {
        tq = await quantizeModel(fp32, { ...opts, executor, exclude: [...exclude, node], ranges, observeFusedInputs: true });
      } catch {
        continue; // e.g. nothing left to quantize
      }
      const s = await evaluate(tq.model);
      if (!best || s > best.score) best = { node, q: tq, score: s };
    }
    if (!best) break;
    kept.push(best.node);
    exclude.push(best.node);
    q = best.q;
    score = best.score;
    steps.push({ keptFp32: [...kept], score });
  }
  return { model: q.model, keptFp32: kept, met: score >= target, steps, summary: q.summary };
}

/** Quantized nodes ordered by the SQNR they lose: worst input SQNR minus output SQNR (dB). */
export function rankSensitivity(fp32: Uint8Array, q: Uint8Array, r: QuantizationReport, excluded: Set<string>): string[] {
  const qm = decodeModel(q);
  const nodeOf = metaJson<Record<string, string>>(qm, NODES_METADATA_KEY) ?? {};
  const fm = decodeModel(fp32);
  const byName = new Map((fm.graph!.node ?? []).map((n) => [n.name || n.output![0], n]));
  const sq = new Map(r.layers.map((l) => [l.tensor, l.sqnr]));
  const drops: [string, number][] = [];
  for (const l of r.layers) {
    const name = nodeOf[l.tensor];
    if (!name || excluded.has(name)) continue;
    const node = byName.get(name);
    if (!node) continue;
    let inSqnr = Infinity;
    for (const i of node.input ?? []) if (sq.has(i)) inSqnr = Math.min(inSqnr, sq.get(i)!);
    drops.push([name, (Number.isFinite(inSqnr) ? inSqnr : 100) - l.sqnr]);
  }
  return drops.sort((a, b) => b[1] - a[1]).map((d) => d[0]);
}
