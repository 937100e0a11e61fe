// FP32 training kernels (assembly/f32/train-scalar.ts through src/kernels/f32-train.ts): the TrainKernels entries
// against the engine's TypeScript oracle (src/train/kernels-ts.ts); batch norm and softmax cross-entropy
// backward against central finite differences of a float64 forward; optimizer steps and fake quantization
// against closed-form float64 formulas.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { F32Train, f32TrainKernels } from '../../src/kernels/f32-train.js';
import { tsKernels } from '../../src/train/kernels-ts.js';
import type { ConvGeom } from '../../src/train/kernels.js';
import { rng, randArray, randInt, close } from './f32-util.js';

const r = rng(4242);

function geom(N: number, C: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, dh = 1, dw = 1): ConvGeom {
  const OH = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  return { N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW };
}

const geoms = (): ConvGeom[] => [
  geom(2, 3, 6, 5, 3, 3, 1, 1, 1, 1),
  geom(1, 4, 7, 7, 3, 3, 2, 2, 1, 1),
  geom(2, 2, 5, 6, 2, 3, 1, 2, 0, 1, 2, 1),
  geom(1, 5, 1, 1, 3, 3, 1, 1, 1, 1),
  geom(1, 3, 9, 8, 5, 5, 2, 1, 2, 2),
  geom(2, 6, 8, 8, 1, 1, 1, 1, 0, 0),
  geom(1, 2, 4, 4, 2, 2, 3, 3, 0, 0),
];

test('TrainKernels entries on wasm match the TypeScript oracle (im2col, col2im, depthwise, pooling, sgemm)', async () => {
  for (const path of ['scalar', 'x86'] as const) {
    const ft = await F32Train.create(path);
    const K = f32TrainKernels(ft);
    for (const g of geoms()) {
      const x = randArray(r, g.N * g.C * g.H * g.W), nOut = g.N * g.C * g.OH * g.OW;
      const c0 = g.C > 2 ? 1 : 0, cg = g.C - c0;
      const colN = cg * g.kh * g.kw * g.N * g.OH * g.OW;
      const a = new Float32Array(colN), b = new Float32Array(colN);
      K.im2col(x, g, c0, cg, a); tsKernels.im2col(x, g, c0, cg, b);
      close(a, b, `im2col ${JSON.stringify(g)}`, 0);
      const col = randArray(r, colN), d0 = randArray(r, x.length), d1 = d0.slice();
      K.col2im(col, g, c0, cg, d0); tsKernels.col2im(col, g, c0, cg, d1);
      close(d0, d1, `col2im`, 1e-6, 1);
      const w = randArray(r, g.C * g.kh * g.kw), y0 = new Float32Array(nOut), y1 = new Float32Array(nOut);
      K.dwconvForward(x, w, g, y0); tsKernels.dwconvForward(x, w, g, y1);
      close(y0, y1, 'dwconvForward', 1e-5, 1);
      const dy = randArray(r, nOut), dx0 = new Float32Array(x.length).fill(7), dx1 = new Float32Array(x.length);
      K.dwconvBackwardData(dy, w, g, dx0); tsKernels.dwconvBackwardData(dy, w, g, dx1);
      close(dx0, dx1, 'dwconvBackwardData', 1e-5, 1);
      const dw0 = new Float32Array(w.length).fill(3), dw1 = new Float32Array(w.length);
      K.dwconvBackwardFilter(x, dy, g, dw0); tsKernels.dwconvBackwardFilter(x, dy, g, dw1);
      close(dw0, dw1, 'dwconvBackwardFilter', 1e-5, 10);
      if (g.dh === 1 && g.dw === 1 && g.ph < g.kh && g.pw < g.kw) {
        const planes = g.N * g.C;
        const p0 = new Float32Array(nOut), p1 = new Float32Array(nOut), i0 = new Int32Array(nOut), i1 = new Int32Array(nOut);
        K.maxpoolForward(x, planes, g, p0, i0); tsKernels.maxpoolForward(x, planes, g, p1, i1);
        close(p0, p1, 'maxpoolForward', 0);
        assert.equal(Array.from(i0), Array.from(i1));
        const m0 = randArray(r, x.length), m1 = m0.slice();
        K.maxpoolBackward(dy, i0, nOut, m0); tsKernels.maxpoolBackward(dy, i1, nOut, m1);
        close(m0, m1, 'maxpoolBackward', 1e-6, 1);
        K.avgpoolForward(x, planes, g, p0); tsKernels.avgpoolForward(x, planes, g, p1);
        close(p0, p1, 'avgpoolForward', 1e-5, 1);
        const v0 = randArray(r, x.length), v1 = v0.slice();
        K.avgpoolBackward(dy, planes, g, v0); tsKernels.avgpoolBackward(dy, planes, g, v1);
        close(v0, v1, 'avgpoolBackward', 1e-5, 1);
      }
    }
    for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
      const M = randInt(r, 1, 20), N = randInt(r, 1, 20), Kd = randInt(r, 1, 50);
      const A = randArray(r, M * Kd), B = randArray(r, Kd * N), C0 = randArray(r, M * N), C1 = C0.slice();
      K.sgemm(tA, tB, M, N, Kd, A, B, C0, 1); tsKernels.sgemm(tA, tB, M, N, Kd, A, B, C1, 1);
      close(C0, C1, `sgemm ${tA} ${tB}`, 1e-5, Kd);
    }
  }
});

