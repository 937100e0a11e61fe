// Reference architectures as a small layer IR with seeded random weights (He init), before any ONNX is written.
// One IR feeds every emitter (FP32, QDQ in two styles, QOperator) and the TF.js rebuild in the benchmarks, so all
// forms share the same weights. Tensors are NCHW per sample: shapes[name] = [C, H, W] or [F].
// BatchNorm statistics start as (mean 0, var 1) and are set from a training-mode forward pass by calibrate.ts.
import { Rng } from './rng.js';

/** Activation fused into the producing conv/add/gemm (what quantizers fold into the output range). */
export type Act = 'none' | 'relu' | 'relu6';

export interface BatchNorm { gamma: Float32Array; beta: Float32Array; mean: Float32Array; var: Float32Array; eps: number }

export type Layer =
  | { op: 'conv'; name: string; x: string; y: string; w: Float32Array; shape: [number, number, number, number]; b?: Float32Array; stride: number; pad: number; group: number; bn?: BatchNorm; act: Act }
  | { op: 'gemm'; name: string; x: string; y: string; w: Float32Array; shape: [number, number]; b: Float32Array; act: Act }
  | { op: 'add'; name: string; a: string; b: string; y: string; act: Act }
  | { op: 'mul'; name: string; a: string; b: string; y: string }
  | { op: 'hardswish' | 'hardsigmoid'; name: string; x: string; y: string }
  | { op: 'gap'; name: string; x: string; y: string }
  | { op: 'maxpool'; name: string; x: string; y: string; k: number; stride: number; pad: number }
  | { op: 'flatten'; name: string; x: string; y: string };

export interface Net {
  name: ArchName;
  input: string;
  output: string;
  /** Per-sample shape of every tensor. */
  shapes: Record<string, number[]>;
  layers: Layer[];
  classes: number;
}

export type ArchName = 'mobilenetv2' | 'resnet18' | 'mobilenetv3small';
export const ARCHS: readonly ArchName[] = ['mobilenetv2', 'resnet18', 'mobilenetv3small'];

// BN shift range before a nonlinearity: with beta in [-0.25, 0.25] a 50-layer MobileNetV2 lost ~0.6 dB of SQNR
// per layer under int8 (chaotic regime) and INT8 top-1 never matched FP32; [0.5, 1.5] keeps ~20 dB deep inside
// and logits at 12-19 dB (scratch experiment, 2026-11-27).
const BETA_LO = 0.5, BETA_HI = 1.5;

/** Incremental builder that tracks shapes and names. */
class NetBuilder {
  readonly layers: Layer[] = [];
  readonly shapes: Record<string, number[]> = {};
  private n = 0;
  constructor(readonly rng: Rng, readonly input: string, shape: number[]) { this.shapes[input] = shape; }
  private id(p: string): string { return `${p}${this.n++}`; }

