// Softmax / LogSoftmax (opset < 13: over the flattened trailing axes; >= 13: one axis) and the reductions
// ReduceMean / ReduceSum / ReduceMax / ReduceMin (axes as attribute before opset 18, as input from 18).
// Float32 Softmax over the trailing axes runs on the f32_softmax kernel. Float32 ReduceMean / ReduceMax over the
// spatial axes of a 4-D tensor (axes {2, 3}: SE blocks, global pooling written as a reduction) run channels-last
// on the global average pooling / max pooling kernels; the rest runs host side.
import type { Node } from '../graph/ir.js';
import { attrInt, attrInts } from '../graph/ir.js';
import { makeTensor, sizeOf, normAxis, toInts, toNumbers, fromNumbers, type HostTensor } from '../graph/tensor.js';
import { inputAt, constInput, need, type OpDef, type LowerCtx, type LoweredStep } from './types.js';
import { prepareF32Softmax, prepareF32GlobalAvgPool, prepareF32Pool } from '../kernels/f32.js';
import { transposeData } from '../graph/tensor.js';
import type { InferCtx } from './types.js';

function softmaxEval(node: Node, x: HostTensor, opset: number, log: boolean): HostTensor {
  const r = x.dims.length;
  const a = normAxis(attrInt(node, 'axis', opset < 13 ? 1 : -1), Math.max(r, 1), `node '${node.name}' (${node.op})`);
  let outer: number, n: number, inner: number;
  if (opset < 13) {
    outer = sizeOf(x.dims.slice(0, a));
    n = sizeOf(x.dims.slice(a));
    inner = 1;
  } else {
    outer = sizeOf(x.dims.slice(0, a));
    n = x.dims[a] ?? 1;
    inner = sizeOf(x.dims.slice(a + 1));
  }
  const v = toNumbers(x);
  const out = new Float64Array(v.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let mx = -Infinity;
      for (let k = 0; k < n; k++) mx = Math.max(mx, v[base + k * inner]);
      let s = 0;
      for (let k = 0; k < n; k++) s += Math.exp(v[base + k * inner] - mx);
      for (let k = 0; k < n; k++) {
        const d = v[base + k * inner] - mx;
        out[base + k * inner] = log ? d - Math.log(s) : Math.exp(d) / s;
      }
    }
  }
  return fromNumbers(x.dtype, x.dims, out);
}

function softmaxOp(op: string, log: boolean): OpDef {
  return {
    op,
    infer: (ctx) => [{ dtype: inputAt(ctx, 0).dtype, dims: inputAt(ctx, 0).dims.slice() }],
    eval: (node, [x], opset) => [softmaxEval(node, x!, opset, log)],
    lower: log ? undefined : lowerSoftmax,
  };
}

/** Float32 Softmax on the wasm kernel when the reduced axes are the trailing ones (rows x n, contiguous);
 * other axes (opset >= 13 with axis != last) keep the host path. */
function lowerSoftmax(lc: LowerCtx): LoweredStep[] | null {
  const x = lc.inputs[0];
  if (!x || x.const || x.dtype !== 'float32' || x.layout === 'cl') return null;
  const r = x.dims.length;
  if (r === 0) return null;
  const a = normAxis(attrInt(lc.node, 'axis', lc.opset < 13 ? 1 : -1), r, `node '${lc.node.name}' (${lc.node.op})`);
  if (lc.opset >= 13 && a !== r - 1) return null;
  const channels = sizeOf(x.dims.slice(a)), rows = sizeOf(x.dims.slice(0, a));
  if (!channels || !rows) return null;
  const k = prepareF32Softmax({ rows, channels, node: lc.node.name }, { path: lc.env.path, arch: lc.env.arch });
  return [{ kernel: k, inputs: [x.name], outputs: [lc.outputs[0].name] }];
}

