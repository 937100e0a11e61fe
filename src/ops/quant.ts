// Quantized operators: QuantizeLinear, DequantizeLinear (per-tensor, per-axis, blocked), DynamicQuantizeLinear,
// QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger, and com.microsoft QLinearAdd, QLinearMul,
// QLinearGlobalAveragePool, QLinearAveragePool, QLinearConcat, QLinearSigmoid, QLinearLeakyRelu, plus the
// internal _QLut (other activations) the QDQ pass emits. Host references follow the ONNX definitions with the
// session's requantization mode ('float' = ONNX/onnxruntime: f32(acc) * f32(sx*sw/sy), round half to even;
// 'fixed-point' = gemmlowp); lowerings use the INT8 kernels (qgemm, eltwise, pool) where they apply.
// Fused activations arrive as float clamps (_min/_max attributes, from the fusion and QDQ passes).
import type { Node } from '../graph/ir.js';
import { attrFloat, attrInt } from '../graph/ir.js';
import { makeTensor, weightBytes, toNumbers, fromNumbers, sizeOf, normAxis, broadcastShapes, broadcastIndex, strides, type HostTensor, type DType } from '../graph/tensor.js';
import { fixedPointMultipliers, requantScales, outputRange, roundHalfEven, type RequantMode, type QuantType } from '../kernels/requant.js';
import { prepareQGemm } from '../kernels/qgemm.js';
import { prepareQConv2d, prepareQConv2dRuntimeZp, ZP_CORRECT } from '../kernels/qconv.js';
import { prepareQDwConv2d } from '../kernels/dwconv.js';
import type { PreparedKernel, KernelIO } from '../kernels/types.js';
import type { WasmKernels } from '../runtime/wasm.js';
import { prepareQAdd, prepareQMul, prepareQLut, prepareQConcat, prepareQuantize, prepareDequantize, prepareDynamicQuantize, buildLut, lutFunction, ortAddOuter, qaddFixed, type LutKind, type QBinaryParams } from '../kernels/eltwise.js';
import { fma32, qaddOut } from '../kernels/qcommon.js';
import { prepareQGlobalAvgPool, prepareQAvgPool, prepareQMaxPool, gavgScale } from '../kernels/pool.js';
import { windowGeometry, as2d } from './conv.js';
import { matmulNumbers, fusedClamp } from './matmul.js';
import { concatEval } from './shape.js';
import { inputAt, need, fail, physDims, type OpDef, type LowerCtx, type LoweredStep, type InferCtx, type KernelEnv } from './types.js';

/** Requantization mode of a node's host reference: the executor stamps the session's mode as `_requant`. */
function modeOf(node: Node): RequantMode {
  return node.attrs._requant === 'fixed-point' ? 'fixed-point' : 'float';
}

function srdhm(a: number, b: number): number {
  if (a === -2147483648 && b === -2147483648) return 2147483647;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n));
}
function rdbpot(x: number, e: number): number {
  if (e === 0) return x;
  const mask = 2 ** e - 1;
  const rem = Number(BigInt(x) & BigInt(mask));
  const thr = Math.floor(mask / 2) + (x < 0 ? 1 : 0);
  return Math.floor(x / 2 ** e) + (rem > thr ? 1 : 0);
}

/** Requantizes int32 accumulators per channel: acc[i] uses channel ch(i). */
export function requantize(acc: Float64Array | Int32Array, chOf: (i: number) => number, reals: Float64Array, mode: RequantMode,
  zp: number, qmin: number, qmax: number): Float64Array {
  const out = new Float64Array(acc.length);
  if (mode === 'float') {
    const sc = Float32Array.from(reals);
    for (let i = 0; i < acc.length; i++) {
      const v = roundHalfEven(Math.fround(Math.fround(acc[i]) * sc[chOf(i)])) + zp;
      out[i] = Math.min(Math.max(v, qmin), qmax);
    }
    return out;
  }
  const qm = fixedPointMultipliers(reals);
  for (let i = 0; i < acc.length; i++) {
    const { multiplier, shift } = qm[chOf(i)];
    const l = Math.max(shift, 0), r = Math.max(-shift, 0);
    let x = acc[i];
    const lim = 2 ** (31 - l);
    x = Math.min(Math.max(x, -lim), lim - 1) * 2 ** l;
    const v = rdbpot(srdhm(x, multiplier), r) + zp;
    out[i] = Math.min(Math.max(v, qmin), qmax);
  }
  return out;
}

function vals(t: HostTensor | undefined, dflt = 0): number[] {
  return t && t.data.length ? Array.from(toNumbers(t)) : [dflt];
}
function qtypeOf(t: HostTensor | undefined, dflt: DType): DType {
  return t ? t.dtype : dflt;
}
function qrange(t: DType): [number, number] {
  switch (t) {
    case 'int8': return [-128, 127];
    case 'uint8': return [0, 255];
    case 'int16': return [-32768, 32767];
    case 'uint16': return [0, 65535];
    case 'int32': return [-2147483648, 2147483647];
    default: return [-Infinity, Infinity];
  }
}

/** Per-element index into scale/zero-point tensors for per-tensor, per-axis and blocked quantization. */
function paramIndex(node: Node, dims: number[], s: HostTensor): (i: number) => number {
  if (s.data.length === 1) return () => 0;
  const r = dims.length;
  const axis = normAxis(attrInt(node, 'axis', 1), r, `node '${node.name}' (${node.op})`);
  const block = attrInt(node, 'block_size', 0);
  const st = strides(dims);
  if (block > 0) {
    need(node, s.dims.length === r, `blocked scale must have rank ${r}`);
    const sst = strides(s.dims);
    return (i) => {
      let o = 0, rem = i;
      for (let a = 0; a < r; a++) {
        let idx = Math.floor(rem / st[a]);
        rem -= idx * st[a];
        if (a === axis) idx = Math.floor(idx / block);
        o += idx * sst[a];
      }
      return o;
    };
  }
  need(node, s.data.length === dims[axis], `${s.data.length} scales for axis ${axis} of size ${dims[axis]}`);
  const inner = st[axis], d = dims[axis];
  return (i) => Math.floor(i / inner) % d;
}

