// Resize (opsets 10..19: nearest / linear / cubic, every coordinate_transformation_mode, antialias, axes,
// keep_aspect_ratio_policy, tf_crop_and_resize extrapolation) and Upsample (opset 7..9). The host reference is
// separable: one 1-D pass per resized axis, innermost first (the order of ONNX's reference implementation).
// 4-D float32 / int8 / uint8 inputs resized over H and W only, mode nearest or linear (no antialias, no
// exclude_outside, not tf_crop_and_resize) run channels-last on the resize kernels (src/kernels/resize.ts) with
// onnxruntime's float32 coordinates: nearest indices (nearestTaps), linear taps and blend order (linearTaps); the
// host reference (float64, separable) matches them within float rounding. Integer outputs of
// linear and cubic modes are truncated toward zero, as onnxruntime's cast and the ONNX reference's astype do.
import type { Node } from '../graph/ir.js';
import { attrFloat, attrInt, attrInts, attrString } from '../graph/ir.js';
import { toNumbers, fromNumbers, normAxis, isFloat, type HostTensor } from '../graph/tensor.js';
import { transposeData } from '../graph/tensor.js';
import { prepareResize, linearTaps, nearestTaps, type LinearTap } from '../kernels/resize.js';
import { inputAt, constInput, need, fail, type OpDef, type InferCtx, type LowerCtx, type LoweredStep, type ValueState } from './types.js';

interface Plan { outDims: number[]; scales: number[]; roi?: number[] }

function resizePlan(node: Node, opset: number, dims: number[], roiT?: HostTensor, scalesT?: HostTensor, sizesT?: HostTensor): Plan {
  const r = dims.length;
  const axesAttr = opset >= 18 ? attrInts(node, 'axes') : undefined;
  const axes = axesAttr ? axesAttr.map((a) => normAxis(a, r, `node '${node.name}' (${node.op})`)) : dims.map((_, i) => i);
  const scales = new Array(r).fill(1);
  const outDims = dims.slice();
  if (sizesT && sizesT.data.length > 0) {
    const sizes = toNumbers(sizesT);
    need(node, sizes.length === axes.length, `sizes has ${sizes.length} values, expected ${axes.length}`);
    const policy = attrString(node, 'keep_aspect_ratio_policy', 'stretch');
    if (policy === 'stretch') {
      axes.forEach((a, i) => { outDims[a] = sizes[i]; scales[a] = sizes[i] / dims[a]; });
    } else {
      const ratios = axes.map((a, i) => sizes[i] / dims[a]);
      const s = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      axes.forEach((a) => {
        const v = s * dims[a];
        const fl = Math.floor(v);
        outDims[a] = v - fl === 0.5 ? (fl % 2 === 0 ? fl : fl + 1) : Math.round(v);
        scales[a] = s;
      });
    }
  } else if (scalesT && scalesT.data.length > 0) {
    const sc = toNumbers(scalesT);
    need(node, sc.length === axes.length, `scales has ${sc.length} values, expected ${axes.length}`);
    axes.forEach((a, i) => {
      need(node, sc[i] > 0, `scale ${sc[i]} must be > 0`);
      scales[a] = sc[i];
      outDims[a] = Math.floor(dims[a] * sc[i] + 1e-7 * 0);
    });
  } else fail(node, 'needs scales or sizes');
  let roi: number[] | undefined;
  if (roiT && roiT.data.length > 0) {
    const rv = Array.from(toNumbers(roiT));
    roi = new Array(2 * r);
    for (let i = 0; i < r; i++) { roi[i] = 0; roi[i + r] = 1; }
    if (rv.length === 2 * axes.length) axes.forEach((a, i) => { roi![a] = rv[i]; roi![a + r] = rv[i + axes.length]; });
  }
  return { outDims, scales, roi };
}

function inputsOf(ctx: { opset: number; op: string }, ins: (HostTensor | undefined)[]): [HostTensor | undefined, HostTensor | undefined, HostTensor | undefined] {
  if (ctx.op === 'Upsample' || ctx.opset < 11) return [undefined, ins[1], undefined];
  return [ins[1], ins[2], ins[3]];
}

interface Tap { idx: number[]; w: number[]; outside: boolean }

