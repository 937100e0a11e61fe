// INT8 element-wise family: add / mul with broadcasting, LUT activations, concat with requantization, quantize /
// dequantize, nearest resize: every variant on every path against the scalar oracle (assembly/reference/eltwise.ts),
// bit-exact; the oracle against closed-form cases and ONNX's QuantizeLinear / DequantizeLinear / Resize test data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BumpAllocator } from '../../src/runtime/wasm.js';
import {
  prepareQAdd, prepareQMul, prepareQLut, prepareQConcat, prepareQuantize, prepareDequantize, prepareQResizeNearest,
  planBroadcast, broadcastShape, buildLut, lutFunction, nearestMap, ortAddOuter, qaddFixed, qaddSumsExact, qaddScreen, LUT_VARIANTS, type LutKind, type QBinaryParams,
} from '../../src/kernels/eltwise.js';
import { prod, rne, fma32, qaddOut } from '../../src/kernels/qcommon.js';
import { pathEnvs, rng, randInt, randBytes, runPrepared, firstDiff, runRelaxedChild, RELAXED_CHILD } from './qmisc-util.js';
import { casesOf, loadCase } from './onnx-cases.js';

const envs = await pathEnvs();
const ref = envs[0].wasm;
const zeroOf = (r: () => number, dtype: string) => {
  const [lo, hi] = dtype === 'int8' ? [-128, 127] : [0, 255];
  const u = r();
  return u < 0.25 ? lo : u < 0.5 ? hi : randInt(r, lo, hi);
};

function randomBinaryShapes(r: () => number): [number[], number[]] {
  const N = randInt(r, 1, 2), H = randInt(r, 1, 6), W = randInt(r, 1, 6), C = r() < 0.3 ? randInt(r, 1, 5) : randInt(r, 1, 70);
  const full = [N, H, W, C];
  const kinds = [[N, H, W, C], [C], [1, 1, 1, C], [N, 1, 1, C], [1], [], [N, 1, 1, 1]];
  const small = kinds[randInt(r, 0, kinds.length - 1)];
  return r() < 0.5 ? [full, small] : [small, full];
}

