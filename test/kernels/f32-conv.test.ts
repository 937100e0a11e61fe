// FP32 convolution, depthwise, pooling, element-wise, activations, softmax and FP16 conversion: every variant
// against the scalar oracles in assembly/reference/f32.ts, over odd shapes (odd channel counts, 1x1 images,
// kernels larger than the input with padding, stride larger than the kernel, groups, dilation, K = 1).
// Tolerance: 1e-5 relative plus 1e-6 of sum |x||w| (the accumulation magnitude: orders differ from the oracle).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  prepareF32Conv2d, prepareF32DwConv2d, prepareF32Pool, prepareF32GlobalAvgPool, prepareF32Binary, prepareF32Unary,
  prepareF32Softmax, prepareF32FromI32, F32_GEMM_VARIANTS, F32_DWCONV_VARIANTS, F32_MISC_VARIANTS, halfToFloat, resolveGeometry,
} from '../../src/kernels/f32.js';
import type { WasmKernels } from '../../src/runtime/wasm.js';
import { LEVELS, IS_RELAXED_CHILD, rng, randArray, randInt, kernels, allocator, close, exact, relaxedChildTest } from './f32-util.js';

const r = rng(777);
const abs = (a: Float32Array) => a.map(Math.abs);

interface ConvCase { N: number; H: number; W: number; C: number; Cout: number; KH: number; KW: number; s: number[]; pad: number[]; d: number[]; groups: number }

function convCases(): ConvCase[] {
  const cs: ConvCase[] = [
    { N: 1, H: 5, W: 5, C: 3, Cout: 4, KH: 3, KW: 3, s: [1, 1], pad: [1, 1, 1, 1], d: [1, 1], groups: 1 },
    { N: 2, H: 7, W: 6, C: 8, Cout: 12, KH: 1, KW: 1, s: [1, 1], pad: [0, 0, 0, 0], d: [1, 1], groups: 1 }, // direct
    { N: 1, H: 4, W: 4, C: 6, Cout: 9, KH: 1, KW: 1, s: [1, 1], pad: [0, 0, 0, 0], d: [1, 1], groups: 3 }, // direct grouped
    { N: 1, H: 9, W: 8, C: 4, Cout: 8, KH: 3, KW: 3, s: [2, 2], pad: [1, 1, 0, 0], d: [1, 1], groups: 2 },
    { N: 1, H: 3, W: 3, C: 5, Cout: 7, KH: 5, KW: 5, s: [1, 1], pad: [2, 2, 2, 2], d: [1, 1], groups: 1 }, // kernel > input
    { N: 1, H: 11, W: 10, C: 3, Cout: 5, KH: 2, KW: 2, s: [3, 4], pad: [0, 1, 1, 0], d: [1, 1], groups: 1 }, // stride > kernel
    { N: 1, H: 10, W: 9, C: 4, Cout: 6, KH: 3, KW: 3, s: [1, 2], pad: [2, 2, 2, 2], d: [2, 3], groups: 1 }, // dilation
    { N: 1, H: 1, W: 1, C: 7, Cout: 3, KH: 1, KW: 1, s: [1, 1], pad: [0, 0, 0, 0], d: [1, 1], groups: 1 },
    { N: 1, H: 1, W: 1, C: 1, Cout: 1, KH: 1, KW: 1, s: [2, 2], pad: [0, 0, 0, 0], d: [1, 1], groups: 1 }, // K = 1 strided
    { N: 1, H: 6, W: 6, C: 6, Cout: 6, KH: 3, KW: 3, s: [1, 1], pad: [1, 1, 1, 1], d: [1, 1], groups: 6 }, // depthwise via conv
    { N: 1, H: 12, W: 12, C: 32, Cout: 40, KH: 3, KW: 3, s: [1, 1], pad: [1, 1, 1, 1], d: [1, 1], groups: 1 },
  ];
  for (let i = 0; i < 5; i++) {
    const groups = [1, 1, 2, 3][randInt(r, 0, 3)];
    const KH = randInt(r, 1, 4), KW = randInt(r, 1, 4);
    cs.push({ N: randInt(r, 1, 2), H: randInt(r, 1, 13), W: randInt(r, 1, 13), C: groups * randInt(r, 1, 9), Cout: groups * randInt(r, 1, 11), KH, KW,
      s: [randInt(r, 1, 3), randInt(r, 1, 3)], pad: [randInt(r, 0, KH), randInt(r, 0, KW), randInt(r, 0, KH), randInt(r, 0, KW)], d: [randInt(r, 1, 2), randInt(r, 1, 2)], groups });
  }
  return cs.filter((c) => c.H + c.pad[0] + c.pad[2] >= c.d[0] * (c.KH - 1) + 1 && c.W + c.pad[1] + c.pad[3] >= c.d[1] * (c.KW - 1) + 1);
}

