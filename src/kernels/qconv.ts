// qs8 convolution family (QLinearConv / ConvInteger / conv with dynamic quantization), NHWC.
//
// Host API (for the runtime / ops):
//   prepareQConv2d(p: QConv2dParams): PreparedKernel & { outShape: [N, OH, OW, OC], method }
//     input NHWC [N, H, W, C] int8/uint8 (io.inputs = [x]), output NHWC [N, OH, OW, OC] (io.outputs = [y]):
//     int8/uint8 requantized (fixed-point or float mode, ReLU/ReLU6/Clip fused), int32 (ConvInteger), or float32.
//     Weights ONNX OIHW [OC, C/groups, KH, KW] (or 'ohwi'), int8/uint8, per-tensor or per-output-channel zero
//     points and scales; bias int32 (float for float32 output). Explicit pads [top, left, bottom, right] are
//     filled with the input zero point; autoPadding() turns ONNX auto_pad into explicit pads.
//     workItems = quads of output pixels, or blocks of 8 output channels for small outputs (gemmSplit in qgemm.ts);
//     run(begin, end) writes only those pixels / channels (scratch is per caller).
//   Methods (chosen here, per path):
//     'direct'   1x1, stride 1, no padding: the GEMM reads the input in place (per group, row stride C).
//     'im2col'   scalar path, stems (fewer than 8 channels per group) and GEMM variants forced by name: a block of
//                output pixels is unrolled into scratch (zero point in the padding), then the qs8 GEMM of the path
//                with the fused epilogue runs on it.
//     'indirect' QNNPACK indirect convolution (assembly/conv/simd128.ts) with an indirection buffer of input offsets
//                built once here; no copy of the input. x86 / relaxed paths: on the dot16 micro-kernel
//                (qs8_igemm_4x8c2__simd128_dot16, A rows widened straight from the input pixels; splits by rows or
//                8-column blocks like the GEMM); ARM path (and relaxed on an ARM engine): on the extmul micro-kernel.
//     'winograd' x86 / relaxed paths, 3x3 stride-1 undilated convolutions with one group, input channels a multiple
//                of 8 (at most 912: exactness bound) and int8/uint8 output: Winograd F(2x2, 3x3) in exact integer
//                arithmetic (qs8_wino2x2_3x3__simd128_dot16: 16 multiplies per 2x2 tile instead of 36; 0.5-0.6x the
//                indirect kernel's time on ResNet-18's layers). Work items: quads of 2x2 output tiles.
//   Groups: one GEMM per group (depthwise works, but the dwconv family has the fast kernels for it).
import type { PreparedKernel, KernelPath, KernelIO, KernelVariant } from './types.js';
import type { Arch } from '../runtime/features.js';
import type { WasmKernels } from '../runtime/wasm.js';
import type { QuantType, RequantMode } from './requant.js';
import { qrange } from './qcommon.js';
import { planQGemm, planColumns, DOT16, materializeRows, packedBytes, runPlan, runPlanColumns, columnSplittable, gemmSplit, planScratch, layoutFits, chooseQGemmVariant, outputElementSize, QGEMM_VARIANTS, type QOutput, type QGemmPlan, type WeightRows } from './qgemm.js';

export interface QConv2dParams {
  name?: string;
  /** Input NHWC. */
  n: number; h: number; w: number; c: number;
  /** Output channels. */
  oc: number;
  kernel: [number, number];
  strides?: [number, number];
  /** [top, left, bottom, right] */
  pads?: [number, number, number, number];
  dilations?: [number, number];
  groups?: number;
  aType: QuantType;
  aScale: number;
  aZeroPoint: number;
  weights: {
    data: Int8Array | Uint8Array;
    type: QuantType;
    /** 'oihw' (ONNX, default) or 'ohwi'. */
    layout?: 'oihw' | 'ohwi';
    zeroPoints?: number | ArrayLike<number>;
    scales: number | ArrayLike<number>;
  };
  bias?: Int32Array | Float32Array | ArrayLike<number>;
  output: QOutput;
  requant?: RequantMode;
  path: KernelPath;
  arch?: Arch;
  /** Force the GEMM variant by name (tests, benchmarks). */
  variant?: string;
  /** Threads the node will be split over (how work items are cut: gemmSplit). */
  threads?: number;
  /** Force a method (tests, benchmarks); 'auto' by default. */
  method?: 'auto' | 'direct' | 'im2col' | 'indirect' | 'winograd';
  /** Where the constants are allocated when they are one buffer (one group, no indirection): KernelEnv.constAlloc. */
  alloc?: (bytes: number) => Uint8Array | null;
}

export type QConvMethod = 'direct' | 'im2col' | 'indirect' | 'winograd';