for (const env of envs) {
  for (const op of ['add', 'mul'] as const) {
    test(`q${op} with broadcasting matches the oracle (${env.path})`, () => {
      const r = rng(op === 'add' ? 21 : 22);
      for (let t = 0; t < 60; t++) {
        const dtype = r() < 0.5 ? 'int8' : 'uint8';
        const [aShape, bShape] = randomBinaryShapes(r);
        const p: QBinaryParams = {
          dtype, aShape, bShape,
          aScale: Math.fround(0.001 + r() * 0.2), bScale: Math.fround(0.001 + r() * 0.2), yScale: Math.fround(0.002 + r() * 0.3),
          // every 4th add: ratios 2^-30 / 2^8 apart, so the f64 sums inside the fused multiply-adds are inexact
          ...(op === 'add' && t % 4 === 1 ? { aScale: Math.fround(1e-9 * (1 + r())), bScale: Math.fround(0.01 + r() * 0.2), yScale: 0.05 } : {}),
          aZero: zeroOf(r, dtype), bZero: zeroOf(r, dtype), yZero: zeroOf(r, dtype),
        };
        const ys = broadcastShape(aShape, bShape);
        const a = randBytes(r, prod(aShape)), b = randBytes(r, prod(bShape));
        const k = (op === 'add' ? prepareQAdd : prepareQMul)(p, env);
        const [y] = runPrepared(env.wasm, k, [a, b], [prod(ys)], t % 3 === 0 ? [1] : undefined);
        // oracle on the same geometry (its own loops; the plan only says which input is broadcast and how)
        const plan = planBroadcast(aShape, bShape, 'test');
        const al = new BumpAllocator(ref);
        const [big, small, zBig, zSmall, sBig, sSmall] = plan.swap ? [b, a, p.bZero, p.aZero, p.bScale, p.aScale] : [a, b, p.aZero, p.bZero, p.aScale, p.bScale];
        const bo = al.put(big), so = al.put(small), yo = al.alloc(prod(ys));
        const sg = dtype === 'int8' ? 1 : 0;
        if (op === 'add') {
          // onnxruntime's roles: the outer fma operand per its broadcaster (both orders are exercised by the shapes)
          const outerA = ortAddOuter(aShape, bShape) === 'a';
          const [rBig, rSmall] = [Math.fround(sBig / p.yScale), Math.fround(sSmall / p.yScale)];
          const [ra, rb] = plan.swap ? [rSmall, rBig] : [rBig, rSmall];
          const fixed = outerA ? qaddFixed(ra, p.aZero, rb, p.bZero, p.yZero) : qaddFixed(rb, p.bZero, ra, p.aZero, p.yZero);
          ref.exports.ref_q8_add(bo, so, yo, plan.rows, plan.C, plan.rdiv, plan.bstride, plan.bcs, rBig, rSmall, fixed,
            outerA !== plan.swap ? 1 : 0, sg, ...(p.clamp ?? (sg ? [-128, 127] : [0, 255])));
          void zBig; void zSmall;
        } else {
          ref.exports.ref_q8_mul(bo, so, yo, plan.rows, plan.C, plan.rdiv, plan.bstride, plan.bcs, zBig, zSmall, p.yZero,
            Math.fround(Math.fround(p.aScale * p.bScale) / p.yScale), sg);
        }
        assert.is(firstDiff(y, ref.u8(yo, prod(ys))), '', `${k.variant} ${JSON.stringify(p)}`);
      }
    });
  }

  test(`add: every byte pair, output clamps, edge lengths and tie-heavy ratios against the oracle (${env.path})`, () => {
    // The SIMD kernel screens with fixed-point arithmetic and recomputes near-tie steps exactly (qaddScreen): all
    // 65,536 byte pairs per parameter set, both operand orders and broadcast forms, clamps from fused Relu / Clip.
    const r = rng(41);
    const A = new Uint8Array(65536), B = new Uint8Array(65536);
    for (let i = 0; i < 65536; i++) { A[i] = i >> 8; B[i] = (i * 167) & 255; }
    let screened = 0, windowHits = 0;
    for (let t = 0; t < 16; t++) {
      const dtype = t % 2 ? 'int8' : 'uint8';
      const [qlo, qhi] = dtype === 'int8' ? [-128, 127] : [0, 255];
      // t % 8 == 6: power-of-two ratios (many sums on half-integers: no screen); 7: ratio 1 and 0.5 (ties, some screened)
      const tie = t % 8 >= 6;
      const p: QBinaryParams = {
        dtype, aShape: [1, 16, 16, 256], bShape: t % 4 === 3 ? [256] : [1, 16, 16, 256],
        aScale: tie ? 0.5 : Math.fround(0.005 + r() * 0.1), bScale: tie ? (t % 8 === 6 ? 0.25 : 1) : Math.fround(0.005 + r() * 0.1),
        yScale: tie ? 1 : Math.fround(0.01 + r() * 0.1),
        aZero: zeroOf(r, dtype), bZero: zeroOf(r, dtype), yZero: zeroOf(r, dtype),
        clamp: t % 3 === 0 ? undefined : [randInt(r, qlo, 0), randInt(r, 0, qhi)],
        outer: t % 5 === 0 ? 'b' : 'a',
      };
      const k = prepareQAdd(p, env);
      const bIn = p.bShape.length === 1 ? B.subarray(0, 256) : B;
      const [y] = runPrepared(env.wasm, k, [A, bIn], [65536], t % 2 ? [7, 100] : undefined);
      const prm = new Int32Array(k.constants.buffer, k.constants.byteOffset, 16);
      if (prm[7]) screened++;
      const f = new Float32Array(k.constants.buffer, k.constants.byteOffset, 3);
      const sc = qaddScreen(dtype, f[0], f[1], f[2]);
      if (sc.s && env.path !== 'scalar') {
        const xs = (v: number) => (dtype === 'int8' ? (v << 24) >> 24 : v);
        for (let i = 0; i < 65536; i++) {
          const acc = xs(A[i]) * (sc.mh & 0xffff) * 32768 + xs(A[i]) * (sc.ml & 0x7fff) + xs(bIn[i % bIn.length]) * ((sc.mh >> 16) * 32768 + (sc.ml >>> 16)) + sc.F;
          if (((acc + sc.W) & (2 ** sc.s - 1)) < 2 * sc.W) windowHits++;
        }
      }
      const al = new BumpAllocator(ref);
      const ao = al.put(A), bo = al.put(bIn), yo = al.alloc(65536);
      const ra = Math.fround(p.aScale / p.yScale), rb = Math.fround(p.bScale / p.yScale);
      const outerA = p.outer === 'a';
      const fixed = outerA ? qaddFixed(ra, p.aZero, rb, p.bZero, p.yZero) : qaddFixed(rb, p.bZero, ra, p.aZero, p.yZero);
      const plan = planBroadcast(p.aShape, p.bShape, 'test');
      ref.exports.ref_q8_add(ao, bo, yo, plan.rows, plan.C, plan.rdiv, plan.bstride, plan.bcs, ra, rb, fixed, outerA ? 1 : 0,
        dtype === 'int8' ? 1 : 0, ...(p.clamp ?? [qlo, qhi]));
      assert.is(firstDiff(y, ref.u8(yo, 65536)), '', `${k.variant} ${JSON.stringify(p)}`);
    }
    if (env.path !== 'scalar') {
      assert.ok(screened >= 10, `screen used for ${screened} of 16 parameter sets`);
      assert.ok(windowHits > 0, 'some pairs fall in the screen window (the exact recomputation runs)');
    }
    // every length 0..70 (tails of the 16-byte steps), same shape and scalar broadcast, one row and split rows
    for (let n = 0; n <= 70; n++) {
      for (const dtype of ['int8', 'uint8'] as const) {
        const p: QBinaryParams = { dtype, aShape: [1, 2, 1, n], bShape: n % 2 ? [1] : [1, 2, 1, n], aScale: Math.fround(0.01 + r() * 0.1),
          bScale: Math.fround(0.01 + r() * 0.1), yScale: Math.fround(0.02 + r() * 0.1), aZero: zeroOf(r, dtype), bZero: zeroOf(r, dtype),
          yZero: zeroOf(r, dtype), clamp: n % 3 ? [dtype === 'int8' ? -100 : 3, dtype === 'int8' ? 90 : 200] : undefined };
        const a = randBytes(r, 2 * n), b = randBytes(r, n % 2 ? 1 : 2 * n);
        const k = prepareQAdd(p, env);
        const [y] = runPrepared(env.wasm, k, [a, b], [2 * n], n % 4 === 0 ? [1] : undefined);
        const plan = planBroadcast(p.aShape, p.bShape, 'test');
        const ra = Math.fround(p.aScale / p.yScale), rb = Math.fround(p.bScale / p.yScale);
        const outerA = ortAddOuter(p.aShape, p.bShape) === 'a';
        const fixed = outerA ? qaddFixed(ra, p.aZero, rb, p.bZero, p.yZero) : qaddFixed(rb, p.bZero, ra, p.aZero, p.yZero);
        const al = new BumpAllocator(ref);
        const ao = al.put(a), bo = al.put(b), yo = al.alloc(2 * n + 1);
        const sg = dtype === 'int8' ? 1 : 0;
        ref.exports.ref_q8_add(ao, bo, yo, plan.rows, plan.C, plan.rdiv, plan.bstride, plan.bcs, ra, rb, fixed, outerA ? 1 : 0, sg,
          ...(p.clamp ?? (sg ? [-128, 127] : [0, 255])));
        assert.is(firstDiff(y, ref.u8(yo, 2 * n)), '', `n ${n} ${k.variant} ${JSON.stringify(p)}`);
      }
    }
  });

  test(`add: fused multiply-add rounding corner cases, outer and inner (${env.path})`, () => {
    // r = 6990507 * 2^-23, 3 * r = 2.5 + 2^-23 exactly: the midpoint of the float32 values 2.5 and 2.5 + 2^-22.
    // With fixed = +-2^-60 the f64 sum drops fixed (inexact) and only the round-to-odd step keeps its sign:
    // fused results 2.5 + 2^-22 -> 3 (fixed > 0) and 2.5 -> 2 (fixed < 0); a plain f64 -> f32 rounding gives 2 and 2.
    const r = 6990507 * 2 ** -23;
    const fn = `qu8_add__${env.path === 'scalar' ? 'scalar' : 'simd128'}`;
    for (const [fixed, want] of [[2 ** -60, 3], [-(2 ** -60), 2]]) {
      for (const outerIsBig of [1, 0]) {
        const al = new BumpAllocator(env.wasm);
        const C = 19; // 2 vector steps + scalar tail
        const big = al.put(new Uint8Array(C).fill(3)), small = al.put(new Uint8Array(C)), y = al.alloc(C);
        const prm = new ArrayBuffer(64); // exact = 0: these f64 sums are not exact; clamp [0, 255]; no screen
        new Float32Array(prm).set([r, 0, fixed]);
        new Int32Array(prm).set([outerIsBig, 0, 0, 255], 3);
        assert.not.ok(qaddSumsExact('uint8', r, 0, fixed));
        const po = al.put(new Uint8Array(prm));
        env.wasm.exports[fn](big, small, y, C, 1, C, 1, po, 0, 1);
        assert.equal(Array.from(env.wasm.u8(y, C)), new Array(C).fill(want), `${fn} fixed ${fixed} outerIsBig ${outerIsBig}`);
        if (env.wasm !== ref) continue;
        ref.exports.ref_q8_add(big, small, y, 1, C, 1, C, 1, r, 0, fixed, outerIsBig, 0, 0, 255);
        assert.equal(Array.from(ref.u8(y, C)), new Array(C).fill(want), `oracle fixed ${fixed}`);
      }
    }
  });

  test(`lookup-table activations match the oracle (${env.path})`, () => {
    const r = rng(23);
    const kinds: LutKind[] = ['requantize', 'sigmoid', 'hardsigmoid', 'hardswish', 'leakyrelu', 'tanh', 'relu', 'clip'];
    for (let t = 0; t < 32; t++) {
      const kind = kinds[t % kinds.length];
      const dtype = r() < 0.5 ? 'int8' : 'uint8', outDtype = r() < 0.5 ? 'int8' : 'uint8';
      const n = t % 5 === 0 ? randInt(r, 0, 20) : randInt(r, 1, 10000);
      const p = { dtype, outDtype, count: n, xScale: Math.fround(0.01 + r() * 0.1), yScale: Math.fround(0.002 + r() * 0.05),
        xZero: zeroOf(r, dtype), yZero: zeroOf(r, outDtype), alpha: 0.1, min: -1, max: 2 } as any;
      const x = randBytes(r, n);
      const k = prepareQLut(kind, p, env);
      const [y] = runPrepared(env.wasm, k, [x], [n], t % 2 ? [1] : undefined);
      const al = new BumpAllocator(ref);
      const xo = al.put(x), yo = al.alloc(n + 1), to = al.put(k.constants);
      ref.exports.ref_x8_lut(xo, yo, 1, n, n, n, to);
      assert.is(firstDiff(y, ref.u8(yo, n)), '', `${kind} ${JSON.stringify(p)}`);
    }
    assert.is(prepareQLut('relu', { dtype: 'int8', count: 4, xScale: 1, xZero: 0, yScale: 1, yZero: 0 }, env).variant,
      env.path === 'arm' || (env.path === 'relaxed' && env.arch === 'arm') ? 'x8_lut__simd128_swizzle'
        : env.path === 'relaxed' ? 'x8_lut__relaxed_pshufb' : 'x8_lut__scalar', 'the registry pick (src/kernels/eltwise.ts LUT_VARIANTS)');
  });

  test(`every table kernel this build and engine can run: all 256 bytes, every length 0..70, strided rows (${env.path})`, () => {
    // x8_lut__relaxed_pshufb relies on pshufb semantics of relaxed_swizzle: valid (and selected) on x86-like engines only
    const names = LUT_VARIANTS.filter((v) => typeof env.wasm.exports[v.name] === 'function' && (v.name !== 'x8_lut__relaxed_pshufb' || env.arch === 'x86'))
      .map((v) => v.name);
    assert.ok(names.length >= (env.path === 'scalar' ? 1 : env.path === 'relaxed' ? 3 : 2), names.join(','));
    const r = rng(29);
    for (let trial = 0; trial < 6; trial++) {
      const table = randBytes(r, 256);
      const all = Uint8Array.from({ length: 256 * 3 }, (_, i) => (i * 89 + trial) & 255);
      for (const name of names) {
        const al = new BumpAllocator(env.wasm);
        const to = al.put(table), xo = al.put(all), yo = al.alloc(all.length + 16);
        env.wasm.u8(yo, all.length + 16).fill(0xa5);
        env.wasm.exports[name](xo, yo, all.length, 0, 0, to, 0, 1);
        const got = env.wasm.u8(yo, all.length + 16);
        for (let i = 0; i < all.length; i++) if (got[i] !== table[all[i]]) assert.unreachable(`${name}: byte ${all[i]} -> ${got[i]}, table ${table[all[i]]}`);
        assert.ok(got.subarray(all.length).every((v) => v === 0xa5), `${name} wrote past its output`);
        for (let n = 0; n <= 70; n++) {
          // 3 rows of n bytes, input stride n + 5, output stride n + 3 (the gaps must stay untouched)
          const rows = 3, xs = n + 5, ys = n + 3;
          const x = randBytes(r, rows * xs);
          const al2 = new BumpAllocator(env.wasm);
          const t2 = al2.put(table), x2 = al2.put(x), y2 = al2.alloc(rows * ys + 16);
          env.wasm.u8(y2, rows * ys + 16).fill(0xa5);
          env.wasm.exports[name](x2, y2, n, xs, ys, t2, 0, rows);
          const out = env.wasm.u8(y2, rows * ys + 16);
          for (let q = 0; q < rows; q++) for (let c = 0; c < ys; c++) {
            const want = c < n ? table[x[q * xs + c]] : 0xa5;
            if (out[q * ys + c] !== want) assert.unreachable(`${name} n ${n} row ${q} col ${c}: ${out[q * ys + c]} vs ${want}`);
          }
        }
      }
    }
  });

  test(`concat with requantization matches per-input tables (${env.path})`, () => {
    const r = rng(24);
    for (let t = 0; t < 20; t++) {
      const dtype = r() < 0.5 ? 'int8' : 'uint8';
      const N = randInt(r, 1, 2), H = randInt(r, 1, 5), W = randInt(r, 1, 5);
      const cs = Array.from({ length: randInt(r, 1, 4) }, () => randInt(r, 1, 40));
      const axis = t % 4 === 0 ? 1 : 3;
      const shapes = cs.map((c) => (axis === 3 ? [N, H, W, c] : [N, c, W, 3]));
      const yScale = Math.fround(0.01 + r() * 0.1), yZero = zeroOf(r, dtype);
      const inputs = cs.map(() => (r() < 0.4 ? { scale: yScale, zero: yZero } : { scale: Math.fround(0.01 + r() * 0.1), zero: zeroOf(r, dtype) }));
      const xs = shapes.map((s) => randBytes(r, prod(s)));
      const k = prepareQConcat({ dtype, axis, shapes, inputs, yScale, yZero }, env);
      const total = xs.reduce((a, x) => a + x.length, 0);
      const [y] = runPrepared(env.wasm, k, xs, [total], t % 2 ? [1] : undefined);
      // independent: JS concat of per-element requantized values
      const outer = prod(shapes[0].slice(0, axis));
      const e = new Uint8Array(total);
      let pos = 0;
      for (let o = 0; o < outer; o++) {
        xs.forEach((x, i) => {
          const inner = prod(shapes[i].slice(axis));
          const tab = buildLut(dtype, dtype, inputs[i].scale, inputs[i].zero, yScale, yZero, (v) => v);
          for (let j = 0; j < inner; j++) e[pos++] = tab[x[o * inner + j]];
        });
      }
      assert.is(firstDiff(y, e), '', JSON.stringify({ shapes, inputs }));
    }
  });

  test(`quantize / dequantize match the oracle, per tensor and per axis (${env.path})`, () => {
    const r = rng(25);
    for (let t = 0; t < 40; t++) {
      const dtype = r() < 0.5 ? 'int8' : 'uint8';
      const shape = [randInt(r, 1, 2), randInt(r, 1, 5), randInt(r, 1, 5), randInt(r, 1, 37)];
      const perAxis = t % 3 !== 0;
      const axis = perAxis ? randInt(r, 0, 3) : undefined;
      const len = axis === undefined ? 1 : shape[axis];
      const scale = Array.from({ length: len }, () => Math.fround(10 ** (-3 + 3 * r())));
      const zeroPoint = scale.map(() => zeroOf(r, dtype));
      const p = { dtype, shape, axis, scale: perAxis ? scale : scale[0], zeroPoint: perAxis ? zeroPoint : zeroPoint[0] } as any;
      const n = prod(shape);
      const xf = Float32Array.from({ length: n }, (_, i) => (i % 17 === 0 ? (i % 2 ? 1e9 : -1e9) : (r() - 0.5) * 300 * scale[0]));
      // exact ties: x = (k + 0.5) * s
      for (let i = 5; i < n; i += 23) xf[i] = Math.fround((randInt(r, -50, 50) + 0.5) * scale[0]);
      const kq = prepareQuantize(p, env);
      const [yq] = runPrepared(env.wasm, kq, [xf], [n], t % 2 ? [1] : undefined);
      const xq = randBytes(r, n);
      const kd = prepareDequantize(p, env);
      const [yd] = runPrepared(env.wasm, kd, [xq], [n * 4], t % 2 ? [1] : undefined);
      // oracle with the same rows/cols layout, computed independently in JS from the per-axis definition
      const inner = axis === undefined ? 1 : prod(shape.slice(axis + 1));
      const eq = new Uint8Array(n), ed = new Float32Array(n);
      const [lo, hi] = dtype === 'int8' ? [-128, 127] : [0, 255];
      for (let i = 0; i < n; i++) {
        const k = axis === undefined ? 0 : Math.floor(i / inner) % len;
        const q = Math.min(hi, Math.max(lo, rne(Math.fround(xf[i] / scale[k])) + zeroPoint[k]));
        eq[i] = q & 0xff;
        const xv = dtype === 'int8' ? (xq[i] << 24) >> 24 : xq[i];
        ed[i] = Math.fround((xv - zeroPoint[k]) * scale[k]);
      }
      assert.is(firstDiff(yq, eq), '', `quantize ${JSON.stringify({ shape, axis })}`);
      assert.is(firstDiff(yd, new Uint8Array(ed.buffer)), '', `dequantize ${JSON.stringify({ shape, axis })}`);
      // and the wasm oracle agrees with the JS definition (per tensor layout)
      if (!perAxis) {
        const al = new BumpAllocator(ref);
        const xo = al.put(xf), yo = al.alloc(n), so = al.put(new Float32Array([scale[0]])), zo = al.put(new Int32Array([zeroPoint[0]]));
        ref.exports.ref_q8_quantize(xo, yo, 1, n, so, zo, 0, 1, dtype === 'int8' ? 1 : 0);
        assert.is(firstDiff(ref.u8(yo, n), eq), '', 'ref_q8_quantize');
      }
    }
  });

  test(`nearest resize matches the oracle (${env.path})`, () => {
    const r = rng(26);
    const modes = ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'tf_half_pixel_for_nn'] as const;
    const nmodes = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;
    for (let t = 0; t < 30; t++) {
      const shape: [number, number, number, number] = [randInt(r, 1, 2), randInt(r, 1, 6), randInt(r, 1, 6), randInt(r, 1, 40)];
      const outH = randInt(r, 1, 13), outW = randInt(r, 1, 13);
      const p = { shape, outH, outW, coordinateTransformationMode: modes[t % modes.length], nearestMode: nmodes[t % nmodes.length] };
      const x = randBytes(r, prod(shape));
      const k = prepareQResizeNearest(p, env);
      const n = shape[0] * outH * outW * shape[3];
      const [y] = runPrepared(env.wasm, k, [x], [n], t % 2 ? [1] : undefined);
      const al = new BumpAllocator(ref);
      const xo = al.put(x), yo = al.alloc(n);
      const ym = al.put(nearestMap(shape[1], outH, outH / shape[1], p.coordinateTransformationMode, p.nearestMode));
      const xm = al.put(nearestMap(shape[2], outW, outW / shape[2], p.coordinateTransformationMode, p.nearestMode));
      ref.exports.ref_x8_resize_nearest(xo, yo, shape[0], shape[1], shape[2], shape[3], outH, outW, ym, xm);
      assert.is(firstDiff(y, ref.u8(yo, n)), '', JSON.stringify(p));
    }
  });
}