// float64 batch norm forward (training mode) for finite differences
function bn64(x: Float64Array, N: number, C: number, HW: number, gamma: Float64Array, beta: Float64Array, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let c = 0; c < C; c++) {
    let s = 0, q = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) s += x[(n * C + c) * HW + i];
    const m = s / (N * HW);
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) q += (x[(n * C + c) * HW + i] - m) ** 2;
    const is = 1 / Math.sqrt(q / (N * HW) + eps);
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) y[(n * C + c) * HW + i] = gamma[c] * (x[(n * C + c) * HW + i] - m) * is + beta[c];
  }
  return y;
}

test('batch norm forward (batch statistics) matches float64; backward matches finite differences', async () => {
  const ft = await F32Train.create('scalar');
  const N = 3, C = 4, HW = 5, eps = 1e-5;
  const x = randArray(r, N * C * HW, -2, 3), gamma = randArray(r, C, 0.5, 1.5), beta = randArray(r, C), R = randArray(r, N * C * HW);
  const px = ft.put(x), pg = ft.put(gamma), pb = ft.put(beta), py = ft.alloc(x.length), pm = ft.alloc(C), pi = ft.alloc(C), pv = ft.alloc(C);
  ft.batchNormForward(px, N, C, HW, pg, pb, eps, py, pm, pi, pv);
  const y64 = bn64(Float64Array.from(x), N, C, HW, Float64Array.from(gamma), Float64Array.from(beta), eps);
  close(ft.get(py, x.length), y64, 'bn forward', 1e-5, 1e-1);
  // loss = sum(R * y): dy = R
  const pdy = ft.put(R), pdx = ft.alloc(x.length), pdg = ft.alloc(C), pdb = ft.alloc(C);
  ft.batchNormBackward(px, pdy, N, C, HW, pg, pm, pi, pdx, pdg, pdb);
  const loss = (xx: Float64Array, gg: Float64Array, bb: Float64Array) => bn64(xx, N, C, HW, gg, bb, eps).reduce((a, v, i) => a + v * R[i], 0);
  const h = 1e-5;
  const fd = (arr: Float64Array, i: number, fn: () => number) => {
    const o = arr[i];
    arr[i] = o + h; const a = fn();
    arr[i] = o - h; const b = fn();
    arr[i] = o;
    return (a - b) / (2 * h);
  };
  const X = Float64Array.from(x), G = Float64Array.from(gamma), B = Float64Array.from(beta);
  const gx = Array.from(x, (_, i) => fd(X, i, () => loss(X, G, B)));
  const gg = Array.from(gamma, (_, i) => fd(G, i, () => loss(X, G, B)));
  const gb = Array.from(beta, (_, i) => fd(B, i, () => loss(X, G, B)));
  close(ft.get(pdx, x.length), gx, 'bn dx', 1e-3, 1e-2);
  close(ft.get(pdg, C), gg, 'bn dgamma', 1e-3, 1e-2);
  close(ft.get(pdb, C), gb, 'bn dbeta', 1e-3, 1e-2);
  // unbiased variance
  for (let c = 0; c < C; c++) {
    const vals = []; for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) vals.push(x[(n * C + c) * HW + i]);
    const m = vals.reduce((a, b) => a + b) / vals.length;
    const v = vals.reduce((a, b) => a + (b - m) ** 2, 0) / (vals.length - 1);
    assert.ok(Math.abs(ft.get(pv, C)[c] - v) < 1e-5 * (1 + v), 'unbiased var');
  }
});

