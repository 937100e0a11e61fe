// Test helpers for the quantization suites: seeded random numbers and small FP32 CNNs built directly with
// onnx-proto (Conv+BN+Relu, depthwise Conv+Clip, residual Add, Concat, MaxPool, GlobalAveragePool, Gemm, Softmax).
import * as ort from 'onnxruntime-node';
import {
  DT,
  encodeModel,
  floatTensor,
  int64Tensor,
  makeAttr,
  makeNode,
  valueInfo,
  type NodeProto,
  type TensorProto,
} from '../../src/quant/model.js';
import { sessionExecutor, type Feeds, type TensorLike } from '../../src/quant/executor.js';

export const ortExecutor = sessionExecutor(ort as never);

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

export function gaussian(r: () => number): () => number {
  return () => {
    const u = Math.max(r(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  };
}

export interface SmallCnnOptions {
  seed?: number;
  size?: number;
  residual?: boolean;
  concat?: boolean;
  softmax?: boolean;
  hardswish?: boolean;
}

/** A small CNN exercising the quantizer's patterns; input 'input' [1, 3, size, size], output 'output' [1, 10]. */
export function smallCnn(o: SmallCnnOptions = {}): Uint8Array {
  const r = rng(o.seed ?? 1);
  const g = gaussian(r);
  const size = o.size ?? 16;
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  let k = 0;
  const randn = (n: number, s: number) => Float32Array.from({ length: n }, () => g() * s);
  const conv = (x: string, cin: number, cout: number, ks: number, stride: number, group = 1, bn = true): string => {
    const id = k++;
    const w = `w${id}`;
    inits.push(floatTensor(w, [cout, cin / group, ks, ks], randn((cout * cin * ks * ks) / group, Math.sqrt(2 / ((cin / group) * ks * ks)))));
    const y = `conv${id}`;
    const ins = [x, w];
    if (!bn) {
      inits.push(floatTensor(`b${id}`, [cout], randn(cout, 0.1)));
      ins.push(`b${id}`);
    }
    const p = (ks - 1) >> 1;
    nodes.push(makeNode('Conv', ins, [y], `Conv_${id}`, [makeAttr('kernel_shape', [ks, ks]), makeAttr('strides', [stride, stride]), makeAttr('pads', [p, p, p, p]), makeAttr('group', group)]));
    if (!bn) return y;
    inits.push(
      floatTensor(`g${id}`, [cout], Float32Array.from({ length: cout }, () => 0.5 + r())),
      floatTensor(`be${id}`, [cout], randn(cout, 0.2)),
      floatTensor(`m${id}`, [cout], randn(cout, 0.3)),
      floatTensor(`v${id}`, [cout], Float32Array.from({ length: cout }, () => 0.5 + r())),
    );
    nodes.push(makeNode('BatchNormalization', [y, `g${id}`, `be${id}`, `m${id}`, `v${id}`], [`bn${id}`], `BN_${id}`, [makeAttr('epsilon', 1e-5, true)]));
    return `bn${id}`;
  };
  const relu = (x: string) => {
    const y = `relu${k++}`;
    nodes.push(makeNode('Relu', [x], [y], `Relu_${k}`));
    return y;
  };
  const relu6 = (x: string) => {
    const y = `clip${k++}`;
    if (!inits.some((t) => t.name === 'six')) inits.push(floatTensor('zero', [], [0]), floatTensor('six', [], [6]));
    nodes.push(makeNode('Clip', [x, 'zero', 'six'], [y], `Clip_${k}`));
    return y;
  };
  let x = relu(conv('input', 3, 8, 3, 1));
  x = relu6(conv(x, 8, 8, 3, 1, 8)); // depthwise
  let y = conv(x, 8, 16, 1, 1);
  if (o.residual) {
    const s = conv(x, 8, 16, 1, 1);
    const a = `add${k++}`;
    nodes.push(makeNode('Add', [y, s], [a], `Add_${k}`));
    y = a;
  }
  x = relu(y);
  nodes.push(makeNode('MaxPool', [x], ['pool'], 'MaxPool_0', [makeAttr('kernel_shape', [2, 2]), makeAttr('strides', [2, 2])]));
  x = 'pool';
  if (o.concat) {
    const a = relu(conv(x, 16, 8, 3, 1));
    const b = relu(conv(x, 16, 8, 1, 1));
    nodes.push(makeNode('Concat', [a, b], ['cat'], 'Concat_0', [makeAttr('axis', 1)]));
    x = 'cat';
  }
  if (o.hardswish) {
    nodes.push(makeNode('HardSwish', [x], ['hswish'], 'HardSwish_0'));
    x = 'hswish';
  }
  nodes.push(makeNode('GlobalAveragePool', [x], ['gap'], 'GAP_0'));
  nodes.push(makeNode('Flatten', ['gap'], ['flat'], 'Flatten_0', [makeAttr('axis', 1)]));
  inits.push(floatTensor('fc_w', [10, 16], randn(160, 0.4)), floatTensor('fc_b', [10], randn(10, 0.1)));
  const out = o.softmax ? 'logits' : 'output';
  nodes.push(makeNode('Gemm', ['flat', 'fc_w', 'fc_b'], [out], 'Gemm_0', [makeAttr('transB', 1)]));
  if (o.softmax) nodes.push(makeNode('Softmax', ['logits'], ['output'], 'Softmax_0', [makeAttr('axis', 1)]));
  void int64Tensor;
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 14 }],
    producerName: 'octet-test',
    graph: {
      name: 'small_cnn',
      node: nodes,
      initializer: inits,
      input: [valueInfo('input', DT.FLOAT, [1, 3, size, size])],
      output: [valueInfo('output', DT.FLOAT, [1, 10])],
    },
  });
}

export function randomInputs(n: number, shape: number[], seed: number, name = 'input'): Feeds[] {
  const r = rng(seed);
  const g = gaussian(r);
  const len = shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, () => ({ [name]: { data: Float32Array.from({ length: len }, () => g()), dims: shape } as TensorLike }));
}

export async function runOrt(model: Uint8Array, feeds: Feeds): Promise<Record<string, TensorLike>> {
  const runner = await ortExecutor(model);
  return runner.run(feeds);
}

/** Signal-to-quantization-noise ratio in dB of b against the reference a. */
export function sqnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  let e = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i] * a[i];
    e += (a[i] - b[i]) ** 2;
  }
  return e === 0 ? Infinity : 10 * Math.log10(s / e);
}
