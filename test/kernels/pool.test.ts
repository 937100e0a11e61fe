// INT8 pooling: every variant on every path against the scalar oracle (assembly/reference/pool.ts), bit-exact,
// over random shapes; and the oracle against ONNX's MaxPool / AveragePool / GlobalAveragePool test data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BumpAllocator } from '../../src/runtime/wasm.js';
import {
  prepareQMaxPool, prepareQAvgPool, prepareQGlobalAvgPool, poolGeometry, avgScaleTable, gavgScale, type QPoolParams,
} from '../../src/kernels/pool.js';
import { pathEnvs, rng, randInt, randBytes, runPrepared, firstDiff, runRelaxedChild, RELAXED_CHILD } from './qmisc-util.js';
import { casesOf, loadCase } from './onnx-cases.js';
import { rne } from '../../src/kernels/qcommon.js';

const envs = await pathEnvs();
const ref = envs[0].wasm; // references are exported by every build; the first instance serves as oracle host

function randomPool(r: () => number): QPoolParams | undefined {
  const KH = randInt(r, 1, 5), KW = randInt(r, 1, 5);
  const p: QPoolParams = {
    dtype: r() < 0.5 ? 'int8' : 'uint8',
    shape: [randInt(r, 1, 2), randInt(r, 1, 9), randInt(r, 1, 9), r() < 0.3 ? randInt(r, 1, 4) : randInt(r, 1, 41)],
    kernel: [KH, KW],
    strides: [randInt(r, 1, 4), randInt(r, 1, 4)],
    dilations: r() < 0.25 ? [randInt(r, 1, 2), randInt(r, 1, 2)] : [1, 1],
    pads: [randInt(r, 0, KH - 1), randInt(r, 0, KW - 1), randInt(r, 0, KH - 1), randInt(r, 0, KW - 1)],
    ceilMode: r() < 0.4,
  };
  try {
    poolGeometry(p);
    return p;
  } catch {
    return undefined;
  }
}

function refPool(kind: 'max' | 'avg', p: QPoolParams & any, x: Uint8Array): Uint8Array {
  const g = poolGeometry(p);
  const a = new BumpAllocator(ref);
  const xo = a.put(x);
  const n = g.N * g.OH * g.OW * g.C;
  const yo = a.alloc(n);
  const s = p.dtype === 'int8' ? 1 : 0;
  if (kind === 'max') {
    ref.exports.ref_q8_maxpool(xo, yo, g.N, g.H, g.W, g.C, g.OH, g.OW, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PT, g.PL, s);
  } else {
    const t = a.put(avgScaleTable(p.xScale, p.yScale, g.KH * g.KW));
    ref.exports.ref_q8_avgpool(xo, yo, g.N, g.H, g.W, g.C, g.OH, g.OW, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PT, g.PL, g.PB, g.PR,
      p.countIncludePad ? 1 : 0, p.xZero, p.yZero, t, s);
  }
  return ref.u8(yo, n).slice();
}

const zeroOf = (r: () => number, dtype: string) => {
  const [lo, hi] = dtype === 'int8' ? [-128, 127] : [0, 255];
  const u = r();
  return u < 0.25 ? lo : u < 0.5 ? hi : randInt(r, lo, hi);
};

