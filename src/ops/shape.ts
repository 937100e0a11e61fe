// Shape-manipulation operators, run host side (or folded away): Reshape, Flatten, Transpose, Squeeze, Unsqueeze,
// Shape, Size, Gather, Slice, Pad, Concat, Expand, Constant, ConstantOfShape, Range.
// Reshape-like ops alias their input buffer at run time (no copy).
import type { Node } from '../graph/ir.js';
import { attrInt, attrInts, attrString, attrFloat } from '../graph/ir.js';
import {
  makeTensor, sizeOf, toInts, transposeData, strides, normAxis, broadcastShapes, broadcastIndex, fromNumbers,
  toNumbers, type HostTensor,
} from '../graph/tensor.js';
import { inputAt, constInput, need, fail, type OpDef, type InferCtx } from './types.js';

function same(x: HostTensor, dims: number[]): HostTensor {
  return { dtype: x.dtype, dims, data: (x.data as any).slice() };
}

function reshapeDims(node: Node, inDims: number[], shape: number[], allowzero: boolean): number[] {
  const total = sizeOf(inDims);
  const out = shape.map((d, i) => (d === 0 && !allowzero ? (i < inDims.length ? inDims[i] : fail(node, `shape[${i}] = 0 copies a dimension the input does not have`)) : d));
  const neg = out.filter((d) => d === -1).length;
  need(node, neg <= 1, `shape [${shape}] has more than one -1`);
  if (neg === 1) {
    const known = out.reduce((a, d) => (d === -1 ? a : a * d), 1);
    need(node, known > 0 && total % known === 0, `cannot reshape [${inDims}] (${total} values) to [${shape}]`);
    out[out.indexOf(-1)] = total / known;
  }
  need(node, out.every((d) => d >= 0) && sizeOf(out) === total, `cannot reshape [${inDims}] (${total} values) to [${shape}]`);
  return out;
}

export const reshape: OpDef = {
  op: 'Reshape',
  infer: (ctx) => {
    const x = inputAt(ctx, 0);
    const shape = ctx.opset < 5 ? attrInts(ctx.node, 'shape') ?? [] : toInts(constInput(ctx, 1, 'shape') ?? fail(ctx.node, 'missing shape'));
    return [{ dtype: x.dtype, dims: reshapeDims(ctx.node, x.dims, shape, attrInt(ctx.node, 'allowzero', 0) === 1) }];
  },
  eval: (node, [x, s], opset) => {
    const shape = opset < 5 ? attrInts(node, 'shape') ?? [] : toInts(s!);
    return [same(x!, reshapeDims(node, x!.dims, shape, attrInt(node, 'allowzero', 0) === 1))];
  },
  alias: true,
};

function flattenDims(node: Node, dims: number[]): number[] {
  const r = dims.length;
  let axis = attrInt(node, 'axis', 1);
  if (axis < 0) axis += r;
  need(node, axis >= 0 && axis <= r, `axis ${attrInt(node, 'axis', 1)} out of range for rank ${r}`);
  return [sizeOf(dims.slice(0, axis)), sizeOf(dims.slice(axis))];
}
export const flatten: OpDef = {
  op: 'Flatten',
  infer: (ctx) => [{ dtype: inputAt(ctx, 0).dtype, dims: flattenDims(ctx.node, inputAt(ctx, 0).dims) }],
  eval: (node, [x]) => [same(x!, flattenDims(node, x!.dims))],
  alias: true,
};