/** QuantizeLinear's output type: the zero point's, else the output_dtype attribute (ONNX TensorProto codes), else uint8. */
function quantizeOutType(node: Node, z: { dtype: DType } | undefined): DType {
  if (z) return z.dtype;
  if (!node.attrs.output_dtype) return 'uint8';
  const code = attrInt(node, 'output_dtype', 2);
  const t = ({ 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16' } as Record<number, DType>)[code];
  if (!t) fail(node, `output_dtype ${code} is not a quantized type this runtime supports (2 uint8, 3 int8, 4 uint16, 5 int16)`);
  return t;
}

function quantizeEval(node: Node, [x, s, z]: (HostTensor | undefined)[]): HostTensor {
  const outT = quantizeOutType(node, z);
  const [lo, hi] = qrange(outT);
  const xv = toNumbers(x!), sv = toNumbers(s!), zv = z ? toNumbers(z) : new Float64Array(sv.length);
  const idx = paramIndex(node, x!.dims, s!);
  const res = new Float64Array(xv.length);
  const f32 = x!.dtype === 'float32';
  for (let i = 0; i < xv.length; i++) {
    const k = idx(i);
    const q = f32 ? Math.fround(xv[i] / Math.fround(sv[k])) : xv[i] / sv[k];
    res[i] = Math.min(Math.max(roundHalfEven(q) + zv[k], lo), hi);
  }
  return fromNumbers(outT, x!.dims, res);
}

function dequantizeEval(node: Node, [x, s, z]: (HostTensor | undefined)[]): HostTensor {
  const xv = toNumbers(x!), sv = toNumbers(s!), zv = z ? toNumbers(z) : new Float64Array(sv.length);
  const idx = paramIndex(node, x!.dims, s!);
  const res = new Float64Array(xv.length);
  const outT: DType = s!.dtype === 'float16' ? 'float16' : 'float32';
  for (let i = 0; i < xv.length; i++) {
    const k = idx(i);
    res[i] = x!.dtype === 'int32' ? Math.fround((xv[i] - zv[k]) * sv[k]) : Math.fround(Math.fround(xv[i] - zv[k]) * Math.fround(sv[k]));
  }
  return fromNumbers(outT, x!.dims, res);
}

const target = (env: KernelEnv) => ({ path: env.path, arch: env.arch });
const isQ8 = (t: DType): t is QuantType => t === 'int8' || t === 'uint8';
const allConst = (lc: { inputs: LowerCtx['inputs'] }, idx: number[]) => idx.every((i) => !lc.inputs[i] || lc.inputs[i]!.const);
const cval = (lc: LowerCtx, i: number, d = 0) => vals(lc.inputs[i]?.const, d);

const quantizeLinear: OpDef = {
  op: 'QuantizeLinear',
  infer: (ctx) => {
    const z = ctx.inputs[2];
    const t = quantizeOutType(ctx.node, z);
    return [{ dtype: t, dims: inputAt(ctx, 0).dims.slice() }];
  },
  eval: (node, ins) => [quantizeEval(node, ins)],
  layout: (ctx) => (attrInt(ctx.node, 'block_size', 0) ? 'logical' : 'transparent'),
  clAxisAttrs: ['axis'],
  clDefaultAxis: 1,
  clConsts: 'keep',
  lower: (lc) => {
    const y = lc.outputs[0], x = lc.inputs[0]!;
    if (!isQ8(y.dtype) || x.dtype !== 'float32' || !allConst(lc, [1, 2]) || attrInt(lc.node, 'block_size', 0)) return null;
    const sc = cval(lc, 1), zp = cval(lc, 2);
    const shape = physDims(x);
    const k = prepareQuantize({ dtype: y.dtype, shape, axis: sc.length > 1 ? normAxis(attrInt(lc.node, 'axis', 1), shape.length, lc.node.name) : undefined,
      scale: sc.length > 1 ? sc : sc[0], zeroPoint: zp.length > 1 ? zp : zp[0], name: lc.node.name }, target(lc.env));
    return [{ kernel: k, inputs: [x.name], outputs: [y.name] }];
  },
};

const dequantizeLinear: OpDef = {
  op: 'DequantizeLinear',
  infer: (ctx) => [{ dtype: ctx.inputs[1]?.dtype === 'float16' ? 'float16' : 'float32', dims: inputAt(ctx, 0).dims.slice() }],
  eval: (node, ins) => [dequantizeEval(node, ins)],
  noFold: true, // the QDQ pass needs weight DQ nodes; leftovers are folded after it
  layout: (ctx) => (attrInt(ctx.node, 'block_size', 0) ? 'logical' : 'transparent'),
  clAxisAttrs: ['axis'],
  clDefaultAxis: 1,
  clConsts: 'keep',
  lower: (lc) => {
    const x = lc.inputs[0]!;
    if (!isQ8(x.dtype) || x.const || lc.outputs[0].dtype !== 'float32' || !allConst(lc, [1, 2]) || attrInt(lc.node, 'block_size', 0)) return null;
    const sc = cval(lc, 1), zp = cval(lc, 2);
    const shape = physDims(x);
    const k = prepareDequantize({ dtype: x.dtype, shape, axis: sc.length > 1 ? normAxis(attrInt(lc.node, 'axis', 1), shape.length, lc.node.name) : undefined,
      scale: sc.length > 1 ? sc : sc[0], zeroPoint: zp.length > 1 ? zp : zp[0], name: lc.node.name }, target(lc.env));
    return [{ kernel: k, inputs: [x.name], outputs: [lc.outputs[0].name] }];
  },
};

const dynamicQuantizeLinear: OpDef = {
  op: 'DynamicQuantizeLinear',
  infer: (ctx) => [
    { dtype: 'uint8', dims: inputAt(ctx, 0).dims.slice() },
    { dtype: 'float32', dims: [] },
    { dtype: 'uint8', dims: [] },
  ],
  eval: (_node, [x]) => {
    const v = toNumbers(x!);
    let mn = 0, mx = 0;
    for (let i = 0; i < v.length; i++) { if (v[i] < mn) mn = v[i]; if (v[i] > mx) mx = v[i]; }
    const scale = Math.fround(Math.fround(mx - mn) / 255);
    const zp = scale === 0 ? 0 : Math.min(Math.max(roundHalfEven(Math.fround(0 - Math.fround(mn / scale))), 0), 255);
    const y = new Float64Array(v.length);
    for (let i = 0; i < v.length; i++) y[i] = scale === 0 ? zp : Math.min(Math.max(roundHalfEven(Math.fround(v[i] / scale)) + zp, 0), 255);
    return [fromNumbers('uint8', x!.dims, y), { dtype: 'float32', dims: [], data: Float32Array.of(scale) }, { dtype: 'uint8', dims: [], data: Uint8Array.of(zp) }];
  },
  // element-wise with global min / max: any physical layout (the scalar outputs stay logical)
  layout: () => 'transparent',
  lower: (lc) => {
    const x = lc.inputs[0];
    if (!x || x.const || x.dtype !== 'float32' || lc.outputs.length !== 3 || lc.node.outputs.length !== 3 || lc.node.outputs.some((o) => !o) || !sizeOf(x.dims)) return null;
    const k = prepareDynamicQuantize({ count: sizeOf(x.dims), name: lc.node.name }, target(lc.env));
    return [{ kernel: k, inputs: [x.name], outputs: lc.outputs.map((v) => v.name) }];
  },
};

// ------------------------------------------------------------------------------------------------ conv

interface QConvArgs { x: HostTensor; w: HostTensor; xzp: number; wzp: number[]; bias?: Float64Array }

/** Integer convolution, channels-last x [N, (H,) W, C]; returns int32 accumulators [N, (OH,) OW, OC]. */
function qconvAccCL(node: Node, a: QConvArgs): { acc: Float64Array; dims: number[]; OC: number } {
  const { x, w } = a;
  const r = x.dims.length;
  const N = x.dims[0], C = x.dims[r - 1], H = r === 4 ? x.dims[1] : 1, W = x.dims[r - 2];
  const group = attrInt(node, 'group', 1);
  const OC = w.dims[0], cg = C / group, og = OC / group;
  need(node, w.dims[1] === cg, `weights [${w.dims}] expect ${w.dims[1] * group} input channels, input has ${C}`);
  const g = windowGeometry(node, r === 4 ? [H, W] : [W], w.dims.slice(2));
  const { kh, kw, sh, sw, dh, dw, pt, pl, oh, ow } = as2d(g);
  const xv = toNumbers(x), wv = toNumbers(w);
  const dims = r === 4 ? [N, oh, ow, OC] : [N, ow, OC];
  const acc = new Float64Array(sizeOf(dims));
  for (let n = 0; n < N; n++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    const yo = ((n * oh + oy) * ow + ox) * OC;
    for (let o = 0; o < OC; o++) {
      const gi = Math.floor(o / og);
      const wz = a.wzp.length > 1 ? a.wzp[o] : a.wzp[0];
      let s = a.bias ? a.bias[o] : 0;
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * sh - pt + ky * dh;
        if (iy < 0 || iy >= H) continue;
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * sw - pl + kx * dw;
          if (ix < 0 || ix >= W) continue;
          const xo = ((n * H + iy) * W + ix) * C + gi * cg;
          for (let c = 0; c < cg; c++) s += (xv[xo + c] - a.xzp) * (wv[((o * cg + c) * kh + ky) * kw + kx] - wz);
        }
      }
      acc[yo + o] = s;
    }
  }
  return { acc, dims, OC };
}

