// INT8 pooling family (host side): variant list and the factories the runtime calls per node.
// Activations are NHWC, int8 or uint8; semantics in assembly/reference/pool.ts.
//
// prepareQMaxPool(p: QPoolParams, target)      io.inputs = [x], io.outputs = [y]   (y has x's quantization)
// prepareQAvgPool(p: QAvgPoolParams, target)   io.inputs = [x], io.outputs = [y]
// prepareQGlobalAvgPool(p: QGlobalAvgPoolParams, target)  io.inputs = [x], io.outputs = [y] (y is N x 1 x 1 x C)
//
// QPoolParams: { dtype: 'int8'|'uint8', shape: [N, H, W, C] (NHWC), kernel: [KH, KW], strides? [SH, SW] (1),
//   dilations? [DH, DW] (1), pads? [top, left, bottom, right] (0), autoPad? 'NOTSET'|'VALID'|'SAME_UPPER'|'SAME_LOWER',
//   ceilMode? boolean, name? (for error messages) }
// QAvgPoolParams = QPoolParams & { countIncludePad?: boolean, xScale, xZero, yScale, yZero }
// QGlobalAvgPoolParams: { dtype, shape: [N, H, W, C], xScale, xZero, yScale, yZero, name? }
// Output shapes: poolOutputShape(p) (ONNX rules, including ceil_mode dropping a last window that starts in the pad).
// Work items: output rows N*OH (global pool: N * ceil(C / 64) channel chunks).
import type { KernelVariant, PreparedKernel, KernelIO } from './types.js';
import type { WasmKernels } from '../runtime/wasm.js';
import {
  ConstantsBuilder, checkPositiveInt, checkQ8Type, checkScale, checkZero, qprefix, range, variantFor,
  type KernelTarget, type Q8Type,
} from './qcommon.js';

export interface PoolVariant extends KernelVariant {
  suffix: string;
}

export const POOL_VARIANTS: readonly PoolVariant[] = [
  { family: 'q8-pool', name: 'q8_pool__scalar', build: 'scalar', flavor: 'any', suffix: 'scalar' },
  { family: 'q8-pool', name: 'q8_pool__simd128', build: 'simd128', flavor: 'any', suffix: 'simd128' },
];

export interface QPoolParams {
  dtype: Q8Type;
  shape: [number, number, number, number];
  kernel: [number, number];
  strides?: [number, number];
  dilations?: [number, number];
  pads?: [number, number, number, number];
  autoPad?: 'NOTSET' | 'VALID' | 'SAME_UPPER' | 'SAME_LOWER';
  ceilMode?: boolean;
  name?: string;
}
export interface QAvgPoolParams extends QPoolParams {
  countIncludePad?: boolean;
  xScale: number;
  xZero: number;
  yScale: number;
  yZero: number;
}
export interface QGlobalAvgPoolParams {
  dtype: Q8Type;
  shape: [number, number, number, number];
  xScale: number;
  xZero: number;
  yScale: number;
  yZero: number;
  name?: string;
}

export interface PoolGeometry {
  N: number; H: number; W: number; C: number; OH: number; OW: number;
  KH: number; KW: number; SH: number; SW: number; DH: number; DW: number;
  PT: number; PL: number; PB: number; PR: number;
}

function outDim(inp: number, k: number, s: number, d: number, pb: number, pe: number, ceil: boolean): number {
  const ek = (k - 1) * d + 1;
  const num = inp + pb + pe - ek;
  if (num < 0) return 0;
  let o = (ceil ? Math.ceil(num / s) : Math.floor(num / s)) + 1;
  // ceil_mode: a last window that would start inside the end padding is dropped (ONNX >= 19, PyTorch, ORT).
  if (ceil && (o - 1) * s >= inp + pb) o--;
  return o;
}

