// Element-wise operators: unary activations (Relu, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh, Sqrt, Exp,
// Abs, Neg, Floor, Ceil, Reciprocal, Erf), Clip, Identity, Cast, and broadcasting binary ops (Add, Sub, Mul, Div,
// Pow, Max, Min). All are layout-transparent: they run on channels-last tensors as they are (constants are
// permuted by the layout pass). Float32 runs in typed-array loops (host side); other types through doubles.
import type { Node } from '../graph/ir.js';
import { attrFloat, attrInt } from '../graph/ir.js';
import {
  broadcastIndex, broadcastShapes, fromNumbers, isFloat, makeTensor, toNumbers, dtypeFromOnnx, scalarOf, sizeOf,
  type HostTensor, type DType, DTYPE_BYTES,
} from '../graph/tensor.js';
import { inputAt, need, fail, physDims, type OpDef, type InferCtx, type LayoutKind, type LowerCtx, type LoweredStep } from './types.js';
import { prepareF32Unary, prepareF32Binary, prepareF32FromI32, bytesOf } from '../kernels/f32.js';
import type { PreparedKernel } from '../kernels/types.js';

const F32_UNARY: Record<string, string> = { Relu: 'relu', LeakyRelu: 'leakyrelu', Sigmoid: 'sigmoid', HardSigmoid: 'hardsigmoid', HardSwish: 'hardswish', Tanh: 'tanh', Clip: 'clip', Sqrt: 'sqrt' };

/** Float32 activations on the wasm kernel (Clip needs constant bounds). */
function lowerUnary(lc: LowerCtx): LoweredStep[] | null {
  const x = lc.inputs[0];
  const kind = F32_UNARY[lc.node.op];
  if (!x || x.const || x.dtype !== 'float32' || !kind) return null;
  let min: number | undefined, max: number | undefined;
  if (lc.node.op === 'Clip') {
    const b = clipBounds(lc.node, lc.opset, lc.inputs.map((v) => v?.const));
    if (!b) return null;
    ({ min, max } = b);
  }
  const k = prepareF32Unary({ op: kind as any, count: sizeOf(x.dims), alpha: lc.node.attrs.alpha as number | undefined,
    beta: lc.node.attrs.beta as number | undefined, min, max, node: lc.node.name }, { path: lc.env.path, arch: lc.env.arch });
  return [{ kernel: k, inputs: [x.name], outputs: [lc.outputs[0].name] }];
}

/** Float32 Add/Sub/Mul/Div on the wasm kernel: same shapes, or one operand per-channel (innermost) or scalar. */
function lowerBinary(lc: LowerCtx): LoweredStep[] | null {
  const [a, b] = lc.inputs;
  const y = lc.outputs[0];
  const op = ({ Add: 'add', Sub: 'sub', Mul: 'mul', Div: 'div' } as Record<string, 'add' | 'sub' | 'mul' | 'div'>)[lc.node.op];
  if (!a || !b || !op || a.dtype !== 'float32' || b.dtype !== 'float32' || (a.const && b.const)) return null;
  const yd = physDims(y);
  const count = sizeOf(yd), C = yd[yd.length - 1] ?? 1;
  if (!count) return null;
  const kind = (v: typeof a) => {
    const d = physDims(v), n = sizeOf(d);
    if (n === count && d.length === yd.length) return 'full';
    if (n === 1) return 'scalar';
    if (n === C && d[d.length - 1] === C) return 'channel';
    return null;
  };
  const ka = kind(a), kb = kind(b);
  let mode: 'none' | 'b-channel' | 'b-scalar' | 'a-channel' | 'a-scalar';
  if (ka === 'full' && kb === 'full') mode = 'none';
  else if (ka === 'full' && kb === 'channel') mode = 'b-channel';
  else if (ka === 'full' && kb === 'scalar') mode = 'b-scalar';
  else if (ka === 'channel' && kb === 'full') mode = 'a-channel';
  else if (ka === 'scalar' && kb === 'full') mode = 'a-scalar';
  else return null;
  const inner = prepareF32Binary({ op, count, channels: C, broadcast: mode, node: lc.node.name }, { path: lc.env.path, arch: lc.env.arch });
  const cv = a.const ?? b.const;
  if (!cv) return [{ kernel: inner, inputs: [a.name, b.name], outputs: [y.name] }];
  const constFirst = !!a.const;
  const kernel: PreparedKernel = {
    ...inner,
    constants: bytesOf(Float32Array.from(cv.data as Float32Array)),
    constantsAlign: 16,
    run(wasm, io, begin, end) {
      const ins = constFirst ? [io.constants, io.inputs[0]] : [io.inputs[0], io.constants];
      inner.run(wasm, { ...io, inputs: ins }, begin, end);
    },
  };
  return [{ kernel, inputs: [(constFirst ? b : a).name], outputs: [y.name] }];
}

