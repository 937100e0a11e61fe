// PreparedKernel.access (what a range of items reads and writes) against what the kernels do, for every kernel that
// declares it (plan jobs drop the barrier between nodes on the strength of it: pool.ts localDeps): for random item
// ranges, on the scalar, x86 and arm paths, (1) every byte the range changes lies in its declared writes, and (2) with every input
// byte outside its declared reads replaced by garbage, it still writes the same bytes as the whole call. Then a
// chain of such nodes runs as a plan job with local phases (no barrier) on 2..4 threads, bit-identical to the
// steps run one by one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BumpAllocator, WasmKernels } from '../../src/runtime/wasm.js';
import { prepareQConv2d } from '../../src/kernels/qconv.js';
import { prepareQDwConv2d } from '../../src/kernels/dwconv.js';
import { prepareQAdd } from '../../src/kernels/eltwise.js';
import { scratchBytesForThreads, type KernelIO, type PreparedKernel } from '../../src/kernels/types.js';
import { ThreadPool } from '../../src/runtime/pool.js';
import type { KernelPath } from '../../src/kernels/types.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}
const bytes = (r: () => number, n: number) => Uint8Array.from({ length: n }, () => Math.floor(r() * 256));

const conv1x1 = (r: () => number, h: number, w: number, c: number, oc: number, path: KernelPath, dtype: 'int8' | 'uint8' = 'int8') => prepareQConv2d({
  n: 1, h, w, c, oc, kernel: [1, 1], aType: dtype, aScale: 0.05, aZeroPoint: dtype === 'int8' ? -2 : 130,
  weights: { data: Int8Array.from({ length: oc * c }, () => Math.floor(r() * 256) - 128), type: 'int8', scales: Array.from({ length: oc }, () => 0.001 + r() * 0.01) },
  bias: Int32Array.from({ length: oc }, () => Math.floor(r() * 2000) - 1000),
  output: { type: dtype, scale: 0.3, zeroPoint: dtype === 'int8' ? 4 : 120 }, path,
});
const arch = (path: KernelPath) => (path === 'arm' ? 'arm' : 'x86') as const;
const dw = (r: () => number, n: number, h: number, w: number, c: number, k: number, s: number, pad: number, path: KernelPath, dtype: 'int8' | 'uint8' = 'int8') => prepareQDwConv2d({
  dtype, shape: [n, h, w, c], kernel: [k, k], strides: [s, s], pads: [pad, pad, pad, pad],
  weights: Int8Array.from({ length: c * k * k }, () => Math.floor(r() * 256) - 128), weightZero: 0,
  bias: Int32Array.from({ length: c }, () => Math.floor(r() * 2000) - 1000),
  xScale: 0.05, xZero: dtype === 'int8' ? 3 : 128, wScale: 0.01, yScale: 0.2, yZero: dtype === 'int8' ? -1 : 127,
}, { path, arch: arch(path) });
const add = (shape: number[], path: KernelPath, dtype: 'int8' | 'uint8' = 'int8') => prepareQAdd({
  dtype, aShape: shape, bShape: shape, aScale: 0.05, aZero: dtype === 'int8' ? 1 : 128, bScale: 0.07, bZero: dtype === 'int8' ? -3 : 125, yScale: 0.1, yZero: 2,
}, { path, arch: arch(path) });

interface Case { label: string; kernel: PreparedKernel; inputs: number[]; outBytes: number }

function cases(r: () => number, path: KernelPath): Case[] {
  const list: Case[] = [];
  for (const [h, w, c, oc] of [[16, 16, 24, 40], [28, 28, 16, 96], [13, 11, 8, 16]]) list.push({ label: `conv 1x1 ${h}x${w}x${c} -> ${oc}`, kernel: conv1x1(r, h, w, c, oc, path), inputs: [h * w * c], outBytes: h * w * oc });
  for (const [n, h, c, k, s, pad] of [[1, 14, 32, 3, 1, 1], [1, 15, 24, 3, 2, 1], [2, 9, 16, 3, 1, 1], [1, 12, 16, 5, 2, 2], [2, 10, 8, 3, 2, 0]]) {
    const kernel = dw(r, n, h, h, c, k, s, pad, path);
    const oh = Math.floor((h + 2 * pad - k) / s) + 1;
    list.push({ label: `dw ${k}x${k}/${s} pad ${pad} ${n}x${h}x${h}x${c}`, kernel, inputs: [n * h * h * c], outBytes: n * oh * oh * c });
  }
  for (const [shape, dtype] of [[[1, 14, 14, 24], 'int8'], [[1, 7, 9, 40], 'uint8']] as const) {
    const size = shape.reduce((a, b) => a * b, 1);
    list.push({ label: `add [${shape}] ${dtype}`, kernel: add([...shape], path, dtype), inputs: [size, size], outBytes: size });
  }
  list.push({ label: 'dw 3x3/1 uint8', kernel: dw(r, 1, 10, 12, 16, 3, 1, 1, path, 'uint8'), inputs: [10 * 12 * 16], outBytes: 10 * 12 * 16 });
  return list;
}