function axisTaps(node: Node, L: number, O: number, scale: number, roiS: number, roiE: number, upsample: boolean): Tap[] {
  const mode = upsample ? attrString(node, 'mode', 'nearest') : attrString(node, 'mode', 'nearest');
  const ctm = upsample ? 'asymmetric' : attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  const nearestMode = attrString(node, 'nearest_mode', 'round_prefer_floor');
  const A = attrFloat(node, 'cubic_coeff_a', -0.75);
  const exclude = attrInt(node, 'exclude_outside', 0) === 1;
  const antialias = attrInt(node, 'antialias', 0) === 1;
  const taps: Tap[] = [];
  for (let x = 0; x < O; x++) {
    let xo: number;
    switch (ctm) {
      case 'half_pixel': xo = (x + 0.5) / scale - 0.5; break;
      case 'half_pixel_symmetric': {
        const adj = O / (scale * L);
        const center = L / 2;
        xo = center * (1 - adj) + (x + 0.5) / scale - 0.5;
        break;
      }
      case 'pytorch_half_pixel': xo = O > 1 ? (x + 0.5) / scale - 0.5 : 0; break;
      case 'align_corners': xo = O === 1 ? 0 : (x * (L - 1)) / (O - 1); break;
      case 'asymmetric': xo = x / scale; break;
      case 'tf_crop_and_resize':
        xo = O > 1 ? roiS * (L - 1) + (x * (roiE - roiS) * (L - 1)) / (O - 1) : 0.5 * (roiS + roiE) * (L - 1);
        break;
      default: fail(node, `unsupported coordinate_transformation_mode '${ctm}'`);
    }
    if (ctm === 'tf_crop_and_resize' && (xo < 0 || xo > L - 1)) {
      taps.push({ idx: [], w: [], outside: true });
      continue;
    }
    if (mode === 'nearest') {
      let i: number;
      const fl = Math.floor(xo);
      switch (nearestMode) {
        case 'round_prefer_floor': i = xo - fl === 0.5 ? fl : Math.round(xo); break;
        case 'round_prefer_ceil': i = xo - fl === 0.5 ? fl + 1 : Math.round(xo); break;
        case 'floor': i = fl; break;
        case 'ceil': i = Math.ceil(xo); break;
        default: fail(node, `unsupported nearest_mode '${nearestMode}'`);
      }
      taps.push({ idx: [Math.min(Math.max(i, 0), L - 1)], w: [1], outside: false });
      continue;
    }
    const cubic = mode === 'cubic';
    need(node, cubic || mode === 'linear' || mode === 'bilinear', `unsupported mode '${mode}'`);
    const s = antialias ? Math.min(scale, 1) : 1;
    const fl = Math.floor(xo);
    const ratio = xo - fl;
    const start = cubic ? Math.floor(-2 / s) + 1 : Math.floor(-1 / s) + 1;
    const end = (cubic ? 2 : 1) - start + 1; // exclusive: linear footprint 2-2*start, cubic 4-2*start
    const idx: number[] = [], w: number[] = [];
    for (let i = start; i < end; i++) {
      const t = Math.abs((i - ratio) * s);
      let c: number;
      if (cubic) c = t <= 1 ? (A + 2) * t ** 3 - (A + 3) * t * t + 1 : t < 2 ? A * t ** 3 - 5 * A * t * t + 8 * A * t - 4 * A : 0;
      else c = Math.max(0, 1 - t);
      const j = fl + i;
      if (exclude && (j < 0 || j >= L)) c = 0;
      idx.push(Math.min(Math.max(j, 0), L - 1));
      w.push(c);
    }
    const sum = w.reduce((a, b) => a + b, 0);
    if (antialias || exclude) for (let i = 0; i < w.length; i++) w[i] /= sum;
    taps.push({ idx, w, outside: false });
  }
  return taps;
}

