// Conv (1-D and 2-D, groups, dilations, pads / auto_pad, fused clamp from the fusion pass), ConvTranspose
// (2-D float32 with constant weights: channels-last on prepareF32ConvTranspose, GEMM + col2im; else host) and BatchNormalization (inference; folded into the preceding Conv or into Mul/Add by the passes).
// Conv runs channels-last: with constant weights it lowers to the FP32 conv kernels (src/kernels/f32.ts:
// prepareF32Conv2d, prepareF32DwConv2d for depthwise); runtime weights and 1-D convs with odd shapes run the host loop.
import type { Node } from '../graph/ir.js';
import { attrFloat, attrInt, attrInts, attrString } from '../graph/ir.js';
import { f32Rows, makeTensor, toNumbers, fromNumbers, sizeOf, type HostTensor } from '../graph/tensor.js';
import { prepareF32Conv2d, prepareF32DwConv2d, prepareF32ConvTranspose } from '../kernels/f32.js';
import type { PreparedKernel } from '../kernels/types.js';
import { fusedClamp } from './matmul.js';
import { ortConv2d } from './ort-float.js';
import { inputAt, need, fail, type OpDef, type LowerCtx, type LoweredStep, type ValueState } from './types.js';

export interface Geometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** begin pads then end pads, per spatial axis. */
  padsBegin: number[];
  padsEnd: number[];
  out: number[];
}

/** Output geometry for conv/pool windows over `spatial` (ONNX rules: auto_pad, ceil_mode). */
export function windowGeometry(node: Node, spatial: number[], kernel: number[], opts: { ceil?: boolean; pool?: boolean } = {}): Geometry {
  const r = spatial.length;
  const strides = attrInts(node, 'strides') ?? new Array(r).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array(r).fill(1);
  need(node, strides.length === r && dilations.length === r && kernel.length === r, `strides/dilations/kernel_shape must have ${r} values`);
  need(node, strides.every((s) => s >= 1) && dilations.every((d) => d >= 1), 'strides and dilations must be >= 1');
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let pads = attrInts(node, 'pads') ?? new Array(2 * r).fill(0);
  need(node, pads.length === 2 * r, `pads has ${pads.length} values, expected ${2 * r}`);
  const padsBegin = pads.slice(0, r), padsEnd = pads.slice(r);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const ek = (kernel[i] - 1) * dilations[i] + 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const o = Math.ceil(spatial[i] / strides[i]);
      const total = Math.max(0, (o - 1) * strides[i] + ek - spatial[i]);
      const small = Math.floor(total / 2);
      padsBegin[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      padsEnd[i] = total - padsBegin[i];
      out.push(o);
    } else {
      if (autoPad === 'VALID') { padsBegin[i] = 0; padsEnd[i] = 0; }
      else need(node, autoPad === 'NOTSET', `unknown auto_pad '${autoPad}'`);
      const span = spatial[i] + padsBegin[i] + padsEnd[i] - ek;
      let o = (opts.ceil ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1;
      if (opts.ceil && (o - 1) * strides[i] >= spatial[i] + padsBegin[i]) o--;
      need(node, o >= 1 || span >= -ek, `window [${kernel}] does not fit input [${spatial}] with pads [${pads}]`);
      out.push(Math.max(o, 0));
    }
  }
  return { kernel, strides, dilations, padsBegin, padsEnd, out };
}

/** 2-D view of a 1-D or 2-D geometry (1-D becomes H = 1). */
export function as2d(g: Geometry) {
  const two = g.kernel.length === 2;
  const pick = (a: number[], d: number) => (two ? a : [d, a[0]]);
  return {
    kh: pick(g.kernel, 1)[0], kw: pick(g.kernel, 1)[1],
    sh: pick(g.strides, 1)[0], sw: pick(g.strides, 1)[1],
    dh: pick(g.dilations, 1)[0], dw: pick(g.dilations, 1)[1],
    pt: pick(g.padsBegin, 0)[0], pl: pick(g.padsBegin, 0)[1],
    pb: pick(g.padsEnd, 0)[0], pr: pick(g.padsEnd, 0)[1],
    oh: pick(g.out, 1)[0], ow: pick(g.out, 1)[1],
  };
}