function toCL(t: HostTensor): HostTensor {
  const r = t.dims.length;
  const perm = r === 4 ? [0, 2, 3, 1] : [0, 2, 1];
  return transposeAny(t, perm);
}
function fromCL(t: HostTensor): HostTensor {
  const r = t.dims.length;
  return transposeAny(t, r === 4 ? [0, 3, 1, 2] : [0, 2, 1]);
}
import { transposeData as transposeAny } from '../graph/tensor.js';

function qlinearConvCL(node: Node, ins: (HostTensor | undefined)[]): HostTensor {
  const hostMode = modeOf(node);
  const [x, xs, xz, w, ws, wz, ys, yz, b] = ins;
  const { acc, dims, OC } = qconvAccCL(node, { x: x!, w: w!, xzp: vals(xz)[0], wzp: vals(wz), bias: b ? toNumbers(b) : undefined });
  const outT = qtypeOf(yz, 'uint8');
  const wsv = vals(ws);
  const reals = requantScales(hostMode, vals(xs)[0], wsv.length > 1 ? wsv : new Array(OC).fill(wsv[0]), vals(ys)[0]);
  const clamp = fusedClamp(node);
  const zp = vals(yz)[0];
  const { qmin, qmax } = outputRange(outT as QuantType, zp, vals(ys)[0], clamp);
  return fromNumbers(outT, dims, requantize(acc, (i) => i % OC, reals, hostMode, zp, qmin, qmax));
}

function inferQConv(ctx: InferCtx, xi: number, wi: number, outT: (ctx: InferCtx) => DType) {
  const x = inputAt(ctx, xi), w = inputAt(ctx, wi);
  need(ctx.node, x.dims.length === 3 || x.dims.length === 4, `input rank ${x.dims.length} unsupported (1-D and 2-D only)`);
  const group = attrInt(ctx.node, 'group', 1);
  need(ctx.node, x.dims[1] % group === 0 && w.dims[1] * group === x.dims[1], `weights [${w.dims}] do not match input channels ${x.dims[1]} with group ${group}`);
  const g = windowGeometry(ctx.node, x.dims.slice(2), w.dims.slice(2));
  return [{ dtype: outT(ctx), dims: [x.dims[0], w.dims[0], ...g.out] }];
}

const qlinearConv: OpDef = {
  op: 'QLinearConv',
  infer: (ctx) => inferQConv(ctx, 0, 3, (c) => c.inputs[7]?.dtype ?? 'uint8'),
  layout: (ctx) => (ctx.inputs.every((v, i) => i === 0 || !v || v.const) ? 'native' : 'logical'),
  eval: (node, ins) => [fromCL(qlinearConvCL(node, [toCL(ins[0]!), ...ins.slice(1)]))],
  evalCL: (node, ins) => [qlinearConvCL(node, ins)],
  lower: (lc) => lowerQConv(lc),
};

