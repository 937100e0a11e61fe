// FP32 ConvTranspose (GEMM into column scratch + f32_col2im_nhwc gather): every GEMM variant of every build against
// the scatter oracle f32_ref_conv_transpose (assembly/reference/f32.ts), over strides larger and smaller than the
// kernel, pads, output padding (output larger than the taps reach: bias only), dilation, groups, 1x1 inputs, and
// work split in ranges. Tolerance: 1e-5 relative plus 1e-6 of sum |x||w| (summation orders differ from the oracle).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { prepareF32ConvTranspose, F32_GEMM_VARIANTS } from '../../src/kernels/f32.js';
import type { WasmKernels, BuildLevel } from '../../src/runtime/wasm.js';
import type { KernelPath } from '../../src/kernels/types.js';
import { LEVELS, IS_RELAXED_CHILD, rng, randArray, randInt, kernels, allocator, close, relaxedChildTest } from './f32-util.js';

const r = rng(4242);
const abs = (a: Float32Array) => a.map(Math.abs);

interface Case { N: number; H: number; W: number; C: number; OC: number; KH: number; KW: number; s: number[]; pb: number[]; pe: number[]; op: number[]; d: number[]; groups: number }

function cases(): Case[] {
  const cs: Case[] = [
    { N: 1, H: 4, W: 5, C: 8, OC: 6, KH: 2, KW: 2, s: [2, 2], pb: [0, 0], pe: [0, 0], op: [0, 0], d: [1, 1], groups: 1 }, // 2x upsampling (DB head)
    { N: 2, H: 5, W: 4, C: 3, OC: 5, KH: 3, KW: 3, s: [2, 2], pb: [1, 1], pe: [1, 1], op: [1, 1], d: [1, 1], groups: 1 }, // output_padding
    { N: 1, H: 6, W: 6, C: 4, OC: 4, KH: 4, KW: 4, s: [2, 2], pb: [1, 1], pe: [1, 1], op: [0, 0], d: [1, 1], groups: 4 }, // depthwise upsampling
    { N: 1, H: 3, W: 7, C: 5, OC: 7, KH: 3, KW: 2, s: [1, 3], pb: [0, 1], pe: [2, 0], op: [0, 2], d: [2, 1], groups: 1 }, // dilation, stride > kernel
    { N: 1, H: 1, W: 1, C: 9, OC: 11, KH: 4, KW: 4, s: [1, 1], pb: [0, 0], pe: [0, 0], op: [0, 0], d: [1, 1], groups: 1 },
    { N: 1, H: 20, W: 20, C: 16, OC: 24, KH: 2, KW: 2, s: [2, 2], pb: [0, 0], pe: [0, 0], op: [0, 0], d: [1, 1], groups: 1 }, // several row blocks
  ];
  for (let i = 0; i < 6; i++) {
    const groups = [1, 1, 2, 3][randInt(r, 0, 3)];
    const KH = randInt(r, 1, 4), KW = randInt(r, 1, 4);
    const s = [randInt(r, 1, 3), randInt(r, 1, 3)];
    cs.push({ N: randInt(r, 1, 2), H: randInt(r, 1, 9), W: randInt(r, 1, 9), C: groups * randInt(r, 1, 6), OC: groups * randInt(r, 1, 7), KH, KW, s,
      pb: [randInt(r, 0, KH - 1), randInt(r, 0, KW - 1)], pe: [randInt(r, 0, KH - 1), randInt(r, 0, KW - 1)], op: [randInt(r, 0, s[0] - 1), randInt(r, 0, s[1] - 1)], d: [randInt(r, 1, 2), randInt(r, 1, 2)], groups });
  }
  return cs;
}

const outSize = (c: Case): [number, number] => [0, 1].map((i) => c.s[i] * ([c.H, c.W][i] - 1) + c.op[i] + (([c.KH, c.KW][i] - 1) * c.d[i] + 1) - c.pb[i] - c.pe[i]) as [number, number];