function refConv(k: WasmKernels, c: ConvCase, OH: number, OW: number, x: Float32Array, w: Float32Array, b: Float32Array | undefined, lo: number, hi: number): Float32Array {
  const al = allocator(k);
  const px = al.put(x), pw = al.put(w), pb = b ? al.put(b) : 0, py = al.alloc(c.N * OH * OW * c.Cout * 4);
  k.exports.f32_ref_conv2d(c.N, c.H, c.W, c.C, OH, OW, c.Cout, c.KH, c.KW, c.s[0], c.s[1], c.d[0], c.d[1], c.pad[0], c.pad[1], c.groups, px, pw, pb, py, lo, hi);
  return k.f32(py, c.N * OH * OW * c.Cout).slice();
}

function runKernel(k: WasmKernels, kern: { constants: Uint8Array; scratchBytes: number; workItems: number; run: Function }, inputs: Float32Array[], outLen: number, split = true): Float32Array {
  const al = allocator(k);
  const ins = inputs.map((a) => al.put(a));
  const pc = al.put(kern.constants.length ? kern.constants : new Uint8Array(16), 16);
  const out = al.alloc(outLen * 4);
  k.f32(out, outLen).fill(NaN);
  const scratch = al.alloc(Math.max(16, kern.scratchBytes));
  const io = { inputs: ins, outputs: [out], constants: pc, scratch };
  if (split && kern.workItems > 1) {
    const h = Math.floor(kern.workItems / 3);
    kern.run(k, io, h, kern.workItems);
    kern.run(k, io, 0, h);
  } else kern.run(k, io);
  return k.f32(out, outLen).slice();
}

