// Resize family: bilinear (float32 / int8 / uint8) and nearest (float32 through the byte-copy kernel) on every
// path against the oracle (assembly/reference/resize.ts, eltwise.ts): integers bit-exact, float32 within 1e-5
// relative; split work ranges; the taps against closed-form ONNX coordinates.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BumpAllocator } from '../../src/runtime/wasm.js';
import { prepareResize, linearTaps, tapTable, sourceCoord, type ResizeDType } from '../../src/kernels/resize.js';
import { nearestMap, type CoordMode } from '../../src/kernels/eltwise.js';
import { prod } from '../../src/kernels/qcommon.js';
import { pathEnvs, rng, randInt, randBytes, runPrepared, firstDiff, runRelaxedChild, RELAXED_CHILD } from './qmisc-util.js';

const envs = await pathEnvs();
const ref = envs[0].wasm;
const MODES: CoordMode[] = ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel', 'half_pixel_symmetric'];

function f32Close(a: Float32Array, b: Float32Array): string {
  if (a.length !== b.length) return `lengths ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= 1e-5 * Math.abs(b[i]) + 1e-30)) return `index ${i}: ${a[i]} vs ${b[i]}`;
  return '';
}

function randInput(r: () => number, dtype: ResizeDType, n: number): Uint8Array {
  if (dtype !== 'float32') return randBytes(r, n);
  const f = Float32Array.from({ length: n }, () => (r() - 0.5) * 20);
  return new Uint8Array(f.buffer);
}

for (const env of envs) {
  for (const dtype of ['float32', 'int8', 'uint8'] as const) {
    test(`bilinear resize ${dtype} matches the oracle (${env.path})`, () => {
      const r = rng(dtype === 'float32' ? 41 : dtype === 'int8' ? 42 : 43);
      for (let t = 0; t < 40; t++) {
        const shape: [number, number, number, number] = [randInt(r, 1, 2), randInt(r, 1, 7), randInt(r, 1, 7), r() < 0.3 ? randInt(r, 1, 5) : randInt(r, 1, 37)];
        const up = r() < 0.6;
        const outH = up ? shape[1] * randInt(r, 1, 3) + randInt(r, 0, 1) : randInt(r, 1, shape[1]);
        const outW = up ? shape[2] * randInt(r, 1, 3) + randInt(r, 0, 1) : randInt(r, 1, shape[2]);
        const cm = MODES[t % MODES.length];
        const p = { dtype, shape, outH, outW, mode: 'linear' as const, coordinateTransformationMode: cm };
        const es = dtype === 'float32' ? 4 : 1;
        const x = randInput(r, dtype, prod(shape));
        const k = prepareResize(p, env);
        const n = shape[0] * outH * outW * shape[3];
        const [y] = runPrepared(env.wasm, k, [x], [n * es], t % 3 === 0 ? [1, 2] : undefined);
        const al = new BumpAllocator(ref);
        const xo = al.put(x), yo = al.alloc(n * es);
        const yt = al.put(tapTable(linearTaps(shape[1], outH, outH / shape[1], cm)));
        const xt = al.put(tapTable(linearTaps(shape[2], outW, outW / shape[2], cm)));
        ref.exports.ref_resize_bilinear(dtype === 'float32' ? 0 : dtype === 'int8' ? 1 : 2, xo, yo, shape[0], shape[1], shape[2], shape[3], outH, outW, yt, xt);
        const want = ref.u8(yo, n * es).slice();
        const msg = dtype === 'float32'
          ? f32Close(new Float32Array(y.buffer, y.byteOffset, n), new Float32Array(want.buffer, 0, n))
          : firstDiff(y, want);
        assert.is(msg, '', `${k.variant} ${JSON.stringify(p)}`);
      }
    });
  }

  test(`nearest resize of float32 (C * 4 bytes per pixel) matches the oracle (${env.path})`, () => {
    const r = rng(44);
    for (let t = 0; t < 20; t++) {
      const shape: [number, number, number, number] = [randInt(r, 1, 2), randInt(r, 1, 6), randInt(r, 1, 6), randInt(r, 1, 19)];
      const outH = randInt(r, 1, 13), outW = randInt(r, 1, 13);
      const cm = MODES[t % 4];
      const x = randInput(r, 'float32', prod(shape));
      const k = prepareResize({ dtype: 'float32', shape, outH, outW, mode: 'nearest', coordinateTransformationMode: cm }, env);
      const n = shape[0] * outH * outW * shape[3];
      const [y] = runPrepared(env.wasm, k, [x], [n * 4], t % 2 ? [1] : undefined);
      const al = new BumpAllocator(ref);
      const xo = al.put(x), yo = al.alloc(n * 4);
      const ym = al.put(nearestMap(shape[1], outH, outH / shape[1], cm, 'round_prefer_floor'));
      const xm = al.put(nearestMap(shape[2], outW, outW / shape[2], cm, 'round_prefer_floor'));
      ref.exports.ref_x8_resize_nearest(xo, yo, shape[0], shape[1], shape[2], shape[3] * 4, outH, outW, ym, xm);
      assert.is(firstDiff(y, ref.u8(yo, n * 4)), '', `${cm} ${shape} -> ${outH}x${outW}`);
    }
  });
}

if (!RELAXED_CHILD) {
  test('oracle closed form: 2x upsampling of a ramp (half_pixel, align_corners), integers truncated', () => {
    const al = new BumpAllocator(ref);
    // 1 x 2 x 2 x 1 input [[0, 4], [8, 12]]
    const x = al.put(Float32Array.of(0, 4, 8, 12));
    const run = (cm: CoordMode) => {
      const yo = al.alloc(16 * 4);
      const t = al.put(tapTable(linearTaps(2, 4, 2, cm)));
      ref.exports.ref_resize_bilinear(0, x, yo, 1, 2, 2, 1, 4, 4, t, t);
      return Array.from(ref.f32(yo, 16));
    };
    // half_pixel: source coords -0.25, 0.25, 0.75, 1.25 -> clamped ramp 0, 1, 3, 4 along x (values x4 along y: 0, 2, 6, 8)
    assert.equal(run('half_pixel').slice(0, 4), [0, 1, 3, 4]);
    assert.equal(run('half_pixel').filter((_, i) => i % 4 === 0), [0, 2, 6, 8]);
    // align_corners: coords 0, 1/3, 2/3, 1
    assert.ok(run('align_corners').slice(0, 4).every((v, i) => Math.abs(v - (4 * i) / 3) < 1e-6));
    // uint8: truncated as onnxruntime's cast ([0, 1] at asymmetric 2x: 0, 0.5 -> 0, 1, 1 (clamped coordinate 1.5))
    const xb = al.put(Uint8Array.of(0, 1));
    const yb = al.alloc(16);
    const tx = al.put(tapTable(linearTaps(2, 4, 2, 'asymmetric'))), ty = al.put(tapTable(linearTaps(1, 1, 1, 'asymmetric')));
    ref.exports.ref_resize_bilinear(2, xb, yb, 1, 1, 2, 1, 1, 4, ty, tx);
    assert.equal(Array.from(ref.u8(yb, 4)), [0, 0, 1, 1]);
  });

  test('taps: ONNX coordinate rules', () => {
    assert.is(sourceCoord(0, 4, 8, 2, 'half_pixel'), -0.25);
    assert.is(sourceCoord(1, 3, 5, 5 / 3, 'half_pixel'), Math.fround(Math.fround(1.5 / Math.fround(5 / 3)) - 0.5)); // float32 steps
    assert.is(sourceCoord(3, 4, 8, 2, 'asymmetric'), 1.5);
    assert.is(sourceCoord(7, 4, 8, 2, 'align_corners'), 3);
    assert.is(sourceCoord(0, 4, 1, 0.25, 'pytorch_half_pixel'), 0);
    const t = linearTaps(4, 8, 2, 'half_pixel');
    assert.equal([t[0].i0, t[0].i1, t[0].w0, t[0].w1], [0, 1, 1, 0]); // -0.25 clamped to 0: all weight on index 0
    assert.equal([t[1].i0, t[1].i1, t[1].w0, t[1].w1], [0, 1, 0.75, 0.25]);
    assert.equal([t[7].i0, t[7].i1, t[7].w0, t[7].w1], [3, 3, 0.5, 0.5]); // 3.25 clamped to 3: i1 = i2, 0.5 each
    assert.equal(linearTaps(3, 3, 1, 'align_corners').map((e) => [e.i0, e.w0]), [[0, 1], [1, 1], [2, 0.5]]);
    assert.throws(() => prepareResize({ dtype: 'float32', shape: [1, 2, 2, 1], outH: 4, outW: 4, mode: 'linear', coordinateTransformationMode: 'tf_crop_and_resize' as any }, { path: 'scalar' }), /not supported/);
    assert.throws(() => prepareResize({ dtype: 'int16' as any, shape: [1, 2, 2, 1], outH: 4, outW: 4, mode: 'linear' }, { path: 'scalar' }), /dtype/);
  });

  test('relaxed build (child process with --experimental-wasm-relaxed-simd)', () => {
    const r = runRelaxedChild(new URL(import.meta.url).pathname);
    assert.ok(r.ok, r.out.slice(-2000));
  });
}

test.run();