/** Convolution variants (the GEMM micro-kernels themselves are the qs8-gemm family). */
export const QCONV_VARIANTS: readonly KernelVariant[] = [
  { family: 'qs8-conv', name: 'qs8_im2col+qs8_gemm', build: 'scalar', flavor: 'any', method: 'im2col' },
  { family: 'qs8-conv', name: 'qs8_igemm_4x8c2__simd128_extmul', build: 'simd128', flavor: 'arm', method: 'indirect' },
  { family: 'qs8-conv', name: 'qs8_igemm_4x8c2__simd128_dot16', build: 'simd128', flavor: 'x86', method: 'indirect' },
  { family: 'qs8-conv', name: 'qs8_wino2x2_3x3__simd128_dot16', build: 'simd128', flavor: 'x86', method: 'winograd' },
];

/** ONNX auto_pad -> explicit [top, left, bottom, right]. */
export function autoPadding(mode: 'NOTSET' | 'VALID' | 'SAME_UPPER' | 'SAME_LOWER', h: number, w: number, kernel: [number, number], strides: [number, number] = [1, 1], dilations: [number, number] = [1, 1]): [number, number, number, number] {
  if (mode === 'NOTSET' || mode === 'VALID') return [0, 0, 0, 0];
  const one = (size: number, k: number, s: number, d: number) => {
    const out = Math.ceil(size / s);
    const total = Math.max(0, (out - 1) * s + (k - 1) * d + 1 - size);
    const small = Math.floor(total / 2);
    return mode === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
  };
  const [t, b] = one(h, kernel[0], strides[0], dilations[0]);
  const [l, r] = one(w, kernel[1], strides[1], dilations[1]);
  return [t, l, b, r];
}

function err(name: string | undefined, msg: string): Error {
  return new Error(`octet: ${name ? `node '${name}': ` : ''}${msg}`);
}

const align16 = (x: number) => (x + 15) & ~15;

function perChannel(v: number | ArrayLike<number> | undefined, n: number, what: string, name?: string): Float64Array {
  const out = new Float64Array(n);
  if (v === undefined) return out;
  if (typeof v === 'number') return out.fill(v);
  if (v.length === 1) return out.fill(v[0]);
  if (v.length !== n) throw err(name, `${what} has ${v.length} values, expected 1 or ${n}`);
  for (let i = 0; i < n; i++) out[i] = v[i];
  return out;
}

/**
 * Weights of output channels [o0, o0 + ocg) minus their zero points, column j = channel o0 + j with K ordered
 * (tap, ci) (taps = ky * kw + kx; channels cg..cg2-1 of each tap stay 0). Source OIHW ([o][ci][tap]) or OHWI
 * ([o][tap][ci]). Read column by column while packing (no int32 copy of the whole tensor: session creation time).
 */
function convWeightRows(sw8: Int8Array | Uint8Array, zb: Float64Array, o0: number, cg: number, cg2: number, taps: number, ohwi: boolean): WeightRows {
  return (j, out) => {
    const o = o0 + j, z = zb[o] | 0, src = o * cg * taps;
    if ((ohwi || taps === 1) && z === 0 && cg2 === cg) {
      // source already (tap, ci)-ordered, nothing to subtract: one native int8 -> int32 copy
      // (the common case: symmetric int8 weights)
      out.set(sw8.subarray(src, src + taps * cg));
      return;
    }
    if (cg2 !== cg) out.fill(0);
    if (ohwi || taps === 1) {
      for (let t = 0; t < taps; t++) {
        const s0 = src + t * cg, d0 = t * cg2;
        for (let ci = 0; ci < cg; ci++) out[d0 + ci] = sw8[s0 + ci] - z;
      }
    } else {
      for (let ci = 0; ci < cg; ci++) {
        const s0 = src + ci * taps;
        for (let t = 0; t < taps; t++) out[t * cg2 + ci] = sw8[s0 + t] - z;
      }
    }
  };
}

