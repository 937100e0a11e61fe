// FP32 weight packing from row sources (src/graph/tensor.ts lazyF32 / f32Rows; src/kernels/f32.ts packers): weights
// read in place from misaligned bytes with per-row (BatchNorm) scales pack to exactly the bytes that the scaled
// Float32Array packs to, and the GEMM panels equal the closure-based reference packer packF32GemmWeights.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lazyF32, f32Rows } from '../../src/graph/tensor.js';
import { prepareF32Conv2d, prepareF32DwConv2d, prepareF32Gemm, packF32GemmWeights } from '../../src/kernels/f32.js';
import { rng } from './f32-util.js';

const r = rng(4242);
const rand = (n: number) => Float32Array.from({ length: n }, () => r() * 2 - 1);

/** `w` as little-endian bytes starting `shift` bytes into a larger buffer (misaligned when shift % 4 != 0). */
function bytesAt(w: Float32Array, shift: number): Uint8Array {
  const buf = new Uint8Array(w.byteLength + shift + 3);
  buf.set(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), shift);
  return buf.subarray(shift, shift + w.byteLength);
}

/** Independent expectation: each row times its scale, rounded to float32. */
function scaled(w: Float32Array, rows: number, scale: Float64Array): Float32Array {
  const cols = w.length / rows;
  const out = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) out[i] = Math.fround(w[i] * scale[Math.floor(i / cols)]);
  return out;
}

const sameBytes = (a: Uint8Array, b: Uint8Array, what: string) => {
  assert.is(a.length, b.length, `${what}: length`);
  let bad = -1;
  for (let i = 0; i < a.length && bad < 0; i++) if (a[i] !== b[i]) bad = i;
  assert.is(bad, -1, `${what}: first differing byte ${bad}`);
};

test('lazyF32: data is each row times its scale (float32), built from misaligned bytes; building or assigning data drops the source', () => {
  for (const shift of [0, 1, 2, 3]) {
    const rows = 5, cols = 7;
    const w = rand(rows * cols);
    const scale = Float64Array.from({ length: rows }, () => r() * 3 - 1.5);
    const t = lazyF32([rows, cols], { bytes: bytesAt(w, shift), rowScale: scale });
    assert.ok(t.f32src, 'source kept until data is built');
    assert.equal(Array.from(t.data as Float32Array), Array.from(scaled(w, rows, scale)), `shift ${shift}`);
    assert.is(t.f32src, undefined, 'once built, data is the one source');
    const u = lazyF32([rows, cols], { bytes: bytesAt(w, shift) });
    assert.equal(Array.from(u.data as Float32Array), Array.from(w), `unscaled, shift ${shift}`);
    u.data = new Float32Array(rows * cols).fill(2);
    assert.is(u.f32src, undefined);
    assert.is((u.data as Float32Array)[3], 2);
    // f32Rows over a plain array reads rows as they are
    const rr = f32Rows(w, rows), row = new Float32Array(cols);
    rr.read(3, row);
    assert.equal(Array.from(row), Array.from(w.subarray(3 * cols, 4 * cols)));
  }
  assert.throws(() => lazyF32([2, 3], { bytes: new Uint8Array(20) }), /20 bytes for dims \[2,3\]/);
  assert.throws(() => f32Rows(new Float32Array(7), 2), /7 weights do not split into 2 rows/);
});

test('conv / depthwise / gemm packing: row source (misaligned, BN-scaled) = the scaled Float32Array, byte for byte', () => {
  const convs = [
    { C: 3, Cout: 10, KH: 3, KW: 3, groups: 1 },
    { C: 12, Cout: 9, KH: 1, KW: 1, groups: 3 },
    { C: 16, Cout: 17, KH: 1, KW: 1, groups: 1 },
    { C: 4, Cout: 8, KH: 2, KW: 3, groups: 2 },
  ];
  for (const c of convs) {
    for (const shift of [1, 2, 0]) {
      const w = rand(c.Cout * (c.C / c.groups) * c.KH * c.KW);
      const scale = Float64Array.from({ length: c.Cout }, () => r() + 0.25);
      const bias = rand(c.Cout);
      const geo = { N: 1, H: 5, W: 6, C: c.C, Cout: c.Cout, KH: c.KH, KW: c.KW, groups: c.groups, pads: [1, 1, 1, 1], bias };
      const lazy = lazyF32([c.Cout, c.C / c.groups, c.KH, c.KW], { bytes: bytesAt(w, shift), rowScale: scale });
      const a = prepareF32Conv2d({ ...geo, weights: f32Rows(lazy, c.Cout) }, { path: 'scalar' });
      const b = prepareF32Conv2d({ ...geo, weights: scaled(w, c.Cout, scale) }, { path: 'scalar' });
      sameBytes(a.constants, b.constants, `conv ${JSON.stringify(c)} shift ${shift}`);
    }
  }
  for (const C of [5, 8, 13]) {
    const w = rand(C * 9), scale = Float64Array.from({ length: C }, () => r() + 0.5), bias = rand(C);
    const lazy = lazyF32([C, 1, 3, 3], { bytes: bytesAt(w, 3), rowScale: scale });
    const geo = { N: 1, H: 4, W: 4, C, KH: 3, KW: 3, pads: [1, 1, 1, 1], bias };
    const a = prepareF32DwConv2d({ ...geo, weights: f32Rows(lazy, C) }, { path: 'scalar' });
    const b = prepareF32DwConv2d({ ...geo, weights: scaled(w, C, scale) }, { path: 'scalar' });
    sameBytes(a.constants, b.constants, `dw C ${C}`);
  }
  for (const [N, K] of [[10, 7], [16, 33], [3, 1]]) {
    for (const transB of [false, true]) {
      const w = rand(N * K), bias = rand(N);
      const lazy = lazyF32(transB ? [N, K] : [K, N], { bytes: bytesAt(w, 2) });
      const a = prepareF32Gemm({ M: 3, N, K, transB, bias, weights: f32Rows(lazy, transB ? N : K) }, { path: 'scalar' });
      const ref = packF32GemmWeights(N, K, transB ? (k, n) => w[n * K + k] : (k, n) => w[k * N + n], bias);
      sameBytes(a.constants, new Uint8Array(ref.buffer), `gemm ${N}x${K} transB ${transB}`);
    }
  }
});

test('alloc: packed constants are written where alloc says (one pass, no copy), or a new array when it declines', () => {
  const mem = new ArrayBuffer(1 << 16);
  let top = 64;
  const alloc = (bytes: number) => { const v = new Uint8Array(mem, top, bytes); top += (bytes + 63) & ~63; return v; };
  const w = rand(8 * 4 * 9);
  const k = prepareF32Conv2d({ N: 1, H: 5, W: 5, C: 4, Cout: 8, KH: 3, KW: 3, weights: w, alloc }, { path: 'scalar' });
  assert.is(k.constants.buffer, mem);
  assert.is(k.constants.byteOffset, 64);
  const ref = prepareF32Conv2d({ N: 1, H: 5, W: 5, C: 4, Cout: 8, KH: 3, KW: 3, weights: w }, { path: 'scalar' });
  sameBytes(k.constants, ref.constants, 'conv into alloc');
  const g = prepareF32Gemm({ M: 1, N: 4, K: 3, weights: rand(12), alloc: () => null }, { path: 'scalar' });
  assert.is.not(g.constants.buffer, mem);
});

test.run();
