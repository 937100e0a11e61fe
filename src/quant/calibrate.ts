// Calibration: the prepared FP32 model gets extra graph outputs for every activation tensor to observe (as
// onnxruntime's calibrator does), runs once per sample through an Executor, and each observer sees its tensor.
import { type ModelProto, DT, GraphIndex, cloneModel, encodeModel, shapeOf, valueInfo } from './model.js';
import { type CalibrationMethod, type Observer, type ObserverOptions, createObserver } from './observers.js';
import type { Executor, Feeds, TensorLike } from './executor.js';

export type Sample = Feeds | TensorLike;
export type CalibrationData = Iterable<Sample> | AsyncIterable<Sample>;

export interface Progress {
  phase: 'calibrate' | 'quantize' | 'report' | 'mixed-precision';
  done: number;
  total?: number;
  message?: string;
}

export interface InputSpec {
  name: string;
  elemType: number;
  shape?: number[];
}

export function modelInputs(model: ModelProto): InputSpec[] {
  const idx = new GraphIndex(model.graph!);
  return (model.graph!.input ?? [])
    .filter((i) => !idx.inits.has(i.name ?? ''))
    .map((i) => ({ name: i.name ?? '', elemType: i.type?.tensorType?.elemType ?? DT.FLOAT, shape: shapeOf(i) }));
}

function isTensorLike(s: unknown): s is TensorLike {
  return !!s && typeof s === 'object' && 'data' in s && 'dims' in s && ArrayBuffer.isView((s as TensorLike).data);
}

/** Normalise one sample to feeds and check names, shapes, dtype and values (no NaN/Inf). */
export function checkSample(sample: Sample, inputs: InputSpec[], k: number): Feeds {
  let feeds: Feeds;
  if (isTensorLike(sample)) {
    if (inputs.length !== 1) throw new Error(`calibration sample ${k}: a bare tensor was given but the model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); pass { name: tensor }`);
    feeds = { [inputs[0].name]: sample };
  } else if (sample && typeof sample === 'object') feeds = sample as Feeds;
  else throw new Error(`calibration sample ${k}: expected an object of input tensors, got ${typeof sample}`);
  for (const spec of inputs) {
    const t = feeds[spec.name];
    if (!t) throw new Error(`calibration sample ${k}: missing input '${spec.name}' (have ${Object.keys(feeds).join(', ') || 'none'})`);
    if (!isTensorLike(t)) throw new Error(`calibration sample ${k}, input '${spec.name}': expected { data: TypedArray, dims }`);
    const n = t.dims.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`calibration sample ${k}, input '${spec.name}': dims [${t.dims.join(', ')}] hold ${n} elements but data has ${t.data.length}`);
    if (spec.shape) {
      const ok = spec.shape.length === t.dims.length && spec.shape.every((d, i) => d < 0 || d === t.dims[i]);
      if (!ok) throw new Error(`calibration sample ${k}, input '${spec.name}': shape [${t.dims.join(', ')}] does not match the model's [${spec.shape.map((d) => (d < 0 ? '?' : d)).join(', ')}]`);
    }
    if (spec.elemType === DT.FLOAT && !(t.data instanceof Float32Array)) throw new Error(`calibration sample ${k}, input '${spec.name}': the model expects float32 data`);
    if (t.data instanceof Float32Array || t.data instanceof Float64Array) {
      const d = t.data;
      for (let i = 0; i < d.length; i++) {
        if (!Number.isFinite(d[i])) throw new Error(`calibration sample ${k}, input '${spec.name}': element ${i} is ${d[i]} (NaN/Inf in calibration data)`);
      }
    }
  }
  for (const name of Object.keys(feeds)) {
    if (!inputs.some((i) => i.name === name)) throw new Error(`calibration sample ${k}: unknown input '${name}' (model inputs: ${inputs.map((i) => i.name).join(', ')})`);
  }
  return feeds;
}

/** The model with every tensor of `tensors` added as a float graph output. */
export function augmentModel(model: ModelProto, tensors: string[]): Uint8Array {
  const m = cloneModel(model);
  const have = new Set((m.graph!.output ?? []).map((o) => o.name));
  for (const t of tensors) if (!have.has(t)) m.graph!.output!.push(valueInfo(t, DT.FLOAT));
  return encodeModel(m);
}

export async function* iterate(data: CalibrationData): AsyncGenerator<Sample> {
  if (data == null || (typeof (data as Iterable<Sample>)[Symbol.iterator] !== 'function' && typeof (data as AsyncIterable<Sample>)[Symbol.asyncIterator] !== 'function'))
    throw new Error('quantize: options.calibration must be an array or (async) iterable of input feeds');
  for await (const s of data as AsyncIterable<Sample>) yield s;
}

export interface CalibrationResult {
  ranges: Map<string, [number, number]>;
  samples: number;
}

export async function calibrate(
  model: ModelProto,
  tensors: string[],
  data: CalibrationData,
  opts: { method: CalibrationMethod; observer?: ObserverOptions; executor: Executor; onProgress?: (p: Progress) => void },
): Promise<CalibrationResult> {
  const inputs = modelInputs(model);
  const observers = new Map<string, Observer>();
  for (const t of tensors) observers.set(t, createObserver(opts.method, opts.observer));
  const runner = await opts.executor(augmentModel(model, tensors));
  const total = Array.isArray(data) ? data.length : undefined;
  let k = 0;
  try {
    for await (const sample of iterate(data)) {
      const feeds = checkSample(sample, inputs, k);
      const out = await runner.run(feeds);
      for (const [t, obs] of observers) {
        const v = out[t];
        if (!v) throw new Error(`calibration: the executor did not return tensor '${t}'`);
        const d = v.data;
        if (d instanceof Float32Array) {
          for (let i = 0; i < d.length; i++) {
            if (!Number.isFinite(d[i])) throw new Error(`calibration sample ${k}: tensor '${t}' holds ${d[i]} (the FP32 model overflows on this input)`);
          }
          obs.update(d);
        }
      }
      k++;
      opts.onProgress?.({ phase: 'calibrate', done: k, total });
    }
  } finally {
    await runner.release?.();
  }
  if (k === 0) throw new Error('quantize: the calibration set is empty (give at least one sample)');
  const ranges = new Map<string, [number, number]>();
  for (const [t, obs] of observers) ranges.set(t, obs.range());
  return { ranges, samples: k };
}