function permOf(node: Node, r: number): number[] {
  const p = attrInts(node, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  need(node, p.length === r && [...p].sort((a, b) => a - b).every((v, i) => v === i), `perm [${p}] is not a permutation of rank ${r}`);
  return p;
}
export const transpose: OpDef = {
  op: 'Transpose',
  infer: (ctx) => {
    const x = inputAt(ctx, 0);
    return [{ dtype: x.dtype, dims: permOf(ctx.node, x.dims.length).map((a) => x.dims[a]) }];
  },
  eval: (node, [x]) => [transposeData(x!, permOf(node, x!.dims.length))],
};

function axesOf(ctx: { node: Node; opset: number }, t: HostTensor | undefined, attrOpset: number): number[] | undefined {
  if (ctx.opset < attrOpset) return attrInts(ctx.node, 'axes');
  return t ? toInts(t) : undefined;
}
function squeezeDims(node: Node, dims: number[], axes: number[] | undefined): number[] {
  if (!axes) return dims.filter((d) => d !== 1);
  const ax = axes.map((a) => normAxis(a, dims.length, `node '${node.name}' (Squeeze)`));
  for (const a of ax) need(node, dims[a] === 1, `cannot squeeze axis ${a} of size ${dims[a]}`);
  return dims.filter((_, i) => !ax.includes(i));
}
export const squeeze: OpDef = {
  op: 'Squeeze',
  infer: (ctx) => {
    const x = inputAt(ctx, 0);
    return [{ dtype: x.dtype, dims: squeezeDims(ctx.node, x.dims, axesOf(ctx, ctx.opset >= 13 ? constInput(ctx, 1, 'axes') : undefined, 13)) }];
  },
  eval: (node, [x, a], opset) => [same(x!, squeezeDims(node, x!.dims, axesOf({ node, opset }, a, 13)))],
  alias: true,
};
function unsqueezeDims(node: Node, dims: number[], axes: number[] | undefined): number[] {
  need(node, axes && axes.length > 0, 'needs axes');
  const r = dims.length + axes!.length;
  const ax = axes!.map((a) => normAxis(a, r, `node '${node.name}' (Unsqueeze)`));
  need(node, new Set(ax).size === ax.length, `repeated axes [${axes}]`);
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < r; i++) out.push(ax.includes(i) ? 1 : dims[j++]);
  return out;
}
export const unsqueeze: OpDef = {
  op: 'Unsqueeze',
  infer: (ctx) => {
    const x = inputAt(ctx, 0);
    return [{ dtype: x.dtype, dims: unsqueezeDims(ctx.node, x.dims, axesOf(ctx, ctx.opset >= 13 ? constInput(ctx, 1, 'axes') : undefined, 13)) }];
  },
  eval: (node, [x, a], opset) => [same(x!, unsqueezeDims(node, x!.dims, axesOf({ node, opset }, a, 13)))],
  alias: true,
};

function shapeSlice(node: Node, dims: number[]): number[] {
  const r = dims.length;
  const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const s = clampIdx(attrInt(node, 'start', 0));
  const e = node.attrs.end === undefined ? r : clampIdx(attrInt(node, 'end', r));
  return dims.slice(s, Math.max(s, e));
}
export const shape: OpDef = {
  op: 'Shape',
  shapeOnly: true,
  infer: (ctx) => [{ dtype: 'int64', dims: [shapeSlice(ctx.node, inputAt(ctx, 0).dims).length] }],
  eval: (node, [x]) => {
    const d = shapeSlice(node, x!.dims);
    return [{ dtype: 'int64', dims: [d.length], data: BigInt64Array.from(d.map(BigInt)) }];
  },
};
export const size: OpDef = {
  op: 'Size',
  shapeOnly: true,
  infer: () => [{ dtype: 'int64', dims: [] }],
  eval: (_n, [x]) => [{ dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(sizeOf(x!.dims))) }],
};

export const gather: OpDef = {
  op: 'Gather',
  infer: (ctx) => {
    const x = inputAt(ctx, 0), idx = inputAt(ctx, 1);
    const a = normAxis(attrInt(ctx.node, 'axis', 0), x.dims.length, `node '${ctx.node.name}' (Gather)`);
    return [{ dtype: x.dtype, dims: [...x.dims.slice(0, a), ...idx.dims, ...x.dims.slice(a + 1)] }];
  },
  eval: (node, [x, ind]) => {
    const a = normAxis(attrInt(node, 'axis', 0), x!.dims.length, `node '${node.name}' (Gather)`);
    const idx = toInts(ind!);
    const outer = sizeOf(x!.dims.slice(0, a)), inner = sizeOf(x!.dims.slice(a + 1)), n = x!.dims[a];
    const out = makeTensor(x!.dtype, [...x!.dims.slice(0, a), ...ind!.dims, ...x!.dims.slice(a + 1)]);
    const src = x!.data as any, dst = out.data as any;
    let o = 0;
    for (let i = 0; i < outer; i++) {
      for (const k0 of idx) {
        const k = k0 < 0 ? k0 + n : k0;
        need(node, k >= 0 && k < n, `index ${k0} out of range for axis of size ${n}`);
        const base = (i * n + k) * inner;
        for (let j = 0; j < inner; j++) dst[o++] = src[base + j];
      }
    }
    return [out];
  },
};

