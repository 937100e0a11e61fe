// Resize family (host side): NHWC resize of the two spatial axes, float32 / int8 / uint8.
//
// prepareResize(p: ResizeParams, target)   io.inputs = [x], io.outputs = [y]; workItems = output rows (N * outH)
//   ResizeParams: { dtype, shape: [N, H, W, C], outH, outW, mode: 'nearest' | 'linear', scales?: [sh, sw]
//   (default outH / H, outW / W), coordinateTransformationMode? ('half_pixel'), nearestMode? ('round_prefer_floor'),
//   yTaps? / xTaps? (linear: per output index the two source indices and weights, when the caller computed them
//   with its own coordinate rules, e.g. the Resize op's host reference), yMap? / xMap? (nearest: source index per
//   output index), name? }.
//   nearest: x8_resize_nearest (assembly/eltwise) copies C * bytesPerElement bytes per output pixel (any dtype).
//   linear:  {f32,qs8,qu8}_resize_bilinear (assembly/resize); semantics and table layout in assembly/reference/resize.ts:
//            onnxruntime's CPU formula and float32 weights (linearTaps), integers truncated as its cast does.
import type { KernelVariant, PreparedKernel } from './types.js';
import { kernelFromCalls } from './types.js';
import { ConstantsBuilder, checkPositiveInt, variantFor, type KernelTarget } from './qcommon.js';
import { ELTWISE_VARIANTS, nearestMap, type CoordMode, type NearestMode } from './eltwise.js';

export interface ResizeVariant extends KernelVariant {
  suffix: string;
}

export const RESIZE_VARIANTS: readonly ResizeVariant[] = [
  { family: 'resize', name: 'resize_bilinear__scalar', build: 'scalar', flavor: 'any', suffix: 'scalar' },
  { family: 'resize', name: 'resize_bilinear__simd128', build: 'simd128', flavor: 'any', suffix: 'simd128' },
];

export type ResizeDType = 'float32' | 'int8' | 'uint8';

/** One output index of a linear resize: source indices (clamped) and their weights. */
export interface LinearTap {
  i0: number;
  i1: number;
  w0: number;
  w1: number;
}

export interface ResizeParams {
  dtype: ResizeDType;
  shape: [number, number, number, number];
  outH: number;
  outW: number;
  mode: 'nearest' | 'linear';
  scales?: [number, number];
  coordinateTransformationMode?: CoordMode;
  nearestMode?: NearestMode;
  yTaps?: LinearTap[];
  xTaps?: LinearTap[];
  yMap?: Int32Array;
  xMap?: Int32Array;
  name?: string;
}

/**
 * Source coordinate of output index `o` (ONNX Resize coordinate_transformation_mode), in float32 as onnxruntime's CPU
 * Resize evaluates it (`scale` is rounded to float32 first, as onnxruntime holds it).
 */
export function sourceCoord(o: number, inLen: number, outLen: number, scale: number, cmode: CoordMode): number {
  const f = Math.fround, s = f(scale);
  switch (cmode) {
    case 'half_pixel': return f(f(f(o + 0.5) / s) - 0.5);
    case 'half_pixel_symmetric': {
      // onnxruntime: float offset, then (x + 0.5) / scale - 0.5 in double, rounded to float once
      const adj = f(outLen / f(s * inLen));
      const offset = f(f(inLen / 2) * f(1 - adj));
      return f(offset + (o + 0.5) / s - 0.5);
    }
    case 'pytorch_half_pixel': return outLen > 1 ? f(f(f(o + 0.5) / s) - 0.5) : 0;
    case 'align_corners': return outLen === 1 ? 0 : f(f(o * (inLen - 1)) / (outLen - 1));
    case 'asymmetric': return f(o / s);
    case 'tf_half_pixel_for_nn': return f(f(o + 0.5) / s);
    default: throw new Error(`octet: Resize: coordinate_transformation_mode '${String(cmode)}' is not supported by the resize kernels`);
  }
}

/**
 * Linear taps along one axis (ONNX Resize mode linear, no antialias), as onnxruntime's CPU Resize computes them:
 * the coordinate (the output index itself when the scale is 1) clamped to [0, L - 1], i1 = trunc, i2 = min(i1 + 1,
 * L - 1), weights |x - i2| for i1 and |x - i1| for i2 in float32, 0.5 each when i1 = i2.
 */
export function linearTaps(inLen: number, outLen: number, scale: number, cmode: CoordMode): LinearTap[] {
  const f = Math.fround;
  const out: LinearTap[] = [];
  for (let o = 0; o < outLen; o++) {
    let x = f(scale) === 1 ? o : sourceCoord(o, inLen, outLen, scale, cmode);
    x = Math.max(0, Math.min(x, inLen - 1));
    const i1 = Math.min(Math.trunc(x), inLen - 1), i2 = Math.min(i1 + 1, inLen - 1);
    if (i1 === i2) out.push({ i0: i1, i1: i2, w0: 0.5, w1: 0.5 });
    else out.push({ i0: i1, i1: i2, w0: f(Math.abs(x - i2)), w1: f(Math.abs(x - i1)) });
  }
  return out;
}

