// Dynamic quantization kernels: DynamicQuantizeLinear (f32_dynquant_u8) and ConvInteger with the input zero point
// known only at run time (conv with za = 0, then x32_conv_zp_correct), on every path, bit-exact against the oracles
// (ref_f32_dynquant_u8 in assembly/reference/eltwise.ts; ref_qconv2d with the zero point in
// assembly/reference/conv.ts); ONNX closed-form dynamic quantization values.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BumpAllocator } from '../../src/runtime/wasm.js';
import { prepareDynamicQuantize } from '../../src/kernels/eltwise.js';
import { prepareQConv2dRuntimeZp } from '../../src/kernels/qconv.js';
import { pathEnvs, rng, randInt, runPrepared, firstDiff, runRelaxedChild, RELAXED_CHILD } from './qmisc-util.js';
import { randomConv, refConv } from './qconv-cases.js';

const envs = await pathEnvs();
const ref = envs[0].wasm;

function refDynQuant(x: Float32Array): { y: Uint8Array; scale: number; zp: number } {
  const al = new BumpAllocator(ref);
  const xo = al.put(x), yo = al.alloc(x.length + 16), so = al.alloc(4), zo = al.alloc(4);
  ref.exports.ref_f32_dynquant_u8(xo, x.length, yo, so, zo);
  return { y: ref.u8(yo, x.length).slice(), scale: ref.f32(so, 1)[0], zp: ref.u8(zo, 1)[0] };
}

for (const env of envs) {
  test(`DynamicQuantizeLinear kernel matches the oracle (${env.path})`, () => {
    const r = rng(61);
    for (let t = 0; t < 40; t++) {
      const n = t < 4 ? [1, 3, 16, 17][t] : randInt(r, 1, 300);
      const kind = t % 5;
      const x = Float32Array.from({ length: n }, () => kind === 0 ? r() * 10 : kind === 1 ? -r() * 3 : kind === 2 ? 0 : (r() - 0.3) * 10 ** randInt(r, -3, 3));
      const k = prepareDynamicQuantize({ count: n }, env);
      const [y, s, z] = runPrepared(env.wasm, k, [x], [n, 4, 1]);
      const want = refDynQuant(x);
      assert.is(firstDiff(y, want.y), '', `${k.variant} n=${n} kind=${kind}`);
      assert.is(new Float32Array(s.slice().buffer)[0], want.scale);
      assert.is(z[0], want.zp);
    }
  });

  test(`ConvInteger with a runtime input zero point matches the oracle (${env.path})`, () => {
    const r = rng(62);
    for (let t = 0; t < 60; t++) {
      const { p, x } = randomConv(9000 + t, env.path);
      const [lo, hi] = p.aType === 'int8' ? [-128, 127] : [0, 255];
      const za = [lo, hi, randInt(r, lo, hi)][t % 3];
      const { aZeroPoint: _z, aScale: _s, output: _o, bias: _b, requant: _r, ...geo } = p;
      const k = prepareQConv2dRuntimeZp({ ...geo, arch: env.arch, zpType: p.aType });
      const oh = Math.floor((p.h + p.pads![0] + p.pads![2] - p.dilations![0] * (p.kernel[0] - 1) - 1) / p.strides![0]) + 1;
      const ow = Math.floor((p.w + p.pads![1] + p.pads![3] - p.dilations![1] * (p.kernel[1] - 1) - 1) / p.strides![1]) + 1;
      const bytes = p.n * oh * ow * p.oc * 4;
      const zb = p.aType === 'int8' ? Int8Array.of(za) : Uint8Array.of(za);
      const [y] = runPrepared(env.wasm, k, [x, zb], [bytes], t % 2 ? [1] : undefined);
      const want = refConv(ref, { ...p, aZeroPoint: za, output: { type: 'int32' }, bias: undefined }, x, oh, ow, 'int32');
      assert.is(firstDiff(y, want), '', `${k.variant} t=${t} ${JSON.stringify({ ...p, weights: undefined, bias: undefined })} za=${za}`);
    }
  });
}

if (!RELAXED_CHILD) {
  test('oracle closed form: ONNX DynamicQuantizeLinear example', () => {
    // onnx/backend/test/case/node/dynamicquantizelinear.py: [0, 2, -3, -2.5, 1.34, 0.5] -> scale 5/255, zp 153
    const got = refDynQuant(Float32Array.of(0, 2, -3, -2.5, 1.34, 0.5));
    assert.is(got.scale, Math.fround(Math.fround(5) / 255));
    assert.is(got.zp, 153);
    assert.equal(Array.from(got.y), [153, 255, 0, 26, 221, 179]);
    const pos = refDynQuant(Float32Array.of(1, 2.1, 1.3, 2.5, 3.34, 4.0, 1.5, 2.6, 3.9, 4.0, 3.0, 2.345));
    assert.is(pos.zp, 0);
    assert.equal(Array.from(pos.y), [64, 134, 83, 159, 213, 255, 96, 166, 249, 255, 191, 149]);
  });

  test('relaxed build (child process with --experimental-wasm-relaxed-simd)', () => {
    const r = runRelaxedChild(new URL(import.meta.url).pathname);
    assert.ok(r.ok, r.out.slice(-2000));
  });
}

test.run();