function convInfo(node: Node, x: number[], w: number[]) {
  need(node, x.length === 3 || x.length === 4, `input rank ${x.length} unsupported (1-D and 2-D convolutions only)`);
  need(node, w.length === x.length, `weights rank ${w.length} does not match input rank ${x.length}`);
  const group = attrInt(node, 'group', 1);
  const C = x[1], OC = w[0];
  need(node, group >= 1 && C % group === 0 && OC % group === 0, `group ${group} does not divide channels ${C} / ${OC}`);
  need(node, w[1] === C / group, `weights [${w}] expect ${w[1] * group} input channels, input has ${C}`);
  const ks = attrInts(node, 'kernel_shape');
  if (ks) need(node, ks.every((k, i) => k === w[2 + i]), `kernel_shape [${ks}] does not match weights [${w}]`);
  const g = windowGeometry(node, x.slice(2), w.slice(2));
  return { group, C, OC, g, N: x[0] };
}

export const conv: OpDef = {
  op: 'Conv',
  infer: (ctx) => {
    const x = inputAt(ctx, 0, 'input X'), w = inputAt(ctx, 1, 'weights W');
    const { OC, g, N } = convInfo(ctx.node, x.dims, w.dims);
    const b = ctx.inputs[2];
    if (b) need(ctx.node, sizeOf(b.dims) === OC, `bias has ${sizeOf(b.dims)} values, expected ${OC}`);
    return [{ dtype: x.dtype, dims: [N, OC, ...g.out] }];
  },
  layout: (ctx) => (ctx.inputs[0] && ctx.inputs[1]?.const && ctx.inputs[0].dtype === 'float32' ? 'native' : 'logical'),
  eval: (node, [x, w, b]) => {
    // Logical NCHW reference: transpose to channels-last, run the CL loop, transpose back.
    const r = x!.dims.length;
    const perm = r === 4 ? [0, 2, 3, 1] : [0, 2, 1];
    const inv = r === 4 ? [0, 3, 1, 2] : [0, 2, 1];
    const xc = transposeF(x!, perm);
    const [y] = convCL(node, [xc, w, b]);
    return [transposeF(y, inv)];
  },
  evalCL: (node, ins) => (node.attrs._ortf32 ? convOrtCL(node, ins) : convCL(node, ins)),
  lower: (lc) => (lc.node.attrs._ortf32 ? null : lowerConv(lc)),
};

/** Channels-last float32 Conv in onnxruntime's MLAS order (qdqFusion 'ort', src/ops/ort-float.ts). */
function convOrtCL(node: Node, [x, w, b]: (HostTensor | undefined)[]): HostTensor[] {
  need(node, x!.dtype === 'float32' && w!.dtype === 'float32', 'onnxruntime-order Conv needs float32 input and weights');
  const r = x!.dims.length;
  const N = x!.dims[0], C = x!.dims[r - 1];
  const H = r === 4 ? x!.dims[1] : 1, W = x!.dims[r - 2];
  const { group, OC, g } = convInfo(node, r === 4 ? [N, C, H, W] : [N, C, W], w!.dims);
  const geo = as2d(g);
  const { oh, ow } = geo;
  const xv = x!.data as Float32Array, wv = w!.data as Float32Array;
  const bv = b ? Float32Array.from(toNumbers(b)) : undefined;
  const { min, max } = fusedClamp(node);
  const outDims = r === 4 ? [N, oh, ow, OC] : [N, ow, OC];
  const y = makeTensor('float32', outDims);
  const yv = y.data as Float32Array;
  const chw = new Float32Array(C * H * W);
  for (let n = 0; n < N; n++) {
    const xo = n * H * W * C;
    for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) chw[c * H * W + p] = xv[xo + p * C + c];
    const o = ortConv2d(chw, wv, bv, { C, H, W, M: OC, group, ...geo }, Number(node.attrs._ortf32) || 1);
    const yo = n * oh * ow * OC, P = oh * ow;
    for (let m = 0; m < OC; m++) for (let p = 0; p < P; p++) {
      const v = o[m * P + p];
      yv[yo + p * OC + m] = v < min ? min : v > max ? max : v;
    }
  }
  return [y];
}