for (const level of LEVELS) {
  for (const v of F32_GEMM_VARIANTS.filter((v) => v.build === level)) {
    test(`conv2d (im2col / direct + ${v.name}) vs oracle: groups, dilation, stride, padding, odd shapes`, async () => {
      const k = await kernels(level);
      for (const c of convCases()) {
        const x = randArray(r, c.N * c.H * c.W * c.C), w = randArray(r, c.Cout * (c.C / c.groups) * c.KH * c.KW), b = randArray(r, c.Cout);
        const clamp = r() < 0.3 ? { min: 0, max: 6 } : {};
        const kern = prepareF32Conv2d({ N: c.N, H: c.H, W: c.W, C: c.C, Cout: c.Cout, KH: c.KH, KW: c.KW, strides: c.s, pads: c.pad, dilations: c.d, groups: c.groups, weights: w, bias: b, ...clamp }, { path: 'scalar', variant: v.name });
        const n = c.N * kern.OH * kern.OW * c.Cout;
        const got = runKernel(k, kern, [x], n);
        const want = refConv(k, c, kern.OH, kern.OW, x, w, b, clamp.min ?? -Infinity, clamp.max ?? Infinity);
        const mag = refConv(k, c, kern.OH, kern.OW, abs(x), abs(w), abs(b), -Infinity, Infinity);
        close(got, want, `${v.name} ${JSON.stringify(c)}`, 1e-5, mag.map((m) => m / 10));
      }
    });
  }
  for (const v of F32_DWCONV_VARIANTS.filter((v) => v.build === level)) {
    test(`${v.name}: depthwise 3x3 / 5x5 / general, stride 1 and 2, multiplier 1 and 2 vs oracle`, async () => {
      const k = await kernels(level);
      const cases: [number, number, number, number, number, number, number][] = [
        // H, W, C, K, stride, pad, mult
        [8, 8, 16, 3, 1, 1, 1], [9, 7, 13, 3, 2, 1, 1], [7, 7, 5, 5, 1, 2, 1], [11, 10, 9, 5, 2, 2, 1], [1, 1, 3, 3, 1, 1, 1],
        [6, 5, 4, 3, 3, 0, 1], [5, 6, 3, 3, 1, 1, 2], [4, 4, 35, 2, 1, 0, 1], [2, 2, 8, 7, 1, 3, 1], [12, 12, 24, 3, 2, 0, 1],
      ];
      for (const [H, W, C, K, s, pad, mult] of cases) {
        const dil = r() < 0.2 && K === 3 ? 2 : 1;
        const c: ConvCase = { N: 1, H, W, C, Cout: C * mult, KH: K, KW: K, s: [s, s], pad: [pad, pad, pad, pad], d: [dil, dil], groups: C };
        if (H + 2 * pad < dil * (K - 1) + 1 || W + 2 * pad < dil * (K - 1) + 1) continue;
        const x = randArray(r, H * W * C), w = randArray(r, C * mult * K * K), b = randArray(r, C * mult);
        const clamp = r() < 0.5 ? { min: 0, max: 6 } : {};
        const kern = prepareF32DwConv2d({ N: 1, H, W, C, KH: K, KW: K, strides: c.s, pads: c.pad, dilations: c.d, multiplier: mult, weights: w, bias: b, ...clamp }, { path: 'scalar', variant: mult === 1 ? v.name : F32_GEMM_VARIANTS.find((g) => g.build === level)!.name });
        const n = kern.OH * kern.OW * C * mult;
        const got = runKernel(k, kern, [x], n);
        const want = refConv(k, c, kern.OH, kern.OW, x, w, b, clamp.min ?? -Infinity, clamp.max ?? Infinity);
        const mag = refConv(k, c, kern.OH, kern.OW, abs(x), abs(w), abs(b), -Infinity, Infinity);
        close(got, want, `${v.name} ${JSON.stringify(c)}`, 1e-5, mag.map((m) => m / 10));
      }
    });
  }
  for (const v of F32_MISC_VARIANTS.filter((v) => v.build === level)) {
    test(`${v.pool}: max / avg (with and without pads counted) / ceil mode vs oracle`, async () => {
      const k = await kernels(level);
      for (let i = 0; i < 24; i++) {
        const KH = randInt(r, 1, 4), KW = randInt(r, 1, 4);
        const H = randInt(r, 1, 10), W = randInt(r, 1, 10), C = randInt(r, 1, 19);
        const pads = [randInt(r, 0, KH - 1), randInt(r, 0, KW - 1), randInt(r, 0, KH - 1), randInt(r, 0, KW - 1)];
        const strides = [randInt(r, 1, 3), randInt(r, 1, 3)];
        const kind = i % 3 === 0 ? 'max' : 'avg';
        const ceilMode = i % 4 === 1;
        const countIncludePad = i % 2 === 0;
        let kern;
        try {
          kern = prepareF32Pool({ kind, N: 2, H, W, C, KH, KW, strides, pads, ceilMode, countIncludePad }, { path: 'scalar', variant: v.name });
        } catch (e: any) {
          assert.match(e.message, /does not fit/);
          continue;
        }
        const x = randArray(r, 2 * H * W * C, -3, 3);
        const n = 2 * kern.OH * kern.OW * C;
        const got = runKernel(k, kern, [x], n);
        const al = allocator(k);
        const px = al.put(x), py = al.alloc(n * 4);
        const kk = kind === 'max' ? 0 : countIncludePad ? 2 : 1;
        k.exports.f32_ref_pool(kk, 2, H, W, C, kern.OH, kern.OW, KH, KW, strides[0], strides[1], 1, 1, pads[0], pads[1], pads[2], pads[3], px, py);
        close(got, k.f32(py, n), `${v.pool} ${kind} H=${H} W=${W} C=${C} K=${KH}x${KW} s=${strides} p=${pads} ceil=${ceilMode} cip=${countIncludePad}`, 1e-5, 3e-1);
      }
    });
    test(`${v.gavgpool}: global average pooling vs float64 mean`, async () => {
      const k = await kernels(level);
      for (const [N, H, W, C] of [[1, 7, 7, 1280], [2, 1, 1, 3], [1, 5, 3, 67], [3, 2, 9, 130]]) {
        const x = randArray(r, N * H * W * C);
        const kern = prepareF32GlobalAvgPool({ N, H, W, C }, { path: 'scalar', variant: v.name });
        const got = runKernel(k, kern, [x], N * C);
        const want = new Float32Array(N * C);
        for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
          let s = 0;
          for (let i = 0; i < H * W; i++) s += x[(n * H * W + i) * C + c];
          want[n * C + c] = s / (H * W);
        }
        close(got, want, `${v.gavgpool} ${N}x${H}x${W}x${C}`, 1e-5, 1e-1);
      }
    });
    test(`${v.binary}: add/sub/mul/div, every broadcast, fused clamp vs oracle`, async () => {
      const k = await kernels(level);
      const modes = ['none', 'b-channel', 'b-scalar', 'a-channel', 'a-scalar'] as const;
      for (const op of ['add', 'sub', 'mul', 'div'] as const) {
        for (const [mi, broadcast] of modes.entries()) {
          const C = randInt(r, 1, 21), rows = randInt(r, 1, 700);
          const count = rows * C;
          const aLen = mi === 3 ? C : mi === 4 ? 1 : count, bLen = mi === 1 ? C : mi === 2 ? 1 : count;
          const a = randArray(r, aLen, -2, 2), b = randArray(r, bLen, 0.5, 2);
          const clamp = mi === 2 ? { min: -1, max: 1 } : {};
          const kern = prepareF32Binary({ op, count, channels: C, broadcast, ...clamp }, { path: 'scalar', variant: v.name });
          const got = runKernel(k, kern, [a, b], count);
          const al = allocator(k);
          const pa = al.put(a), pb = al.put(b), po = al.alloc(count * 4);
          k.exports.f32_ref_binary(['add', 'sub', 'mul', 'div'].indexOf(op), mi, pa, pb, po, count, C, clamp.min ?? -Infinity, clamp.max ?? Infinity);
          close(got, k.f32(po, count), `${v.binary} ${op} ${broadcast}`, 1e-6);
        }
      }
    });
    test(`${v.unary}: relu, clip, relu6, leaky, sigmoid, hard-sigmoid, hard-swish, tanh, sqrt, square vs float64 oracle`, async () => {
      const k = await kernels(level);
      const count = 5003;
      const x = randArray(r, count, -12, 12);
      for (let i = 0; i < 200; i++) x[i] = (i - 100) * 0.01; // around 0 (tanh / sigmoid series region)
      x[200] = -100; x[201] = 100; x[202] = 0; x[203] = -0.55; x[204] = 0.55; x[205] = -3; x[206] = 3;
      const ops = [['relu', 0, 0, 0], ['clip', 1, -0.5, 2], ['relu6', 1, 0, 6], ['leakyrelu', 2, 0.1, 0], ['sigmoid', 3, 0, 0], ['hardsigmoid', 4, 0.2, 0.5], ['hardswish', 5, 0, 0], ['tanh', 6, 0, 0], ['sqrt', 7, 0, 0], ['square', 8, 0, 0]] as const;
      const ax = x.map(Math.abs); // sqrt of a negative is NaN in both; test it on |x|
      for (const [op, kind, p0, p1] of ops) {
        const xin = op === 'sqrt' ? ax : x;
        const kern = prepareF32Unary({ op, count, min: p0, max: p1, alpha: p0, beta: p1 }, { path: 'scalar', variant: v.name });
        const got = runKernel(k, kern, [xin], count);
        const al = allocator(k);
        const px = al.put(xin), po = al.alloc(count * 4);
        k.exports.f32_ref_unary(kind, px, po, count, p0, p1);
        // hard-sigmoid / hard-swish cancel in a*x + b near the kink: tolerance relative to the terms (|x| + 1).
        const scale = op === 'hardsigmoid' || op === 'hardswish' ? x.map((t) => (Math.abs(t) + 1) * Math.abs(t) * 0.1 + 0.1) : 1e-30;
        close(got, k.f32(po, count), `${v.unary} ${op}`, 1e-5, scale);
      }
    });
    test(`${v.fromI32}: Cast int32 -> float32 equals the oracle bit for bit (ties to even above 2^24)`, async () => {
      const k = await kernels(level);
      const n = 4099;
      const x = Int32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? (r() - 0.5) * 2 ** 32 : i % 3 === 1 ? (r() - 0.5) * 2000 : 2 ** 24 + i) | 0);
      x[0] = -2147483648; x[1] = 2147483647; x[2] = 16777217; x[3] = -16777219;
      const kern = prepareF32FromI32({ count: n }, { path: level === 'scalar' ? 'scalar' : level === 'relaxed' ? 'relaxed' : 'x86' });
      const got = runKernel(k, kern, [x as unknown as Float32Array], n);
      const al = allocator(k);
      const px = al.put(x), po = al.alloc(n * 4);
      k.exports.f32_ref_from_i32(px, po, n);
      exact(got, k.f32(po, n), kern.variant);
      assert.equal(Array.from(got.subarray(2, 4)), [16777216, -16777220]);
    });
    test(`${v.softmax}: softmax over the last axis vs float64 oracle`, async () => {
      const k = await kernels(level);
      for (const [rows, C] of [[1, 1], [3, 10], [7, 1000], [5, 3], [2, 33]]) {
        const x = randArray(r, rows * C, -20, 20);
        const kern = prepareF32Softmax({ rows, channels: C }, { path: 'scalar', variant: v.name });
        const got = runKernel(k, kern, [x], rows * C);
        const al = allocator(k);
        const px = al.put(x), po = al.alloc(rows * C * 4);
        k.exports.f32_ref_softmax(rows, C, px, po);
        close(got, k.f32(po, rows * C), `${v.softmax} ${rows}x${C}`, 1e-5, 1e-30);
      }
    });
  }
}