  conv(x: string, cout: number, k: number, stride: number, opts: { group?: number; act?: Act; bn?: boolean; bias?: boolean; pad?: number; nonlinear?: boolean; gamma?: [number, number] } = {}): string {
    const [cin, h, w] = this.shapes[x];
    const group = opts.group ?? 1;
    const pad = opts.pad ?? (k - 1) >> 1;
    const fanIn = (cin / group) * k * k;
    const name = this.id('conv');
    const y = `${name}_out`;
    const wt = this.rng.normals(cout * (cin / group) * k * k, Math.sqrt(2 / fanIn));
    const useBn = opts.bn ?? true;
    const layer: Layer = {
      op: 'conv', name, x, y, w: wt, shape: [cout, cin / group, k, k], stride, pad, group, act: opts.act ?? 'none',
      b: opts.bias ? this.rng.normals(cout, 0.05) : undefined,
      bn: useBn ? {
        gamma: this.rng.uniforms(cout, ...(opts.gamma ?? [0.5, 1.5])),
        // Before a nonlinearity, a positive shift (as trained nets mostly have) keeps the random net out of the
        // chaotic regime in which small (quantization) errors grow layer after layer (see calibrate.ts).
        beta: (opts.act ?? 'none') !== 'none' || opts.nonlinear ? this.rng.uniforms(cout, BETA_LO, BETA_HI) : this.rng.uniforms(cout, -0.25, 0.25),
        mean: new Float32Array(cout), var: new Float32Array(cout).fill(1), eps: 1e-5,
      } : undefined,
    };
    this.layers.push(layer);
    this.shapes[y] = [cout, Math.floor((h + 2 * pad - k) / stride) + 1, Math.floor((w + 2 * pad - k) / stride) + 1];
    return y;
  }
  gemm(x: string, n: number, act: Act = 'none'): string {
    const [k] = this.shapes[x];
    const name = this.id('fc');
    const y = `${name}_out`;
    this.layers.push({ op: 'gemm', name, x, y, w: this.rng.normals(n * k, Math.sqrt(2 / k)), shape: [n, k], b: new Float32Array(n), act });
    this.shapes[y] = [n];
    return y;
  }
  add(a: string, b: string, act: Act = 'none'): string {
    const name = this.id('add');
    const y = `${name}_out`;
    this.layers.push({ op: 'add', name, a, b, y, act });
    this.shapes[y] = this.shapes[a];
    return y;
  }
  mul(a: string, b: string): string {
    const name = this.id('mul');
    const y = `${name}_out`;
    this.layers.push({ op: 'mul', name, a, b, y });
    this.shapes[y] = this.shapes[a];
    return y;
  }
  unary(op: 'hardswish' | 'hardsigmoid', x: string): string {
    const name = this.id(op);
    const y = `${name}_out`;
    this.layers.push({ op, name, x, y });
    this.shapes[y] = this.shapes[x];
    return y;
  }
  gap(x: string): string {
    const name = this.id('gap');
    const y = `${name}_out`;
    this.layers.push({ op: 'gap', name, x, y });
    this.shapes[y] = [this.shapes[x][0], 1, 1];
    return y;
  }
  maxpool(x: string, k: number, stride: number, pad: number): string {
    const [c, h, w] = this.shapes[x];
    const name = this.id('maxpool');
    const y = `${name}_out`;
    this.layers.push({ op: 'maxpool', name, x, y, k, stride, pad });
    this.shapes[y] = [c, Math.floor((h + 2 * pad - k) / stride) + 1, Math.floor((w + 2 * pad - k) / stride) + 1];
    return y;
  }
  flatten(x: string): string {
    const name = this.id('flatten');
    const y = `${name}_out`;
    this.layers.push({ op: 'flatten', name, x, y });
    this.shapes[y] = [this.shapes[x].reduce((a, b) => a * b, 1)];
    return y;
  }
}

function makeDivisible(v: number, d = 8): number {
  const n = Math.max(d, Math.floor((v + d / 2) / d) * d);
  return n < 0.9 * v ? n + d : n;
}

/** MobileNetV2 1.0 at 224 (torchvision layout: inverted residuals, ReLU6, linear bottlenecks). */
function mobilenetv2(b: NetBuilder): string {
  let x = b.conv(b.input, 32, 3, 2, { act: 'relu6' });
  let c = 32;
  const settings = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]];
  for (const [t, co, n, s] of settings) {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const hidden = c * t;
      let h = x;
      if (t !== 1) h = b.conv(h, hidden, 1, 1, { act: 'relu6' });
      h = b.conv(h, hidden, 3, stride, { group: hidden, act: 'relu6' });
      // residual branches end with a smaller BN scale, as in trained nets (and zero-init-residual training)
      const residual = stride === 1 && c === co;
      h = b.conv(h, co, 1, 1, residual ? { gamma: [0.2, 0.6] } : {});
      x = residual ? b.add(x, h) : h;
      c = co;
    }
  }
  x = b.conv(x, 1280, 1, 1, { act: 'relu6' });
  return b.gemm(b.flatten(b.gap(x)), 1000);
}

/** ResNet-18 at 224 (torchvision: 7x7 stem, max pool, BasicBlocks, 1x1 stride-2 downsample shortcuts). */
function resnet18(b: NetBuilder): string {
  let x = b.conv(b.input, 64, 7, 2, { act: 'relu' });
  x = b.maxpool(x, 3, 2, 1);
  let c = 64;
  for (const [co, s] of [[64, 1], [128, 2], [256, 2], [512, 2]]) {
    for (let i = 0; i < 2; i++) {
      const stride = i === 0 ? s : 1;
      const h = b.conv(b.conv(x, co, 3, stride, { act: 'relu' }), co, 3, 1);
      const sc = stride !== 1 || c !== co ? b.conv(x, co, 1, stride) : x;
      x = b.add(h, sc, 'relu');
      c = co;
    }
  }
  return b.gemm(b.flatten(b.gap(x)), 1000);
}