/** Float32 Pow with a constant scalar exponent 2 (x * x) or 0.5 (sqrt) on the unary kernel; other exponents run host side. */
function lowerPow(lc: LowerCtx): LoweredStep[] | null {
  const [x, e] = lc.inputs;
  if (!x || x.const || x.dtype !== 'float32' || !e?.const || sizeOf(e.dims) !== 1 || !sizeOf(x.dims)) return null;
  if (sizeOf(lc.outputs[0].dims) !== sizeOf(x.dims)) return null;
  const p = toNumbers(e.const)[0];
  const op = p === 2 ? 'square' : p === 0.5 ? 'sqrt' : null;
  if (!op) return null;
  const k = prepareF32Unary({ op, count: sizeOf(x.dims), node: lc.node.name }, { path: lc.env.path, arch: lc.env.arch });
  return [{ kernel: k, inputs: [x.name], outputs: [lc.outputs[0].name] }];
}

function transparentIfSameRank(ctx: InferCtx): LayoutKind {
  const r = Math.max(...ctx.inputs.map((v) => (v ? v.dims.length : 0)));
  if (r < 3) return 'logical';
  for (const v of ctx.inputs) if (v && !v.const && v.dims.length !== r) return 'logical';
  return 'transparent';
}

const erf = (x: number) => {
  // Abramowitz-Stegun 7.1.26 is too coarse for 1e-4; use a series / continued fraction split.
  const t = Math.abs(x);
  if (t < 2.5) {
    let sum = t, term = t, k = 0;
    const x2 = t * t;
    do { k++; term *= -x2 / k; sum += term / (2 * k + 1); } while (Math.abs(term) > 1e-17 * Math.abs(sum) && k < 200);
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction for large |x|
  let f = 0;
  for (let k = 60; k >= 1; k--) f = (k / 2) / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
};

type UnaryFn = (node: Node) => (x: number) => number;
const UNARY: Record<string, UnaryFn> = {
  Relu: () => (x) => (x > 0 ? x : x < 0 ? 0 : x === 0 ? 0 : x),
  LeakyRelu: (n) => { const a = attrFloat(n, 'alpha', 0.01); return (x) => (x < 0 ? a * x : x); },
  Sigmoid: () => (x) => 1 / (1 + Math.exp(-x)),
  HardSigmoid: (n) => {
    const a = Math.fround(attrFloat(n, 'alpha', 0.2)), b = Math.fround(attrFloat(n, 'beta', 0.5));
    return (x) => Math.max(0, Math.min(1, a * x + b));
  },
  HardSwish: () => (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)),
  Tanh: () => Math.tanh,
  Sqrt: () => Math.sqrt,
  Exp: () => Math.exp,
  Abs: () => Math.abs,
  Neg: () => (x) => -x,
  Floor: () => Math.floor,
  Ceil: () => Math.ceil,
  Reciprocal: () => (x) => 1 / x,
  Erf: () => erf,
  Identity: () => (x) => x,
};

function mapUnary(t: HostTensor, f: (x: number) => number): HostTensor {
  if (t.dtype === 'float32' || t.dtype === 'float64') {
    const out = makeTensor(t.dtype, t.dims);
    const s = t.data as Float32Array, d = out.data as Float32Array;
    for (let i = 0; i < s.length; i++) d[i] = f(s[i]);
    return out;
  }
  const v = toNumbers(t);
  for (let i = 0; i < v.length; i++) v[i] = f(v[i]);
  return fromNumbers(t.dtype, t.dims, v);
}

