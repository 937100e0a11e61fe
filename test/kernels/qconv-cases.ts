// Shared machinery of the qs8 convolution suites: random conv problems run through prepareQConv2d on one path
// and through the oracle (assembly/reference/conv.ts, ref_qconv2d) in the same wasm instance.
import { WasmKernels, BumpAllocator } from '../../src/runtime/wasm.js';
import { prepareQConv2d, type QConv2dParams } from '../../src/kernels/qconv.js';
import { fixedPointMultipliers, requantScales, outputRange, type QuantType, type RequantMode } from '../../src/kernels/requant.js';
import type { KernelPath } from '../../src/kernels/types.js';
import { rng } from './qgemm-cases.js';

export type OutType = 'int8' | 'uint8' | 'int32' | 'float32';

/** Runs the oracle for conv params `p` (OIHW weights, ONNX semantics) on NHWC x; returns the output bytes. */
export function refConv(wasm: WasmKernels, p: QConv2dParams, x: Int8Array | Uint8Array, oh: number, ow: number, out: OutType): Uint8Array {
  const al = new BumpAllocator(wasm);
  const oc = p.oc;
  const [kh, kw] = p.kernel;
  const [sh, sw] = p.strides ?? [1, 1];
  const [pt, pl] = p.pads ?? [0, 0, 0, 0];
  const [dh, dw] = p.dilations ?? [1, 1];
  const kind = out === 'int32' ? 2 : out === 'float32' ? 3 : p.requant === 'float' ? 1 : 0;
  const prm = Int32Array.from([p.n, p.h, p.w, p.c, oc, kh, kw, sh, sw, pt, pl, dh, dw, p.groups ?? 1, oh, ow,
    p.aType === 'uint8' ? 1 : 0, p.aZeroPoint, p.weights.type === 'uint8' ? 1 : 0, kind]);
  const zbv = p.weights.zeroPoints ?? 0;
  const zb = Int32Array.from({ length: oc }, (_, o) => (typeof zbv === 'number' ? zbv : zbv.length === 1 ? zbv[0] : zbv[o]));
  const sv = p.weights.scales;
  const ws = Array.from({ length: oc }, (_, o) => (typeof sv === 'number' ? sv : sv.length === 1 ? sv[0] : sv[o]));
  const o = p.output as any;
  const reals = kind <= 1 ? requantScales(p.requant ?? 'fixed-point', p.aScale, ws, o.scale) : new Float64Array(oc);
  const mult = new Int32Array(oc), shift = new Int32Array(oc), scale = new Float32Array(oc);
  // the fixed-point decomposition is made per GEMM plan, i.e. per group (its groups of 4 channels start at each
  // group's first channel: src/kernels/requant.ts fixedPointMultipliers)
  const ocg = oc / (p.groups ?? 1);
  const fpm = kind === 0 ? Array.from({ length: p.groups ?? 1 }, (_, g) => fixedPointMultipliers(reals.slice(g * ocg, (g + 1) * ocg))).flat() : [];
  for (let j = 0; j < oc; j++) {
    if (kind === 0) ({ multiplier: mult[j], shift: shift[j] } = fpm[j]);
    scale[j] = kind === 3 ? Math.fround(Math.fround(p.aScale) * Math.fround(ws[j])) : reals[j];
  }
  const { qmin, qmax } = kind <= 1 ? outputRange(out as QuantType, o.zeroPoint, o.scale, o.clamp) : { qmin: 0, qmax: 0 };
  const es = kind >= 2 ? 4 : 1;
  const bytes = p.n * oh * ow * oc * es;
  const py = al.alloc(bytes);
  const bias = p.bias && kind !== 3 ? al.put(Int32Array.from(p.bias as ArrayLike<number>)) : 0;
  const fb = al.put(kind === 3 && p.bias ? Float32Array.from(p.bias as ArrayLike<number>) : new Float32Array(oc));
  wasm.exports.ref_qconv2d(al.put(prm), al.put(x), al.put(p.weights.data), al.put(zb), bias, py,
    al.put(mult), al.put(shift), al.put(scale), fb, kind <= 1 ? o.zeroPoint : 0, qmin, qmax);
  return wasm.u8(py, bytes).slice();
}

/** Runs prepareQConv2d(p) on `wasm`, splitting the work in two ranges; returns output bytes and the method. */
export function runConv(wasm: WasmKernels, p: QConv2dParams, x: Int8Array | Uint8Array): { bytes: Uint8Array; method: string; variant: string; oh: number; ow: number } {
  const prep = prepareQConv2d(p);
  const [, oh, ow, oc] = prep.outShape;
  const es = p.output.type === 'int32' || p.output.type === 'float32' ? 4 : 1;
  const bytes = p.n * oh * ow * oc * es;
  const al = new BumpAllocator(wasm);
  const io = { inputs: [al.put(x)], constants: al.put(prep.constants, 16), outputs: [al.alloc(bytes + 64) + 32], scratch: al.alloc(prep.scratchBytes + 16) };
  wasm.u8(io.outputs[0] - 32, bytes + 64).fill(0x5a);
  const mid = Math.floor(prep.workItems / 2);
  prep.run(wasm, io, mid, prep.workItems);
  prep.run(wasm, io, 0, mid);
  const guard = wasm.u8(io.outputs[0] - 32, bytes + 64);
  for (let i = 0; i < 32; i++) if (guard[i] !== 0x5a || guard[bytes + 32 + i] !== 0x5a) throw new Error('conv wrote outside its output');
  return { bytes: wasm.u8(io.outputs[0], bytes).slice(), method: prep.method, variant: prep.variant, oh, ow };
}