test('softmax cross-entropy: loss matches float64, gradient matches finite differences', async () => {
  const ft = await F32Train.create('scalar');
  const N = 4, K = 7;
  const logits = randArray(r, N * K, -5, 5), labels = Int32Array.from({ length: N }, () => randInt(r, 0, K - 1));
  const pl = ft.put(logits), plab = ft.alloc(N);
  new Int32Array(ft.wasm.memory.buffer, plab, N).set(labels);
  const pd = ft.alloc(N * K);
  const loss = ft.softmaxCrossEntropy(pl, plab, N, K, pd);
  const L = (z: Float64Array) => {
    let s = 0;
    for (let n = 0; n < N; n++) {
      const row = z.subarray(n * K, n * K + K);
      const m = Math.max(...row);
      s += Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0)) + m - row[labels[n]];
    }
    return s / N;
  };
  const Z = Float64Array.from(logits);
  assert.ok(Math.abs(loss - L(Z)) < 1e-5 * (1 + L(Z)), `loss ${loss} vs ${L(Z)}`);
  const g = Array.from(logits, (_, i) => { const o = Z[i]; Z[i] = o + 1e-6; const a = L(Z); Z[i] = o - 1e-6; const b = L(Z); Z[i] = o; return (a - b) / 2e-6; });
  close(ft.get(pd, N * K), g, 'softmax CE gradient', 1e-4, 1e-2);
});

test('relu / relu6 backward, bias gradient, SGD-momentum (plain and Nesterov) and Adam / AdamW: closed form', async () => {
  const ft = await F32Train.create('scalar');
  const n = 50;
  const x = randArray(r, n, -2, 8); x[0] = 0; x[1] = 6;
  const dy = randArray(r, n);
  const px = ft.put(x), pd = ft.put(dy), po = ft.alloc(n);
  for (const hi of [Infinity, 6]) {
    ft.reluBackward(px, pd, po, n, hi);
    close(ft.get(po, n), Array.from(x, (v, i) => (v > 0 && v < hi ? dy[i] : 0)), `relu backward hi=${hi}`, 0);
  }
  const N = 3, C = 4, HW = 6, g = randArray(r, N * C * HW), pg = ft.put(g), pb = ft.alloc(C);
  ft.biasGrad(pg, N, C, HW, pb);
  close(ft.get(pb, C), Array.from({ length: C }, (_, c) => { let s = 0; for (let a = 0; a < N; a++) for (let i = 0; i < HW; i++) s += g[(a * C + c) * HW + i]; return s; }), 'bias grad', 1e-5, 1);
  for (const nesterov of [false, true]) {
    const w = randArray(r, n), gr = randArray(r, n), v = randArray(r, n);
    const pw = ft.put(w), pgr = ft.put(gr), pv = ft.put(v);
    ft.sgdStep(pw, pgr, pv, n, 0.1, 0.9, 1e-4, nesterov);
    const v2 = Array.from(v, (vi, i) => 0.9 * vi + gr[i] + 1e-4 * w[i]);
    close(ft.get(pv, n), v2, 'sgd v', 1e-6, 1);
    close(ft.get(pw, n), Array.from(w, (wi, i) => wi - 0.1 * (nesterov ? gr[i] + 1e-4 * wi + 0.9 * v2[i] : v2[i])), 'sgd w', 1e-6, 1);
  }
  for (const decoupled of [false, true]) {
    const w = randArray(r, n), gr = randArray(r, n), m = randArray(r, n, -0.1, 0.1), v = randArray(r, n, 0, 0.1);
    const pw = ft.put(w), pgr = ft.put(gr), pm = ft.put(m), pv = ft.put(v);
    const t = 3, lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
    ft.adamStep(pw, pgr, pm, pv, n, lr, b1, b2, eps, wd, t, decoupled);
    const want = Array.from(w, (wi, i) => {
      const w0 = decoupled ? wi * (1 - lr * wd) : wi;
      const gi = decoupled ? gr[i] : gr[i] + wd * wi;
      const mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * gi * gi;
      return w0 - lr * (mi / (1 - b1 ** t)) / (Math.sqrt(vi / (1 - b2 ** t)) + eps);
    });
    close(ft.get(pw, n), want, `adam decoupled=${decoupled}`, 1e-6, 1e-2);
  }
});

