// qs8 convolution: every path (scalar, x86 im2col+dot16, ARM indirect extmul, direct 1x1, relaxed path and forced im2col+rdot in a
// child process with --experimental-wasm-relaxed-simd) against the scalar oracle over random shapes (odd channels,
// 1x1 spatial, kernels larger than the input with padding, stride > kernel, dilation, groups, zero points at both
// ends, every epilogue), and the oracle plus every path against ONNX's QLinearConv / ConvInteger test data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WasmKernels } from '../../src/runtime/wasm.js';
import { prepareQConv2d, autoPadding, type QConv2dParams } from '../../src/kernels/qconv.js';
import { convSuite, refConv, runConv } from './qconv-cases.js';
import { rng } from './qgemm-cases.js';
import { loadCase, hasCase } from './onnx-data.js';
import type { KernelPath } from '../../src/kernels/types.js';

const CHILD = process.env.OCTET_QCONV_CHILD === 'relaxed';

/** NCHW -> NHWC */
function toNhwc(d: number[], [n, c, h, w]: number[]): number[] {
  const out = new Array(d.length);
  for (let i = 0; i < n; i++) for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[((i * h + y) * w + x) * c + ch] = d[((i * c + ch) * h + y) * w + x];
  return out;
}

function onnxConv(caseName: string, path: KernelPath): { p: QConv2dParams; x: Uint8Array | Int8Array; want: number[]; wantType: 'int32' | 'uint8' | 'int8' } {
  const cs = loadCase(caseName);
  const q = caseName.startsWith('test_qlinearconv');
  const [xT, ...rest] = cs.inputs;
  const [n, c, h, w] = xT.dims;
  const wT = q ? rest[2] : rest[0];
  const xz = q ? rest[1].data[0] : rest[1]?.data[0] ?? 0;
  const wz = q ? rest[4].data : rest[2]?.data ?? [0];
  const oc = wT.dims[0];
  const kernel: [number, number] = [wT.dims[2], wT.dims[3]];
  const pads = (cs.attrs.pads ?? [0, 0, 0, 0]) as number[];
  const u8 = (t: { type: number }) => t.type === 2;
  const xd = toNhwc(xT.data, xT.dims);
  const x = u8(xT) ? Uint8Array.from(xd) : Int8Array.from(xd);
  const yT = cs.outputs[0];
  const p: QConv2dParams = {
    name: caseName, n, h, w, c, oc, kernel, strides: cs.attrs.strides, dilations: cs.attrs.dilations, groups: cs.attrs.group ?? 1,
    pads: [pads[0], pads[1], pads[2], pads[3]],
    aType: u8(xT) ? 'uint8' : 'int8', aScale: q ? rest[0].data[0] : 1, aZeroPoint: xz,
    weights: { data: u8(wT) ? Uint8Array.from(wT.data) : Int8Array.from(wT.data), type: u8(wT) ? 'uint8' : 'int8', zeroPoints: wz, scales: q ? rest[3].data : 1 },
    bias: q && rest[7] ? rest[7].data : undefined,
    output: q ? { type: u8(yT) ? 'uint8' : 'int8', scale: rest[5].data[0], zeroPoint: rest[6].data[0] } : { type: 'int32' },
    requant: 'float', path,
  };
  return { p, x, want: toNhwc(yT.data, yT.dims), wantType: q ? (u8(yT) ? 'uint8' : 'int8') : 'int32' };
}

function asValues(bytes: Uint8Array, t: 'int32' | 'uint8' | 'int8'): number[] {
  return t === 'int32' ? Array.from(new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)) : t === 'int8' ? Array.from(new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length)) : Array.from(bytes);
}

const ONNX_CASES = ['test_qlinearconv', 'test_convinteger_with_padding', 'test_convinteger_without_padding'];