type Kind = 'mean' | 'sum' | 'max' | 'min';
function reduceAxes(node: Node, opset: number, r: number, axesT: HostTensor | undefined): number[] {
  const viaInput = opset >= 18 || (node.op === 'ReduceSum' && opset >= 13);
  const axes = viaInput ? (axesT ? toInts(axesT) : undefined) : attrInts(node, 'axes');
  if (!axes || axes.length === 0) {
    if (attrInt(node, 'noop_with_empty_axes', 0) === 1) return [];
    return Array.from({ length: r }, (_, i) => i);
  }
  return axes.map((a) => normAxis(a, r, `node '${node.name}' (${node.op})`));
}
function reduceDims(node: Node, dims: number[], axes: number[]): number[] {
  const keep = attrInt(node, 'keepdims', 1) === 1;
  const out: number[] = [];
  dims.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keep) out.push(1);
  });
  return out;
}
/** The reduction is over H and W of a 4-D float32 tensor (a global pooling): the kernel form applies. */
function spatialReduction(ctx: InferCtx, kind: Kind): boolean {
  const x = ctx.inputs[0];
  if ((kind !== 'mean' && kind !== 'max') || !x || x.const || x.dtype !== 'float32' || x.dims.length !== 4 || !sizeOf(x.dims)) return false;
  const ax = ctx.inputs[1];
  if (ax && !ax.const) return false;
  const axes = reduceAxes(ctx.node, ctx.opset, 4, ax?.const);
  return axes.length === 2 && axes.includes(2) && axes.includes(3);
}

function reduceOp(op: string, kind: Kind): OpDef {
  const self: OpDef = {
    op,
    layout: (ctx) => (spatialReduction(ctx, kind) ? 'native' : 'logical'),
    // channels-last host fallback: NHWC -> NCHW, the reference, back for rank >= 3 outputs
    evalCL: (node, [x, ax], opset) => {
      const [y] = self.eval!(node, [transposeData(x!, [0, 3, 1, 2]), ax], opset);
      return [y.dims.length === 4 ? transposeData(y, [0, 2, 3, 1]) : y];
    },
    lower: (lc) => {
      const x = lc.inputs[0];
      if (!x || x.layout !== 'cl' || !spatialReduction({ node: lc.node, inputs: lc.inputs, opset: lc.opset }, kind)) return null;
      const [N, C, H, W] = x.dims;
      const sel = { path: lc.env.path, arch: lc.env.arch };
      // output [N, C, 1, 1] channels-last or [N, C]: the same bytes as the pooling kernels' [N, 1, 1, C]
      const k = kind === 'mean' ? prepareF32GlobalAvgPool({ N, H, W, C, node: lc.node.name }, sel)
        : prepareF32Pool({ kind: 'max', N, H, W, C, KH: H, KW: W, node: lc.node.name }, sel);
      return [{ kernel: k, inputs: [x.name], outputs: [lc.outputs[0].name] }];
    },
    infer: (ctx) => {
      const x = inputAt(ctx, 0);
      const axes = reduceAxes(ctx.node, ctx.opset, x.dims.length, ctx.inputs[1] ? constInput(ctx, 1, 'axes') : undefined);
      return [{ dtype: x.dtype, dims: reduceDims(ctx.node, x.dims, axes) }];
    },
    eval: (node, [x, ax], opset) => {
      const r = x!.dims.length;
      const axes = reduceAxes(node, opset, r, ax);
      const outDims = reduceDims(node, x!.dims, axes);
      const v = toNumbers(x!);
      const keptDims = x!.dims.map((d, i) => (axes.includes(i) ? 1 : d));
      const n = sizeOf(keptDims);
      const acc = new Float64Array(n).fill(kind === 'max' ? -Infinity : kind === 'min' ? Infinity : 0);
      const count = sizeOf(x!.dims) / Math.max(n, 1);
      need(node, v.length === 0 || n > 0, 'empty reduction');
      const idx = new Array(r).fill(0);
      const ks = new Array(r).fill(1);
      for (let i = r - 2; i >= 0; i--) ks[i] = ks[i + 1] * keptDims[i + 1];
      for (let i = 0; i < v.length; i++) {
        let o = 0;
        for (let a = 0; a < r; a++) if (!axes.includes(a)) o += idx[a] * ks[a];
        const val = v[i];
        if (kind === 'max') acc[o] = Math.max(acc[o], val);
        else if (kind === 'min') acc[o] = Math.min(acc[o], val);
        else acc[o] += val;
        for (let a = r - 1; a >= 0; a--) {
          if (++idx[a] < x!.dims[a]) break;
          idx[a] = 0;
        }
      }
      if (kind === 'mean') for (let i = 0; i < n; i++) acc[i] /= count;
      const out = fromNumbers(x!.dtype, outDims, acc);
      return [out.data.length === sizeOf(outDims) ? out : makeTensor(x!.dtype, outDims)];
    },
  };
  return self;
}

export const REDUCE_OPS: OpDef[] = [
  softmaxOp('Softmax', false),
  softmaxOp('LogSoftmax', true),
  reduceOp('ReduceMean', 'mean'),
  reduceOp('ReduceSum', 'sum'),
  reduceOp('ReduceMax', 'max'),
  reduceOp('ReduceMin', 'min'),
];