for (const env of envs) {
  test(`max pool matches the oracle (${env.path})`, () => {
    const r = rng(11);
    let done = 0;
    while (done < 60) {
      const p = randomPool(r);
      if (!p) continue;
      const g = poolGeometry(p);
      const x = randBytes(r, g.N * g.H * g.W * g.C);
      const k = prepareQMaxPool(p, env);
      const [y] = runPrepared(env.wasm, k, [x], [g.N * g.OH * g.OW * g.C], done % 3 === 0 ? [1] : undefined);
      const e = refPool('max', p, x);
      assert.is(firstDiff(y, e), '', `${k.variant} ${JSON.stringify(p)}`);
      done++;
    }
  });

  test(`average pool matches the oracle (${env.path})`, () => {
    const r = rng(12);
    let done = 0;
    while (done < 60) {
      const p = randomPool(r) as any;
      if (!p) continue;
      p.countIncludePad = r() < 0.5;
      p.xScale = Math.fround(0.001 + r() * 0.1);
      p.yScale = Math.fround(p.xScale * (0.3 + r() * 2));
      p.xZero = zeroOf(r, p.dtype);
      p.yZero = zeroOf(r, p.dtype);
      const g = poolGeometry(p);
      const x = randBytes(r, g.N * g.H * g.W * g.C);
      const k = prepareQAvgPool(p, env);
      const [y] = runPrepared(env.wasm, k, [x], [g.N * g.OH * g.OW * g.C], done % 3 === 0 ? [1, 2] : undefined);
      const e = refPool('avg', p, x);
      assert.is(firstDiff(y, e), '', `${k.variant} ${JSON.stringify(p)}`);
      done++;
    }
  });

  test(`global average pool matches the oracle (${env.path})`, () => {
    const r = rng(13);
    for (let t = 0; t < 40; t++) {
      const dtype = r() < 0.5 ? 'int8' : 'uint8';
      const N = randInt(r, 1, 2), H = randInt(r, 1, 12), W = randInt(r, 1, 12), C = t % 4 === 0 ? randInt(r, 1, 5) : randInt(r, 1, 200);
      const xScale = Math.fround(0.001 + r() * 0.1), yScale = Math.fround(xScale * (0.2 + r() * 2));
      const xZero = zeroOf(r, dtype), yZero = zeroOf(r, dtype);
      const p = { dtype, shape: [N, H, W, C], xScale, yScale, xZero, yZero } as any;
      const x = randBytes(r, N * H * W * C);
      const k = prepareQGlobalAvgPool(p, env);
      const [y] = runPrepared(env.wasm, k, [x], [N * C], t % 2 ? [1] : undefined);
      const a = new BumpAllocator(ref);
      const xo = a.put(x), yo = a.alloc(N * C);
      ref.exports.ref_q8_gavgpool(xo, yo, N, H * W, C, xZero, yZero, gavgScale(xScale, yScale, H * W), dtype === 'int8' ? 1 : 0);
      assert.is(firstDiff(y, ref.u8(yo, N * C)), '', `${k.variant} ${JSON.stringify(p)}`);
    }
  });
}