function transposeF(t: HostTensor, perm: number[]): HostTensor {
  // float-only fast path via the generic helper
  return transposeAny(t, perm);
}
import { transposeData as transposeAny } from '../graph/tensor.js';

/** Channels-last direct convolution (host loop). x: [N, (H,) W, C] physical; w: [OC, C/g, (kh,) kw] logical. */
export function convCL(node: Node, [x, w, b]: (HostTensor | undefined)[]): HostTensor[] {
  const r = x!.dims.length;
  const N = x!.dims[0], C = x!.dims[r - 1];
  const H = r === 4 ? x!.dims[1] : 1, W = x!.dims[r - 2];
  const logicalX = r === 4 ? [N, C, H, W] : [N, C, W];
  const { group, OC, g } = convInfo(node, logicalX, w!.dims);
  const { kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = as2d(g);
  const xv = x!.dtype === 'float32' ? (x!.data as Float32Array) : Float32Array.from(toNumbers(x!));
  const wv = w!.dtype === 'float32' ? (w!.data as Float32Array) : Float32Array.from(toNumbers(w!));
  const bv = b ? toNumbers(b) : undefined;
  const cg = C / group, og = OC / group;
  // weights to [OC][ky][kx][cg] for contiguous inner loops
  const wr = new Float32Array(OC * kh * kw * cg);
  for (let o = 0; o < OC; o++) for (let c = 0; c < cg; c++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++)
    wr[((o * kh + ky) * kw + kx) * cg + c] = wv[((o * cg + c) * kh + ky) * kw + kx];
  const outDims = r === 4 ? [N, oh, ow, OC] : [N, ow, OC];
  const y = makeTensor('float32', outDims);
  const yv = y.data as Float32Array;
  const { min, max } = fusedClamp(node);
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const yo = ((n * oh + oy) * ow + ox) * OC;
        for (let o = 0; o < OC; o++) {
          const gi = Math.floor(o / og);
          let s = bv ? bv[o] : 0;
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - pt + ky * dh;
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - pl + kx * dw;
              if (ix < 0 || ix >= W) continue;
              const xo = ((n * H + iy) * W + ix) * C + gi * cg;
              const wo = ((o * kh + ky) * kw + kx) * cg;
              for (let c = 0; c < cg; c++) s += xv[xo + c] * wr[wo + c];
            }
          }
          yv[yo + o] = Math.min(Math.max(s, min), max);
        }
      }
    }
  }
  if (x!.dtype !== 'float32') return [fromNumbers(x!.dtype, outDims, Float64Array.from(yv))];
  return [y];
}

function lowerConv(lc: LowerCtx): LoweredStep[] | null {
  const [x, w, b] = lc.inputs;
  const node = lc.node;
  if (!x || !w?.const || x.dtype !== 'float32' || x.layout !== 'cl' || (b && !b.const)) return null;
  const { group, C, OC, g, N } = convInfo(node, x.dims, w.dims);
  const { kh, kw, sh, sw, dh, dw, pt, pl, pb, pr } = as2d(g);
  const H = x.dims.length === 4 ? x.dims[2] : 1, W = x.dims[x.dims.length - 1];
  const { min, max } = fusedClamp(node);
  const bias = b ? Float32Array.from(toNumbers(b.const!)) : undefined;
  const sel = { path: lc.env.path, arch: lc.env.arch };
  const geo = { N, H, W, C, KH: kh, KW: kw, strides: [sh, sw], pads: [pt, pl, pb, pr], dilations: [dh, dw], node: node.name };
  // read by rows where they lie (a misaligned initializer, a BatchNorm-scaled weight: tensor.ts lazyF32), packed into wasm memory
  const weights = f32Rows(w.const, OC);
  const alloc = lc.env.constAlloc;
  let kernel: PreparedKernel;
  if (group === C && OC === C && group > 1) kernel = prepareF32DwConv2d({ ...geo, weights, bias, min, max, alloc }, sel);
  else kernel = prepareF32Conv2d({ ...geo, Cout: OC, groups: group, weights, bias, min, max, alloc }, sel);
  return [{ kernel, inputs: [x.name], outputs: [lc.outputs[0].name] }];
}