if (!RELAXED_CHILD) {
  test('oracle closed-form cases: add / mul rounding, ties to even, saturation', () => {
    const al = new BumpAllocator(ref);
    // uint8, za = zb = zy = 0 (fixed 0), ra = rb = 0.5: (1 + 2) * 0.5 = 1.5 -> 2; (1 + 0) * .5 = 0.5 -> 0; 255 + 255 -> 255
    const a = al.put(new Uint8Array([1, 1, 255, 3])), b = al.put(new Uint8Array([2, 0, 255, 2])), y = al.alloc(4);
    ref.exports.ref_q8_add(a, b, y, 1, 4, 1, 4, 1, 0.5, 0.5, 0, 1, 0, 0, 255);
    assert.equal(Array.from(ref.u8(y, 4)), [2, 0, 255, 2]);
    // int8 mul: (-128 - 0) * (-128 - 0) * 2^-14 = 1 -> 1 + zy(-128) = -127
    const a8 = al.put(new Int8Array([-128, 5, -5, 100])), b8 = al.put(new Int8Array([-128, 5, 5, 100])), y8 = al.alloc(4);
    ref.exports.ref_q8_mul(a8, b8, y8, 1, 4, 1, 4, 1, 0, 0, -128, 2 ** -14, 1);
    assert.equal(Array.from(ref.i8(y8, 4)), [-127, -128, -128, -127]);
  });

  test('add oracle: every byte pair against the host formula (fma32), fused rounding visible', () => {
    // The oracle rounds its fused multiply-adds by a midpoint comparison; the host's fma32 by round-to-odd: two
    // independent exact methods. Parameters include tiny and huge ratios (f64 sums that are not exact).
    const r = rng(31);
    let fusedMatters = 0;
    for (let t = 0; t < 24; t++) {
      const dtype = t % 2 ? 'int8' : 'uint8';
      const [lo] = dtype === 'int8' ? [-128] : [0];
      const ra = Math.fround(t % 6 === 5 ? 2 ** -30 * (1 + r()) : 0.01 + r() * 2), rb = Math.fround(t % 6 === 4 ? 2 ** 20 * (1 + r()) : 0.01 + r() * 2);
      const za = zeroOf(r, dtype), zb = zeroOf(r, dtype), zy = zeroOf(r, dtype);
      const fixed = qaddFixed(ra, za, rb, zb, zy);
      const al = new BumpAllocator(ref);
      const A = new Uint8Array(65536), B = new Uint8Array(65536);
      for (let i = 0; i < 65536; i++) { A[i] = i >> 8; B[i] = i & 255; }
      const ao = al.put(A), bo = al.put(B), yo = al.alloc(65536);
      ref.exports.ref_q8_add(ao, bo, yo, 256, 256, 1, 256, 1, ra, rb, fixed, 1, dtype === 'int8' ? 1 : 0, lo, dtype === 'int8' ? 127 : 255);
      const got = ref.u8(yo, 65536);
      for (let i = 0; i < 65536; i++) {
        const xa = dtype === 'int8' ? (A[i] << 24) >> 24 : A[i], xb = dtype === 'int8' ? (B[i] << 24) >> 24 : B[i];
        const want = qaddOut(fma32(xa, ra, fma32(xb, rb, fixed)), dtype) & 255;
        const unfused = qaddOut(Math.fround(Math.fround(xa * ra) + Math.fround(Math.fround(xb * rb) + fixed)), dtype) & 255;
        if (want !== unfused) fusedMatters++;
        if (got[i] !== want) assert.unreachable(`${dtype} ra=${ra} rb=${rb} fixed=${fixed} a=${xa} b=${xb}: oracle ${got[i]}, host ${want}`);
      }
    }
    assert.ok(fusedMatters > 0, 'some pairs round differently fused and unfused');
  });

  test('QuantizeLinear / DequantizeLinear against ONNX test data (8-bit cases)', () => {
    let checked = 0;
    for (const name of [...casesOf('test_quantizelinear'), ...casesOf('test_dequantizelinear')]) {
      if (/blocked|e4m3|e5m2|float4|int4|uint4|int2|uint2|int16|uint16/.test(name)) continue;
      const c = loadCase(name);
      if (!c) continue;
      const quant = c.opType === 'QuantizeLinear';
      const x = c.inputs[0], s = c.inputs[1], z = c.inputs[2];
      const out = c.outputs[0];
      const dtype = (quant ? out.dataType : x.dataType) === 3 ? 'int8' : 'uint8';
      const perAxis = s.dims.length === 1 && s.dims[0] > 1;
      const p = { dtype, shape: x.dims, axis: perAxis ? c.attrs.axis ?? 1 : undefined,
        scale: perAxis ? Array.from(s.data as Float32Array) : (s.data as Float32Array)[0],
        zeroPoint: z ? (perAxis ? Array.from(z.data as any, Number) : Number((z.data as any)[0])) : undefined } as any;
      for (const env of envs) {
        const k = quant ? prepareQuantize(p, env) : prepareDequantize(p, env);
        const n = prod(x.dims);
        const [y] = runPrepared(env.wasm, k, [x.data], [quant ? n : n * 4]);
        const e = new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
        assert.is(firstDiff(y, e), '', `${name} (${env.path})`);
      }
      checked++;
    }
    assert.ok(checked >= 4, `only ${checked} cases`);
  });

  test('nearest resize against ONNX Resize test data (4-byte elements moved as bytes)', () => {
    let checked = 0;
    for (const name of casesOf('test_resize_')) {
      if (!name.includes('nearest') || /not_larger|not_smaller|axes/.test(name)) continue;
      const c = loadCase(name)!;
      if (c.attrs.mode !== 'nearest' && c.attrs.mode !== undefined) continue;
      const x = c.inputs[0], yexp = c.outputs[0];
      const [N, C, H, W] = x.dims;
      if (N !== 1 || C !== 1) continue;
      const [, , OH, OW] = yexp.dims;
      const scalesIn = c.inputs.find((t, i) => i > 0 && t.dataType === 1 && t.data.length === 4);
      const p = { shape: [1, H, W, 4] as [number, number, number, number], outH: OH, outW: OW,
        scales: scalesIn ? ([scalesIn.data[2], scalesIn.data[3]] as [number, number]) : undefined,
        coordinateTransformationMode: c.attrs.coordinate_transformation_mode, nearestMode: c.attrs.nearest_mode };
      const k = prepareQResizeNearest(p, envs[0]);
      const [y] = runPrepared(envs[0].wasm, k, [x.data], [OH * OW * 4]);
      assert.is(firstDiff(y, new Uint8Array(yexp.data.buffer)), '', name);
      checked++;
    }
    assert.ok(checked >= 6, `only ${checked} cases`);
  });

  test('LUT tables follow the float definitions', () => {
    // sigmoid at x = 0 -> 0.5; uint8 y scale 1/256 zp 0 -> 128
    const t = buildLut('uint8', 'uint8', 0.1, 128, 1 / 256, 0, lutFunction('sigmoid', {}));
    assert.is(t[128], 128);
    const h = buildLut('int8', 'int8', 0.05, 0, 0.05, 0, lutFunction('hardswish', {}));
    assert.is((h[0x80] << 24) >> 24, 0); // x = -6.4 -> 0
    assert.is(h[100], 100); // x = 5 -> 5 * min(1, 5/6 + .5) = 5
  });

  test('bad parameters are clear errors', () => {
    const base = { dtype: 'uint8', aScale: 1, bScale: 1, yScale: 1, aZero: 0, bZero: 0, yZero: 0, name: 'add7' } as any;
    assert.throws(() => prepareQAdd({ ...base, aShape: [2, 3], bShape: [3, 2] }, { path: 'scalar' }), /add7.*do not broadcast/);
    assert.throws(() => prepareQAdd({ ...base, aShape: [1, 3, 1], bShape: [2, 1, 4] }, { path: 'scalar' }), /not supported/);
    assert.throws(() => prepareQConcat({ dtype: 'int8', axis: 3, shapes: [[1, 2, 2, 3], [1, 3, 2, 3]], inputs: [{ scale: 1, zero: 0 }, { scale: 1, zero: 0 }], yScale: 1, yZero: 0 }, { path: 'scalar' }), /does not match/);
    assert.throws(() => prepareQuantize({ dtype: 'int8', shape: [2, 3], axis: 1, scale: [1, 2], zeroPoint: [0, 0] }, { path: 'scalar' }), /2 scales for axis 1 of size 3/);
    assert.throws(() => prepareQLut('gelu' as any, { dtype: 'int8', count: 4, xScale: 1, xZero: 0, yScale: 1, yZero: 0 }, { path: 'scalar' }), /unknown lookup-table/);
  });

  test('relaxed-SIMD build gives the same results (child process)', () => {
    const r = runRelaxedChild(new URL(import.meta.url).pathname);
    if (r.skipped) return;
    assert.ok(r.ok, r.out.slice(-3000));
  });
}