if (!IS_RELAXED_CHILD) {
  test('oracle f32_ref_conv2d and f32_ref_pool against hand-computed values', async () => {
    const k = await kernels('scalar');
    const al = allocator(k);
    // 1x3x3x1 input 1..9, 2x2 kernel [1, 2; 3, 4], stride 1, pad 0 -> [37, 47; 67, 77]
    const px = al.put(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9])), pw = al.put(new Float32Array([1, 2, 3, 4])), py = al.alloc(16);
    k.exports.f32_ref_conv2d(1, 3, 3, 1, 2, 2, 1, 2, 2, 1, 1, 1, 1, 0, 0, 1, px, pw, 0, py, -Infinity, Infinity);
    assert.equal(Array.from(k.f32(py, 4)), [37, 47, 67, 77]);
    // 3x3 average pool, pad 1, on 3x3 input: corner = (1+2+4+5)/4 excluding pads, /9 including
    const pp = al.alloc(36);
    k.exports.f32_ref_pool(1, 1, 3, 3, 1, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, px, pp);
    assert.is(k.f32(pp, 9)[0], 3);
    k.exports.f32_ref_pool(2, 1, 3, 3, 1, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, px, pp);
    assert.ok(Math.abs(k.f32(pp, 9)[0] - 12 / 9) < 1e-6);
    k.exports.f32_ref_pool(0, 1, 3, 3, 1, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, px, pp);
    assert.equal(Array.from(k.f32(pp, 9)), [5, 6, 6, 8, 9, 9, 8, 9, 9]);
  });

  test('FP16 <-> FP32: every half value round-trips; float -> half rounds to nearest even', async () => {
    const k = await kernels('scalar');
    const al = allocator(k);
    const all = new Uint16Array(65536).map((_, i) => i);
    const ph = al.put(all), pf = al.alloc(65536 * 4), pb = al.alloc(65536 * 2);
    k.exports.f32_from_f16(ph, pf, 65536);
    const js = halfToFloat(all);
    const f = k.f32(pf, 65536);
    for (let i = 0; i < 65536; i++) if (!(Object.is(f[i], js[i]) || (Number.isNaN(f[i]) && Number.isNaN(js[i])))) assert.unreachable(`half ${i}: ${f[i]} vs ${js[i]}`);
    k.exports.f32_to_f16(pf, pb, 65536);
    const back = new Uint16Array(k.memory.buffer, pb, 65536);
    for (let i = 0; i < 65536; i++) {
      const nan = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (nan) assert.ok((back[i] & 0x7c00) === 0x7c00 && (back[i] & 0x3ff) !== 0, `NaN ${i}`);
      else if (back[i] !== i) assert.unreachable(`half ${i} round-trips to ${back[i]}`);
    }
    // ties: 1 + 2^-11 is halfway between 1 and 1 + 2^-10 -> 1 (even); 1 + 3*2^-11 -> 1 + 2^-9 (even)
    const pt = al.put(new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, 1e-8, -(2 ** -25) * 1.5])), po = al.alloc(10);
    k.exports.f32_to_f16(pt, po, 5);
    assert.equal(Array.from(new Uint16Array(k.memory.buffer, po, 5)), [0x3c00, 0x3c02, 0x7c00, 0, 0x8001]);
  });

  test('bad parameters give clear errors naming the node', () => {
    assert.throws(() => prepareF32Conv2d({ N: 1, H: 4, W: 4, C: 3, Cout: 4, KH: 3, KW: 3, groups: 2, weights: new Float32Array(1), node: 'c1' }, { path: 'scalar' }), /c1.*groups 2 must divide C 3/);
    assert.throws(() => prepareF32Conv2d({ N: 1, H: 2, W: 2, C: 1, Cout: 1, KH: 5, KW: 5, weights: new Float32Array(25), node: 'c2' }, { path: 'scalar' }), /c2.*does not fit/);
    assert.throws(() => prepareF32Binary({ op: 'pow' as any, count: 4, channels: 2 }, { path: 'scalar' }), /unknown op 'pow'/);
    assert.throws(() => resolveGeometry({ N: 1, H: 4, W: 4, C: 1, KH: 1, KW: 1, strides: [0, 1] }, 'x'), /SH must be an integer >= 1/);
  });

  relaxedChildTest(test, import.meta.url);
}

test.run();
