// Makes the random networks behave like trained ones, using onnxruntime-node (devDependency) as the FP32 engine:
//  - BatchNorm running statistics = the batch statistics of a training-mode forward pass on random inputs, set
//    all at once (each BN normalises with its own batch statistics, so downstream statistics are already those
//    of the normalised network); activations then stay O(1) through any depth;
//  - the classifier bias is set so that every logit has zero mean over the calibration batch, so the top-1 class
//    depends on the input (a random net otherwise predicts the same class for everything);
//  - activation ranges (min/max of every tensor) for the quantized forms: a short min/max calibration run.
// Inputs are random "image-like" fields: a per-image, per-channel offset, smooth low-frequency structure
// (bilinear upsampling of a coarse random grid) and some white noise, about N(0, 1) per pixel overall. Pure i.i.d.
// pixel noise is a poor stand-in: after global average pooling every such input looks the same to the classifier,
// so logits barely depend on the input and any quantization error flips the top-1.
import type * as OrtNode from 'onnxruntime-node';
import { emitFp32, type Range } from './emit.js';
import type { Net } from './arch.js';
import { Rng } from './rng.js';

let ortPromise: Promise<typeof OrtNode> | null = null;
/** onnxruntime-node, loaded on first use (a devDependency: the zoo is a development tool). */
export function ortNode(): Promise<typeof OrtNode> {
  ortPromise ??= import('onnxruntime-node').catch((e: unknown) => {
    throw new Error(`zoo: onnxruntime-node is needed to calibrate the reference models (npm install --include=dev): ${String(e)}`);
  }) as Promise<typeof OrtNode>;
  return ortPromise;
}

/** `n` random inputs for `net`, batched as one [n, C, H, W] array. */
export function randomInputs(net: Net, n: number, seed: number): Float32Array {
  const [c, h, w] = net.shapes[net.input];
  const rng = new Rng(seed);
  const out = new Float32Array(n * c * h * w);
  const G = 6;
  for (let i = 0; i < n * c; i++) {
    const offset = rng.normal() * 0.5;
    const grid = rng.normals((G + 1) * (G + 1), 0.7);
    const base = i * h * w;
    for (let y = 0; y < h; y++) {
      const gy = (y / (h - 1)) * G, y0 = Math.min(G - 1, Math.floor(gy)), fy = gy - y0;
      for (let x = 0; x < w; x++) {
        const gx = (x / (w - 1)) * G, x0 = Math.min(G - 1, Math.floor(gx)), fx = gx - x0;
        const a = grid[y0 * (G + 1) + x0], b = grid[y0 * (G + 1) + x0 + 1];
        const cc = grid[(y0 + 1) * (G + 1) + x0], d = grid[(y0 + 1) * (G + 1) + x0 + 1];
        const smooth = (a * (1 - fx) + b * fx) * (1 - fy) + (cc * (1 - fx) + d * fx) * fy;
        out[base + y * w + x] = offset + smooth + rng.normal() * 0.5;
      }
    }
  }
  return out;
}

async function runAll(net: Net, model: Uint8Array, x: Float32Array, batch: number): Promise<Record<string, OrtNode.Tensor>> {
  const ort = await ortNode();
  const s = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'basic', logSeverityLevel: 3 });
  try {
    return await s.run({ [net.input]: new ort.Tensor('float32', x, [batch, ...net.shapes[net.input]]) });
  } finally {
    await s.release();
  }
}

/** Set every BatchNorm's running mean/var from one training-mode pass over `batch` random inputs. */
export async function calibrateBatchNorm(net: Net, batch = 8, seed = 1001): Promise<void> {
  const out = await runAll(net, emitFp32(net, { batch, bn: 'batch' }), randomInputs(net, batch, seed), batch);
  for (const l of net.layers) {
    if (l.op !== 'conv' || !l.bn) continue;
    l.bn.mean.set(out[`${l.name}.bmean`].data as Float32Array);
    l.bn.var.set(out[`${l.name}.bvar`].data as Float32Array);
  }
}

/** Set the last layer's bias so that each logit has zero mean over `batch` random inputs. */
export async function centerClassifier(net: Net, batch = 8, seed = 1002): Promise<void> {
  const last = net.layers[net.layers.length - 1];
  if (last.op !== 'gemm' || last.act !== 'none') throw new Error(`zoo: ${net.name} does not end with a linear classifier`);
  const logits = (await runAll(net, emitFp32(net, { batch, bn: 'folded' }), randomInputs(net, batch, seed), batch)).logits.data as Float32Array;
  const n = last.shape[0];
  for (let j = 0; j < n; j++) {
    let m = 0;
    for (let i = 0; i < batch; i++) m += logits[i * n + j];
    last.b[j] -= m / batch;
  }
}

/** Min/max of every tensor (and gemm pre-bias values) over `chunks` x `batch` random inputs. */
export async function calibrateRanges(net: Net, batch = 8, chunks = 2, seed = 1003): Promise<Record<string, Range>> {
  const ranges: Record<string, Range> = {};
  const merge = (k: string, a: Float32Array): void => {
    const r = minMax(a);
    const o = ranges[k];
    ranges[k] = o ? { min: Math.min(o.min, r.min), max: Math.max(o.max, r.max) } : r;
  };
  const model = emitFp32(net, { batch, bn: 'folded', exposeAll: true });
  for (let c = 0; c < chunks; c++) {
    const x = randomInputs(net, batch, seed + c);
    const out = await runAll(net, model, x, batch);
    merge(net.input, x);
    for (const l of net.layers) {
      merge(l.y, (l.y === net.output ? out.logits : out[l.y]).data as Float32Array);
      if (l.op === 'gemm') merge(`${l.name}_mm`, out[`${l.name}_mm`].data as Float32Array);
    }
  }
  return ranges;
}

function minMax(a: Float32Array): Range {
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < a.length; i++) { const v = a[i]; if (v < min) min = v; if (v > max) max = v; }
  return { min, max };
}