/** 2-D float32 ConvTranspose with constant weights (and bias): the kernel form applies. */
function convTransposeKernelable(ins: (ValueState | undefined)[]): boolean {
  const [x, w, b] = ins;
  return !!x && !x.const && x.dtype === 'float32' && x.dims.length === 4 && !!w?.const && w.dtype === 'float32' && w.dims.length === 4 && (!b || !!b.const);
}

function lowerConvTranspose(lc: LowerCtx): LoweredStep[] | null {
  const [x, w, b] = lc.inputs;
  if (!x || x.layout !== 'cl' || !convTransposeKernelable(lc.inputs)) return null;
  const { outDims, group, strides, dil, padsB } = convTransposeGeom(lc.node, x.dims, w!.dims);
  if (padsB.some((v) => v < 0)) return null;
  const { min, max } = fusedClamp(lc.node);
  const k = prepareF32ConvTranspose({
    N: x.dims[0], C: x.dims[1], H: x.dims[2], W: x.dims[3], OC: outDims[1], OH: outDims[2], OW: outDims[3], KH: w!.dims[2], KW: w!.dims[3],
    strides, dilations: dil, padsBegin: padsB, groups: group, weights: w!.const!.data as Float32Array,
    bias: b ? Float32Array.from(toNumbers(b.const!)) : undefined, min, max, node: lc.node.name,
  }, { path: lc.env.path, arch: lc.env.arch });
  return [{ kernel: k, inputs: [x.name], outputs: [lc.outputs[0].name] }];
}

export const convTranspose: OpDef = {
  op: 'ConvTranspose',
  infer: (ctx) => {
    const x = inputAt(ctx, 0), w = inputAt(ctx, 1);
    return [{ dtype: x.dtype, dims: convTransposeGeom(ctx.node, x.dims, w.dims).outDims }];
  },
  layout: (ctx) => (convTransposeKernelable(ctx.inputs) ? 'native' : 'logical'),
  // channels-last host fallback: NHWC -> NCHW, the reference, back
  evalCL: (node, [x, w, b], opset) => {
    const [y] = convTranspose.eval!(node, [transposeAny(x!, [0, 3, 1, 2]), w, b], opset);
    return [transposeAny(y, [0, 2, 3, 1])];
  },
  lower: lowerConvTranspose,
  eval: (node, [x, w, b]) => {
    const { outDims, group, strides, dil, padsB } = convTransposeGeom(node, x!.dims, w!.dims);
    const r = x!.dims.length - 2;
    const N = x!.dims[0], C = x!.dims[1], OC = outDims[1];
    const inS = x!.dims.slice(2), outS = outDims.slice(2), kS = w!.dims.slice(2);
    const H = r === 2 ? inS[0] : 1, W = inS[r - 1], OH = r === 2 ? outS[0] : 1, OW = outS[r - 1];
    const KH = r === 2 ? kS[0] : 1, KW = kS[r - 1];
    const SH = r === 2 ? strides[0] : 1, SW = strides[r - 1], DH = r === 2 ? dil[0] : 1, DW = dil[r - 1];
    const PT = r === 2 ? padsB[0] : 0, PL = padsB[r - 1];
    const xv = toNumbers(x!), wv = toNumbers(w!);
    const y = new Float64Array(sizeOf(outDims));
    const cg = C / group, og = OC / group;
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
      const gi = Math.floor(c / cg);
      for (let iy = 0; iy < H; iy++) for (let ix = 0; ix < W; ix++) {
        const xval = xv[((n * C + c) * H + iy) * W + ix];
        for (let oc = 0; oc < og; oc++) {
          const o = gi * og + oc;
          for (let ky = 0; ky < KH; ky++) {
            const oy = iy * SH - PT + ky * DH;
            if (oy < 0 || oy >= OH) continue;
            for (let kx = 0; kx < KW; kx++) {
              const ox = ix * SW - PL + kx * DW;
              if (ox < 0 || ox >= OW) continue;
              y[((n * OC + o) * OH + oy) * OW + ox] += xval * wv[((c * og + oc) * KH + ky) * KW + kx];
            }
          }
        }
      }
    }
    if (b) {
      const bv = toNumbers(b);
      const sp = OH * OW;
      for (let n = 0; n < N; n++) for (let o = 0; o < OC; o++) for (let i = 0; i < sp; i++) y[(n * OC + o) * sp + i] += bv[o];
    }
    const { min, max } = fusedClamp(node);
    if (min > -Infinity || max < Infinity) for (let i = 0; i < y.length; i++) y[i] = Math.min(Math.max(y[i], min), max);
    return [fromNumbers(x!.dtype, outDims, y)];
  },
};

