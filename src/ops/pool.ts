// MaxPool, AveragePool (1-D/2-D/3-D, pads, auto_pad, ceil_mode, dilations, count_include_pad),
// GlobalAveragePool, GlobalMaxPool. Rank-4 inputs run channels-last; the host loops here serve every dtype
// (MaxPool on int8/uint8 is exact, so QDQ MaxPool runs on the integers directly).
import type { Node } from '../graph/ir.js';
import { attrInt, attrInts } from '../graph/ir.js';
import { makeTensor, toNumbers, fromNumbers, sizeOf, type HostTensor } from '../graph/tensor.js';
import { windowGeometry, type Geometry } from './conv.js';
import { inputAt, need, type OpDef, type InferCtx } from './types.js';
import { lowerQMaxPool } from './quant.js';
import { prepareF32Pool, prepareF32GlobalAvgPool } from '../kernels/f32.js';
import { ortGlobalAvg } from './ort-float.js';

function poolGeom(node: Node, dims: number[]): Geometry {
  const ks = attrInts(node, 'kernel_shape');
  need(node, ks && ks.length === dims.length - 2, `kernel_shape must have ${dims.length - 2} values`);
  return windowGeometry(node, dims.slice(2), ks!, { ceil: attrInt(node, 'ceil_mode', 0) === 1, pool: true });
}

/** N-D pooling over logical [N, C, spatial...] (layout 'logical') or channels-last [N, spatial..., C] ('cl'). */
function poolND(node: Node, x: HostTensor, kind: 'max' | 'avg', cl: boolean): HostTensor {
  const r = x.dims.length;
  const logical = cl ? [x.dims[0], x.dims[r - 1], ...x.dims.slice(1, r - 1)] : x.dims;
  const g = poolGeom(node, logical);
  const N = logical[0], C = logical[1], sp = logical.slice(2), nd = sp.length;
  const outSp = g.out;
  const includePad = attrInt(node, 'count_include_pad', 0) === 1;
  const v = x.dtype === 'float32' ? (x.data as Float32Array) : toNumbers(x);
  const outLogical = [N, C, ...outSp];
  const outDims = cl ? [N, ...outSp, C] : outLogical;
  const res = new Float64Array(sizeOf(outDims));
  const spIn = sizeOf(sp), spOut = sizeOf(outSp);
  const inStr = new Array(nd).fill(1);
  for (let i = nd - 2; i >= 0; i--) inStr[i] = inStr[i + 1] * sp[i + 1];
  const o = new Array(nd).fill(0);
  const kIdx = new Array(nd).fill(0);
  const kCount = sizeOf(g.kernel);
  for (let p = 0; p < spOut; p++) {
    // window offsets for output position o
    const offs: number[] = [];
    let padCount = 0;
    for (let k = 0; k < kCount; k++) {
      let rem = k, inside = true, inPadded = true, off = 0;
      for (let a = nd - 1; a >= 0; a--) {
        kIdx[a] = rem % g.kernel[a];
        rem = Math.floor(rem / g.kernel[a]);
      }
      for (let a = 0; a < nd; a++) {
        const i = o[a] * g.strides[a] - g.padsBegin[a] + kIdx[a] * g.dilations[a];
        if (i < 0 || i >= sp[a]) inside = false;
        if (i < -g.padsBegin[a] || i >= sp[a] + g.padsEnd[a]) inPadded = false;
        off += i * inStr[a];
      }
      if (inside) offs.push(off);
      if (inPadded) padCount++;
    }
    const div = includePad ? padCount : offs.length;
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        let acc = kind === 'max' ? -Infinity : 0;
        for (const off of offs) {
          const idx = cl ? (n * spIn + off) * C + c : (n * C + c) * spIn + off;
          const val = v[idx];
          if (kind === 'max') { if (val > acc || Number.isNaN(val)) acc = val; } else acc += val;
        }
        const oi = cl ? (n * spOut + p) * C + c : (n * C + c) * spOut + p;
        res[oi] = kind === 'max' ? acc : div > 0 ? acc / div : 0;
      }
    }
    for (let a = nd - 1; a >= 0; a--) {
      if (++o[a] < outSp[a]) break;
      o[a] = 0;
    }
  }
  if (x.dtype === 'float32') return { dtype: 'float32', dims: outDims, data: Float32Array.from(res) };
  if (kind === 'avg' && x.dtype !== 'float64' && x.dtype !== 'float16') for (let i = 0; i < res.length; i++) res[i] = Math.round(res[i]);
  return fromNumbers(x.dtype, outDims, res);
}

const clIf4 = (ctx: InferCtx) => (inputAt(ctx, 0).dims.length === 4 ? 'native' as const : 'logical' as const);