export function prepareQConv2d(p: QConv2dParams): PreparedKernel & { outShape: [number, number, number, number]; method: QConvMethod; pixBlock: number; byColumns: boolean } {
  const name = p.name;
  const { n, h, w, c, oc } = p;
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.strides ?? [1, 1];
  const [pt, pl, pb, pr] = p.pads ?? [0, 0, 0, 0];
  const [dh, dw] = p.dilations ?? [1, 1];
  const groups = p.groups ?? 1;
  const ints = { n, h, w, c, oc, kh, kw, sh, sw, dh, dw, groups };
  for (const [k, v] of Object.entries(ints)) if (!(Number.isInteger(v) && v >= 1)) throw err(name, `${k} must be an integer >= 1, got ${v}`);
  for (const v of [pt, pl, pb, pr]) if (!(Number.isInteger(v) && v >= 0)) throw err(name, `pads must be integers >= 0, got [${p.pads}]`);
  if (c % groups || oc % groups) throw err(name, `channels (${c} in, ${oc} out) are not divisible by groups=${groups}`);
  const cg = c / groups, ocg = oc / groups;
  const oh = Math.floor((h + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const ow = Math.floor((w + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  if (oh < 1 || ow < 1) throw err(name, `output would be empty (${oh}x${ow}) for input ${h}x${w}, kernel ${kh}x${kw}`);
  const taps = kh * kw;
  const K = taps * cg;
  if (K > 16384) throw err(name, `K = C/groups*KH*KW = ${K} exceeds 16384`);
  const wd = p.weights.data;
  if (wd.length !== oc * K) throw err(name, `weights have ${wd.length} values, expected ${oc}x${cg}x${kh}x${kw}`);
  const zb = perChannel(p.weights.zeroPoints, oc, 'weight zero point', name);
  const [wlo, whi] = qrange(p.weights.type);
  for (let o = 0; o < oc; o++) if (!(Number.isInteger(zb[o]) && zb[o] >= wlo && zb[o] <= whi)) throw err(name, `weight zero point ${zb[o]} is not a valid ${p.weights.type}`);
  const wScales = perChannel(p.weights.scales, oc, 'weight scale', name);
  const sw8 = p.weights.type === 'int8' ? new Int8Array(wd.buffer, wd.byteOffset, wd.length) : new Uint8Array(wd.buffer, wd.byteOffset, wd.length);
  const ohwi = p.weights.layout === 'ohwi';
  if (p.bias && p.bias.length !== oc) throw err(name, `bias has ${p.bias.length} values, expected ${oc}`);

  const pointwise = kh === 1 && kw === 1 && sh === 1 && sw === 1 && pt + pl + pb + pr === 0;
  const armLike = p.path === 'arm' || (p.path === 'relaxed' && p.arch === 'arm');
  // x86-like paths: the dot16 GEMM reads its A rows through an indirection buffer (qs8_igemm_4x8c2__simd128_dot16, no
  // im2col pass: ~10% of a 56x56x64 3x3 convolution) when channels come at least 8 at a time; stems (3 channels) unroll
  const gemmVariant = armLike ? undefined : chooseQGemmVariant(p.path, p.arch, p.variant);
  const dot16ok = gemmVariant?.name === DOT16.name;
  const wino = winogradFits(p, dot16ok, groups, kh, kw, sh, sw, dh, dw);
  let method: QConvMethod = p.method && p.method !== 'auto' ? p.method : pointwise ? 'direct' : wino && (!p.variant || p.variant === DOT16.name) ? 'winograd' : armLike || (dot16ok && cg >= 8) ? 'indirect' : 'im2col';
  if (method === 'direct' && !pointwise) throw err(name, `method 'direct' needs a 1x1 stride-1 unpadded convolution`);
  if (method === 'winograd') {
    if (!wino) throw err(name, `method 'winograd' needs the x86 path, a 3x3 stride-1 undilated convolution with one group, input channels a multiple of 8 (at most 912) and int8/uint8 output`);
    return prepareWinograd(p, sw8, zb, wScales, ohwi, oh, ow);
  }
  // indirect on dot16 (x86-like paths) or on extmul (ARM, and forced elsewhere)
  const dot16Ind = method === 'indirect' && dot16ok;
  const extInd = method === 'indirect' && !dot16ok;
  const cg2 = extInd ? cg + (cg & 1) : cg;
  const Kp = taps * cg2;
  // centered weights per group, K ordered (ky, kx, ci) like im2col rows / indirection taps
  const wcs: (Int32Array | WeightRows)[] = [];
  for (let g = 0; g < groups; g++) {
    const rows = convWeightRows(sw8, zb, g * ocg, cg, cg2, taps, ohwi);
    wcs.push(extInd ? materializeRows(rows, ocg, Kp) : rows);
  }
  if (extInd && wcs.some((wc) => layoutFits('extmul', wc as Int32Array) < 0)) {
    // B - zb leaves int8 (uint8 weights): unroll instead, the dot16 GEMM takes int16 weights
    return prepareQConv2d({ ...p, method: 'im2col' });
  }
  const variant = extInd ? QGEMM_VARIANTS.find((v) => v.layout === 'extmul')! : gemmVariant ?? chooseQGemmVariant(p.path, p.arch, p.variant);
  const prm = new Int32Array(24);
  prm.set([h, w, c, kh, kw, sh, sw, pt, pl, dh, dw, cg, oh, ow, p.aZeroPoint & 0xff, K, cg2]);
  const prmBytes = new Uint8Array(prm.buffer);
  const P = n * oh * ow;
  // indirect: an indirection buffer of input offsets per (output pixel, tap) and a zero-point row
  const indBytes = method === 'indirect' ? P * taps * 4 : 0;
  const zeroBytes = method === 'indirect' ? cg2 + 16 : 0;
  // One group: the plan's constants carry the geometry record, the indirection buffer and the zero-point row in their
  // tail, allocated once (in wasm memory when the runtime stages weights: no second buffer and copy of the packed
  // weights; session creation time, bench/cold-phases.ts). Offsets as if each part started at a multiple of 16.
  const single = groups === 1;
  const tailBytes = single ? align16(prmBytes.length) + (indBytes ? align16(indBytes) + align16(zeroBytes) : 0) : 0;
  const plans: QGemmPlan[] = [];
  for (let g = 0; g < groups; g++) {
    const sl = (a: ArrayLike<number> | undefined) => (a ? Array.from({ length: ocg }, (_, j) => a[g * ocg + j]) : undefined);
    plans.push(planQGemm({
      name, n: ocg, k: Kp, aType: p.aType, aScale: p.aScale, aZeroPoint: p.aZeroPoint, wc: wcs[g],
      wScales: groups === 1 ? wScales : Float64Array.from(sl(wScales)!), bias: groups === 1 ? p.bias : sl(p.bias), output: p.output, requant: p.requant, variant,
      tailBytes, alloc: single ? p.alloc : undefined,
    }));
  }
  // constants: [plans...][geometry record][indirection buffer][zero-point row]
  const parts: Uint8Array[] = [];
  let off = 0;
  const planOffsets: number[] = [];
  const add = (b: Uint8Array) => { const at = off; parts.push(b); off = align16(off + b.length); return at; };
  let prmOffset: number;
  if (single) {
    planOffsets.push(0);
    prmOffset = plans[0].constants.length - tailBytes;
    off = prmOffset;
    add(prmBytes);
  } else {
    for (const pl of plans) planOffsets.push(add(pl.constants));
    prmOffset = add(prmBytes);
  }
  let indirOffset = 0, zeroOffset = 0;
  if (method === 'indirect') {
    indirOffset = off;
    off = align16(off + indBytes);
    zeroOffset = off;
    off = align16(off + zeroBytes);
  }
  let constants: Uint8Array;
  if (single) constants = plans[0].constants;
  else {
    constants = new Uint8Array(off);
    let o = 0;
    for (const b of parts) { constants.set(b, o); o = align16(o + b.length); }
  }
  constants.set(prmBytes, prmOffset);
  if (method === 'indirect') {
    const ind = new Int32Array(constants.buffer, constants.byteOffset + indirOffset, P * taps);
    for (let pix = 0; pix < P; pix++) {
      const img = Math.floor(pix / (oh * ow));
      const r = pix - img * oh * ow;
      const oy = Math.floor(r / ow), ox = r - oy * ow;
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          const iy = oy * sh - pt + ky * dh, ix = ox * sw - pl + kx * dw;
          ind[pix * taps + ky * kw + kx] = iy >= 0 && iy < h && ix >= 0 && ix < w ? ((img * h + iy) * w + ix) * c : -1;
        }
      }
    }
    constants.fill(p.aZeroPoint & 0xff, zeroOffset, zeroOffset + cg2 + 16);
  }

  const es = outputElementSize(p.output);
  // pixels per kernel call: im2col blocks fill up to 64 KiB of scratch; 'direct' needs no buffer, so a work range is
  // one call (the GEMM blocks its columns for the cache itself; one JS -> wasm call per 64 pixels cost up to 5% on
  // MobileNetV2's 112x112 layers: bench/kernels-qconv-ab.ts); the indirect kernel walks 64 pixels per call.
  const pixBlock = method === 'im2col' ? Math.max(4, Math.min(256, Math.floor(65536 / K / 4) * 4)) : method === 'direct' || dot16Ind ? Math.max(P, 1) : 64;
  // Work items (gemmSplit): row quads of output pixels, or 8-column blocks of output channels for small outputs
  // (one group, not the indirect kernel). Either way a range is computed in blocks of at most pixBlock pixels.
  const split = gemmSplit(P, ocg, groups === 1 && !extInd && plans.every(columnSplittable), p.threads);
  const items = split.items;
  const colBytes = method === 'im2col' ? align16(pixBlock * K) : 0;
  const scratchBytes = colBytes + (extInd ? 0 : Math.max(...plans.map(planScratch)) + 16);
  const aUnsigned = p.aType === 'uint8';
  const block = (wasm: WasmKernels, io: KernelIO, p0: number, p1: number, b0: number, b1: number) => {
    const x = io.inputs[0], y = io.outputs[0], cb = io.constants;
    for (let g = 0; g < groups; g++) {
      const cOut = y + (p0 * oc + g * ocg) * es;
      if (method === 'direct') {
        if (split.byColumns) runPlanColumns(wasm, plans[g], cb + planOffsets[g], p1 - p0, x + p0 * c + g * cg, c, cOut, oc * es, io.scratch, b0, b1);
        else runPlan(wasm, plans[g], cb + planOffsets[g], p1 - p0, x + p0 * c + g * cg, c, cOut, oc * es, io.scratch);
      } else if (method === 'im2col') {
        wasm.exports.qs8_im2col(cb + prmOffset, x, p0, p1, g, io.scratch);
        if (split.byColumns) runPlanColumns(wasm, plans[g], cb + planOffsets[g], p1 - p0, io.scratch, K, cOut, oc * es, io.scratch + colBytes, b0, b1);
        else runPlan(wasm, plans[g], cb + planOffsets[g], p1 - p0, io.scratch, K, cOut, oc * es, io.scratch + colBytes);
      } else if (dot16Ind) {
        const pl = plans[g], wc = cb + planOffsets[g];
        const r = split.byColumns ? planColumns(pl, wc, cOut, b0, b1) : { n: ocg, w: wc, c: cOut, table: wc + pl.tableOffset, table2: wc + pl.table2Offset };
        if (!r) continue;
        wasm.exports.qs8_igemm_4x8c2__simd128_dot16(p1 - p0, r.n, taps, cg, cb + indirOffset + p0 * taps * 4, x + g * cg, cb + zeroOffset, aUnsigned ? 1 : 0,
          r.w, r.c, oc * es, pl.kind, r.table, r.table2, pl.zp, pl.qmin, pl.qmax, (io.scratch + 15) & ~15);
      } else {
        const pl = plans[g], wc = cb + planOffsets[g];
        wasm.exports.qs8_igemm_4x8c2__simd128_extmul(p1 - p0, ocg, taps, cg, cb + indirOffset + p0 * taps * 4, x + g * cg, cb + zeroOffset, aUnsigned ? 1 : 0,
          wc, cOut, oc * es, pl.kind, wc + pl.tableOffset, wc + pl.table2Offset, pl.zp, pl.qmin, pl.qmax);
      }
    }
  };
  return {
    variant: dot16Ind ? 'qs8_igemm_4x8c2__simd128_dot16' : extInd ? 'qs8_igemm_4x8c2__simd128_extmul' : `${method}+${plans[0].variant.name}`,
    method,
    pixBlock,
    byColumns: split.byColumns,
    outShape: [n, oh, ow, oc],
    constants,
    constantsAlign: 16,
    scratchBytes,
    workItems: items,
    cost: P * oc * K,
    // 1x1 convolutions split by pixel rows: a range reads its input pixels and writes its output pixels
    access: method === 'direct' && !split.byColumns ? (io: KernelIO, begin: number, end: number) => {
      const p0 = begin * 4, p1 = Math.min(P, end * 4);
      return { reads: [[io.inputs[0] + p0 * c, io.inputs[0] + p1 * c]], writes: [[io.outputs[0] + p0 * oc * es, io.outputs[0] + p1 * oc * es]] };
    } : undefined,
    run(wasm: WasmKernels, io: KernelIO, begin = 0, end = items) {
      if (end <= begin) return;
      // by columns: every pixel, channel blocks [begin, end); by rows: pixels [4 begin, 4 end), all channels
      const [r0, r1] = split.byColumns ? [0, P] : [begin * 4, Math.min(P, end * 4)];
      for (let p0 = r0; p0 < r1; p0 += pixBlock) block(wasm, io, p0, Math.min(r1, p0 + pixBlock), begin, end);
    },
  };
}

// ------------------------------------------------------------------------------------------------------------
// Winograd F(2x2, 3x3) on the dot16 micro-kernel (assembly/conv/simd128.ts qs8_wino2x2_3x3__simd128_dot16: the
// transforms, why it is exact, the scratch layout)

/** Can prepareQConv2d run p as Winograd F(2x2, 3x3)? Exactness needs |4 * accumulator| < 2^31: c * 9 * 255^2 < 2^29. */
function winogradFits(p: QConv2dParams, dot16ok: boolean, groups: number, kh: number, kw: number, sh: number, sw: number, dh: number, dw: number): boolean {
  const out = p.output.type;
  // OCTET_WINOGRAD=off: the indirect kernel instead, where 'auto' would pick Winograd (benchmarks: bench/model-ab.ts)
  const off = typeof process !== 'undefined' && (process as any).env?.OCTET_WINOGRAD === 'off';
  return !off && dot16ok && groups === 1 && kh === 3 && kw === 3 && sh === 1 && sw === 1 && dh === 1 && dw === 1 &&
    p.c % 8 === 0 && p.c * 9 * 255 * 255 < 2 ** 29 && (out === 'int8' || out === 'uint8');
}

/**
 * U = (2G) g (2G)^T of every (o, ci) 3x3 kernel g (minus the weight zero point; OIHW or OHWI source), written into
 * the 16 dot16 matrices of w16 (ps int16 apart; blocks of 8 columns bstride bytes apart after a 16-byte header, 32
 * bytes of initial accumulators first; a 32-byte row holds columns o & 7 for channels 2 (ci >> 1) and 2 (ci >> 1) + 1).
 * One monomorphic loop with the 9 taps in locals (no closure per tap, no temporary array): it runs once per
 * Winograd layer at session creation, mostly before V8 has optimized it (ResNet-18: 1.06 M kernels, 34 MB).
 */
function winogradWeights(w16: Int16Array, sw8: Int8Array | Uint8Array, zb: Float64Array, oc: number, c: number, ohwi: boolean, bstride: number, ps: number): void {
  const ts = ohwi ? c : 1; // source stride between taps
  for (let o = 0; o < oc; o++) {
    const z = zb[o] | 0;
    const col = ((16 + (o >> 3) * bstride + 32) >> 1) + (o & 7) * 2;
    for (let ci = 0; ci < c; ci++) {
      const s = ohwi ? o * 9 * c + ci : (o * c + ci) * 9;
      const g00 = sw8[s] - z, g01 = sw8[s + ts] - z, g02 = sw8[s + 2 * ts] - z;
      const g10 = sw8[s + 3 * ts] - z, g11 = sw8[s + 4 * ts] - z, g12 = sw8[s + 5 * ts] - z;
      const g20 = sw8[s + 6 * ts] - z, g21 = sw8[s + 7 * ts] - z, g22 = sw8[s + 8 * ts] - z;
      // (2G) g: rows 2 g0, g0 + g1 + g2, g0 - g1 + g2, 2 g2 (g_r = kernel row r); each row [x, y, z] then times
      // (2G)^T: [2x, x + y + z, x - y + z, 2z]
      const d = col + (ci >> 1) * 16 + (ci & 1);
      let x = 2 * g00, y = 2 * g01, zz = 2 * g02;
      w16[d] = 2 * x; w16[d + ps] = x + y + zz; w16[d + 2 * ps] = x - y + zz; w16[d + 3 * ps] = 2 * zz;
      x = g00 + g10 + g20; y = g01 + g11 + g21; zz = g02 + g12 + g22;
      w16[d + 4 * ps] = 2 * x; w16[d + 5 * ps] = x + y + zz; w16[d + 6 * ps] = x - y + zz; w16[d + 7 * ps] = 2 * zz;
      x = g00 - g10 + g20; y = g01 - g11 + g21; zz = g02 - g12 + g22;
      w16[d + 8 * ps] = 2 * x; w16[d + 9 * ps] = x + y + zz; w16[d + 10 * ps] = x - y + zz; w16[d + 11 * ps] = 2 * zz;
      x = 2 * g20; y = 2 * g21; zz = 2 * g22;
      w16[d + 12 * ps] = 2 * x; w16[d + 13 * ps] = x + y + zz; w16[d + 14 * ps] = x - y + zz; w16[d + 15 * ps] = 2 * zz;
    }
  }
}

/** Quads of 2x2 tiles per kernel call: V + M scratch of about 1 MiB (the 7x7 and 14x14 layers: one or two calls). */
const WINO_BLOCK_BYTES = 1 << 20;

function prepareWinograd(p: QConv2dParams, sw8: Int8Array | Uint8Array, zb: Float64Array, wScales: Float64Array, ohwi: boolean, oh: number, ow: number): PreparedKernel & { outShape: [number, number, number, number]; method: QConvMethod; pixBlock: number; byColumns: boolean } {
  const { n, h, w, c, oc, name } = p;
  const [pt, pl] = p.pads ?? [0, 0, 0, 0];
  // requantization tables only (tablesOnly: no packed zeros; no bias either: it is added after the output transform)
  const plan = planQGemm({ name, n: oc, k: c, aType: p.aType, aScale: p.aScale, aZeroPoint: 0, wc: (_j, out) => out.fill(0), wScales, output: p.output, requant: p.requant, variant: DOT16, tablesOnly: true });
  const wstride = align16(packedBytes('dot16', oc, c));
  const ocp = Math.ceil(oc / 8) * 8;
  const bias = new Int32Array(ocp);
  if (p.bias) for (let o = 0; o < oc; o++) {
    if (!Number.isInteger(p.bias[o])) throw err(name, `bias must be int32 for ${p.output.type} output`);
    bias[o] = p.bias[o];
  }
  const th = Math.ceil(oh / 2), tw = Math.ceil(ow / 2), tiles = n * th * tw;
  const prm = new Int32Array(24);
  prm.set([h, w, c, 3, 3, 1, 1, pt, pl, 1, 1, c, oh, ow, p.aZeroPoint & 0xff, 9 * c, c, th, tw, tiles]);
  const tables = plan.constants.subarray(plan.tableOffset);
  const tabOff = 16 * wstride, biasOff = align16(tabOff + tables.length), prmOff = align16(biasOff + bias.byteLength), zeroOff = prmOff + 96;
  // straight into the session's wasm memory when the runtime stages weights (KernelEnv.constAlloc, zeroed): no JS
  // copy of ResNet-18's 34 MB of transformed weights and no second copy into wasm (bench/cold-phases.ts)
  const size = align16(zeroOff + c + 16);
  const constants = p.alloc?.(size) ?? new Uint8Array(size);
  // U = (2G) g (2G)^T per (o, ci), written straight into the 16 packed dot16 matrices (layout: assembly/gemm/simd128.ts;
  // initial accumulators 0, already zero)
  const w16 = new Int16Array(constants.buffer, constants.byteOffset, (16 * wstride) >> 1);
  const bstride = 32 + (c / 2) * 32, ps = wstride >> 1;
  winogradWeights(w16, sw8, zb, oc, c, ohwi, bstride, ps);
  constants.set(tables, tabOff);
  constants.set(new Uint8Array(bias.buffer), biasOff);
  constants.set(new Uint8Array(prm.buffer), prmOff);
  constants.fill(p.aZeroPoint & 0xff, zeroOff, zeroOff + c);
  const quads = Math.ceil(tiles / 4);
  const perQuad = 256 * (c / 2) + 256 * ocp;
  const qb = Math.max(1, Math.min(quads, Math.floor(WINO_BLOCK_BYTES / perQuad)));
  const scratchBytes = 16 * qb * (c / 2) * 16 + 16 * 4 * qb * ocp * 4 + 2048 + 16;
  const tOff = plan.tableOffset, t2Off = plan.table2Offset;
  return {
    variant: 'qs8_wino2x2_3x3__simd128_dot16',
    method: 'winograd',
    pixBlock: 4 * qb * 4,
    byColumns: false,
    outShape: [n, oh, ow, oc],
    constants,
    constantsAlign: 16,
    scratchBytes,
    workItems: quads,
    cost: n * oh * ow * oc * 9 * c,
    run(wasm: WasmKernels, io: KernelIO, begin = 0, end = quads) {
      const cb = io.constants;
      const fn = wasm.exports.qs8_wino2x2_3x3__simd128_dot16;
      if (!fn) throw new Error(`octet: kernel qs8_wino2x2_3x3__simd128_dot16 is missing from the ${wasm.level} build`);
      for (let q0 = begin; q0 < end; q0 += qb) {
        fn(cb + prmOff, io.inputs[0], cb + zeroOff, p.aType === 'uint8' ? 1 : 0, cb, wstride, oc, cb + biasOff, q0, Math.min(end, q0 + qb),
          io.outputs[0], oc, plan.kind, cb + tabOff, cb + tabOff + (t2Off - tOff), plan.zp, plan.qmin, plan.qmax, (io.scratch + 15) & ~15);
      }
    },
  };
}

// ------------------------------------------------------------------------------------------------------------
// Input zero point known only at run time (DynamicQuantizeLinear -> ConvInteger / MatMulInteger)

/** Variants of the runtime zero-point correction (assembly/conv/{scalar,simd128}.ts). */
export const ZP_CORRECT = { scalar: 'x32_conv_zp_correct__scalar', simd128: 'x32_conv_zp_correct__simd128' } as const;

export interface ZpCorrection {
  /** Bytes to append to the node's constants: [table int32[classes][OC]][cy int32[OH]][cx int32[OW]]. */
  bytes: Uint8Array;
  tableOffset: number;
  cyOffset: number;
  cxOffset: number;
  ncx: number;
}

/**
 * Per-class weight sums for the runtime zero-point correction: class (cy, cx) of an output pixel is the range of
 * kernel rows / columns that fall inside the input; S[class][o] = sum over those taps and the group's input
 * channels of (w - zb[o]). Weights OIHW [OC, cg, KH, KW] as int values (already read as int8 / uint8).
 */
export function zpCorrection(g: { h: number; w: number; oh: number; ow: number; oc: number; cg: number; kh: number; kw: number; sh: number; sw: number; pt: number; pl: number; dh: number; dw: number },
  wv: ArrayLike<number>, zb: ArrayLike<number>): ZpCorrection {
  const axis = (len: number, out: number, k: number, s: number, pad: number, d: number) => {
    const keys = new Map<string, number>();
    const ranges: [number, number][] = [];
    const cls = new Int32Array(Math.max(out, 1));
    for (let o = 0; o < out; o++) {
      let lo = k, hi = -1;
      for (let t = 0; t < k; t++) {
        const i = o * s - pad + t * d;
        if (i >= 0 && i < len) { lo = Math.min(lo, t); hi = Math.max(hi, t); }
      }
      const key = `${lo},${hi}`;
      let c = keys.get(key);
      if (c === undefined) { c = ranges.length; keys.set(key, c); ranges.push([lo, hi]); }
      cls[o] = c;
    }
    return { cls, ranges };
  };
  const ay = axis(g.h, g.oh, g.kh, g.sh, g.pt, g.dh), ax = axis(g.w, g.ow, g.kw, g.sw, g.pl, g.dw);
  const ncx = ax.ranges.length, ncls = ay.ranges.length * ncx;
  const table = new Int32Array(ncls * g.oc);
  ay.ranges.forEach(([y0, y1], cy) => ax.ranges.forEach(([x0, x1], cx) => {
    const row = (cy * ncx + cx) * g.oc;
    for (let o = 0; o < g.oc; o++) {
      const z = zb.length > 1 ? zb[o] : zb[0];
      let s = 0;
      for (let ci = 0; ci < g.cg; ci++) {
        for (let ky = y0; ky <= y1; ky++) for (let kx = x0; kx <= x1; kx++) {
          s += wv[((o * g.cg + ci) * g.kh + ky) * g.kw + kx] - z;
        }
      }
      table[row + o] = s;
    }
  }));
  const parts = [new Uint8Array(table.buffer), new Uint8Array(ay.cls.buffer), new Uint8Array(ax.cls.buffer)];
  const offs: number[] = [];
  let off = 0;
  for (const b of parts) { offs.push(off); off = align16(off + b.length); }
  const bytes = new Uint8Array(off);
  parts.forEach((b, i) => bytes.set(b, offs[i]));
  return { bytes, tableOffset: offs[0], cyOffset: offs[1], cxOffset: offs[2], ncx };
}

/**
 * ConvInteger with the input zero point in memory at run time (io.inputs = [x, zp (1 byte)], io.outputs = [y int32]):
 * the convolution runs with za = 0 (padding reads 0), then x32_conv_zp_correct subtracts za * S[class][o] per pixel
 * range, which gives exactly sum over in-input taps of (x - za) * (w - zb), the ONNX definition (padding = za).
 */
export function prepareQConv2dRuntimeZp(p: Omit<QConv2dParams, 'aZeroPoint' | 'aScale' | 'output'> & { zpType: QuantType }): PreparedKernel {
  const base = prepareQConv2d({ ...p, aScale: 1, aZeroPoint: 0, weights: { ...p.weights, scales: 1 }, output: { type: 'int32' } });
  const [n, oh, ow, oc] = base.outShape;
  const [kh, kw] = p.kernel, [sh, sw] = p.strides ?? [1, 1], [pt, pl] = p.pads ?? [0, 0, 0, 0], [dh, dw] = p.dilations ?? [1, 1];
  const cg = p.c / (p.groups ?? 1);
  const wd = p.weights.data;
  const wv = p.weights.type === 'int8' ? new Int8Array(wd.buffer, wd.byteOffset, wd.length) : new Uint8Array(wd.buffer, wd.byteOffset, wd.length);
  if (p.weights.layout === 'ohwi') throw err(p.name, `runtime zero point needs OIHW weights`);
  const zb = perChannel(p.weights.zeroPoints, oc, 'weight zero point', p.name);
  const corr = zpCorrection({ h: p.h, w: p.w, oh, ow, oc, cg, kh, kw, sh, sw, pt, pl, dh, dw }, wv, zb);
  const at = align16(base.constants.length);
  const constants = new Uint8Array(at + corr.bytes.length);
  constants.set(base.constants);
  constants.set(corr.bytes, at);
  const fn = p.path === 'scalar' ? ZP_CORRECT.scalar : ZP_CORRECT.simd128;
  const P = n * oh * ow, zs = p.zpType === 'int8' ? 1 : 0;
  return {
    variant: `${base.variant}+${fn}`,
    constants,
    constantsAlign: 16,
    scratchBytes: base.scratchBytes,
    workItems: base.workItems,
    cost: base.cost,
    run(wasm, io, begin = 0, end = base.workItems) {
      if (end <= begin) return;
      base.run(wasm, { inputs: [io.inputs[0]], outputs: io.outputs, constants: io.constants, scratch: io.scratch }, begin, end);
      const c = io.constants + at;
      // the region base.run wrote: all pixels x channel blocks of 8 (split by columns) or pixel quads x all channels
      const [p0, p1, o0, o1] = base.byColumns ? [0, P, begin * 8, Math.min(oc, end * 8)] : [begin * 4, Math.min(P, end * 4), 0, oc];
      wasm.exports[fn](io.outputs[0], io.inputs[1], zs, oh, ow, oc, c + corr.cyOffset, c + corr.cxOffset, corr.ncx, c + corr.tableOffset, p0, p1, o0, o1);
    },
  };
}