/** QLinearConv on the INT8 kernels: depthwise -> the dwconv family, everything else -> qconv (im2col / indirect / direct). */
function lowerQConv(lc: LowerCtx): LoweredStep[] | null {
  const node = lc.node;
  const x = lc.inputs[0]!;
  if (x.layout !== 'cl' || !isQ8(x.dtype) || !allConst(lc, [1, 2, 3, 4, 5, 6, 7, 8])) return null;
  const w = lc.inputs[3]!.const!;
  if (!isQ8(w.dtype)) return null;
  const group = attrInt(node, 'group', 1);
  const r = x.dims.length;
  const N = x.dims[0], C = x.dims[1], H = r === 4 ? x.dims[2] : 1, W = x.dims[r - 1];
  const OC = w.dims[0];
  const g = windowGeometry(node, x.dims.slice(2), w.dims.slice(2));
  const { kh, kw, sh, sw, dh, dw, pt, pl, pb, pr } = as2d(g);
  const outT = lc.outputs[0].dtype as QuantType;
  const bias = lc.inputs[8]?.const ? Int32Array.from(toNumbers(lc.inputs[8].const)) : undefined;
  const clamp = fusedClamp(node);
  const wz = cval(lc, 5), ws = cval(lc, 4);
  if (group === C && group > 1 && OC % C === 0 && w.dtype === 'int8') {
    const k = prepareQDwConv2d({
      dtype: x.dtype, shape: [N, H, W, C], kernel: [kh, kw], multiplier: OC / C, strides: [sh, sw], dilations: [dh, dw],
      pads: [pt, pl, pb, pr], weights: weightBytes(w), weightZero: wz.length > 1 ? wz : wz[0], bias,
      xScale: cval(lc, 1)[0], xZero: cval(lc, 2)[0], wScale: ws.length > 1 ? ws : ws[0], yScale: cval(lc, 6)[0], yZero: cval(lc, 7)[0],
      requantization: lc.env.requant, clamp, name: node.name, alloc: lc.env.constAlloc,
    } as any, target(lc.env));
    return [{ kernel: k, inputs: [x.name], outputs: [lc.outputs[0].name] }];
  }
  const k = prepareQConv2d({
    name: node.name, n: N, h: H, w: W, c: C, oc: OC, kernel: [kh, kw], strides: [sh, sw], pads: [pt, pl, pb, pr],
    dilations: [dh, dw], groups: group, aType: x.dtype, aScale: cval(lc, 1)[0], aZeroPoint: cval(lc, 2)[0],
    weights: { data: weightBytes(w), type: w.dtype, zeroPoints: wz, scales: ws }, bias,
    output: { type: outT, scale: cval(lc, 6)[0], zeroPoint: cval(lc, 7)[0], clamp }, requant: lc.env.requant,
    path: lc.env.path, arch: lc.env.arch, alloc: lc.env.constAlloc, threads: lc.env.threads,
  });
  return [{ kernel: k, inputs: [x.name], outputs: [lc.outputs[0].name] }];
}

/** ConvInteger's kernel form: constant weights and weight zero points, input zero point constant or a runtime scalar. */
function convIntegerKernelable(ins: (import('./types.js').ValueState | undefined)[]): boolean {
  const [x, w, xz, wz] = ins;
  return !!x && !x.const && (x.dims.length === 4 || x.dims.length === 3) && isQ8(x.dtype) && !!w?.const && isQ8(w.dtype)
    && (!xz || xz.const !== undefined || sizeOf(xz.dims) === 1) && (!wz || !!wz.const);
}

const convInteger: OpDef = {
  op: 'ConvInteger',
  infer: (ctx) => inferQConv(ctx, 0, 1, () => 'int32'),
  layout: (ctx) => (convIntegerKernelable(ctx.inputs) ? 'native' : 'logical'),
  eval: (node, [x, w, xz, wz]) => {
    const { acc, dims } = qconvAccCL(node, { x: toCL(x!), w: w!, xzp: vals(xz)[0], wzp: vals(wz) });
    return [fromCL(fromNumbers('int32', dims, acc))];
  },
  evalCL: (node, [x, w, xz, wz]) => {
    const { acc, dims } = qconvAccCL(node, { x: x!, w: w!, xzp: vals(xz)[0], wzp: vals(wz) });
    return [fromNumbers('int32', dims, acc)];
  },
  lower: (lc) => {
    const node = lc.node;
    const [x, wv, xz] = lc.inputs;
    if (!x || x.layout !== 'cl' || !convIntegerKernelable(lc.inputs)) return null;
    const w = wv!.const!;
    const group = attrInt(node, 'group', 1);
    const r = x.dims.length;
    const N = x.dims[0], C = x.dims[1], H = r === 4 ? x.dims[2] : 1, W = x.dims[r - 1];
    const g = windowGeometry(node, x.dims.slice(2), w.dims.slice(2));
    const { kh, kw, sh, sw, dh, dw, pt, pl, pb, pr } = as2d(g);
    const geo = {
      name: node.name, n: N, h: H, w: W, c: C, oc: w.dims[0], kernel: [kh, kw] as [number, number], strides: [sh, sw] as [number, number],
      pads: [pt, pl, pb, pr] as [number, number, number, number], dilations: [dh, dw] as [number, number], groups: group, aType: x.dtype as QuantType,
      weights: { data: weightBytes(w), type: w.dtype as QuantType, zeroPoints: cval(lc, 3), scales: 1 },
      path: lc.env.path, arch: lc.env.arch, threads: lc.env.threads,
    };
    if (xz && !xz.const) {
      const k = prepareQConv2dRuntimeZp({ ...geo, zpType: xz.dtype as QuantType });
      return [{ kernel: k, inputs: [x.name, xz.name], outputs: [lc.outputs[0].name] }];
    }
    const k = prepareQConv2d({ ...geo, aScale: 1, aZeroPoint: cval(lc, 2)[0], output: { type: 'int32' } });
    return [{ kernel: k, inputs: [x.name], outputs: [lc.outputs[0].name] }];
  },
};

// ------------------------------------------------------------------------------------------------ matmul

function qmatmulAcc(node: Node, a: HostTensor, b: HostTensor, az: number[], bz: number[]) {
  const av = toNumbers(a), bv = toNumbers(b);
  const N = b.dims[b.dims.length - 1];
  const M = a.dims.length >= 2 ? a.dims[a.dims.length - 2] : 1;
  const K = a.dims[a.dims.length - 1];
  for (let i = 0; i < av.length; i++) av[i] -= az.length > 1 ? az[Math.floor(i / K) % M] : az[0];
  for (let i = 0; i < bv.length; i++) bv[i] -= bz.length > 1 ? bz[i % N] : bz[0];
  return { ...matmulNumbers(node, a, b, av, bv), N };
}