/**
 * Nearest source index per output index along one axis, as onnxruntime's CPU Resize picks it: the float32
 * coordinate (sourceCoord), rounded by nearest_mode (round_prefer_floor: halves down, else std::round, i.e. halves
 * away from zero; round_prefer_ceil: std::round; floor; ceil), clamped to [0, L - 1].
 */
export function nearestTaps(inLen: number, outLen: number, scale: number, cmode: CoordMode, nmode: NearestMode): Int32Array {
  const out = new Int32Array(Math.max(4, outLen));
  const round = (x: number) => Math.sign(x) * Math.round(Math.abs(x)); // std::round
  for (let o = 0; o < outLen; o++) {
    const x = sourceCoord(o, inLen, outLen, scale, cmode);
    let i: number;
    switch (nmode) {
      case 'round_prefer_floor': i = x === Math.trunc(x) + 0.5 ? Math.floor(x) : round(x); break;
      case 'round_prefer_ceil': i = round(x); break;
      case 'floor': i = Math.floor(x); break;
      case 'ceil': i = Math.ceil(x); break;
      default: throw new Error(`octet: Resize: unknown nearest_mode '${String(nmode)}'`);
    }
    out[o] = Math.min(inLen - 1, Math.max(0, i));
  }
  return out;
}

/** 16-byte entries {i32 i0, i32 i1, f32 w0, f32 w1} (assembly/reference/resize.ts). */
export function tapTable(taps: readonly LinearTap[]): Uint8Array {
  const buf = new ArrayBuffer(Math.max(1, taps.length) * 16);
  const iv = new Int32Array(buf), fv = new Float32Array(buf);
  taps.forEach((t, k) => {
    iv[4 * k] = t.i0;
    iv[4 * k + 1] = t.i1;
    fv[4 * k + 2] = t.w0;
    fv[4 * k + 3] = t.w1;
  });
  return new Uint8Array(buf);
}

const PREFIX: Record<ResizeDType, string> = { float32: 'f32', int8: 'qs8', uint8: 'qu8' };
const BYTES: Record<ResizeDType, number> = { float32: 4, int8: 1, uint8: 1 };

export function prepareResize(p: ResizeParams, target: KernelTarget): PreparedKernel {
  const who = `Resize${p.name ? ` '${p.name}'` : ''}`;
  if (!(p.dtype in PREFIX)) throw new Error(`octet: ${who}: dtype must be float32, int8 or uint8, got ${String(p.dtype)}`);
  if (!Array.isArray(p.shape) || p.shape.length !== 4) throw new Error(`octet: ${who}: input shape must be [N, H, W, C]`);
  const [N, H, W, C] = p.shape.map((v, i) => checkPositiveInt(v, `${who}: input dim ${i}`));
  const OH = checkPositiveInt(p.outH, `${who}: output height`), OW = checkPositiveInt(p.outW, `${who}: output width`);
  const [sh, sw] = p.scales ?? [OH / H, OW / W];
  const cm = p.coordinateTransformationMode ?? 'half_pixel';
  const cb = new ConstantsBuilder();
  let fname: string, cElems: number;
  let yo: number, xo: number;
  if (p.mode === 'nearest') {
    const nm = p.nearestMode ?? 'round_prefer_floor';
    const ym = p.yMap ?? nearestMap(H, OH, sh, cm, nm), xm = p.xMap ?? nearestMap(W, OW, sw, cm, nm);
    if (ym.length < OH || xm.length < OW) throw new Error(`octet: ${who}: nearest maps are shorter than the output`);
    yo = cb.add(ym);
    xo = cb.add(xm);
    fname = `x8_resize_nearest__${variantFor(ELTWISE_VARIANTS, target).suffix}`;
    cElems = C * BYTES[p.dtype];
  } else if (p.mode === 'linear') {
    const yt = p.yTaps ?? linearTaps(H, OH, sh, cm), xt = p.xTaps ?? linearTaps(W, OW, sw, cm);
    if (yt.length !== OH || xt.length !== OW) throw new Error(`octet: ${who}: taps do not match the output size`);
    for (const [t, L] of [[yt, H], [xt, W]] as const) {
      for (const e of t) {
        if (!(Number.isInteger(e.i0) && Number.isInteger(e.i1) && e.i0 >= 0 && e.i1 >= 0 && e.i0 < L && e.i1 < L)) {
          throw new Error(`octet: ${who}: tap index out of range`);
        }
      }
    }
    yo = cb.add(tapTable(yt));
    xo = cb.add(tapTable(xt));
    fname = `${PREFIX[p.dtype]}_resize_bilinear__${variantFor(RESIZE_VARIANTS, target).suffix}`;
    cElems = C;
  } else {
    throw new Error(`octet: ${who}: mode must be 'nearest' or 'linear', got ${String(p.mode)}`);
  }
  const items = N * OH;
  return kernelFromCalls({
    variant: fname,
    constants: cb.build(),
    scratchBytes: 0,
    workItems: items,
    cost: N * OH * OW * C * (p.mode === 'linear' ? 4 : 1),
    calls: (io, begin, end) => {
      const b = Math.max(0, begin), e = Math.min(items, end);
      return e > b ? [{ fn: fname, args: [io.inputs[0], io.outputs[0], H, W, cElems, OH, OW, io.constants + yo, io.constants + xo, b, e] }] : [];
    },
  });
}