interface SliceSpec { starts: number[]; ends: number[]; axes: number[]; steps: number[] }
function sliceSpec(node: Node, opset: number, ins: (HostTensor | undefined)[], r: number): SliceSpec {
  let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
  if (opset < 10) {
    starts = attrInts(node, 'starts') ?? [];
    ends = attrInts(node, 'ends') ?? [];
    axes = attrInts(node, 'axes');
  } else {
    starts = toInts(ins[1]!);
    ends = toInts(ins[2]!);
    axes = ins[3] ? toInts(ins[3]) : undefined;
    steps = ins[4] ? toInts(ins[4]) : undefined;
  }
  need(node, starts.length === ends.length, 'starts and ends differ in length');
  axes = (axes ?? starts.map((_, i) => i)).map((a) => normAxis(a, r, `node '${node.name}' (Slice)`));
  steps = steps ?? starts.map(() => 1);
  need(node, steps.every((s) => s !== 0), 'a step is 0');
  return { starts, ends, axes, steps };
}
function sliceRanges(spec: SliceSpec, dims: number[]): { start: number[]; step: number[]; count: number[] } {
  const r = dims.length;
  const start = new Array(r).fill(0), step = new Array(r).fill(1), count = dims.slice();
  spec.axes.forEach((a, i) => {
    const d = dims[a], st = spec.steps[i];
    let s = spec.starts[i], e = spec.ends[i];
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (st > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
      count[a] = Math.max(0, Math.ceil((e - s) / st));
    } else {
      s = Math.min(Math.max(s, -1), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
      count[a] = Math.max(0, Math.ceil((e - s) / st));
    }
    start[a] = s;
    step[a] = st;
  });
  return { start, step, count };
}
export const slice: OpDef = {
  op: 'Slice',
  infer: (ctx) => {
    const x = inputAt(ctx, 0);
    const ins = ctx.inputs.map((v, i) => (i === 0 || !v ? undefined : constInput(ctx, i, 'slice bounds')));
    const spec = sliceSpec(ctx.node, ctx.opset, ins, x.dims.length);
    return [{ dtype: x.dtype, dims: sliceRanges(spec, x.dims).count }];
  },
  eval: (node, ins, opset) => {
    const x = ins[0]!;
    const { start, step, count } = sliceRanges(sliceSpec(node, opset, ins, x.dims.length), x.dims);
    const out = makeTensor(x.dtype, count);
    const n = out.data.length;
    if (n === 0) return [out];
    const st = strides(x.dims), r = x.dims.length;
    const src = x.data as any, dst = out.data as any;
    const idx = new Array(r).fill(0);
    for (let i = 0; i < n; i++) {
      let off = 0;
      for (let a = 0; a < r; a++) off += (start[a] + idx[a] * step[a]) * st[a];
      dst[i] = src[off];
      for (let a = r - 1; a >= 0; a--) {
        if (++idx[a] < count[a]) break;
        idx[a] = 0;
      }
    }
    return [out];
  },
};

function padSpec(node: Node, opset: number, ins: (HostTensor | undefined)[], r: number): { pads: number[]; value: number; mode: string } {
  let pads: number[];
  let value = 0;
  if (opset < 11) {
    pads = attrInts(node, 'pads') ?? attrInts(node, 'paddings') ?? [];
    value = attrFloat(node, 'value', 0);
  } else {
    const p = toInts(ins[1]!);
    value = ins[2] && ins[2].data.length ? toNumbers(ins[2])[0] : 0;
    if (ins[3]) {
      const axes = toInts(ins[3]).map((a) => normAxis(a, r, `node '${node.name}' (Pad)`));
      pads = new Array(2 * r).fill(0);
      axes.forEach((a, i) => {
        pads[a] = p[i];
        pads[a + r] = p[i + axes.length];
      });
    } else pads = p;
  }
  need(node, pads.length === 2 * r, `pads has ${pads.length} values, rank ${r} needs ${2 * r}`);
  return { pads, value, mode: attrString(node, 'mode', 'constant') };
}
export const pad: OpDef = {
  op: 'Pad',
  infer: (ctx) => {
    const x = inputAt(ctx, 0);
    const ins = ctx.inputs.map((v, i) => (i === 0 || !v ? undefined : constInput(ctx, i, 'pads')));
    const { pads } = padSpec(ctx.node, ctx.opset, ins, x.dims.length);
    const r = x.dims.length;
    const dims = x.dims.map((d, i) => d + pads[i] + pads[i + r]);
    need(ctx.node, dims.every((d) => d >= 0), `pads [${pads}] make a negative dimension`);
    return [{ dtype: x.dtype, dims }];
  },
  eval: (node, ins, opset) => {
    const x = ins[0]!;
    const r = x.dims.length;
    const { pads, value, mode } = padSpec(node, opset, ins, r);
    const dims = x.dims.map((d, i) => d + pads[i] + pads[i + r]);
    const out = makeTensor(x.dtype, dims);
    const n = out.data.length;
    const st = strides(x.dims);
    const src = x.data as any, dst = out.data as any;
    const isBigT = x.dtype === 'int64' || x.dtype === 'uint64';
    const fill = isBigT ? BigInt(Math.trunc(value)) : value;
    const idx = new Array(r).fill(0);
    for (let i = 0; i < n; i++) {
      let off = 0, inside = true;
      for (let a = 0; a < r; a++) {
        let j = idx[a] - pads[a];
        const d = x.dims[a];
        if (j < 0 || j >= d) {
          if (mode === 'constant' || d === 0) { inside = false; break; }
          if (mode === 'edge') j = j < 0 ? 0 : d - 1;
          else if (mode === 'reflect') {
            if (d === 1) j = 0;
            else { const p = 2 * (d - 1); j = ((j % p) + p) % p; if (j >= d) j = p - j; }
          } else if (mode === 'wrap') j = ((j % d) + d) % d;
          else fail(node, `unsupported mode '${mode}'`);
        }
        off += j * st[a];
      }
      dst[i] = inside ? src[off] : fill;
      for (let a = r - 1; a >= 0; a--) {
        if (++idx[a] < dims[a]) break;
        idx[a] = 0;
      }
    }
    return [out];
  },
};

export function concatEval(node: Node, ins: HostTensor[], axisIn: number): HostTensor {
  const r = ins[0].dims.length;
  const a = normAxis(axisIn, r, `node '${node.name}' (Concat)`);
  const dims = ins[0].dims.slice();
  dims[a] = ins.reduce((s, t) => s + t.dims[a], 0);
  const out = makeTensor(ins[0].dtype, dims);
  const outer = sizeOf(dims.slice(0, a)), inner = sizeOf(dims.slice(a + 1));
  const dst = out.data as any;
  let col = 0;
  const rowLen = dims[a] * inner;
  for (const t of ins) {
    const len = t.dims[a] * inner;
    const src = t.data as any;
    for (let i = 0; i < outer; i++) dst.set(src.subarray(i * len, (i + 1) * len), i * rowLen + col);
    col += len;
  }
  return out;
}
export const concat: OpDef = {
  op: 'Concat',
  infer: (ctx) => {
    const ins = ctx.inputs.filter((v) => v) as NonNullable<(typeof ctx.inputs)[number]>[];
    need(ctx.node, ins.length > 0, 'needs at least one input');
    const r = ins[0].dims.length;
    const a = normAxis(attrInt(ctx.node, 'axis', 0), r, `node '${ctx.node.name}' (Concat)`);
    const dims = ins[0].dims.slice();
    dims[a] = 0;
    for (const v of ins) {
      need(ctx.node, v.dims.length === r && v.dims.every((d, i) => i === a || d === ins[0].dims[i]) && v.dtype === ins[0].dtype,
        `input '${v.name}' ${v.dtype}[${v.dims}] does not match ${ins[0].dtype}[${ins[0].dims}] outside axis ${a}`);
      dims[a] += v.dims[a];
    }
    return [{ dtype: ins[0].dtype, dims }];
  },
  eval: (node, ins) => [concatEval(node, ins.filter((t) => t) as HostTensor[], attrInt(node, 'axis', 0))],
  layout: (ctx) => {
    const r = ctx.inputs[0]?.dims.length ?? 0;
    return r >= 3 && ctx.inputs.every((v) => !v || v.dims.length === r) ? 'transparent' : 'logical';
  },
  clAxisAttrs: ['axis'],
};

export const expand: OpDef = {
  op: 'Expand',
  infer: (ctx) => {
    const x = inputAt(ctx, 0);
    const s = toInts(constInput(ctx, 1, 'shape')!);
    return [{ dtype: x.dtype, dims: broadcastShapes([x.dims, s], `node '${ctx.node.name}' (Expand)`) }];
  },
  eval: (node, [x, s]) => {
    const dims = broadcastShapes([x!.dims, toInts(s!)], `node '${node.name}' (Expand)`);
    const out = makeTensor(x!.dtype, dims);
    const ix = broadcastIndex(x!.dims, dims);
    const src = x!.data as any, dst = out.data as any;
    for (let i = 0; i < ix.length; i++) dst[i] = src[ix[i]];
    return [out];
  },
};

function constantValue(node: Node): HostTensor {
  const a = node.attrs;
  if (a.value && typeof a.value === 'object' && 'dtype' in (a.value as any)) return a.value as HostTensor;
  if (typeof a.value_float === 'number') return { dtype: 'float32', dims: [], data: Float32Array.of(a.value_float) };
  if (Array.isArray(a.value_floats)) return { dtype: 'float32', dims: [a.value_floats.length], data: Float32Array.from(a.value_floats as number[]) };
  if (typeof a.value_int === 'number') return { dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(a.value_int)) };
  if (Array.isArray(a.value_ints)) return { dtype: 'int64', dims: [a.value_ints.length], data: BigInt64Array.from((a.value_ints as number[]).map(BigInt)) };
  if (a.sparse_value !== undefined || a.value_string !== undefined || a.value_strings !== undefined) fail(node, 'sparse and string constants are unsupported');
  fail(node, 'has no value attribute');
}
export const constant: OpDef = {
  op: 'Constant',
  infer: (ctx) => {
    const v = constantValue(ctx.node);
    return [{ dtype: v.dtype, dims: v.dims.slice() }];
  },
  eval: (node) => [constantValue(node)],
};