const qlinearMatMul: OpDef = {
  op: 'QLinearMatMul',
  infer: (ctx) => {
    const a = inputAt(ctx, 0), b = inputAt(ctx, 3);
    const t = matmulNumbersShape(ctx.node, a.dims, b.dims);
    return [{ dtype: ctx.inputs[7]?.dtype ?? 'uint8', dims: t }];
  },
  eval: (node, [a, as, az, b, bs, bz, ys, yz]) => {
    const hostMode = modeOf(node);
    const { dims, v, N } = qmatmulAcc(node, a!, b!, vals(az), vals(bz));
    const outT = qtypeOf(yz, 'uint8');
    const bsv = vals(bs);
    const reals = requantScales(hostMode, vals(as)[0], bsv.length > 1 ? bsv : new Array(N).fill(bsv[0]), vals(ys)[0]);
    const { qmin, qmax } = outputRange(outT as QuantType, vals(yz)[0], vals(ys)[0], fusedClamp(node));
    return [fromNumbers(outT, dims, requantize(v, (i) => i % N, reals, hostMode, vals(yz)[0], qmin, qmax))];
  },
  lower: (lc) => {
    const a = lc.inputs[0]!, b = lc.inputs[3]!;
    if (!b.const || b.dims.length !== 2 || a.dims.length < 2 || a.layout === 'cl' || !isQ8(a.dtype) || !isQ8(b.dtype)) return null;
    if (!allConst(lc, [1, 2, 4, 5, 6, 7]) || cval(lc, 1).length > 1 || cval(lc, 2).length > 1) return null;
    const K = b.dims[0], N = b.dims[1], M = sizeOf(a.dims) / K;
    const k = prepareQGemm({
      name: lc.node.name, m: M, k: K, n: N, aType: a.dtype, aScale: cval(lc, 1)[0], aZeroPoint: cval(lc, 2)[0],
      weights: { data: weightBytes(b.const), type: b.dtype, layout: 'kn', zeroPoints: cval(lc, 5), scales: cval(lc, 4) },
      output: { type: lc.outputs[0].dtype as QuantType, scale: cval(lc, 6)[0], zeroPoint: cval(lc, 7)[0], clamp: fusedClamp(lc.node) },
      requant: lc.env.requant, path: lc.env.path, arch: lc.env.arch, threads: lc.env.threads, alloc: lc.env.constAlloc,
    });
    return [{ kernel: k, inputs: [a.name], outputs: [lc.outputs[0].name] }];
  },
};

function matmulNumbersShape(node: Node, a: number[], b: number[]): number[] {
  const A = a.length === 1 ? [1, a[0]] : a, B = b.length === 1 ? [b[0], 1] : b;
  need(node, A[A.length - 1] === B[B.length - 2], `inner dimensions differ: A [${a}] and B [${b}]`);
  const out = broadcastShapes([A.slice(0, -2), B.slice(0, -2)], `node '${node.name}' batch dims`);
  if (a.length !== 1) out.push(A[A.length - 2]);
  if (b.length !== 1) out.push(B[B.length - 1]);
  return out;
}

const matMulInteger: OpDef = {
  op: 'MatMulInteger',
  infer: (ctx) => [{ dtype: 'int32', dims: matmulNumbersShape(ctx.node, inputAt(ctx, 0).dims, inputAt(ctx, 1).dims) }],
  eval: (node, [a, b, az, bz]) => {
    const { dims, v } = qmatmulAcc(node, a!, b!, vals(az), vals(bz));
    return [fromNumbers('int32', dims, v)];
  },
  lower: (lc) => {
    const [a, b, az, bz] = lc.inputs;
    if (!a || !b?.const || b.dims.length !== 2 || a.dims.length < 2 || !isQ8(a.dtype) || !isQ8(b.dtype) || (bz && !bz.const)) return null;
    if (az && sizeOf(az.dims) !== 1) return null;
    const K = b.dims[0], N = b.dims[1], M = sizeOf(a.dims) / K;
    const dynamicZp = !!az && !az.const; // DynamicQuantizeLinear's zero point, known only at run time
    const k = prepareQGemm({
      name: lc.node.name, m: M, k: K, n: N, aType: a.dtype, aScale: 1, aZeroPoint: dynamicZp ? 0 : cval(lc, 2)[0],
      weights: { data: weightBytes(b.const), type: b.dtype, layout: 'kn', zeroPoints: cval(lc, 3), scales: 1 },
      output: { type: 'int32' }, path: lc.env.path, arch: lc.env.arch, threads: lc.env.threads,
      // the runtime zero point appends a correction table to a copy of the constants: packed in JS then
      alloc: dynamicZp ? undefined : lc.env.constAlloc,
    });
    if (!dynamicZp) return [{ kernel: k, inputs: [a.name], outputs: [lc.outputs[0].name] }];
    // sum_k (a - za)(b - zb) = sum_k a (b - zb) - za * colsum[n]: the GEMM with za = 0, then a per-column correction.
    const bv = toNumbers(b.const), zb = cval(lc, 3);
    const colsum = new Float64Array(N);
    for (let kk = 0; kk < K; kk++) for (let n = 0; n < N; n++) colsum[n] += bv[kk * N + n] - (zb.length > 1 ? zb[n] : zb[0]);
    const signed = az!.dtype === 'int8' ? 1 : 0;
    // constants: [GEMM][table = colsum int32[N]][class maps cy = cx = [0]]: the conv correction kernel over M 1x1 "pixels"
    const at = (k.constants.length + 15) & ~15;
    const constants = new Uint8Array(at + N * 4 + 32);
    constants.set(k.constants);
    new Int32Array(constants.buffer, at, N).set(Int32Array.from(colsum));
    const fn = lc.env.path === 'scalar' ? ZP_CORRECT.scalar : ZP_CORRECT.simd128;
    const kernel: PreparedKernel = {
      variant: `${k.variant}+${fn}`,
      constants,
      constantsAlign: k.constantsAlign,
      scratchBytes: k.scratchBytes,
      workItems: k.workItems,
      run(wasm: WasmKernels, io: KernelIO, begin = 0, end = k.workItems) {
        if (end <= begin) return;
        k.run(wasm, { inputs: [io.inputs[0]], outputs: io.outputs, constants: io.constants, scratch: io.scratch }, begin, end);
        const c = io.constants + at, zero = c + N * 4;
        // the region k.run wrote: all rows x column blocks of 8, or row quads x all columns (gemmSplit in qgemm.ts)
        const [r0, r1, c0, c1] = k.byColumns ? [0, M, begin * 8, Math.min(N, end * 8)] : [begin * 4, Math.min(M, end * 4), 0, N];
        wasm.exports[fn](io.outputs[0], io.inputs[1], signed, 1, 1, N, zero, zero, 1, c, r0, r1, c0, c1);
      },
    };
    return [{ kernel, inputs: [a.name, az!.name], outputs: [lc.outputs[0].name] }];
  },
};