/** MobileNetV3-small-like at 224 (torchvision config: hard-swish, SE with hard-sigmoid, depthwise 3x3 and 5x5). */
function mobilenetv3small(b: NetBuilder): string {
  let x = b.unary('hardswish', b.conv(b.input, 16, 3, 2, { nonlinear: true }));
  let c = 16;
  // kernel, expanded, out, squeeze-excite, activation (RE = ReLU, HS = hard-swish), stride
  const cfg: [number, number, number, boolean, 'RE' | 'HS', number][] = [
    [3, 16, 16, true, 'RE', 2], [3, 72, 24, false, 'RE', 2], [3, 88, 24, false, 'RE', 1],
    [5, 96, 40, true, 'HS', 2], [5, 240, 40, true, 'HS', 1], [5, 240, 40, true, 'HS', 1],
    [5, 120, 48, true, 'HS', 1], [5, 144, 48, true, 'HS', 1], [5, 288, 96, true, 'HS', 2],
    [5, 576, 96, true, 'HS', 1], [5, 576, 96, true, 'HS', 1],
  ];
  const act = (t: string, a: 'RE' | 'HS', conv: (act: Act) => string): string => (a === 'RE' ? conv('relu') : b.unary('hardswish', conv('none')));
  for (const [k, exp, co, se, a, s] of cfg) {
    let h = x;
    if (exp !== c) h = act(h, a, (ac) => b.conv(h, exp, 1, 1, { act: ac, nonlinear: true }));
    const hin = h;
    h = act(h, a, (ac) => b.conv(hin, exp, k, s, { group: exp, act: ac, nonlinear: true }));
    if (se) {
      const sq = makeDivisible(exp / 4);
      const g = b.gap(h);
      const s1 = b.conv(g, sq, 1, 1, { bn: false, bias: true, act: 'relu' });
      const s2 = b.unary('hardsigmoid', b.conv(s1, exp, 1, 1, { bn: false, bias: true }));
      h = b.mul(h, s2);
    }
    h = b.conv(h, co, 1, 1);
    x = s === 1 && c === co ? b.add(x, h) : h;
    c = co;
  }
  x = b.unary('hardswish', b.conv(x, 576, 1, 1, { nonlinear: true }));
  x = b.flatten(b.gap(x));
  x = b.unary('hardswish', b.gemm(x, 1024));
  return b.gemm(x, 1000);
}

/** Build an architecture with He-initialised weights from `seed` (BN statistics still identity). */
export function buildArch(name: ArchName, seed = 1): Net {
  const b = new NetBuilder(new Rng(seed), 'input', [3, 224, 224]);
  const out = name === 'mobilenetv2' ? mobilenetv2(b) : name === 'resnet18' ? resnet18(b) : name === 'mobilenetv3small' ? mobilenetv3small(b) : null;
  if (out === null) throw new Error(`unknown architecture '${name as string}' (known: ${ARCHS.join(', ')})`);
  return { name, input: b.input, output: out, shapes: b.shapes, layers: b.layers, classes: 1000 };
}

/** Conv weights and bias with the BatchNorm folded in (what quantizers and the TF.js rebuild use). */
export function foldedConv(l: Extract<Layer, { op: 'conv' }>): { w: Float32Array; b: Float32Array } {
  const [m] = l.shape;
  const per = l.w.length / m;
  const w = new Float32Array(l.w);
  const b = new Float32Array(m);
  for (let o = 0; o < m; o++) {
    let bias = l.b ? l.b[o] : 0;
    if (l.bn) {
      const f = l.bn.gamma[o] / Math.sqrt(l.bn.var[o] + l.bn.eps);
      for (let i = 0; i < per; i++) w[o * per + i] *= f;
      bias = (bias - l.bn.mean[o]) * f + l.bn.beta[o];
    }
    b[o] = bias;
  }
  return { w, b };
}

export function paramCount(net: Net): number {
  let n = 0;
  for (const l of net.layers) if (l.op === 'conv' || l.op === 'gemm') n += l.w.length + l.shape[0];
  return n;
}
