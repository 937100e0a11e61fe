// What an operator module provides (src/ops/index.ts lists them all):
// - infer: output element types and shapes from the inputs' (shapes are concrete: a session compiles per input shape);
// - eval: the host reference on logical (ONNX-layout) tensors, used for constant folding and as the runtime
//   fallback when no kernel lowering applies (shape ops, rare ops, weights that are runtime inputs);
// - layout: whether the op runs channels-last ('native', e.g. Conv, pooling), does not care ('transparent',
//   element-wise ops: attrs/consts are remapped by the layout pass), or needs logical tensors (default);
// - lower: turns a node into wasm kernel steps (PreparedKernel) when it can, else null (host eval runs).
import type { Node } from '../graph/ir.js';
import type { DType, HostTensor } from '../graph/tensor.js';
import type { KernelPath, PreparedKernel } from '../kernels/types.js';
import type { Arch } from '../runtime/features.js';
import type { RequantMode } from '../kernels/requant.js';

export interface ValueState {
  name: string;
  dtype: DType;
  /** Logical (ONNX) dims. */
  dims: number[];
  /** Known value (initializer, Constant, folded). */
  const?: HostTensor;
  /** Physical layout in memory: 'cl' = channels-last (rank >= 3: N, spatial..., C). */
  layout?: 'logical' | 'cl';
  /** A graph input (its value can be bound at run time when an op needs it as a constant). */
  isInput?: boolean;
}

/** Thrown when an op needs the value of a graph input (shape, axes, pads fed at run time). */
export class NeedsValue extends Error {
  constructor(readonly input: string, message: string) {
    super(message);
  }
}

export interface TypeShape {
  dtype: DType;
  dims: number[];
}

export interface InferCtx {
  node: Node;
  inputs: (ValueState | undefined)[];
  opset: number;
}

export type LayoutKind = 'native' | 'transparent' | 'logical';

export interface KernelEnv {
  path: KernelPath;
  arch: Arch;
  requant: RequantMode;
  /** QDQ folding rule (src/graph/qdq.ts): 'octet' (default, every pattern) or 'ort' (what onnxruntime folds). */
  qdqFusion?: 'octet' | 'ort';
  /** With qdqFusion 'ort': the intra-op thread count of the onnxruntime session to reproduce (default 1). */
  ortThreads?: number;
  /** Threads the plan's steps will be split over (CompileOptions.threads; default 1): kernels may cut work differently. */
  threads?: number;
  /**
   * Set by the executor while lowering: zeroed bytes for a kernel's constants directly in the session's wasm memory
   * (weights region), or null when the reserved space is used up (then the kernel allocates its own). A kernel that
   * packs into it saves a copy of its weights (session creation time). Valid until the plan is placed.
   */
  constAlloc?: (bytes: number) => Uint8Array | null;
}

export interface LowerCtx {
  node: Node;
  inputs: (ValueState | undefined)[];
  outputs: ValueState[];
  env: KernelEnv;
  opset: number;
}

/** A kernel step: runtime inputs/outputs by value name, in the order the kernel's io expects. */
export interface LoweredStep {
  kernel: PreparedKernel;
  inputs: string[];
  outputs: string[];
}

export interface OpDef {
  op: string;
  domain?: string;
  infer(ctx: InferCtx): TypeShape[];
  eval?(node: Node, inputs: (HostTensor | undefined)[], opset: number): HostTensor[];
  /** Folds from the input's shape alone (Shape, Size): the value never matters. */
  shapeOnly?: boolean;
  /** Never fold even when inputs are constant (e.g. ops with side inputs) */
  noFold?: boolean;
  layout?(ctx: InferCtx): LayoutKind;
  /** Host evaluation on channels-last tensors (physical dims) for 'native' ops without a kernel. */
  evalCL?(node: Node, inputs: (HostTensor | undefined)[], opset: number): HostTensor[];
  lower?(lc: LowerCtx): LoweredStep[] | null;
  /** Output i may share input 0's buffer (reshape-like ops). */
  alias?: boolean;
  /**
   * Output 0 may share input 0's buffer whatever the layouts, when this returns true for the node's values
   * (a layout conversion that moves no byte: one channel, or one spatial position).
   */
  aliasWhen?(inputs: (ValueState | undefined)[], outputs: (ValueState | undefined)[]): boolean;
  /** Transparent ops: axis attributes to remap to channels-last positions (e.g. Concat 'axis'). */
  clAxisAttrs?: string[];
  /** Default of that axis attribute when absent (e.g. 1 for QuantizeLinear). */
  clDefaultAxis?: number;
  /** Transparent ops: 'keep' leaves constant inputs as they are (per-axis scales), default permutes them. */
  clConsts?: 'keep' | 'broadcast';
}

export function fail(node: Node, msg: string): never {
  const label = `node '${node.name || node.outputs[0] || '?'}' (${node.domain ? node.domain + '.' : ''}${node.op})`;
  throw new Error(`octet: ${label}: ${msg}`);
}

export function need(node: Node, cond: unknown, msg: string): asserts cond {
  if (!cond) fail(node, msg);
}

export function inputAt(ctx: InferCtx, i: number, what = `input ${i}`): ValueState {
  const v = ctx.inputs[i];
  if (!v) fail(ctx.node, `missing required ${what}`);
  return v;
}

export function constInput(ctx: InferCtx, i: number, what: string): HostTensor | undefined {
  const v = ctx.inputs[i];
  if (!v) return undefined;
  if (!v.const) {
    if (v.isInput) throw new NeedsValue(v.name, `${what} (input ${i}, '${v.name}') is a graph input`);
    fail(ctx.node, `${what} (input ${i}, '${v.name}') must be a constant (dynamic ${what} is unsupported)`);
  }
  return v.const;
}

/** Channels-last permutation for rank r: [0, 2, ..., r-1, 1]. */
export function clPerm(r: number): number[] {
  const p = [0];
  for (let i = 2; i < r; i++) p.push(i);
  p.push(1);
  return p;
}
export function invPerm(p: readonly number[]): number[] {
  const q = new Array(p.length);
  p.forEach((v, i) => (q[v] = i));
  return q;
}
export function physDims(v: ValueState): number[] {
  return v.layout === 'cl' ? clPerm(v.dims.length).map((a) => v.dims[a]) : v.dims;
}