if (!RELAXED_CHILD) {
  test('global average pool oracle: closed-form mean with round half to even', () => {
    // x = 0..8 (uint8, zx 0), sx = sy = 1: mean of 9 values 0..8 is 4 -> 4; mean of (1, 2) = 1.5 -> 2 (even), (0, 1) -> 0
    const a = new BumpAllocator(ref);
    const x = a.put(new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8]));
    const y = a.alloc(4);
    ref.exports.ref_q8_gavgpool(x, y, 1, 9, 1, 0, 0, gavgScale(1, 1, 9), 0);
    assert.is(ref.u8(y, 1)[0], 4);
    const x2 = a.put(new Uint8Array([1, 2]));
    ref.exports.ref_q8_gavgpool(x2, y, 1, 2, 1, 0, 0, gavgScale(1, 1, 2), 0);
    assert.is(ref.u8(y, 1)[0], 2);
    const x3 = a.put(new Uint8Array([0, 1]));
    ref.exports.ref_q8_gavgpool(x3, y, 1, 2, 1, 0, 0, gavgScale(1, 1, 2), 0);
    assert.is(ref.u8(y, 1)[0], 0);
  });

  // ---- the oracle against ONNX's test data (2-D cases; float data quantized, compared in the quantized domain)
  const nchwToNhwc = (d: Float32Array | Uint8Array, [N, C, H, W]: number[]) => {
    const o = new (d.constructor as any)(d.length);
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let i = 0; i < H * W; i++) o[(n * H * W + i) * C + c] = d[(n * C + c) * H * W + i];
    return o;
  };
  function attrsToParams(attrs: Record<string, any>, shape: number[]): QPoolParams {
    const [N, C, H, W] = shape;
    const pads = attrs.pads ? [attrs.pads[0], attrs.pads[1], attrs.pads[2], attrs.pads[3]] : undefined;
    return {
      dtype: 'uint8', shape: [N, H, W, C], kernel: attrs.kernel_shape, strides: attrs.strides, dilations: attrs.dilations,
      pads: pads as any, autoPad: attrs.auto_pad, ceilMode: !!attrs.ceil_mode,
    };
  }
  const quantU8 = (v: number, s: number, z: number) => Math.min(255, Math.max(0, rne(Math.fround(v / s)) + z));

  test('max / average pool oracle against ONNX test data (2-D)', () => {
    let checked = 0;
    for (const name of [...casesOf('test_maxpool_2d'), ...casesOf('test_maxpool_with_argmax_2d'), ...casesOf('test_averagepool_2d')]) {
      const c = loadCase(name)!;
      const xin = c.inputs[0], yexp = c.outputs[0];
      if (xin.dims.length !== 4) continue;
      const p = attrsToParams(c.attrs, xin.dims) as any;
      const g = poolGeometry(p);
      assert.equal([g.N, g.C, g.OH, g.OW], yexp.dims, `${name}: output shape`);
      const isMax = c.opType === 'MaxPool';
      let xq: Uint8Array, s = 1, z = 0;
      if (xin.dataType === 2) xq = xin.data as Uint8Array;
      else {
        const xf = xin.data as Float32Array;
        let lo = 0, hi = 0;
        for (const v of xf) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        s = Math.fround((hi - lo) / 255 || 1);
        z = Math.min(255, Math.max(0, Math.round(-lo / s)));
        xq = Uint8Array.from(xf, (v) => quantU8(v, s, z));
      }
      Object.assign(p, { xScale: s, yScale: s, xZero: z, yZero: z, countIncludePad: !!c.attrs.count_include_pad });
      const y = refPool(isMax ? 'max' : 'avg', p, nchwToNhwc(xq, xin.dims));
      const e = nchwToNhwc(yexp.data as any, [g.N, g.C, g.OH, g.OW]);
      for (let i = 0; i < y.length; i++) {
        if (xin.dataType === 2) assert.is(y[i], e[i], `${name} [${i}]`);
        else if (isMax) assert.is(y[i], quantU8(e[i], s, z), `${name} [${i}]`);
        else assert.ok(Math.abs((y[i] - z) * s - e[i]) <= 1.01 * s, `${name} [${i}]: ${(y[i] - z) * s} vs ${e[i]}`);
      }
      checked++;
    }
    assert.ok(checked >= 20, `only ${checked} ONNX pooling cases found`);
  });

  test('global average pool oracle against ONNX test data', () => {
    let checked = 0;
    for (const name of casesOf('test_globalaveragepool')) {
      const c = loadCase(name)!;
      const [N, C, H, W] = c.inputs[0].dims;
      const xf = c.inputs[0].data as Float32Array;
      let lo = 0, hi = 0;
      for (const v of xf) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      const s = Math.fround((hi - lo) / 255 || 1), z = Math.min(255, Math.max(0, Math.round(-lo / s)));
      const xq = nchwToNhwc(Uint8Array.from(xf, (v) => quantU8(v, s, z)), [N, C, H, W]);
      const a = new BumpAllocator(ref);
      const xo = a.put(xq), yo = a.alloc(N * C);
      ref.exports.ref_q8_gavgpool(xo, yo, N, H * W, C, z, z, gavgScale(s, s, H * W), 0);
      const y = ref.u8(yo, N * C);
      const e = c.outputs[0].data as Float32Array;
      for (let i = 0; i < N * C; i++) assert.ok(Math.abs((y[i] - z) * s - e[i]) <= 1.01 * s, `${name} [${i}]`);
      checked++;
    }
    assert.ok(checked >= 2);
  });

  test('bad parameters are clear errors', () => {
    assert.throws(() => prepareQMaxPool({ dtype: 'int8', shape: [1, 2, 2, 3], kernel: [5, 5], name: 'mp1' }, { path: 'scalar' }), /mp1.*window larger/);
    assert.throws(() => prepareQMaxPool({ dtype: 'int16' as any, shape: [1, 2, 2, 3], kernel: [1, 1] }, { path: 'scalar' }), /dtype/);
    assert.throws(() => prepareQAvgPool({ dtype: 'uint8', shape: [1, 4, 4, 3], kernel: [2, 2], xScale: 0, yScale: 1, xZero: 0, yZero: 0 }, { path: 'scalar' }), /scale/);
    assert.throws(() => prepareQGlobalAvgPool({ dtype: 'uint8', shape: [1, 4, 4, 3], xScale: 1, yScale: 1, xZero: 300, yZero: 0 }, { path: 'scalar' }), /zero point/);
  });

  test('relaxed-SIMD build gives the same results (child process)', () => {
    const r = runRelaxedChild(new URL(import.meta.url).pathname);
    if (r.skipped) return;
    assert.ok(r.ok, r.out.slice(-3000));
  });
}

test.run();