/** Resolves pads (auto_pad) and output size with the ONNX pooling rules. */
export function poolGeometry(p: QPoolParams): PoolGeometry {
  const who = `pooling node${p.name ? ` '${p.name}'` : ''}`;
  if (!Array.isArray(p.shape) || p.shape.length !== 4) throw new Error(`octet: ${who}: input shape must be [N, H, W, C]`);
  const [N, H, W, C] = p.shape.map((v, i) => checkPositiveInt(v, `${who}: input dim ${i}`));
  const [KH, KW] = (p.kernel ?? []).map((v, i) => checkPositiveInt(v, `${who}: kernel dim ${i}`));
  if (KH === undefined || KW === undefined) throw new Error(`octet: ${who}: kernel must be [KH, KW]`);
  const [SH, SW] = (p.strides ?? [1, 1]).map((v, i) => checkPositiveInt(v, `${who}: stride ${i}`));
  const [DH, DW] = (p.dilations ?? [1, 1]).map((v, i) => checkPositiveInt(v, `${who}: dilation ${i}`));
  let [PT, PL, PB, PR] = p.pads ?? [0, 0, 0, 0];
  for (const v of [PT, PL, PB, PR]) if (!Number.isInteger(v) || v < 0) throw new Error(`octet: ${who}: pads must be non-negative integers`);
  const auto = p.autoPad ?? 'NOTSET';
  let OH: number, OW: number;
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    OH = Math.ceil(H / SH);
    OW = Math.ceil(W / SW);
    const th = Math.max(0, (OH - 1) * SH + (KH - 1) * DH + 1 - H);
    const tw = Math.max(0, (OW - 1) * SW + (KW - 1) * DW + 1 - W);
    PT = auto === 'SAME_UPPER' ? Math.floor(th / 2) : Math.ceil(th / 2);
    PB = th - PT;
    PL = auto === 'SAME_UPPER' ? Math.floor(tw / 2) : Math.ceil(tw / 2);
    PR = tw - PL;
  } else {
    if (auto === 'VALID') PT = PL = PB = PR = 0;
    else if (auto !== 'NOTSET') throw new Error(`octet: ${who}: unknown auto_pad '${auto}'`);
    OH = outDim(H, KH, SH, DH, PT, PB, !!p.ceilMode);
    OW = outDim(W, KW, SW, DW, PL, PR, !!p.ceilMode);
  }
  if (OH < 1 || OW < 1) throw new Error(`octet: ${who}: window larger than the padded input (output ${OH}x${OW})`);
  return { N, H, W, C, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR };
}

export function poolOutputShape(p: QPoolParams): [number, number, number, number] {
  const g = poolGeometry(p);
  return [g.N, g.OH, g.OW, g.C];
}

export function prepareQMaxPool(p: QPoolParams, target: KernelTarget): PreparedKernel {
  const dtype = checkQ8Type(p.dtype, 'MaxPool');
  const g = poolGeometry(p);
  const v = variantFor(POOL_VARIANTS, target);
  const fname = `${qprefix(dtype)}_maxpool__${v.suffix}`;
  const items = g.N * g.OH;
  return {
    variant: fname,
    constants: new Uint8Array(16),
    scratchBytes: 0,
    workItems: items,
    cost: g.N * g.OH * g.OW * g.C * g.KH * g.KW,
    run(wasm: WasmKernels, io: KernelIO, begin?: number, end?: number) {
      const [b, e] = range(items, begin, end);
      if (b >= e) return;
      wasm.exports[fname](io.inputs[0], io.outputs[0], g.H, g.W, g.C, g.OH, g.OW, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PT, g.PL, b, e);
    },
  };
}

/** scale[d] = f32(sx / f32(sy * d)) for d = 0..maxD (index 0 unused). */
export function avgScaleTable(xScale: number, yScale: number, maxD: number): Float32Array {
  const t = new Float32Array(maxD + 1);
  for (let d = 1; d <= maxD; d++) t[d] = Math.fround(xScale / Math.fround(yScale * d));
  return t;
}

