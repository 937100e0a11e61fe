// Shared pieces of the CLI subcommands: option parsing helpers, the executor choice, a progress bar.
import { decodeModel, shapeOf, GraphIndex } from '../quant/model.js';
import { type Executor, defaultExecutor, sessionExecutor, type SessionApi } from '../quant/executor.js';
import type { Progress } from '../quant/calibrate.js';
import { loadSamples } from '../quant/inputs.js';
import type { Feeds } from '../quant/executor.js';

/** parseArgs options shared by the subcommands that read sample inputs (images, .npy/.pb tensors). */
export const sampleOptions = {
  'max-samples': { type: 'string' },
  executor: { type: 'string' },
  size: { type: 'string' },
  layout: { type: 'string' },
  grayscale: { type: 'boolean' },
  scale: { type: 'string' },
  mean: { type: 'string' },
  std: { type: 'string' },
} as const;

export interface SampleValues {
  'max-samples'?: string;
  size?: string;
  layout?: string;
  grayscale?: boolean;
  scale?: string;
  mean?: string;
  std?: string;
}

/** Loads the samples at `path` shaped for the model's first input, with the image options of `sampleOptions`. */
export function loadModelSamples(path: string, model: Uint8Array, values: SampleValues, defaultMax?: number): Feeds[] {
  const max = values['max-samples'] !== undefined ? Number(values['max-samples']) : defaultMax;
  if (max !== undefined && !(max > 0)) throw new Error(`--max-samples: expected a positive number, got '${values['max-samples']}'`);
  const layout = values.layout;
  if (layout !== undefined && layout !== 'nchw' && layout !== 'nhwc') throw new Error(`--layout: expected 'nchw' or 'nhwc', got '${layout}'`);
  const scale = values.scale !== undefined ? Number(values.scale) : undefined;
  if (scale !== undefined && !Number.isFinite(scale)) throw new Error(`--scale: expected a number, got '${values.scale}'`);
  const info = modelInputInfo(model);
  return loadSamples(path, {
    inputNames: info.names,
    inputShape: info.shape,
    maxSamples: max,
    ...parseSize(values.size),
    layout,
    channels: values.grayscale ? 1 : undefined,
    scale,
    mean: numberList(values.mean, '--mean'),
    std: numberList(values.std, '--std'),
  });
}

export function numberList(s: string | undefined, what: string): number[] | undefined {
  if (s === undefined) return undefined;
  const v = s.split(',').map((x) => Number(x.trim()));
  if (v.some((x) => !Number.isFinite(x))) throw new Error(`${what}: expected comma-separated numbers, got '${s}'`);
  return v;
}

export function parseSize(s: string | undefined): { width?: number; height?: number } {
  if (!s) return {};
  const m = /^(\d+)(?:x(\d+))?$/.exec(s);
  if (!m) throw new Error(`--size: expected HxW or N, got '${s}'`);
  return { height: Number(m[1]), width: Number(m[2] ?? m[1]) };
}

/** 'octet' (default: Octet's own runtime) or 'onnxruntime' (onnxruntime-node, when installed). */
export async function pickExecutor(name: string | undefined): Promise<Executor> {
  if (!name || name === 'octet') return defaultExecutor();
  if (name === 'onnxruntime' || name === 'ort') {
    const mod = 'onnxruntime-node';
    let ort: SessionApi;
    try {
      ort = (await import(mod)) as SessionApi;
    } catch {
      throw new Error('--executor onnxruntime needs the onnxruntime-node package (npm install onnxruntime-node)');
    }
    return sessionExecutor(ort);
  }
  throw new Error(`--executor: expected 'octet' or 'onnxruntime', got '${name}'`);
}

export function modelInputInfo(bytes: Uint8Array): { names: string[]; shape?: number[] } {
  const m = decodeModel(bytes);
  const idx = new GraphIndex(m.graph!);
  const ins = (m.graph!.input ?? []).filter((i) => !idx.inits.has(i.name ?? ''));
  return { names: ins.map((i) => i.name ?? ''), shape: ins[0] ? shapeOf(ins[0]) : undefined };
}

/** A one-line progress bar on stderr (plain lines when stderr is not a terminal). */
export function progressBar(label: string): (p: Progress) => void {
  const tty = process.stderr.isTTY;
  let last = -1;
  return (p) => {
    const total = p.total;
    if (tty) {
      const width = 30;
      const frac = total ? Math.min(1, p.done / total) : 0;
      const bar = total ? '#'.repeat(Math.round(frac * width)).padEnd(width, '.') : '';
      process.stderr.write(`\r${label} ${p.phase} [${bar}] ${p.done}${total ? `/${total}` : ''} ${p.message ?? ''}`.padEnd(80));
      if (total && p.done >= total) process.stderr.write('\n');
    } else {
      const step = total ? Math.floor((10 * p.done) / total) : p.done;
      if (step !== last || p.message) process.stderr.write(`${label} ${p.phase} ${p.done}${total ? `/${total}` : ''} ${p.message ?? ''}\n`);
      last = step;
    }
  };
}
