// Layers (modules) built from the differentiable ops: each owns its parameters, knows train/eval mode, and
// is described well enough (kind + attributes) for ONNX export, import and QAT preparation.
import { Tensor } from './tensor.js';
import * as F from './ops.js';
import { Rng } from './rng.js';

export abstract class Module {
  training = true;
  name = '';
  abstract readonly kind: string;
  abstract forward(x: Tensor): Tensor;
  /** Direct child modules (containers). */
  children(): Module[] {
    return [];
  }
  /** This module's own parameters (not its children's). */
  ownParameters(): Tensor[] {
    return [];
  }
  parameters(): Tensor[] {
    const out = [...this.ownParameters()];
    for (const c of this.children()) out.push(...c.parameters());
    return out;
  }
  train(on = true): this {
    this.training = on;
    for (const c of this.children()) c.train(on);
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  /** Every module in depth-first order, this one first. */
  modules(): Module[] {
    const out: Module[] = [this];
    for (const c of this.children()) out.push(...c.modules());
    return out;
  }
}

export interface Conv2dConfig {
  kernel: number | [number, number];
  stride?: number | [number, number];
  padding?: number | [number, number];
  groups?: number;
  bias?: boolean;
}

const pair = (v: number | [number, number] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v;

export class Conv2d extends Module {
  readonly kind = 'Conv2d';
  weight: Tensor;
  bias: Tensor | null;
  stride: [number, number];
  padding: [number, number];
  groups: number;
  constructor(readonly inChannels: number, readonly outChannels: number, cfg: Conv2dConfig, rng?: Rng) {
    super();
    const [kh, kw] = pair(cfg.kernel, 1);
    this.stride = pair(cfg.stride, 1);
    this.padding = pair(cfg.padding, 0);
    this.groups = cfg.groups ?? 1;
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new Error(`octet train: Conv2d channels ${inChannels}->${outChannels} not divisible by groups ${this.groups}`);
    }
    const cg = inChannels / this.groups;
    this.weight = Tensor.zeros([outChannels, cg, kh, kw], true, 'weight');
    // He (Kaiming) normal initialisation for ReLU networks: std = sqrt(2 / fan_in).
    if (rng) {
      const std = Math.sqrt(2 / (cg * kh * kw));
      for (let i = 0; i < this.weight.size; i++) this.weight.data[i] = rng.normal() * std;
    }
    this.bias = cfg.bias === false ? null : Tensor.zeros([outChannels], true, 'bias');
  }
  get kernel(): [number, number] {
    return [this.weight.shape[2], this.weight.shape[3]];
  }
  override ownParameters(): Tensor[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, groups: this.groups });
  }
}

export class Linear extends Module {
  readonly kind = 'Linear';
  weight: Tensor;
  bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, rng?: Rng, bias = true) {
    super();
    this.weight = Tensor.zeros([outFeatures, inFeatures], true, 'weight');
    if (rng) {
      const std = Math.sqrt(1 / inFeatures);
      for (let i = 0; i < this.weight.size; i++) this.weight.data[i] = rng.normal() * std;
    }
    this.bias = bias ? Tensor.zeros([outFeatures], true, 'bias') : null;
  }
  override ownParameters(): Tensor[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}

export class BatchNorm2d extends Module {
  readonly kind = 'BatchNorm2d';
  gamma: Tensor;
  beta: Tensor;
  runningMean: Float32Array;
  runningVar: Float32Array;
  constructor(readonly channels: number, public momentum = 0.1, public eps = 1e-5) {
    super();
    this.gamma = new Tensor(new Float32Array(channels).fill(1), [channels], true, 'gamma');
    this.beta = Tensor.zeros([channels], true, 'beta');
    this.runningMean = new Float32Array(channels);
    this.runningVar = new Float32Array(channels).fill(1);
  }
  override ownParameters(): Tensor[] {
    return [this.gamma, this.beta];
  }
  forward(x: Tensor): Tensor {
    return F.batchNorm(x, this, this.training);
  }
}

export class ReLU extends Module {
  readonly kind = 'ReLU';
  forward(x: Tensor): Tensor {
    return F.relu(x);
  }
}

export class ReLU6 extends Module {
  readonly kind = 'ReLU6';
  forward(x: Tensor): Tensor {
    return F.relu6(x);
  }
}

export class MaxPool2d extends Module {
  readonly kind = 'MaxPool2d';
  constructor(readonly kernel: [number, number], readonly stride: [number, number] = kernel, readonly padding: [number, number] = [0, 0]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, { kernel: this.kernel, stride: this.stride, padding: this.padding });
  }
}

export class AvgPool2d extends Module {
  readonly kind = 'AvgPool2d';
  constructor(readonly kernel: [number, number], readonly stride: [number, number] = kernel, readonly padding: [number, number] = [0, 0]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, { kernel: this.kernel, stride: this.stride, padding: this.padding });
  }
}

export class GlobalAvgPool extends Module {
  readonly kind = 'GlobalAvgPool';
  forward(x: Tensor): Tensor {
    return F.globalAvgPool(x);
  }
}

export class Flatten extends Module {
  readonly kind = 'Flatten';
  forward(x: Tensor): Tensor {
    return F.flatten(x);
  }
}

export class Dropout extends Module {
  readonly kind = 'Dropout';
  constructor(readonly p: number, readonly rng: Rng) {
    super();
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.training, this.rng);
  }
}

export class Sequential extends Module {
  readonly kind: string = 'Sequential';
  readonly layers: Module[];
  constructor(layers: Module[]) {
    super();
    this.layers = layers;
  }
  override children(): Module[] {
    return this.layers;
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const l of this.layers) y = l.forward(y);
    return y;
  }
}

/** y = x + body(x) (a residual block; the body must keep the shape). */
export class Residual extends Module {
  readonly kind = 'Residual';
  constructor(readonly body: Sequential) {
    super();
  }
  override children(): Module[] {
    return [this.body];
  }
  forward(x: Tensor): Tensor {
    return F.add(x, this.body.forward(x));
  }
}

/** Gives every module a stable dotted name (used for ONNX node and initializer names). */
export function nameModules(root: Module, prefix = ''): void {
  root.name = prefix;
  const ch = root.children();
  ch.forEach((c, i) => {
    const n = root instanceof Residual ? `${prefix}${prefix ? '.' : ''}body` : `${prefix}${prefix ? '.' : ''}${i}`;
    nameModules(c, root instanceof Residual ? n : n);
  });
}
