// A/B benchmark of the INT8 convolution GEMM kernels, per layer of MobileNetV2-224 / ResNet-18-224 (the non-depthwise
// convolutions, shapes from bench/kernels.ts CONV_LAYERS) against our FP32 convolution of the same shape, all in one
// process and interleaved (A B F A B F ...: one timed batch of each per round), so machine load hits them alike.
//   node --experimental-wasm-relaxed-simd --import tsx bench/kernels-qconv-ab.ts [--net mnv2|resnet18]
//        [--variants qs8_gemm_4x8c2__simd128_dot16,<other>] [--rounds 9] [--filter <substring>] [--atype uint8|int8]
//        [--requant float|fixed-point] [--mscale 0.004]
// A variant is a qs8-gemm variant name, optionally `name:method` (force direct | im2col | indirect | winograd) and `@q` (calls of q
// work items).
// Requantization 'float' is the session default (what `npm run bench` runs); multipliers Sa*Sw/Sy around --mscale
// (MobileNetV2's are 4e-4..1e-2: in fixed-point mode they stay unnormalized, the FIXEDX epilogue's T = 2 case).
// The first variant is the baseline: every other column is a ratio against it (time / baseline time), and
// int8/f32 is each variant's time over FP32's. Time = process CPU time (user + system) per call, median over rounds.
// INT8 runs on the simd128 build (x86 path; the relaxed path runs the same kernels), FP32 on the relaxed build when
// Node has --experimental-wasm-relaxed-simd (as `npm run bench` does), else simd128.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { WasmKernels, BumpAllocator } from '../src/runtime/wasm.js';
import { detectFeatures } from '../src/runtime/features.js';
import { prepareQConv2d } from '../src/kernels/qconv.js';
import { prepareF32Conv2d } from '../src/kernels/f32.js';
import type { PreparedKernel } from '../src/kernels/types.js';
import { CONV_LAYERS } from './kernels-layers.js';

const { values } = parseArgs({
  options: {
    net: { type: 'string', default: 'mnv2' },
    variants: { type: 'string', default: 'qs8_gemm_4x8c2__simd128_dot16' },
    rounds: { type: 'string', default: '9' },
    filter: { type: 'string', default: '' },
    atype: { type: 'string', default: 'int8' },
    requant: { type: 'string', default: 'float' },
    mscale: { type: 'string', default: '0.004' },
  },
});
const variants = values.variants!.split(',');
const rounds = Number(values.rounds);
const aType = values.atype as 'int8' | 'uint8';

const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
// one allocator per instance, reset per layer: the kernels of a layer are interleaved, so their memory must not overlap
const allocators = new Map<WasmKernels, BumpAllocator>();
function place(wasm: WasmKernels, prep: PreparedKernel, input: ArrayBufferView, outBytes: number, chunk = 0): () => void {
  let al = allocators.get(wasm);
  if (!al) allocators.set(wasm, (al = new BumpAllocator(wasm)));
  const io = { inputs: [al.put(input)], constants: al.put(prep.constants, 16), outputs: [al.alloc(outBytes)], scratch: al.alloc(prep.scratchBytes + 64) };
  if (chunk) return () => { for (let b = 0; b < prep.workItems; b += chunk) prep.run(wasm, io, b, Math.min(prep.workItems, b + chunk)); };
  return () => prep.run(wasm, io, 0, prep.workItems);
}
/** Calls per batch so that one batch lasts about 15 ms. */
function batchOf(fn: () => void): number {
  for (let i = 0; i < 3; i++) fn();
  let b = 1;
  for (;;) {
    const s = performance.now();
    for (let i = 0; i < b; i++) fn();
    if (performance.now() - s > 15 || b > 1 << 14) return b;
    b *= 2;
  }
}
const med = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
const rand8 = (n: number, signed: boolean) => { const a = signed ? new Int8Array(n) : new Uint8Array(n); for (let i = 0; i < n; i++) a[i] = Math.floor(Math.random() * 256); return a; };