function unaryOp(op: string): OpDef {
  return {
    op,
    infer: (ctx) => [{ dtype: inputAt(ctx, 0).dtype, dims: inputAt(ctx, 0).dims.slice() }],
    eval: (node, [x]) => {
      if (op === 'Identity') return [{ dtype: x!.dtype, dims: x!.dims.slice(), data: (x!.data as any).slice() }];
      return [mapUnary(x!, UNARY[op](node))];
    },
    layout: () => 'transparent',
    alias: op === 'Identity',
    lower: F32_UNARY[op] ? lowerUnary : undefined,
  };
}

export const clip: OpDef = {
  op: 'Clip',
  infer: (ctx) => [{ dtype: inputAt(ctx, 0).dtype, dims: inputAt(ctx, 0).dims.slice() }],
  eval: (node, [x, mn, mx], opset) => {
    let lo: number, hi: number;
    if (opset < 11) {
      lo = attrFloat(node, 'min', -Infinity);
      hi = attrFloat(node, 'max', Infinity);
    } else {
      lo = scalarOf(mn, -Infinity);
      hi = scalarOf(mx, Infinity);
    }
    return [clipTensor(x!, lo, hi)];
  },
  layout: () => 'transparent',
  lower: lowerUnary,
};

function clipTensor(x: HostTensor, lo: number, hi: number): HostTensor {
  // ONNX: min(max(x, lo), hi): when lo > hi every value becomes hi.
  return mapUnary(x, (v) => Math.min(Math.max(v, lo), hi));
}

/** Clip bounds of a Clip node (attributes before opset 11, inputs after), for fusion passes. */
export function clipBounds(node: Node, opset: number, consts: (HostTensor | undefined)[]): { min: number; max: number } | null {
  if (opset < 11) return { min: attrFloat(node, 'min', -Infinity), max: attrFloat(node, 'max', Infinity) };
  const [, mn, mx] = consts;
  if ((node.inputs[1] && !mn) || (node.inputs[2] && !mx)) return null;
  return { min: scalarOf(mn, -Infinity), max: scalarOf(mx, Infinity) };
}

export const cast: OpDef = {
  op: 'Cast',
  infer: (ctx) => [{ dtype: dtypeFromOnnx(attrInt(ctx.node, 'to', 0), `node '${ctx.node.name}' (Cast) attribute to`), dims: inputAt(ctx, 0).dims.slice() }],
  eval: (node, [x]) => {
    const to = dtypeFromOnnx(attrInt(node, 'to', 0), `node '${node.name}' (Cast) attribute to`);
    const v = toNumbers(x!);
    if (to === 'float32') return [{ dtype: 'float32', dims: x!.dims.slice(), data: Float32Array.from(v) }];
    if (!isFloat(to) && to !== 'bool' && isFloat(x!.dtype)) {
      // float -> integer: truncate toward zero, then wrap (as C casts do for in-range values).
      for (let i = 0; i < v.length; i++) v[i] = Math.trunc(v[i]);
    }
    return [fromNumbers(to, x!.dims, v)];
  },
  layout: () => 'transparent',
  // int32 -> float32 (ConvInteger / MatMulInteger accumulators on the dynamic-quantization path) on the wasm kernel
  lower: (lc) => {
    const x = lc.inputs[0];
    if (!x || x.const || x.dtype !== 'int32' || lc.outputs[0].dtype !== 'float32' || !sizeOf(x.dims)) return null;
    const k = prepareF32FromI32({ count: sizeOf(x.dims), node: lc.node.name }, { path: lc.env.path, arch: lc.env.arch });
    return [{ kernel: k, inputs: [x.name], outputs: [lc.outputs[0].name] }];
  },
};

type BinFn = (a: number, b: number) => number;
function binFn(op: string, dtype: DType, node: Node): BinFn {
  const int = !isFloat(dtype);
  switch (op) {
    case 'Add': return (a, b) => a + b;
    case 'Sub': return (a, b) => a - b;
    case 'Mul':
      return int
        ? (a, b) => { const p = a * b; return Math.abs(p) < 2 ** 53 ? p : Number(BigInt.asIntN(64, BigInt(a) * BigInt(b))); }
        : (a, b) => a * b;
    case 'Div':
      return int
        ? (a, b) => { if (b === 0) fail(node, 'integer division by zero'); return Math.trunc(a / b); }
        : (a, b) => a / b;
    case 'Pow': return (a, b) => Math.pow(a, b);
    case 'Max': return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b));
    case 'Min': return (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b));
    default: fail(node, `unknown binary op ${op}`);
  }
}