// ------------------------------------------------------------------------------------------------ com.microsoft

/** A Relu / Clip fused into a QLinearAdd by the QDQ pass (src/graph/qdq.ts): integer output bounds. */
function addClamp(node: Node): [number, number] | undefined {
  const lo = node.attrs._qlo, hi = node.attrs._qhi;
  return typeof lo === 'number' && typeof hi === 'number' ? [lo, hi] : undefined;
}

function qbinary(op: 'QLinearAdd' | 'QLinearMul'): OpDef {
  return {
    op,
    domain: 'com.microsoft',
    infer: (ctx) => [{ dtype: inputAt(ctx, 0).dtype, dims: broadcastShapes([inputAt(ctx, 0).dims, inputAt(ctx, 3).dims], `node '${ctx.node.name}'`) }],
    eval: (node, [a, as, az, b, bs, bz, ys, yz]) => {
      const dims = broadcastShapes([a!.dims, b!.dims], `node '${node.name}'`);
      const n = sizeOf(dims);
      const [za, zb, zy] = [vals(az)[0], vals(bz)[0], vals(yz)[0]];
      const [sa, sb, sy] = [vals(as)[0], vals(bs)[0], vals(ys)[0]].map(Math.fround);
      const [lo, hi] = qrange(a!.dtype);
      const ra = Math.fround(sa / sy), rb = Math.fround(sb / sy), rm = Math.fround(Math.fround(sa * sb) / sy);
      const q8 = isQ8(a!.dtype) && isQ8(b!.dtype);
      const av = q8 ? (a!.data as Int8Array) : toNumbers(a!), bv = q8 ? (b!.data as Int8Array) : toNumbers(b!);
      const sameA = sizeOf(a!.dims) === n, sameB = sizeOf(b!.dims) === n;
      const ia = sameA ? null : broadcastIndex(a!.dims, dims), ib = sameB ? null : broadcastIndex(b!.dims, dims);
      const out = makeTensor(a!.dtype, dims);
      const o = out.data as Int8Array;
      if (op === 'QLinearAdd') {
        // onnxruntime's x86 kernel, bit for bit (see assembly/eltwise/qadd.ts): y = cvt(fma(xo, ro, fma(xi, ri, fixed)))
        const outerA = ortAddOuter(a!.dims, b!.dims) === 'a';
        const [ro, ri] = outerA ? [ra, rb] : [rb, ra];
        const fixed = outerA ? qaddFixed(ra, za, rb, zb, zy) : qaddFixed(rb, zb, ra, za, zy);
        const t: QuantType = a!.dtype === 'int8' ? 'int8' : 'uint8';
        const [clo, chi] = addClamp(node) ?? [lo, hi];
        for (let i = 0; i < n; i++) {
          const x = av[ia ? ia[i] : i], y = bv[ib ? ib[i] : i];
          const v = outerA ? fma32(x, ro, fma32(y, ri, fixed)) : fma32(y, ro, fma32(x, ri, fixed));
          const r = q8 ? qaddOut(v, t) : roundHalfEven(v);
          o[i] = r < clo ? clo : r > chi ? chi : r;
        }
      } else {
        for (let i = 0; i < n; i++) {
          const x = av[ia ? ia[i] : i] - za, y = bv[ib ? ib[i] : i] - zb;
          const r = roundHalfEven(Math.fround(Math.fround(x * y) * rm)) + zy;
          o[i] = r < lo ? lo : r > hi ? hi : r;
        }
      }
      return [out];
    },
    layout: (ctx) => {
      const r = Math.max(ctx.inputs[0]?.dims.length ?? 0, ctx.inputs[3]?.dims.length ?? 0);
      return r >= 3 && [0, 3].every((i) => ctx.inputs[i]?.const || ctx.inputs[i]?.dims.length === r) ? 'transparent' : 'logical';
    },
    lower: (lc) => {
      // a constant input 0 trades places with input 1 (Mul is symmetric; Add keeps onnxruntime's roles via `outer`)
      const sw = !!lc.inputs[0]!.const && !lc.inputs[3]!.const;
      const [ia, ib] = sw ? [3, 0] : [0, 3];
      const a = lc.inputs[ia]!, b = lc.inputs[ib]!;
      if (!isQ8(a.dtype) || a.const || !allConst(lc, [1, 2, 4, 5, 6, 7])) return null;
      const p = { dtype: a.dtype, aShape: physDims(a), bShape: physDims(b), aScale: cval(lc, ia + 1)[0], aZero: cval(lc, ia + 2)[0],
        bScale: cval(lc, ib + 1)[0], bZero: cval(lc, ib + 2)[0], yScale: cval(lc, 6)[0], yZero: cval(lc, 7)[0], name: lc.node.name };
      if (op === 'QLinearAdd') { // onnxruntime's roles, from the ONNX shapes in the node's own input order
        const outer0 = ortAddOuter(lc.inputs[0]!.dims, lc.inputs[3]!.dims) === 'a';
        (p as QBinaryParams).outer = outer0 !== sw ? 'a' : 'b';
        (p as QBinaryParams).clamp = addClamp(lc.node);
      }
      const bc = b.const;
      // a constant operand (QOperator classifier bias) rides in the kernel's constants, after its parameter block;
      // only where its bytes are in the order the kernel reads (not channels-last, or a single value)
      if (bc && (b.dtype !== a.dtype || (sizeOf(b.dims) > 1 && (a.layout === 'cl' || b.layout === 'cl')))) return null;
      try {
        const k = (op === 'QLinearAdd' ? prepareQAdd : prepareQMul)(p, target(lc.env));
        if (!bc) return [{ kernel: k, inputs: [a.name, b.name], outputs: [lc.outputs[0].name] }];
        const off = Math.ceil(k.constants.length / 16) * 16;
        const constants = new Uint8Array(off + bc.data.byteLength);
        constants.set(k.constants);
        constants.set(new Uint8Array(bc.data.buffer, bc.data.byteOffset, bc.data.byteLength), off);
        const kernel: PreparedKernel = {
          ...k,
          constants,
          run: (wasm: WasmKernels, io: KernelIO, begin?: number, end?: number) =>
            k.run(wasm, { ...io, inputs: [io.inputs[0], io.constants + off] }, begin, end),
        };
        return [{ kernel, inputs: [a.name], outputs: [lc.outputs[0].name] }];
      } catch {
        return null; // broadcast form the kernel does not take: host reference
      }
    },
  };
}