export function randomConv(seed: number, path: KernelPath): { p: QConv2dParams; x: Int8Array | Uint8Array } {
  const r = rng(seed);
  const ri = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  for (;;) {
    const groups = pick([1, 1, 1, 2, 3]);
    const cg = pick([1, 2, 3, 5, 7, 8, 16, ri(1, 20)]);
    const ocg = pick([1, 3, 8, 9, ri(1, 20)]);
    const kernel: [number, number] = pick([[1, 1], [3, 3], [5, 5], [1, 3], [ri(1, 6), ri(1, 6)]] as [number, number][]);
    const h = pick([1, 2, 5, ri(1, 12)]), w = pick([1, 3, 6, ri(1, 12)]);
    const strides: [number, number] = pick([[1, 1], [2, 2], [ri(1, 4), ri(1, 4)]] as [number, number][]);
    const dilations: [number, number] = pick([[1, 1], [1, 1], [2, 2], [ri(1, 3), ri(1, 3)]] as [number, number][]);
    const pads: [number, number, number, number] = pick([[0, 0, 0, 0], [1, 1, 1, 1], [ri(0, 3), ri(0, 3), ri(0, 3), ri(0, 3)]] as [number, number, number, number][]);
    const oh = Math.floor((h + pads[0] + pads[2] - dilations[0] * (kernel[0] - 1) - 1) / strides[0]) + 1;
    const ow = Math.floor((w + pads[1] + pads[3] - dilations[1] * (kernel[1] - 1) - 1) / strides[1]) + 1;
    if (oh < 1 || ow < 1) continue;
    const n = pick([1, 1, 2]);
    const c = cg * groups, oc = ocg * groups;
    const aType: QuantType = pick(['int8', 'uint8']);
    const wType: QuantType = pick(['int8', 'int8', 'uint8']);
    const [alo, ahi] = aType === 'int8' ? [-128, 127] : [0, 255];
    const za = pick([alo, ahi, ri(alo, ahi)]);
    const wd = wType === 'int8' ? new Int8Array(oc * cg * kernel[0] * kernel[1]) : new Uint8Array(oc * cg * kernel[0] * kernel[1]);
    for (let i = 0; i < wd.length; i++) wd[i] = ri(0, 255);
    const zbs = wType === 'int8' ? pick([0, 0, -128, 127]) : pick([0, 128, 255]);
    const zeroPoints = pick([zbs, Array.from({ length: oc }, () => (wType === 'int8' ? ri(-128, 127) : ri(0, 255)))]);
    let scales = Array.from({ length: oc }, (_, j) => (j % 5 === 2 ? 1e-9 * r() : j % 5 === 4 ? 30 + 100 * r() : 10 ** (-6 + 6 * r())));
    const out: OutType = pick(['int8', 'uint8', 'int8', 'uint8', 'int32', 'float32']);
    const output = out === 'int32' || out === 'float32' ? { type: out } : { type: out, scale: 2 ** (-12 + 8 * r()), zeroPoint: out === 'int8' ? ri(-128, 127) : ri(0, 255), clamp: pick([undefined, { min: 0 }, { min: 0, max: 6 }]) };
    const bias = out === 'float32' ? Float32Array.from({ length: oc }, () => (r() - 0.5) * 8) : pick([undefined, Int32Array.from({ length: oc }, () => ri(-5000, 5000))]);
    const x = aType === 'int8' ? new Int8Array(n * h * w * c) : new Uint8Array(n * h * w * c);
    for (let i = 0; i < x.length; i++) x[i] = ri(0, 255);
    const mode: RequantMode = pick(['fixed-point', 'float']);
    const aScale = 2 ** (-8 + 6 * r());
    // half the int8/uint8-output cases with model-like multipliers (1e-5..0.5): the fixed-point mode then runs the
    // one-multiply (FIXEDX) epilogue
    // (multipliers in 1e-5..0.5, or in 1e-3..0.5: whole groups of 4 then stay unnormalized, e = 0, T = 2)
    const lo = r() < 0.5 ? -5 : -3;
    if ('scale' in output && r() < 0.5) scales = scales.map(() => (10 ** (lo + (-0.3 - lo) * r()) * output.scale) / aScale);
    const p: QConv2dParams = {
      name: 'conv', n, h, w, c, oc, kernel, strides, pads, dilations, groups, aType, aScale, aZeroPoint: za,
      weights: { data: wd, type: wType, zeroPoints, scales }, bias, output: output as any, requant: mode, path,
    };
    return { p, x };
  }
}

/** Checks `count` random convolutions on `path`; returns the first mismatch description, or ''. */
export function convSuite(wasm: WasmKernels, path: KernelPath, count: number, seed: number, method?: QConv2dParams['method'], variant?: string): string {
  for (let i = 0; i < count; i++) {
    const { p, x } = randomConv(seed * 10007 + i, path);
    if (method) p.method = method;
    if (variant) p.variant = variant;
    if (method === 'direct' && !(p.kernel[0] === 1 && p.kernel[1] === 1 && p.strides![0] === 1 && p.strides![1] === 1 && p.pads!.every((v) => v === 0))) {
      p.kernel = [1, 1]; p.strides = [1, 1]; p.pads = [0, 0, 0, 0];
      const cg = p.c / p.groups!;
      p.weights.data = p.weights.data.slice(0, p.oc * cg);
    }
    const got = runConv(wasm, p, x);
    const want = refConv(wasm, p, x, got.oh, got.ow, p.output.type as OutType);
    for (let j = 0; j < want.length; j++) {
      if (got.bytes[j] !== want[j]) {
        const { data, ...wrest } = p.weights;
        return `${path}/${got.variant} mismatch at byte ${j}: ${JSON.stringify({ ...p, weights: wrest, bias: undefined })}`;
      }
    }
  }
  return '';
}