function resizeEval(node: Node, ins: (HostTensor | undefined)[], opset: number): HostTensor {
  const x = ins[0]!;
  const upsample = node.op === 'Upsample';
  let plan: Plan;
  if (upsample && opset < 9) {
    const sc = attrInts(node, 'scales') ?? fail(node, 'needs scales');
    plan = resizePlan(node, 11, x.dims, undefined, { dtype: 'float32', dims: [sc.length], data: Float32Array.from(sc) });
  } else {
    const [roi, sc, sz] = inputsOf({ opset, op: node.op }, ins);
    plan = resizePlan(node, opset, x.dims, roi, sc, sz);
  }
  const r = x.dims.length;
  const extrap = attrFloat(node, 'extrapolation_value', 0);
  let cur = toNumbers(x);
  let dims = x.dims.slice();
  for (let a = r - 1; a >= 0; a--) {
    if (plan.outDims[a] === dims[a] && plan.scales[a] === 1 && !plan.roi) continue;
    const L = dims[a], O = plan.outDims[a];
    const taps = axisTaps(node, L, O, plan.scales[a], plan.roi ? plan.roi[a] : 0, plan.roi ? plan.roi[a + r] : 1, upsample);
    const outer = dims.slice(0, a).reduce((p, d) => p * d, 1);
    const inner = dims.slice(a + 1).reduce((p, d) => p * d, 1);
    const next = new Float64Array(outer * O * inner);
    for (let o = 0; o < outer; o++) {
      for (let y = 0; y < O; y++) {
        const t = taps[y];
        const dst = (o * O + y) * inner;
        if (t.outside) { next.fill(extrap, dst, dst + inner); continue; }
        for (let k = 0; k < t.idx.length; k++) {
          const wk = t.w[k];
          if (wk === 0) continue;
          const src = (o * L + t.idx[k]) * inner;
          for (let i = 0; i < inner; i++) next[dst + i] += wk * cur[src + i];
        }
      }
    }
    cur = next;
    dims[a] = O;
  }
  if (!isFloat(x.dtype)) for (let i = 0; i < cur.length; i++) cur[i] = Math.trunc(cur[i]);
  return fromNumbers(x.dtype, dims, cur);
}

function inferResize(ctx: InferCtx): { dtype: HostTensor['dtype']; dims: number[] }[] {
  const x = inputAt(ctx, 0);
  const node = ctx.node;
  if (node.op === 'Upsample' && ctx.opset < 9) {
    const sc = attrInts(node, 'scales') ?? fail(node, 'needs scales');
    return [{ dtype: x.dtype, dims: x.dims.map((d, i) => Math.floor(d * sc[i])) }];
  }
  const consts = ctx.inputs.map((v, i) => (i === 0 || !v ? undefined : constInput(ctx, i, 'roi/scales/sizes')));
  const [roi, sc, sz] = inputsOf({ opset: ctx.opset, op: node.op }, consts);
  return [{ dtype: x.dtype, dims: resizePlan(node, ctx.opset, x.dims, roi, sc, sz).outDims }];
}

interface KernelPlan {
  mode: 'nearest' | 'linear';
  outH: number;
  outW: number;
  yTaps: Tap[];
  xTaps: Tap[];
}