export const constantOfShape: OpDef = {
  op: 'ConstantOfShape',
  infer: (ctx) => {
    const s = toInts(constInput(ctx, 0, 'shape')!);
    const v = ctx.node.attrs.value as HostTensor | undefined;
    return [{ dtype: v?.dtype ?? 'float32', dims: s }];
  },
  eval: (node, [s]) => {
    const v = (node.attrs.value as HostTensor | undefined) ?? { dtype: 'float32', dims: [1], data: Float32Array.of(0) };
    const out = makeTensor(v.dtype, toInts(s!));
    (out.data as any).fill((v.data as any)[0]);
    return [out];
  },
};

export const range: OpDef = {
  op: 'Range',
  infer: (ctx) => {
    const [s, l, d] = [0, 1, 2].map((i) => toNumbers(constInput(ctx, i, 'range bounds')!)[0]);
    return [{ dtype: inputAt(ctx, 0).dtype, dims: [Math.max(Math.ceil((l - s) / d), 0)] }];
  },
  eval: (_node, [s, l, d]) => {
    const [a, b, c] = [s!, l!, d!].map((t) => toNumbers(t)[0]);
    const n = Math.max(Math.ceil((b - a) / c), 0);
    return [fromNumbers(s!.dtype, [n], Array.from({ length: n }, (_, i) => a + i * c))];
  },
};

export const SHAPE_OPS: OpDef[] = [
  reshape, flatten, transpose, squeeze, unsqueeze, shape, size, gather, slice, pad, concat, expand, constant,
  constantOfShape, range,
];

export type { InferCtx };