if (CHILD) {
  test('relaxed build: the relaxed path (dot16 GEMM on x86, see QGEMM_VARIANTS) and im2col + forced rdot GEMM equal the oracle', async () => {
    const k = await WasmKernels.create('relaxed');
    assert.is(convSuite(k, 'relaxed', 30, 5), '');
    assert.is(convSuite(k, 'relaxed', 40, 6, undefined, 'qs8_gemm_4x8c4__relaxed_rdot'), '');
  });
} else {
  test('oracle reproduces ONNX QLinearConv / ConvInteger test data', async () => {
    const k = await WasmKernels.create('scalar');
    for (const name of ONNX_CASES) {
      if (!hasCase(name)) assert.unreachable(`missing conformance data ${name}`);
      const { p, x, want, wantType } = onnxConv(name, 'scalar');
      const r = runConv(k, p, x); // outShape from the host; the oracle then uses the same oh/ow
      const ref = refConv(k, p, x, r.oh, r.ow, wantType);
      assert.equal(asValues(ref, wantType), want, name);
    }
  });

  test('every path reproduces ONNX QLinearConv / ConvInteger test data', async () => {
    const s = await WasmKernels.create('scalar');
    const v = await WasmKernels.create('simd128');
    for (const name of ONNX_CASES) {
      for (const path of ['scalar', 'x86', 'arm'] as KernelPath[]) {
        const { p, x, want, wantType } = onnxConv(name, path);
        const r = runConv(path === 'scalar' ? s : v, p, x);
        assert.equal(asValues(r.bytes, wantType), want, `${name} on ${path} (${r.variant})`);
      }
    }
  });

  test('scalar path equals the oracle on random convolutions', async () => {
    const k = await WasmKernels.create('scalar');
    assert.is(convSuite(k, 'scalar', 80, 1), '');
  });

  test('x86 path (indirect dot16, im2col + dot16 for few channels) equals the oracle', async () => {
    const k = await WasmKernels.create('simd128');
    assert.is(convSuite(k, 'x86', 120, 2), '');
  });

  test('x86 path: indirect convolution on dot16 (A rows widened through the indirection buffer) equals the oracle, split by rows and by 8-column blocks', async () => {
    const k = await WasmKernels.create('simd128');
    // every random shape forced onto the indirect dot16 kernel (odd channel counts, K odd, padding, dilation, groups)
    assert.is(convSuite(k, 'x86', 80, 7, 'indirect'), '');
    // small images with many output channels: work items are 8-column blocks (gemmSplit), split in two ranges
    const r = rng(77);
    const ri = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    for (let i = 0; i < 24; i++) {
      const cg = [8, 9, 16, 24, 13][i % 5], oc = [33, 40, 64, 57][i % 4];
      const aType = i % 2 ? 'uint8' : 'int8', out = i % 3 ? (i % 2 ? 'uint8' : 'int8') : 'int32';
      const wd = new Int8Array(oc * cg * 9).map(() => ri(-128, 127));
      const x = aType === 'int8' ? new Int8Array(5 * 6 * cg).map(() => ri(-128, 127)) : new Uint8Array(5 * 6 * cg).map(() => ri(0, 255));
      const ys = 2 ** (-6 + 4 * r());
      const p: QConv2dParams = {
        name: 'cols', n: 1, h: 5, w: 6, c: cg, oc, kernel: [3, 3], strides: i % 4 === 3 ? [2, 2] : [1, 1], pads: [1, 1, 1, 1], aType, aScale: 0.02,
        aZeroPoint: aType === 'int8' ? ri(-128, 127) : ri(0, 255),
        weights: { data: wd, type: 'int8', zeroPoints: i % 3 === 0 ? Array.from({ length: oc }, () => ri(-20, 20)) : 0, scales: Array.from({ length: oc }, () => (10 ** (-4 + 2.5 * r()) * ys) / 0.02) },
        bias: Int32Array.from({ length: oc }, () => ri(-3000, 3000)),
        output: out === 'int32' ? { type: 'int32' } : { type: out, scale: ys, zeroPoint: out === 'int8' ? ri(-128, 127) : ri(0, 255), clamp: i % 4 === 1 ? { min: 0 } : undefined },
        requant: i % 5 < 3 ? 'float' : 'fixed-point', path: 'x86', method: 'indirect',
      };
      const got = runConv(k, p, x);
      assert.is(got.variant, 'qs8_igemm_4x8c2__simd128_dot16');
      const want = refConv(k, p, x, got.oh, got.ow, out);
      assert.equal(Array.from(got.bytes), Array.from(want), `case ${i}: cg ${cg} oc ${oc} ${aType} -> ${out}`);
    }
    const prep = prepareQConv2d({ n: 1, h: 5, w: 6, c: 16, oc: 64, kernel: [3, 3], pads: [1, 1, 1, 1], aType: 'int8', aScale: 1, aZeroPoint: 0, weights: { data: new Int8Array(64 * 144), type: 'int8', scales: 1 }, output: { type: 'int32' }, path: 'x86' });
    assert.ok(prep.byColumns && prep.method === 'indirect', 'small image, 64 channels: indirect, split by 8-column blocks');
  });

  test('x86 path: layer-sized indirect dot16 convolutions (K = 4608 over two weight chunks, 49 and 129 pixels: one-row tails; cg 12 and 9) equal the oracle', async () => {
    const k = await WasmKernels.create('simd128');
    const r = rng(4321);
    const ri = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    // [h, w, cg, oc]: 7x7x512 -> 96 (K = 4608, split by 8-column blocks), 3x43x512 -> 96 (129 pixels, split by rows:
    // 12 column blocks = 2 weight chunks of DOT16_WCHUNK), 5x5 with cg = 12 (even, not a multiple of 8) and cg = 9
    // (odd: element-wise widening)
    const shapes = [[7, 7, 512, 96], [3, 43, 512, 96], [5, 5, 12, 20], [5, 5, 9, 11]];
    shapes.forEach(([h, w, cg, oc], i) => {
      for (const aType of ['int8', 'uint8'] as const) {
        const out = aType;
        const wd = new Int8Array(oc * cg * 9).map(() => ri(-128, 127));
        const x = aType === 'int8' ? new Int8Array(h * w * cg).map(() => ri(-128, 127)) : new Uint8Array(h * w * cg).map(() => ri(0, 255));
        const ys = 2 ** (-6 + 4 * r());
        const p: QConv2dParams = {
          name: 'big', n: 1, h, w, c: cg, oc, kernel: [3, 3], pads: [1, 1, 1, 1], aType, aScale: 0.02,
          aZeroPoint: aType === 'int8' ? ri(-128, 127) : ri(0, 255),
          weights: { data: wd, type: 'int8', scales: Array.from({ length: oc }, () => (10 ** (-4.5 + 2 * r()) * ys) / 0.02) },
          bias: Int32Array.from({ length: oc }, () => ri(-3000, 3000)),
          output: { type: out, scale: ys, zeroPoint: out === 'int8' ? ri(-128, 127) : ri(0, 255), clamp: i % 2 ? { min: 0 } : undefined },
          requant: (i + (aType === 'int8' ? 0 : 1)) % 2 ? 'fixed-point' : 'float', path: 'x86', method: 'indirect',
        };
        const got = runConv(k, p, x);
        assert.is(got.variant, 'qs8_igemm_4x8c2__simd128_dot16');
        const want = refConv(k, p, x, got.oh, got.ow, out);
        assert.equal(Array.from(got.bytes), Array.from(want), `${h}x${w}x${cg} -> ${oc} ${aType}`);
      }
    });
  });

  test('x86 path: Winograd F(2x2, 3x3) equals the oracle (batches, odd output sizes, padding, uint8 weights with zero points, both requantizations, split ranges) and is chosen only where exact', async () => {
    const k = await WasmKernels.create('simd128');
    const r = rng(2026);
    const ri = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    const fails: string[] = [];
    for (let i = 0; i < 48; i++) {
      const n = i % 6 === 5 ? 2 : 1;
      const c = [8, 16, 24, 64, 40][i % 5], oc = [1, 7, 8, 13, 33, ri(1, 40)][i % 6];
      const pads: [number, number, number, number] = i % 3 === 0 ? [0, 0, 0, 0] : i % 3 === 1 ? [1, 1, 1, 1] : [ri(0, 2), ri(0, 2), ri(0, 2), ri(0, 2)];
      const h = ri(1, 9), w = ri(1, 11);
      if (h + pads[0] + pads[2] < 3 || w + pads[1] + pads[3] < 3) continue;
      const aType = i % 2 ? 'uint8' : 'int8';
      const wType = i % 7 === 3 ? 'uint8' : 'int8';
      const extreme = i % 11 === 4;
      const x = aType === 'int8' ? new Int8Array(n * h * w * c).map(() => (extreme ? -128 : ri(-128, 127))) : new Uint8Array(n * h * w * c).map(() => (extreme ? 255 : ri(0, 255)));
      const wd = wType === 'int8' ? new Int8Array(oc * c * 9).map(() => (extreme ? 127 : ri(-128, 127))) : new Uint8Array(oc * c * 9).map(() => ri(0, 255));
      const ys = 2 ** (-6 + 4 * r());
      const p: QConv2dParams = {
        name: 'wino', n, h, w, c, oc, kernel: [3, 3], pads, aType, aScale: 0.02, aZeroPoint: extreme ? (aType === 'int8' ? 127 : 0) : aType === 'int8' ? ri(-128, 127) : ri(0, 255),
        weights: { data: wd, type: wType, zeroPoints: wType === 'uint8' ? Array.from({ length: oc }, () => ri(0, 255)) : 0, scales: Array.from({ length: oc }, () => (10 ** (-4.5 + 2 * r()) * ys) / 0.02) },
        bias: Int32Array.from({ length: oc }, () => ri(-30000, 30000)),
        output: { type: aType, scale: ys, zeroPoint: aType === 'int8' ? ri(-128, 127) : ri(0, 255), clamp: i % 4 === 1 ? { min: 0 } : undefined },
        requant: i % 5 < 3 ? 'float' : 'fixed-point', path: 'x86',
      };
      const got = runConv(k, p, x);
      if (got.variant !== 'qs8_wino2x2_3x3__simd128_dot16') { fails.push(`case ${i}: ran ${got.variant}`); continue; }
      const want = refConv(k, p, x, got.oh, got.ow, aType);
      if (Array.from(got.bytes).some((v, j) => v !== want[j])) fails.push(`case ${i}: n ${n} ${h}x${w}x${c} -> ${oc} pads ${pads} ${aType} ${wType} ${p.requant}`);
      if (i % 4 === 2) {
        // the same weights given OHWI (the oracle reads OIHW only): same bytes
        const t = wd.slice();
        for (let o = 0; o < oc; o++) for (let ci = 0; ci < c; ci++) for (let tap = 0; tap < 9; tap++) t[(o * 9 + tap) * c + ci] = wd[(o * c + ci) * 9 + tap];
        const g2 = runConv(k, { ...p, weights: { ...p.weights, data: t, layout: 'ohwi' } }, x);
        if (Array.from(g2.bytes).some((v, j) => v !== want[j])) fails.push(`case ${i} (OHWI weights)`);
      }
    }
    assert.equal(fails, []);
    // at the exactness bound: C = 912, |x - za| and |w - zb| at 255 (4x the accumulator up to 0.99 * 2^31), large
    // transformed values of both signs; multipliers that keep the accumulator visible in the output
    for (const [za, zbw] of [[-128, 0], [127, 255], [-128, 255]]) {
      const c = 912, oc = 9, h = 4, w = 5;
      const x = new Int8Array(h * w * c).map(() => (r() < 0.5 ? -128 : 127));
      const wd = new Uint8Array(oc * c * 9).map(() => (r() < 0.5 ? 0 : 255));
      const p: QConv2dParams = {
        name: 'bound', n: 1, h, w, c, oc, kernel: [3, 3], pads: [0, 1, 0, 1], aType: 'int8', aScale: 1, aZeroPoint: za,
        weights: { data: wd, type: 'uint8', zeroPoints: zbw, scales: Array.from({ length: oc }, () => 2 ** -23 * (1 + r())) },
        bias: Int32Array.from({ length: oc }, () => ri(-1000, 1000)),
        output: { type: 'int8', scale: 1, zeroPoint: 0 }, requant: za === 127 ? 'fixed-point' : 'float', path: 'x86',
      };
      const got = runConv(k, p, x);
      assert.is(got.variant, 'qs8_wino2x2_3x3__simd128_dot16');
      const want = refConv(k, p, x, got.oh, got.ow, 'int8');
      assert.equal(Array.from(got.bytes), Array.from(want), `bound case za ${za} zb ${zbw}`);
      assert.ok(new Set(Array.from(want)).size > 4, 'outputs not all saturated');
    }
    // where it would not be exact or does not apply: the indirect kernel
    const base = { n: 1, h: 4, w: 4, oc: 8, kernel: [3, 3] as [number, number], pads: [1, 1, 1, 1] as [number, number, number, number], aType: 'int8' as const, aScale: 1, aZeroPoint: 0, output: { type: 'int8' as const, scale: 1, zeroPoint: 0 }, path: 'x86' as const };
    const wts = (c: number) => ({ data: new Int8Array(8 * c * 9), type: 'int8' as const, scales: 1 });
    assert.is(prepareQConv2d({ ...base, c: 912, weights: wts(912) }).method, 'winograd');
    assert.is(prepareQConv2d({ ...base, c: 920, weights: wts(920) }).method, 'indirect', 'C * 9 * 255^2 >= 2^29: 4x the accumulator could overflow int32');
    assert.is(prepareQConv2d({ ...base, c: 12, weights: wts(12) }).method, 'indirect', 'channels not a multiple of 8');
    assert.is(prepareQConv2d({ ...base, c: 16, weights: wts(16), strides: [2, 2] }).method, 'indirect', 'stride 2');
    assert.is(prepareQConv2d({ ...base, c: 16, weights: wts(16), output: { type: 'int32' } }).method, 'indirect', 'int32 output');
    assert.is(prepareQConv2d({ ...base, c: 16, weights: wts(16), path: 'arm' }).method, 'indirect', 'ARM path');
    assert.throws(() => prepareQConv2d({ ...base, c: 16, weights: wts(16), strides: [2, 2], method: 'winograd' }), /winograd/);
  });

  test('ARM path (indirect convolution on extmul) equals the oracle', async () => {
    const k = await WasmKernels.create('simd128');
    assert.is(convSuite(k, 'arm', 120, 3, 'indirect'), '');
  });

  test('1x1 stride-1 convolutions run without im2col (direct) and equal the oracle', async () => {
    const k = await WasmKernels.create('simd128');
    assert.is(convSuite(k, 'x86', 40, 4, 'direct'), '');
    assert.is(convSuite(k, 'arm', 40, 6, 'direct'), '');
    const prep = prepareQConv2d({ n: 1, h: 4, w: 4, c: 8, oc: 8, kernel: [1, 1], aType: 'int8', aScale: 1, aZeroPoint: 0, weights: { data: new Int8Array(64), type: 'int8', scales: 1 }, output: { type: 'int32' }, path: 'x86' });
    assert.is(prep.method, 'direct');
    assert.ok(prep.scratchBytes <= 16 * Math.ceil(8 / 2) + 32, 'no im2col buffer, only the widened A rows');
  });

  test('relaxed path (child process with --experimental-wasm-relaxed-simd)', () => {
    const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, OCTET_QCONV_CHILD: 'relaxed', FORCE_COLOR: '0' }, encoding: 'utf8', timeout: 120000,
    });
    assert.ok(r.status === 0 && /Passed:\s+1/.test(r.stdout), `child failed:\n${r.stdout}\n${r.stderr}`);
  });

  test('autoPadding follows ONNX SAME_UPPER / SAME_LOWER / VALID', () => {
    assert.equal(autoPadding('SAME_UPPER', 5, 5, [3, 3], [2, 2]), [1, 1, 1, 1]);
    assert.equal(autoPadding('SAME_UPPER', 4, 4, [3, 3], [2, 2]), [0, 0, 1, 1]);
    assert.equal(autoPadding('SAME_LOWER', 4, 4, [3, 3], [2, 2]), [1, 1, 0, 0]);
    assert.equal(autoPadding('VALID', 4, 4, [3, 3]), [0, 0, 0, 0]);
  });

  test('bad parameters are clear errors naming the node', () => {
    const base: QConv2dParams = { name: 'conv7', n: 1, h: 4, w: 4, c: 6, oc: 4, kernel: [3, 3], groups: 2, aType: 'uint8', aScale: 0.1, aZeroPoint: 3, weights: { data: new Int8Array(4 * 3 * 9), type: 'int8', scales: 0.1 }, output: { type: 'uint8', scale: 0.2, zeroPoint: 0 }, path: 'x86' };
    prepareQConv2d(base);
    assert.throws(() => prepareQConv2d({ ...base, groups: 4 }), /node 'conv7': channels \(6 in, 4 out\) are not divisible by groups=4/);
    assert.throws(() => prepareQConv2d({ ...base, kernel: [5, 5] }), /node 'conv7': output would be empty/);
    assert.throws(() => prepareQConv2d({ ...base, weights: { ...base.weights, data: new Int8Array(10) } }), /weights have 10 values/);
    assert.throws(() => prepareQConv2d({ ...base, strides: [0, 1] }), /sh must be an integer >= 1/);
    assert.throws(() => prepareQConv2d({ ...base, pads: [-1, 0, 0, 0] }), /pads must be integers >= 0/);
    assert.throws(() => prepareQConv2d({ ...base, method: 'direct' }), /needs a 1x1 stride-1/);
  });
}

test.run();