test('qaddSumsExact (its closed-form bound, else the enumeration) equals the TwoSum check of every sum', () => {
  // independent reference: every inner sum x * ri + fixed and every outer sum x * ro + t (t an inner fused result)
  const brute = (dtype: 'int8' | 'uint8', ro: number, ri: number, fixed: number) => {
    const xs = Array.from({ length: 256 }, (_, b) => (dtype === 'int8' && b >= 128 ? b - 256 : b));
    const exact = (p: number, t: number) => { const s = p + t, bb = s - p; return (p - (s - bb)) + (t - bb) === 0; };
    const ts: number[] = [];
    for (const x of xs) { if (!exact(x * ri, fixed)) return false; ts.push(fma32(x, ri, fixed)); }
    return ts.every((t) => xs.every((x) => exact(x * ro, t)));
  };
  const r = rng(31);
  let trues = 0, falses = 0;
  for (let t = 0; t < 400; t++) {
    const dtype = r() < 0.5 ? 'int8' : 'uint8';
    const ro = t % 17 === 0 ? 0 : Math.fround(2 ** randInt(r, -12, 6) * (0.5 + r()));
    const ri = t % 13 === 0 ? 0 : Math.fround(2 ** randInt(r, -12, 6) * (0.5 + r()));
    const zy = randInt(r, -128, 255), zo = randInt(r, -128, 255), zi = randInt(r, -128, 255);
    let fixed = qaddFixed(ro, zo, ri, zi, zy);
    if (t % 11 === 0) fixed = Math.fround((r() < 0.5 ? -1 : 1) * 2 ** -randInt(r, 30, 80)); // tiny: sums inexact
    const want = brute(dtype, ro, ri, fixed);
    assert.is(qaddSumsExact(dtype, ro, ri, fixed), want, `${dtype} ro ${ro} ri ${ri} fixed ${fixed}`);
    if (want) trues++; else falses++;
  }
  assert.ok(trues > 50 && falses > 10, `both outcomes covered (${trues} exact, ${falses} not)`);
});

test.run();