for (const path of ['scalar', 'x86', 'arm'] as const) {
  test(`access (${path}): a range changes only its declared writes and reads only its declared reads`, async () => {
    const wasm = await WasmKernels.create(path === 'scalar' ? 'scalar' : 'simd128', { initialBytes: 1 << 24 });
    const r = rng(path.length * 7 + 1);
    for (const cs of cases(r, path)) {
      const k = cs.kernel;
      assert.ok(k.access, `${cs.label}: declares its accesses`);
      const mem = new BumpAllocator(wasm);
      const constants = mem.put(k.constants);
      // activations in one region, with slack around each buffer (a read or write just outside shows up)
      const region = mem.alloc(cs.inputs.reduce((a, b) => a + b + 256, 0) + cs.outBytes + 512);
      let at = region + 128;
      const inputs = cs.inputs.map((n) => { const p = at; at += n + 128; return p; });
      const output = at;
      const regionBytes = output + cs.outBytes + 256 - region;
      const io: KernelIO = { constants, inputs, outputs: [output], scratch: mem.alloc(Math.max(64, scratchBytesForThreads(k, 1))) };
      const data = inputs.map((_, i) => bytes(r, cs.inputs[i]));
      const reset = () => {
        wasm.u8(region, regionBytes).fill(0x5a);
        data.forEach((d, i) => wasm.u8(inputs[i], d.length).set(d));
      };
      reset();
      k.run(wasm, io, 0, k.workItems);
      const whole = wasm.u8(output, cs.outBytes).slice();
      const n = k.workItems;
      for (let trial = 0; trial < 6; trial++) {
        const b = trial === 0 ? 0 : Math.floor(r() * n), e = trial === 0 ? n : Math.min(n, b + 1 + Math.floor(r() * n));
        const acc = k.access!(io, b, e);
        const inside = (p: number, list: [number, number][]) => list.some(([lo, hi]) => p >= lo && p < hi);
        // (1) writes
        reset();
        const before = wasm.u8(region, regionBytes).slice();
        k.run(wasm, io, b, e);
        const after = wasm.u8(region, regionBytes);
        for (let i = 0; i < regionBytes; i++) {
          if (after[i] !== before[i]) assert.ok(inside(region + i, acc.writes), `${cs.label} [${b}, ${e}): byte ${region + i - output} of the output changed outside the declared writes`);
        }
        const wrote = [...after].map((v, i) => (after[i] !== before[i] ? region + i : -1)).filter((p) => p >= 0);
        // (2) reads: every input byte outside the declared reads replaced
        reset();
        inputs.forEach((p, i) => {
          const u = wasm.u8(p, cs.inputs[i]);
          for (let j = 0; j < u.length; j++) if (!inside(p + j, acc.reads)) u[j] = Math.floor(r() * 256);
        });
        k.run(wasm, io, b, e);
        for (const p of wrote) {
          if (p >= output && p < output + cs.outBytes) assert.is(wasm.u8(p, 1)[0], whole[p - output], `${cs.label} [${b}, ${e}): output byte ${p - output} depends on input bytes outside the declared reads`);
        }
      }
    }
  });
}

test('a chain of row-wise nodes runs as a plan job without barriers on 2..4 threads: bit-identical to the steps one by one', async () => {
  const wasm = await WasmKernels.create('simd128', { shared: true });
  const r = rng(99);
  const H = 28, W = 28;
  // expand 1x1 (16 -> 64), depthwise 3x3 (barrier: neighbour rows), project 1x1 (64 -> 16), add the block input,
  // expand again: the inverted residual of MobileNetV2
  const e1 = conv1x1(r, H, W, 16, 64, 'x86'), d1 = dw(r, 1, H, W, 64, 3, 1, 1, 'x86'), p1 = conv1x1(r, H, W, 64, 16, 'x86');
  const a1 = add([1, H, W, 16], 'x86'), e2 = conv1x1(r, H, W, 16, 64, 'x86');
  const mem = new BumpAllocator(wasm);
  const buf = (n: number) => mem.alloc(n);
  const x = mem.put(bytes(r, H * W * 16));
  const b1 = buf(H * W * 64), b2 = buf(H * W * 64), b3 = buf(H * W * 16), b4 = buf(H * W * 16), b5 = buf(H * W * 64);
  const step = (kernel: PreparedKernel, inputs: number[], out: number) => ({ kernel, io: { constants: mem.put(kernel.constants), inputs, outputs: [out], scratch: mem.alloc(Math.max(64, scratchBytesForThreads(kernel, 4))) } as KernelIO });
  const steps = [step(e1, [x], b1), step(d1, [b1], b2), step(p1, [b2], b3), step(a1, [b3, x], b4), step(e2, [b4], b5)];
  const outs: [number, number][] = [[b1, H * W * 64], [b2, H * W * 64], [b3, H * W * 16], [b4, H * W * 16], [b5, H * W * 64]];
  const snapshot = () => outs.map(([p, n]) => Array.from(wasm.u8(p, n)));
  for (const s of steps) s.kernel.run(wasm, s.io);
  const want = snapshot();
  for (let threads = 2; threads <= 4; threads++) {
    const pool = await ThreadPool.create({ threads });
    const inst = await pool.attach(wasm);
    const job = pool.planJob(inst, steps)!;
    // 2 and 4 threads: the home ranges of the depthwise rows and of the 1x1 pixel quads cover the same rows (3: not)
    if (threads !== 3) assert.equal(job.deps, [0, 0, 1, 1, 1], `threads ${threads}: project, add and expand run without a barrier`);
    for (let round = 0; round < 30; round++) {
      for (const [p, n] of outs) wasm.u8(p, n).fill(0xcd);
      await pool.runPlanJob(inst, job);
      assert.equal(snapshot(), want, `threads ${threads}, round ${round}`);
    }
    pool.terminate();
  }
});

test.run();