/** The kernel form of a Resize node on a 4-D input [N, C, H, W], or null when the host reference must run it. */
function kernelPlan(node: Node, opset: number, x: ValueState | undefined, ins: (ValueState | undefined)[]): KernelPlan | null {
  if (!x || x.dims.length !== 4 || !['float32', 'int8', 'uint8'].includes(x.dtype)) return null;
  if (ins.some((v, i) => i > 0 && v && !v.const)) return null;
  const upsample = node.op === 'Upsample';
  const mode = attrString(node, 'mode', 'nearest');
  const kmode = mode === 'nearest' ? 'nearest' : mode === 'linear' || mode === 'bilinear' ? 'linear' : null;
  if (!kmode) return null;
  if (!upsample) {
    const ctm = attrString(node, 'coordinate_transformation_mode', 'half_pixel');
    if (!['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric'].includes(ctm)
      && !(kmode === 'nearest' && ctm === 'tf_half_pixel_for_nn')) return null;
    if (attrInt(node, 'antialias', 0) !== 0 || attrInt(node, 'exclude_outside', 0) !== 0) return null;
    if (kmode === 'nearest' && !['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'].includes(attrString(node, 'nearest_mode', 'round_prefer_floor'))) return null;
  }
  let plan: Plan;
  try {
    if (upsample && opset < 9) {
      const sc = attrInts(node, 'scales');
      if (!sc) return null;
      plan = resizePlan(node, 11, x.dims, undefined, { dtype: 'float32', dims: [sc.length], data: Float32Array.from(sc) });
    } else {
      const [roi, sc, sz] = inputsOf({ opset, op: node.op }, ins.map((v) => v?.const));
      plan = resizePlan(node, opset, x.dims, roi, sc, sz);
    }
  } catch {
    return null;
  }
  const d = x.dims;
  if (plan.outDims[0] !== d[0] || plan.outDims[1] !== d[1] || plan.scales[0] !== 1 || plan.scales[1] !== 1) return null;
  if (plan.outDims[2] < 1 || plan.outDims[3] < 1) return null;
  // Upsample and Resize before opset 11 have no coordinate_transformation_mode / nearest_mode: asymmetric, and
  // onnxruntime's legacy nearest rounding (truncation when upsampling an axis, ceil when downsampling it)
  const legacy = upsample || opset < 11;
  const ctm = legacy ? 'asymmetric' : attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  if (kmode === 'linear') {
    const lt = (a: number): Tap[] => linearTaps(d[a], plan.outDims[a], plan.scales[a], ctm as any)
      .map((t) => ({ idx: [t.i0, t.i1], w: [t.w0, t.w1], outside: false }));
    return { mode: kmode, outH: plan.outDims[2], outW: plan.outDims[3], yTaps: lt(2), xTaps: lt(3) };
  }
  // nearest: onnxruntime's float32 coordinates and rounding
  const nm = (a: number) => (legacy ? (plan.scales[a] < 1 ? 'ceil' : 'floor') : attrString(node, 'nearest_mode', 'round_prefer_floor'));
  const nt = (a: number): Tap[] => Array.from(nearestTaps(d[a], plan.outDims[a], plan.scales[a], ctm as any, nm(a) as any).subarray(0, plan.outDims[a]),
    (i) => ({ idx: [i], w: [1], outside: false }));
  return { mode: kmode, outH: plan.outDims[2], outW: plan.outDims[3], yTaps: nt(2), xTaps: nt(3) };
}

function linearOf(t: Tap): LinearTap {
  if (t.idx.length === 1) return { i0: t.idx[0], i1: t.idx[0], w0: t.w[0], w1: 0 };
  return { i0: t.idx[0], i1: t.idx[1], w0: t.w[0], w1: t.w[1] };
}

function lowerResize(lc: LowerCtx): LoweredStep[] | null {
  const x = lc.inputs[0];
  if (!x || x.const || x.layout !== 'cl') return null;
  const kp = kernelPlan(lc.node, lc.opset, x, lc.inputs);
  if (!kp) return null;
  const [N, C, H, W] = x.dims;
  const nearest = kp.mode === 'nearest';
  const k = prepareResize({
    dtype: x.dtype as 'float32' | 'int8' | 'uint8', shape: [N, H, W, C], outH: kp.outH, outW: kp.outW, mode: kp.mode,
    yMap: nearest ? Int32Array.from(kp.yTaps, (t) => t.idx[0]) : undefined,
    xMap: nearest ? Int32Array.from(kp.xTaps, (t) => t.idx[0]) : undefined,
    yTaps: nearest ? undefined : kp.yTaps.map(linearOf),
    xTaps: nearest ? undefined : kp.xTaps.map(linearOf),
    name: lc.node.name,
  }, { path: lc.env.path, arch: lc.env.arch });
  return [{ kernel: k, inputs: [x.name], outputs: [lc.outputs[0].name] }];
}

function resizeOp(op: string): OpDef {
  return {
    op,
    infer: inferResize,
    eval: (n, i, o) => [resizeEval(n, i, o)],
    layout: (ctx) => (ctx.inputs[0] && !ctx.inputs[0].const && kernelPlan(ctx.node, ctx.opset, ctx.inputs[0], ctx.inputs) ? 'native' : 'logical'),
    // channels-last host fallback (the kernel declined at lowering time): NHWC -> NCHW, reference, back
    evalCL: (n, ins, o) => {
      const x = ins[0]!;
      const y = resizeEval(n, [transposeData(x, [0, 3, 1, 2]), ...ins.slice(1)], o);
      return [transposeData(y, [0, 2, 3, 1])];
    },
    lower: lowerResize,
  };
}

export const RESIZE_OPS: OpDef[] = [resizeOp('Resize'), resizeOp('Upsample')];