function poolOp(op: string, kind: 'max' | 'avg'): OpDef {
  return {
    op,
    infer: (ctx) => {
      const x = inputAt(ctx, 0);
      need(ctx.node, x.dims.length >= 3, `input rank ${x.dims.length} must be >= 3`);
      need(ctx.node, ctx.node.outputs.filter((s) => s).length === 1, 'the Indices output is unsupported');
      need(ctx.node, attrInt(ctx.node, 'storage_order', 0) === 0, 'storage_order 1 is unsupported');
      const g = poolGeom(ctx.node, x.dims);
      return [{ dtype: x.dtype, dims: [x.dims[0], x.dims[1], ...g.out] }];
    },
    layout: clIf4,
    eval: (node, [x]) => [poolND(node, x!, kind, false)],
    evalCL: (node, [x]) => [poolND(node, x!, kind, true)],
    lower: (lc) => {
      const x = lc.inputs[0]!;
      if (x.dtype !== 'float32') return kind === 'max' ? lowerQMaxPool(lc) : null;
      if (x.layout !== 'cl' || x.dims.length !== 4) return null;
      const g = poolGeom(lc.node, x.dims);
      const [N, C, H, W] = x.dims;
      const k = prepareF32Pool({ N, H, W, C, KH: g.kernel[0], KW: g.kernel[1], strides: g.strides, dilations: g.dilations,
        pads: [g.padsBegin[0], g.padsBegin[1], g.padsEnd[0], g.padsEnd[1]], kind, ceilMode: attrInt(lc.node, 'ceil_mode', 0) === 1,
        countIncludePad: attrInt(lc.node, 'count_include_pad', 0) === 1, node: lc.node.name }, { path: lc.env.path, arch: lc.env.arch });
      if (k.OH !== g.out[0] || k.OW !== g.out[1]) return null; // geometry rule mismatch: host reference
      return [{ kernel: k, inputs: [x.name], outputs: [lc.outputs[0].name] }];
    },
  };
}

function globalPool(x: HostTensor, kind: 'max' | 'avg', cl: boolean): HostTensor {
  const r = x.dims.length;
  const N = x.dims[0], C = cl ? x.dims[r - 1] : x.dims[1];
  const sp = cl ? sizeOf(x.dims.slice(1, r - 1)) : sizeOf(x.dims.slice(2));
  const v = x.dtype === 'float32' ? (x.data as Float32Array) : toNumbers(x);
  const res = new Float64Array(N * C);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
    let acc = kind === 'max' ? -Infinity : 0;
    for (let i = 0; i < sp; i++) {
      const val = v[cl ? (n * sp + i) * C + c : (n * C + c) * sp + i];
      acc = kind === 'max' ? Math.max(acc, val) : acc + val;
    }
    res[n * C + c] = kind === 'max' ? acc : acc / sp;
  }
  const dims = cl ? [N, ...new Array(r - 2).fill(1), C] : [N, C, ...new Array(r - 2).fill(1)];
  return fromNumbers(x.dtype, dims, res);
}

/** Channels-last float32 GlobalAveragePool in onnxruntime's MLAS order (qdqFusion 'ort', src/ops/ort-float.ts). */
function globalAvgOrtCL(x: HostTensor): HostTensor {
  const r = x.dims.length;
  const N = x.dims[0], C = x.dims[r - 1], sp = sizeOf(x.dims.slice(1, r - 1));
  const v = x.dtype === 'float32' ? (x.data as Float32Array) : Float32Array.from(toNumbers(x));
  const y = makeTensor('float32', [N, ...new Array(r - 2).fill(1), C]);
  const yv = y.data as Float32Array;
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) yv[n * C + c] = ortGlobalAvg(v, n * sp * C + c, C, sp);
  return y;
}

function globalOp(op: string, kind: 'max' | 'avg'): OpDef {
  return {
    op,
    infer: (ctx) => {
      const x = inputAt(ctx, 0);
      need(ctx.node, x.dims.length >= 3, `input rank ${x.dims.length} must be >= 3`);
      return [{ dtype: x.dtype, dims: [x.dims[0], x.dims[1], ...new Array(x.dims.length - 2).fill(1)] }];
    },
    layout: clIf4,
    eval: (_n, [x]) => [globalPool(x!, kind, false)],
    evalCL: (n, [x]) => [n.attrs._ortf32 && kind === 'avg' ? globalAvgOrtCL(x!) : globalPool(x!, kind, true)],
    lower: kind === 'avg' ? (lc) => {
      const x = lc.inputs[0]!;
      if (lc.node.attrs._ortf32) return null;
      if (x.dtype !== 'float32' || x.layout !== 'cl' || x.dims.length !== 4) return null;
      const [N, C, H, W] = x.dims;
      const k = prepareF32GlobalAvgPool({ N, H, W, C, node: lc.node.name }, { path: lc.env.path, arch: lc.env.arch });
      return [{ kernel: k, inputs: [x.name], outputs: [lc.outputs[0].name] }];
    } : undefined,
  };
}

export const POOL_OPS: OpDef[] = [
  poolOp('MaxPool', 'max'),
  poolOp('AveragePool', 'avg'),
  globalOp('GlobalAveragePool', 'avg'),
  globalOp('GlobalMaxPool', 'max'),
];
export { makeTensor };