export function binaryEval(op: string, node: Node, a: HostTensor, b: HostTensor): HostTensor {
  const dims = broadcastShapes([a.dims, b.dims], `node '${node.name}' (${op})`);
  const n = sizeOf(dims);
  const outType = a.dtype;
  const same = a.dims.length === dims.length && b.dims.length === dims.length && sizeOf(a.dims) === n && sizeOf(b.dims) === n;
  if ((outType === 'float32' || outType === 'float64') && a.dtype === b.dtype) {
    const out = makeTensor(outType, dims);
    const x = a.data as Float32Array, y = b.data as Float32Array, z = out.data as Float32Array;
    const f = binFn(op, outType, node);
    if (same) {
      if (op === 'Add') for (let i = 0; i < n; i++) z[i] = x[i] + y[i];
      else if (op === 'Mul') for (let i = 0; i < n; i++) z[i] = x[i] * y[i];
      else for (let i = 0; i < n; i++) z[i] = f(x[i], y[i]);
    } else if (y.length === 1) {
      const c = y[0];
      for (let i = 0; i < n; i++) z[i] = f(x[i], c);
    } else {
      const ia = broadcastIndex(a.dims, dims), ib = broadcastIndex(b.dims, dims);
      for (let i = 0; i < n; i++) z[i] = f(x[ia[i]], y[ib[i]]);
    }
    return out;
  }
  const x = toNumbers(a), y = toNumbers(b);
  const f = binFn(op, outType, node);
  const ia = broadcastIndex(a.dims, dims), ib = broadcastIndex(b.dims, dims);
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) z[i] = f(x[ia[i]], y[ib[i]]);
  if (op === 'Pow' && !isFloat(outType)) for (let i = 0; i < n; i++) z[i] = Math.trunc(z[i]);
  return fromNumbers(outType, dims, z);
}

function binaryOp(op: string): OpDef {
  return {
    op,
    infer: (ctx) => {
      const a = inputAt(ctx, 0), b = inputAt(ctx, 1);
      if (op !== 'Pow') need(ctx.node, a.dtype === b.dtype, `input types differ (${a.dtype} and ${b.dtype})`);
      return [{ dtype: a.dtype, dims: broadcastShapes([a.dims, b.dims], `node '${ctx.node.name}' (${op})`) }];
    },
    eval: (node, [a, b]) => [binaryEval(op, node, a!, b!)],
    layout: transparentIfSameRank,
    lower: op === 'Pow' ? lowerPow : lowerBinary,
  };
}

/** Variadic Max/Min/Sum folded pairwise. */
function variadicOp(op: 'Max' | 'Min' | 'Sum'): OpDef {
  const bin = op === 'Sum' ? 'Add' : op;
  return {
    op,
    infer: (ctx) => {
      const ins = ctx.inputs.filter((v) => v) as NonNullable<(typeof ctx.inputs)[number]>[];
      need(ctx.node, ins.length > 0, 'needs at least one input');
      return [{ dtype: ins[0].dtype, dims: broadcastShapes(ins.map((v) => v.dims), `node '${ctx.node.name}' (${op})`) }];
    },
    eval: (node, ins) => {
      let acc = ins[0]!;
      for (let i = 1; i < ins.length; i++) acc = binaryEval(bin, node, acc, ins[i]!);
      if (ins.length === 1) acc = { ...acc, data: (acc.data as any).slice() };
      return [acc];
    },
    layout: transparentIfSameRank,
  };
}

export const ELEMENTWISE_OPS: OpDef[] = [
  ...Object.keys(UNARY).map(unaryOp),
  clip,
  cast,
  ...['Add', 'Sub', 'Mul', 'Div', 'Pow'].map(binaryOp),
  variadicOp('Max'),
  variadicOp('Min'),
  variadicOp('Sum'),
];

export { DTYPE_BYTES };