export function prepareQAvgPool(p: QAvgPoolParams, target: KernelTarget): PreparedKernel {
  const who = `AveragePool${p.name ? ` '${p.name}'` : ''}`;
  const dtype = checkQ8Type(p.dtype, who);
  const g = poolGeometry(p);
  const xs = checkScale(p.xScale, `${who} x`), ys = checkScale(p.yScale, `${who} y`);
  const zx = checkZero(p.xZero, dtype, `${who} x`), zy = checkZero(p.yZero, dtype, `${who} y`);
  const v = variantFor(POOL_VARIANTS, target);
  const fname = `${qprefix(dtype)}_avgpool__${v.suffix}`;
  const cb = new ConstantsBuilder();
  const tab = cb.add(avgScaleTable(xs, ys, g.KH * g.KW));
  const constants = cb.build();
  const items = g.N * g.OH;
  const cip = p.countIncludePad ? 1 : 0;
  return {
    variant: fname,
    constants,
    scratchBytes: 0,
    workItems: items,
    cost: g.N * g.OH * g.OW * g.C * g.KH * g.KW,
    run(wasm: WasmKernels, io: KernelIO, begin?: number, end?: number) {
      const [b, e] = range(items, begin, end);
      if (b >= e) return;
      wasm.exports[fname](io.inputs[0], io.outputs[0], g.H, g.W, g.C, g.OH, g.OW, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW,
        g.PT, g.PL, g.PB, g.PR, cip, zx, zy, io.constants + tab, b, e);
    },
  };
}

/** f32(sx / f32(sy * HW)), as MLAS QLinearGlobalAveragePool computes it. */
export function gavgScale(xScale: number, yScale: number, hw: number): number {
  return Math.fround(Math.fround(xScale) / Math.fround(Math.fround(yScale) * hw));
}

const GAVG_CHUNK = 64;

export function prepareQGlobalAvgPool(p: QGlobalAvgPoolParams, target: KernelTarget): PreparedKernel {
  const who = `GlobalAveragePool${p.name ? ` '${p.name}'` : ''}`;
  const dtype = checkQ8Type(p.dtype, who);
  if (!Array.isArray(p.shape) || p.shape.length !== 4) throw new Error(`octet: ${who}: input shape must be [N, H, W, C]`);
  const [N, H, W, C] = p.shape.map((v, i) => checkPositiveInt(v, `${who}: input dim ${i}`));
  const xs = checkScale(p.xScale, `${who} x`), ys = checkScale(p.yScale, `${who} y`);
  const zx = checkZero(p.xZero, dtype, `${who} x`), zy = checkZero(p.yZero, dtype, `${who} y`);
  const HW = H * W;
  if (HW >= 1 << 23) throw new Error(`octet: ${who}: image of ${HW} pixels is too large for an int32 sum`);
  const scale = gavgScale(xs, ys, HW);
  const v = variantFor(POOL_VARIANTS, target);
  const fname = `${qprefix(dtype)}_gavgpool__${v.suffix}`;
  const chunks = Math.ceil(C / GAVG_CHUNK);
  const items = N * chunks;
  return {
    variant: fname,
    constants: new Uint8Array(16),
    scratchBytes: 0,
    workItems: items,
    cost: N * HW * C,
    run(wasm: WasmKernels, io: KernelIO, begin?: number, end?: number) {
      const [b, e] = range(items, begin, end);
      const f = wasm.exports[fname];
      for (let it = b; it < e; it++) {
        const n = Math.floor(it / chunks);
        const c0 = (it - n * chunks) * GAVG_CHUNK;
        const c1 = Math.min(C, c0 + GAVG_CHUNK);
        f(io.inputs[0] + n * HW * C, io.outputs[0] + n * C, HW, C, zx, zy, scale, c0, c1);
      }
    },
  };
}