test('fake quantization: forward (per tensor and per channel, ties to even), clipped STE and LSQ scale gradient', async () => {
  const ft = await F32Train.create('scalar');
  const rint = (v: number) => { const f = Math.floor(v), d = v - f; return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1; };
  for (const [C, inner] of [[1, 1], [3, 4]]) {
    const n = 40 * C * inner;
    const x = randArray(r, n, -3, 3);
    x[0] = 0.25; x[1] = 0.75; // ties at s = 0.5 (0.5 -> 0, 1.5 -> 2)
    const scales = C === 1 ? [0.5] : [0.5, 0.02, 0.1], zps = C === 1 ? [3] : [0, -2, 5];
    const qmin = -8, qmax = 7;
    const px = ft.put(x), py = ft.alloc(n), pmask = ft.alloc(n), ps = ft.put(scales), pz = ft.put(zps);
    ft.fakeQuantForward(px, py, pmask, n, C, inner, ps, pz, qmin, qmax);
    const ch = (i: number) => (C === 1 ? 0 : Math.floor(i / inner) % C);
    const want = Array.from(x, (v, i) => { const s = scales[ch(i)], z = zps[ch(i)]; const q = rint(Math.fround(v / s)) + z; return (Math.min(Math.max(q, qmin), qmax) - z) * s; });
    close(ft.get(py, n), want, `fakequant forward C=${C}`, 1e-6, 1e-6);
    const mask = new Uint8Array(ft.wasm.memory.buffer, pmask, n).slice();
    const inside = Array.from(x, (v, i) => { const q = rint(Math.fround(v / scales[ch(i)])) + zps[ch(i)]; return q >= qmin && q <= qmax ? 1 : 0; });
    assert.equal(Array.from(mask), inside);
    assert.ok(inside.some((v) => v === 0) && inside.some((v) => v === 1), 'test data covers both regions');
    const dy = randArray(r, n), pdy = ft.put(dy), pdx = ft.alloc(n), pds = ft.alloc(C);
    ft.fakeQuantBackward(px, pdy, pdx, n, C, inner, ps, pz, qmin, qmax, pds, 0.5);
    close(ft.get(pdx, n), Array.from(dy, (g, i) => (inside[i] ? g : 0)), 'STE', 0);
    const ds = new Array(C).fill(0);
    x.forEach((v, i) => {
      const s = scales[ch(i)], z = zps[ch(i)], xs = Math.fround(v / s), q = rint(xs) + z;
      ds[ch(i)] += 0.5 * dy[i] * (inside[i] ? rint(xs) - xs : q < qmin ? qmin - z : qmax - z);
    });
    close(ft.get(pds, C), ds, 'LSQ scale gradient', 1e-4, 1);
  }
});

test.run();