function lutOp(op: string, domain: string, kindOf: (n: Node) => LutKind, params: (n: Node) => { alpha?: number; beta?: number; min?: number; max?: number }): OpDef {
  return {
    op,
    domain,
    infer: (ctx) => [{ dtype: ctx.inputs[4]?.dtype ?? inputAt(ctx, 0).dtype, dims: inputAt(ctx, 0).dims.slice() }],
    eval: (node, [x, xs, xz, ys, yz]) => {
      const inT = x!.dtype as QuantType, outT = (yz?.dtype ?? inT) as QuantType;
      const table = buildLut(inT, outT, vals(xs)[0], vals(xz)[0], vals(ys)[0], vals(yz)[0], lutFunction(kindOf(node), params(node)));
      const out = makeTensor(outT, x!.dims);
      const src = new Uint8Array(x!.data.buffer, x!.data.byteOffset, x!.data.length);
      const dst = new Uint8Array(out.data.buffer);
      for (let i = 0; i < src.length; i++) dst[i] = table[src[i]];
      return [out];
    },
    layout: () => 'transparent',
    lower: (lc) => {
      const x = lc.inputs[0]!;
      if (!isQ8(x.dtype) || x.const || !allConst(lc, [1, 2, 3, 4])) return null;
      const k = prepareQLut(kindOf(lc.node), {
        dtype: x.dtype, outDtype: lc.outputs[0].dtype as QuantType, count: sizeOf(x.dims), xScale: cval(lc, 1)[0], xZero: cval(lc, 2)[0],
        yScale: cval(lc, 3)[0], yZero: cval(lc, 4)[0], name: lc.node.name, ...params(lc.node),
      }, target(lc.env));
      return [{ kernel: k, inputs: [x.name], outputs: [lc.outputs[0].name] }];
    },
  };
}

function qavgEval(node: Node, x: HostTensor, xs: number, xz: number, ys: number, yz: number, global: boolean, cl: boolean): HostTensor {
  // dequantize -> float pool -> quantize, as onnxruntime's reference path does (float32 steps)
  const r = x.dims.length;
  const N = x.dims[0], C = cl ? x.dims[r - 1] : x.dims[1];
  const sp = cl ? x.dims.slice(1, r - 1) : x.dims.slice(2);
  const xv = toNumbers(x);
  const [lo, hi] = qrange(x.dtype);
  if (global) {
    const S = sizeOf(sp);
    const res = new Float64Array(N * C);
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
      let s = 0;
      for (let i = 0; i < S; i++) s += xv[cl ? (n * S + i) * C + c : (n * C + c) * S + i] - xz;
      res[n * C + c] = Math.min(Math.max(roundHalfEven(Math.fround(Math.fround(s) * gavgScale(xs, ys, S))) + yz, lo), hi);
    }
    const ones = new Array(r - 2).fill(1);
    return fromNumbers(x.dtype, cl ? [N, ...ones, C] : [N, C, ...ones], res);
  }
  fail(node, 'non-global quantized average pooling runs on the kernel only');
}

const qlinearGlobalAvgPool: OpDef = {
  op: 'QLinearGlobalAveragePool',
  domain: 'com.microsoft',
  infer: (ctx) => {
    const x = inputAt(ctx, 0);
    const cl = attrInt(ctx.node, 'channels_last', 0) === 1;
    const r = x.dims.length;
    const ones = new Array(r - 2).fill(1);
    return [{ dtype: x.dtype, dims: cl ? [x.dims[0], ...ones, x.dims[r - 1]] : [x.dims[0], x.dims[1], ...ones] }];
  },
  layout: (ctx) => (attrInt(ctx.node, 'channels_last', 0) === 0 && inputAt(ctx, 0).dims.length === 4 ? 'native' : 'logical'),
  eval: (node, [x, xs, xz, ys, yz]) => [qavgEval(node, x!, vals(xs)[0], vals(xz)[0], vals(ys)[0], vals(yz)[0], true, attrInt(node, 'channels_last', 0) === 1)],
  evalCL: (node, [x, xs, xz, ys, yz]) => [qavgEval(node, x!, vals(xs)[0], vals(xz)[0], vals(ys)[0], vals(yz)[0], true, true)],
  lower: (lc) => {
    const x = lc.inputs[0]!;
    if (x.layout !== 'cl' || x.dims.length !== 4 || !isQ8(x.dtype) || !allConst(lc, [1, 2, 3, 4])) return null;
    const k = prepareQGlobalAvgPool({ dtype: x.dtype, shape: physDims(x) as [number, number, number, number], xScale: cval(lc, 1)[0], xZero: cval(lc, 2)[0],
      yScale: cval(lc, 3)[0], yZero: cval(lc, 4)[0], name: lc.node.name }, target(lc.env));
    return [{ kernel: k, inputs: [x.name], outputs: [lc.outputs[0].name] }];
  },
};