const f = await detectFeatures();
const simd = await WasmKernels.create('simd128', { initialBytes: 96 << 20 });
const fwasm = f.relaxedSimd ? await WasmKernels.create('relaxed', { initialBytes: 96 << 20 }) : simd;
const fpath = f.relaxedSimd ? 'relaxed' : 'x86';
const load0 = os.loadavg().map((v) => v.toFixed(2)).join(' ');
console.log(`command: node ${process.execArgv.join(' ')} ${process.argv.slice(1).map((a) => a.replace(process.cwd() + '/', '')).join(' ')}`);
console.log(`machine: ${os.cpus()[0]?.model} x${os.cpus().length}, Node ${process.version}; load average ${load0}; ${aType} activations, int8 per-channel weights, ${values.requant} requantization, multipliers ~${values.mscale}, FP32 on ${fpath}`);
const cols = [...variants.map((v, i) => (i ? `${v} /base` : `${v} ms`)), 'fp32 ms', ...variants.map((_, i) => `v${i} int8/f32`)];
console.log(`| layer | x | ${cols.join(' | ')} |`);
console.log(`|---|---:|${cols.map(() => '---:').join('|')}|`);
const sums = new Array(variants.length + 1).fill(0);
for (const l of CONV_LAYERS.filter((x) => x.net === values.net && x.name.includes(values.filter!))) {
  const wn = l.oc * l.c * l.k * l.k;
  const w8 = rand8(wn, true);
  const x8 = rand8(l.h * l.w * l.c, aType === 'int8');
  const za = aType === 'uint8' ? 128 : 3;
  const common = {
    n: 1, h: l.h, w: l.w, c: l.c, oc: l.oc, kernel: [l.k, l.k] as [number, number], strides: [l.s, l.s] as [number, number], pads: [l.p, l.p, l.p, l.p] as [number, number, number, number],
    aType, aScale: 0.02, aZeroPoint: za,
    weights: { data: w8, type: 'int8' as const, scales: Array.from({ length: l.oc }, () => (Number(values.mscale) * (0.5 + Math.random()) * 0.5) / 0.02) },
    bias: Int32Array.from({ length: l.oc }, () => Math.floor(Math.random() * 1000)),
    output: { type: aType, scale: 0.5, zeroPoint: aType === 'uint8' ? 0 : -128, clamp: { min: 0 } },
    path: 'x86' as const, requant: values.requant as 'float' | 'fixed-point',
  };
  for (const a of allocators.values()) a.reset();
  const fns: Array<() => void> = [];
  let outBytes = 0;
  for (const spec of variants) {
    // `name@q`: run the work range in calls of q work items (row quads when the split is by rows), e.g. @16 = one
    // call per 64 pixels as 'direct' convolutions did before
    // `name:method`: force the convolution method (direct | im2col | indirect)
    const [vm, q4] = spec.split('@');
    const [v, method] = vm.split(':') as [string, 'direct' | 'im2col' | 'indirect' | 'winograd' | undefined];
    const q = prepareQConv2d({ ...common, variant: v, method });
    const [, oh, ow] = q.outShape;
    outBytes = oh * ow * l.oc;
    fns.push(place(simd, q, x8, outBytes, q4 && !q.byColumns ? Number(q4) : 0));
  }
  const fp = prepareF32Conv2d({ N: 1, H: l.h, W: l.w, C: l.c, KH: l.k, KW: l.k, strides: [l.s, l.s], pads: [l.p, l.p, l.p, l.p], Cout: l.oc,
    weights: Float32Array.from({ length: wn }, () => Math.random() - 0.5), bias: Float32Array.from({ length: l.oc }, () => Math.random()), min: 0 }, { path: fpath });
  fns.push(place(fwasm, fp, Float32Array.from({ length: l.h * l.w * l.c }, () => Math.random()), outBytes * 4));
  const batches = fns.map(batchOf);
  const times: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < fns.length; j++) {
      const i = (j + r) % fns.length;
      const s = cpu();
      for (let b = 0; b < batches[i]; b++) fns[i]();
      times[i].push((cpu() - s) / batches[i]);
    }
  }
  const m = times.map(med);
  m.forEach((t, i) => { sums[i] += t * l.count; });
  const cells = [...variants.map((_, i) => (i ? `${(m[i] / m[0]).toFixed(3)}` : (m[0] * 1e3).toFixed(3))), (m[variants.length] * 1e3).toFixed(3),
    ...variants.map((_, i) => (m[i] / m[variants.length]).toFixed(3))];
  console.log(`| ${l.name} | ${l.count} | ${cells.join(' | ')} |`);
}
const fs = sums[variants.length];
console.log(`\nsum over layers x count: ${variants.map((v, i) => `${v} ${(sums[i] * 1e3).toFixed(2)} ms (${(sums[i] / sums[0]).toFixed(3)}x base, ${(sums[i] / fs).toFixed(3)}x f32)`).join('; ')}; fp32 ${(fs * 1e3).toFixed(2)} ms`);
console.log(`load average at end: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
process.exit(0);