function convTransposeGeom(node: Node, x: number[], w: number[]) {
  need(node, x.length === 3 || x.length === 4, `input rank ${x.length} unsupported (1-D and 2-D only)`);
  const r = x.length - 2;
  const group = attrInt(node, 'group', 1);
  need(node, w[0] === x[1], `weights [${w}] expect ${w[0]} input channels, input has ${x[1]}`);
  const OC = w[1] * group;
  const strides = attrInts(node, 'strides') ?? new Array(r).fill(1);
  const dil = attrInts(node, 'dilations') ?? new Array(r).fill(1);
  const outPad = attrInts(node, 'output_padding') ?? new Array(r).fill(0);
  let pads = attrInts(node, 'pads') ?? new Array(2 * r).fill(0);
  const outShape = attrInts(node, 'output_shape');
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  const out: number[] = [];
  const padsB = pads.slice(0, r), padsE = pads.slice(r);
  for (let i = 0; i < r; i++) {
    const ek = (w[2 + i] - 1) * dil[i] + 1;
    const full = strides[i] * (x[2 + i] - 1) + outPad[i] + ek;
    if (outShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const target = outShape ? outShape[outShape.length - r + i] : x[2 + i] * strides[i];
      // onnxruntime clamps the total padding at 0: an output larger than the taps reach is extended at the end
      const total = Math.max(0, full - target);
      padsB[i] = autoPad === 'SAME_UPPER' || (outShape && autoPad !== 'SAME_LOWER') ? Math.floor(total / 2) : total - Math.floor(total / 2);
      padsE[i] = total - padsB[i];
      out.push(target);
    } else out.push(full - padsB[i] - padsE[i]);
  }
  return { outDims: [x[0], OC, ...out], group, strides, dil, padsB };
}

export const batchNorm: OpDef = {
  op: 'BatchNormalization',
  infer: (ctx) => {
    const x = inputAt(ctx, 0);
    need(ctx.node, attrInt(ctx.node, 'training_mode', 0) === 0 && ctx.node.outputs.filter((o) => o).length === 1,
      'training mode (batch statistics, extra outputs) is unsupported: inference only');
    return [{ dtype: x.dtype, dims: x.dims.slice() }];
  },
  eval: (node, [x, s, b, m, v]) => {
    const eps = attrFloat(node, 'epsilon', 1e-5);
    const C = x!.dims[1] ?? 1;
    const inner = sizeOf(x!.dims.slice(2));
    const xv = toNumbers(x!), sv = toNumbers(s!), bv = toNumbers(b!), mv = toNumbers(m!), vv = toNumbers(v!);
    const y = new Float64Array(xv.length);
    for (let i = 0; i < xv.length; i++) {
      const c = Math.floor(i / inner) % C;
      y[i] = ((xv[i] - mv[c]) / Math.sqrt(vv[c] + eps)) * sv[c] + bv[c];
    }
    return [fromNumbers(x!.dtype, x!.dims, y)];
  },
};

/** BatchNormalization as per-channel scale and shift (float64), for the folding passes. */
export function bnScaleShift(node: Node, s: HostTensor, b: HostTensor, m: HostTensor, v: HostTensor): { scale: Float64Array; shift: Float64Array } {
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const sv = toNumbers(s), bv = toNumbers(b), mv = toNumbers(m), vv = toNumbers(v);
  const scale = new Float64Array(sv.length), shift = new Float64Array(sv.length);
  for (let c = 0; c < sv.length; c++) {
    scale[c] = sv[c] / Math.sqrt(Math.fround(vv[c] + eps));
    shift[c] = bv[c] - mv[c] * scale[c];
  }
  return { scale, shift };
}

export const CONV_OPS: OpDef[] = [conv, convTranspose, batchNorm];
export { fail };