const qlinearAvgPool: OpDef = {
  op: 'QLinearAveragePool',
  domain: 'com.microsoft',
  infer: (ctx) => {
    const x = inputAt(ctx, 0);
    need(ctx.node, x.dims.length === 4 && attrInt(ctx.node, 'channels_last', 0) === 0, 'only 2-D NCHW input is supported');
    const g = windowGeometry(ctx.node, x.dims.slice(2), (ctx.node.attrs.kernel_shape as number[]) ?? fail(ctx.node, 'needs kernel_shape'), { ceil: attrInt(ctx.node, 'ceil_mode', 0) === 1 });
    return [{ dtype: x.dtype, dims: [x.dims[0], x.dims[1], ...g.out] }];
  },
  layout: () => 'native',
  lower: (lc) => {
    const x = lc.inputs[0]!;
    if (x.layout !== 'cl' || !isQ8(x.dtype) || !allConst(lc, [1, 2, 3, 4])) return null;
    const n = lc.node;
    const pads = (n.attrs.pads as number[] | undefined) ?? [0, 0, 0, 0];
    const k = prepareQAvgPool({
      dtype: x.dtype, shape: physDims(x) as [number, number, number, number], kernel: n.attrs.kernel_shape as [number, number],
      strides: n.attrs.strides as [number, number] | undefined, dilations: n.attrs.dilations as [number, number] | undefined,
      pads: [pads[0], pads[1], pads[2], pads[3]], autoPad: (n.attrs.auto_pad as any) ?? 'NOTSET', ceilMode: attrInt(n, 'ceil_mode', 0) === 1,
      countIncludePad: attrInt(n, 'count_include_pad', 0) === 1, xScale: cval(lc, 1)[0], xZero: cval(lc, 2)[0],
      yScale: cval(lc, 3)[0], yZero: cval(lc, 4)[0], name: n.name,
    }, target(lc.env));
    return [{ kernel: k, inputs: [x.name], outputs: [lc.outputs[0].name] }];
  },
};

const qlinearConcat: OpDef = {
  op: 'QLinearConcat',
  domain: 'com.microsoft',
  infer: (ctx) => {
    const xs = ctx.inputs.slice(2).filter((_, i) => i % 3 === 0);
    const r = xs[0]!.dims.length;
    const a = normAxis(attrInt(ctx.node, 'axis', 0), r, ctx.node.name);
    const dims = xs[0]!.dims.slice();
    dims[a] = xs.reduce((s, v) => s + v!.dims[a], 0);
    return [{ dtype: ctx.inputs[1]?.dtype ?? xs[0]!.dtype, dims }];
  },
  eval: (node, ins) => {
    const ys = vals(ins[0])[0], yz = vals(ins[1])[0];
    const outT = ins[1]?.dtype ?? ins[2]!.dtype;
    const parts: HostTensor[] = [];
    for (let i = 2; i + 2 < ins.length + 1; i += 3) {
      const x = ins[i]!;
      const table = buildLut(x.dtype as QuantType, outT as QuantType, vals(ins[i + 1])[0], vals(ins[i + 2])[0], ys, yz, (v) => v);
      const t = makeTensor(outT, x.dims);
      const src = new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.length), dst = new Uint8Array(t.data.buffer);
      for (let k = 0; k < src.length; k++) dst[k] = table[src[k]];
      parts.push(t);
    }
    return [concatEval(node, parts, attrInt(node, 'axis', 0))];
  },
  layout: (ctx) => {
    const xs = ctx.inputs.slice(2).filter((_, i) => i % 3 === 0);
    const r = xs[0]?.dims.length ?? 0;
    return r >= 3 && xs.every((v) => v && !v.const && v.dims.length === r) ? 'transparent' : 'logical';
  },
  clAxisAttrs: ['axis'],
  clConsts: 'keep',
  lower: (lc) => {
    const xs = lc.inputs.slice(2).filter((_, i) => i % 3 === 0);
    if (xs.some((v) => !v || v.const || !isQ8(v.dtype)) || !lc.inputs.every((v, i) => i >= 2 && (i - 2) % 3 === 0 ? true : !v || v.const)) return null;
    const k = prepareQConcat({
      dtype: lc.outputs[0].dtype as QuantType, axis: attrInt(lc.node, 'axis', 0), shapes: xs.map((v) => physDims(v!)),
      inputs: xs.map((v, j) => ({ dtype: v!.dtype as QuantType, scale: cval(lc, 3 + 3 * j)[0], zero: cval(lc, 4 + 3 * j)[0] })),
      yScale: cval(lc, 0)[0], yZero: cval(lc, 1)[0], name: lc.node.name,
    }, target(lc.env));
    return [{ kernel: k, inputs: xs.map((v) => v!.name), outputs: [lc.outputs[0].name] }];
  },
};

/** MaxPool on int8/uint8 channels-last: the INT8 pooling kernel (exact: max commutes with quantization). */
export function lowerQMaxPool(lc: LowerCtx): LoweredStep[] | null {
  const x = lc.inputs[0]!;
  if (x.layout !== 'cl' || x.dims.length !== 4 || !isQ8(x.dtype)) return null;
  const n = lc.node;
  const pads = (n.attrs.pads as number[] | undefined) ?? [0, 0, 0, 0];
  const k = prepareQMaxPool({
    dtype: x.dtype, shape: physDims(x) as [number, number, number, number], kernel: n.attrs.kernel_shape as [number, number],
    strides: n.attrs.strides as [number, number] | undefined, dilations: n.attrs.dilations as [number, number] | undefined,
    pads: [pads[0], pads[1], pads[2], pads[3]], autoPad: (n.attrs.auto_pad as any) ?? 'NOTSET', ceilMode: attrInt(n, 'ceil_mode', 0) === 1, name: n.name,
  }, target(lc.env));
  return [{ kernel: k, inputs: [x.name], outputs: [lc.outputs[0].name] }];
}

const LUT_KINDS: Record<string, LutKind> = { Sigmoid: 'sigmoid', HardSigmoid: 'hardsigmoid', HardSwish: 'hardswish', LeakyRelu: 'leakyrelu', Tanh: 'tanh', Relu: 'relu', Clip: 'clip' };

export const QUANT_OPS: OpDef[] = [
  quantizeLinear,
  dequantizeLinear,
  dynamicQuantizeLinear,
  qlinearConv,
  convInteger,
  qlinearMatMul,
  matMulInteger,
  qbinary('QLinearAdd'),
  qbinary('QLinearMul'),
  qlinearGlobalAvgPool,
  qlinearAvgPool,
  qlinearConcat,
  lutOp('QLinearSigmoid', 'com.microsoft', () => 'sigmoid', () => ({})),
  lutOp('QLinearLeakyRelu', 'com.microsoft', () => 'leakyrelu', (n) => ({ alpha: attrFloat(n, 'alpha', 0.01) })),
  // internal: any LUT activation the QDQ pass folds (attrs: kind, alpha, beta, min, max)
  lutOp('_QLut', '', (n) => LUT_KINDS[n.attrs.kind as string] ?? fail(n, `unknown kind ${n.attrs.kind}`), (n) => ({
    alpha: n.attrs.alpha as number | undefined, beta: n.attrs.beta as number | undefined,
    min: n.attrs.min as number | undefined, max: n.attrs.max as number | undefined,
  })),
];