function refConvT(k: WasmKernels, c: Case, OH: number, OW: number, x: Float32Array, w: Float32Array, b: Float32Array | undefined, lo: number, hi: number): Float32Array {
  const al = allocator(k);
  const n = c.N * OH * OW * c.OC;
  const px = al.put(x), pw = al.put(w), pb = b ? al.put(b) : 0, py = al.alloc(n * 4), acc = al.alloc(n * 8);
  k.exports.f32_ref_conv_transpose(c.N, c.H, c.W, c.C, c.OC, c.KH, c.KW, c.s[0], c.s[1], c.d[0], c.d[1], c.pb[0], c.pb[1], OH, OW, c.groups, px, pw, pb, py, lo, hi, acc);
  return k.f32(py, n).slice();
}

const pathOf: Record<BuildLevel, KernelPath> = { scalar: 'scalar', simd128: 'x86', relaxed: 'relaxed' };

for (const level of LEVELS) {
  for (const v of F32_GEMM_VARIANTS.filter((v) => v.build === level)) {
    test(`convtranspose (${v.name} + col2im) vs oracle: strides, pads, output padding, dilation, groups`, async () => {
      const k = await kernels(level);
      for (const c of cases()) {
        const [OH, OW] = outSize(c);
        if (OH < 1 || OW < 1) continue;
        const x = randArray(r, c.N * c.H * c.W * c.C), w = randArray(r, c.C * (c.OC / c.groups) * c.KH * c.KW);
        const b = r() < 0.7 ? randArray(r, c.OC) : undefined;
        const clamp = r() < 0.3 ? { min: 0, max: 6 } : {};
        const kern = prepareF32ConvTranspose({ N: c.N, H: c.H, W: c.W, C: c.C, OC: c.OC, KH: c.KH, KW: c.KW, OH, OW, strides: c.s, padsBegin: c.pb,
          dilations: c.d, groups: c.groups, weights: w, bias: b, ...clamp }, { path: pathOf[level], variant: v.name });
        const n = c.N * OH * OW * c.OC;
        const al = allocator(k);
        const io = { inputs: [al.put(x)], outputs: [al.alloc(n * 4 + 64)], constants: al.put(kern.constants, 16), scratch: al.alloc(kern.scratchBytes + 16) };
        k.f32(io.outputs[0], n + 16).fill(NaN);
        const h = Math.floor(kern.workItems / 2);
        kern.run(k, io, h, kern.workItems);
        kern.run(k, io, 0, h);
        const got = k.f32(io.outputs[0], n + 16).slice();
        assert.ok(got.subarray(n).every(Number.isNaN), 'wrote past the output');
        const want = refConvT(k, c, OH, OW, x, w, b, clamp.min ?? -Infinity, clamp.max ?? Infinity);
        const mag = refConvT(k, c, OH, OW, abs(x), abs(w), b ? abs(b) : undefined, -Infinity, Infinity);
        close(got.subarray(0, n), want, `${v.name} ${JSON.stringify(c)}`, 1e-5, mag.map((m) => m / 10));
      }
    });
  }
}

if (!IS_RELAXED_CHILD) {
  test('convtranspose oracle closed form: 2x2 stride 2 of a 1x1 input spreads the kernel; bad parameters throw', async () => {
    const k = await kernels('scalar');
    const c: Case = { N: 1, H: 1, W: 1, C: 1, OC: 1, KH: 2, KW: 2, s: [2, 2], pb: [0, 0], pe: [0, 0], op: [0, 0], d: [1, 1], groups: 1 };
    assert.equal(Array.from(refConvT(k, c, 2, 2, Float32Array.of(3), Float32Array.of(1, 2, 3, 4), Float32Array.of(0.5), -Infinity, Infinity)), [3.5, 6.5, 9.5, 12.5]);
    assert.throws(() => prepareF32ConvTranspose({ N: 1, H: 2, W: 2, C: 3, OC: 4, KH: 2, KW: 2, OH: 4, OW: 4, groups: 2, weights: new Float32Array(1), node: 'ct' }, { path: 'scalar' }), /ct.*groups 2/);
    assert.throws(() => prepareF32ConvTranspose({ N: 1, H: 2, W: 2, C: 2, OC: 4, KH: 2, KW: 2, OH: 4, OW: 4, weights: new Float32Array(3), node: 'ct' }, { path: 'scalar' }), /ct.*weights have 3/);
  });

  relaxedChildTest(test, import.meta.url);
}

test.run();
