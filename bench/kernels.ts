// Kernel benchmarks: `npm run bench:kernels` (add `-- --quick` for fewer shapes; run Node with
// --experimental-wasm-relaxed-simd to include the relaxed-SIMD variants:
//   node --experimental-wasm-relaxed-simd --import tsx bench/kernels.ts).
// One process, one thread; each figure is the median of repeated timed runs after warm-up.
// Baselines run in the same process: onnxruntime-web (wasm, 1 thread) on a one-node model of the same shape,
// and our own FP32 GEMM.
//
// The file is organised in sections, one per kernel family; a family adds a function to SECTIONS.
import os from 'node:os';
import * as ort from 'onnxruntime-web';
import { WasmKernels, BumpAllocator } from '../src/runtime/wasm.js';
import { detectFeatures } from '../src/runtime/features.js';
import { prepareQGemm, QGEMM_VARIANTS } from '../src/kernels/qgemm.js';
import { prepareF32Gemm, prepareF32Conv2d, F32_GEMM_VARIANTS } from '../src/kernels/f32.js';
import { prepareQConv2d } from '../src/kernels/qconv.js';
import type { PreparedKernel } from '../src/kernels/types.js';
import { GraphBuilder } from '../src/onnx/writer.js';
import { f32Section } from './kernels-f32.js';
import { dwconvSection } from './kernels-dwconv.js';
import { CONV_LAYERS, type ConvLayer } from './kernels-layers.js';

export { CONV_LAYERS };

const QUICK = process.argv.includes('--quick');

export interface BenchContext {
  relaxed: boolean;
  simd: WasmKernels;
  relaxedWasm?: WasmKernels;
  scalar: WasmKernels;
}

/**
 * Median seconds per call of fn (warm-up, then at least `minRuns` batches and `minTime` seconds).
 * Time is the process's CPU time (process.cpuUsage: user + system), not wall time: the machines this runs on
 * are shared, and CPU time is what a kernel costs when it has the core to itself. OCTET_BENCH_WALL=1 uses wall time.
 */
export async function timeIt(fn: () => unknown | Promise<unknown>, minTime = 0.4, minRuns = 7): Promise<number> {
  const wall = process.env.OCTET_BENCH_WALL === '1';
  const now = () => (wall ? performance.now() / 1000 : (() => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; })());
  for (let i = 0; i < 3; i++) await fn();
  // batch calls so one sample lasts >= ~20 ms (cpuUsage has coarse granularity)
  let batch = 1;
  for (;;) {
    const s = now();
    for (let i = 0; i < batch; i++) await fn();
    if (now() - s >= 0.02 || batch >= 1 << 16) break;
    batch *= 2;
  }
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < minRuns || performance.now() - t0 < minTime * 1000) {
    const s = now();
    for (let i = 0; i < batch; i++) await fn();
    times.push((now() - s) / batch);
    if (times.length > 200) break;
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function rand8(n: number, signed: boolean): Int8Array | Uint8Array {
  const a = signed ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.floor(Math.random() * 256);
  return a;
}

/** Places a prepared kernel and its input/output in wasm memory; returns a closure running it whole. */
export function place(wasm: WasmKernels, prep: PreparedKernel, input: ArrayBufferView, outBytes: number): () => void {
  const al = new BumpAllocator(wasm);
  const io = { inputs: [al.put(input)], constants: al.put(prep.constants, 16), outputs: [al.alloc(outBytes)], scratch: al.alloc(prep.scratchBytes + 64) };
  return () => prep.run(wasm, io, 0, prep.workItems);
}

// ---------------------------------------------------------------------------------------------------------------
// INT8 GEMM (qs8-gemm) vs onnxruntime-web QLinearMatMul and our FP32 GEMM.
// Shapes (M = output pixels, K = input channels x kernel taps, N = output channels):
//   MobileNetV2-224 1x1 convolutions (torchvision mobilenet_v2 / ONNX model zoo mobilenetv2-7):
//   expand/project convs at 112x112 .. 7x7; ResNet-18-224 3x3 convs as im2col GEMMs (torchvision resnet18).
export const GEMM_SHAPES: Array<{ name: string; m: number; k: number; n: number }> = [
  { name: 'mnv2 112x112 1x1 32->16', m: 12544, k: 32, n: 16 },
  { name: 'mnv2 112x112 1x1 16->96', m: 12544, k: 16, n: 96 },
  { name: 'mnv2 56x56 1x1 24->144', m: 3136, k: 24, n: 144 },
  { name: 'mnv2 56x56 1x1 144->24', m: 3136, k: 144, n: 24 },
  { name: 'mnv2 28x28 1x1 32->192', m: 784, k: 32, n: 192 },
  { name: 'mnv2 14x14 1x1 64->384', m: 196, k: 64, n: 384 },
  { name: 'mnv2 14x14 1x1 384->96', m: 196, k: 384, n: 96 },
  { name: 'mnv2 7x7 1x1 160->960', m: 49, k: 160, n: 960 },
  { name: 'mnv2 7x7 1x1 320->1280', m: 49, k: 320, n: 1280 },
  { name: 'resnet18 56x56 3x3 64->64', m: 3136, k: 576, n: 64 },
  { name: 'resnet18 28x28 3x3 128->128', m: 784, k: 1152, n: 128 },
  { name: 'resnet18 14x14 3x3 256->256', m: 196, k: 2304, n: 256 },
];

async function ortQLinearMatMul(m: number, k: number, n: number, aType: 'uint8' | 'int8'): Promise<() => Promise<unknown>> {
  const make = (bType: 'int8' | 'uint8') => {
    const g = new GraphBuilder({ opset: 21 });
    const a = g.input('a', aType, [m, k]);
    const b = g.initializer('b', bType, rand8(k * n, bType === 'int8'), [k, n]);
    const f = (name: string, v: number) => g.initializer(name, 'float32', [v], []);
    const z = (name: string, t: 'int8' | 'uint8', v: number) => g.initializer(name, t, [v], []);
    const [y] = g.node('QLinearMatMul', [a, f('as', 0.02), z('az', aType, aType === 'uint8' ? 128 : 0), b, f('bs', 0.01), z('bz', bType, bType === 'uint8' ? 128 : 0), f('ys', 0.5), z('yz', aType, aType === 'uint8' ? 128 : 0)], ['y']);
    g.output(y, aType, [m, n]);
    return g.toBytes();
  };
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(make('int8'), { executionProviders: ['wasm'] });
  } catch {
    session = await ort.InferenceSession.create(make('uint8'), { executionProviders: ['wasm'] });
  }
  const feeds = { a: new ort.Tensor(aType, rand8(m * k, aType === 'int8'), [m, k]) };
  return () => session.run(feeds);
}

async function gemmSection(ctx: BenchContext): Promise<void> {
  ort.env.wasm.numThreads = 1;
  const shapes = QUICK ? GEMM_SHAPES.filter((s) => s.name.startsWith('resnet18 56') || s.name.startsWith('resnet18 14')) : GEMM_SHAPES;
  const cols = ['ORT u8', 'ORT s8', 'dot16 s8', 'dot16 u8', 'extmul s8', ...(ctx.relaxed ? ['rdot s8', 'rdot u8'] : []), 'f32 ours', 'best s8/ORT u8', 'u8/ORT u8', 'int8/f32'];
  console.log(`\n## INT8 GEMM, GMAC/s (higher is better)\n`);
  console.log(`| shape | M | K | N | ${cols.join(' | ')} |`);
  console.log(`|---|---:|---:|---:|${cols.map(() => '---:').join('|')}|`);
  for (const s of shapes) {
    const macs = s.m * s.k * s.n;
    const g = (t: number) => macs / t / 1e9;
    const r: Record<string, number> = {};
    r['ORT u8'] = g(await timeIt(await ortQLinearMatMul(s.m, s.k, s.n, 'uint8')));
    r['ORT s8'] = macs > 3e7 && QUICK ? NaN : g(await timeIt(await ortQLinearMatMul(s.m, s.k, s.n, 'int8'), 0.2, 2));
    const w = rand8(s.k * s.n, true);
    const wscales = Array.from({ length: s.n }, () => 0.005 + Math.random() * 0.01);
    const bias = Int32Array.from({ length: s.n }, () => Math.floor((Math.random() - 0.5) * 1000));
    const run = async (variant: string, aType: 'int8' | 'uint8', wasm: WasmKernels) => {
      const prep = prepareQGemm({
        m: s.m, k: s.k, n: s.n, aType, aScale: 0.02, aZeroPoint: aType === 'uint8' ? 128 : 0,
        weights: { data: w, type: 'int8', layout: 'kn', scales: wscales }, bias,
        output: { type: aType, scale: 0.5, zeroPoint: aType === 'uint8' ? 128 : 0, clamp: { min: 0 } },
        path: 'x86', variant,
      });
      return g(await timeIt(place(wasm, prep, rand8(s.m * s.k, aType === 'int8'), s.m * s.n)));
    };
    r['dot16 s8'] = await run('qs8_gemm_4x8c2__simd128_dot16', 'int8', ctx.simd);
    r['dot16 u8'] = await run('qs8_gemm_4x8c2__simd128_dot16', 'uint8', ctx.simd);
    r['extmul s8'] = await run('qs8_gemm_4x8c2__simd128_extmul', 'int8', ctx.simd);
    if (ctx.relaxedWasm) {
      r['rdot s8'] = await run('qs8_gemm_4x8c4__relaxed_rdot', 'int8', ctx.relaxedWasm);
      r['rdot u8'] = await run('qs8_gemm_4x8c4__relaxed_rdot', 'uint8', ctx.relaxedWasm);
    }
    // our FP32 GEMM (best variant of the build in use)
    const fw = Float32Array.from({ length: s.k * s.n }, () => Math.random() - 0.5);
    const fwasm = ctx.relaxedWasm ?? ctx.simd;
    let f32best = 0;
    for (const v of F32_GEMM_VARIANTS) {
      if (v.build === 'scalar' || (v.build === 'relaxed' && !ctx.relaxedWasm)) continue;
      const prep = prepareF32Gemm({ M: s.m, N: s.n, K: s.k, weights: fw }, { path: 'x86', variant: v.name });
      const t = await timeIt(place(fwasm, prep, Float32Array.from({ length: s.m * s.k }, () => Math.random()), s.m * s.n * 4));
      f32best = Math.max(f32best, g(t));
    }
    r['f32 ours'] = f32best;
    const bestS8 = Math.max(r['dot16 s8'], r['rdot s8'] ?? 0);
    const bestU8 = Math.max(r['dot16 u8'], r['rdot u8'] ?? 0);
    r['best s8/ORT u8'] = bestS8 / r['ORT u8'];
    r['u8/ORT u8'] = bestU8 / r['ORT u8'];
    r['int8/f32'] = Math.max(bestS8, bestU8) / f32best;
    const fmt = (c: string) => (Number.isNaN(r[c]) || r[c] === undefined ? '-' : c.includes('/') ? `${r[c].toFixed(2)}x` : r[c].toFixed(1));
    console.log(`| ${s.name} | ${s.m} | ${s.k} | ${s.n} | ${cols.map(fmt).join(' | ')} |`);
  }
  const sc = GEMM_SHAPES[9];
  const prep = prepareQGemm({ m: 64, k: sc.k, n: sc.n, aType: 'int8', aScale: 0.02, aZeroPoint: 0, weights: { data: rand8(sc.k * sc.n, true), type: 'int8', layout: 'kn', scales: 0.01 }, output: { type: 'int8', scale: 0.5, zeroPoint: 0 }, path: 'scalar' });
  const t = await timeIt(place(ctx.scalar, prep, rand8(64 * sc.k, true), 64 * sc.n));
  console.log(`\nscalar build (qs8_gemm_1x8c2__scalar), M=64 K=${sc.k} N=${sc.n}: ${((64 * sc.k * sc.n) / t / 1e9).toFixed(2)} GMAC/s`);
}


// ---------------------------------------------------------------------------------------------------------------
// INT8 convolutions (qs8-conv, non-depthwise) per layer vs our FP32 conv and onnxruntime-web (QLinearConv, Conv).
// Layers (MobileNetV2-224, ResNet-18-224): bench/kernels-layers.ts.
async function ortConv(l: ConvLayer, quant: boolean): Promise<() => Promise<unknown>> {
  const g = new GraphBuilder({ opset: 21 });
  const wn = l.oc * l.c * l.k * l.k;
  const attrs = { kernel_shape: [l.k, l.k], strides: [l.s, l.s], pads: [l.p, l.p, l.p, l.p] };
  const oh = Math.floor((l.h + 2 * l.p - l.k) / l.s) + 1, ow = Math.floor((l.w + 2 * l.p - l.k) / l.s) + 1;
  let feeds: Record<string, ort.Tensor>;
  if (quant) {
    const x = g.input('x', 'uint8', [1, l.c, l.h, l.w]);
    const f = (name: string, v: number) => g.initializer(name, 'float32', [v], []);
    const w = g.initializer('w', 'int8', rand8(wn, true), [l.oc, l.c, l.k, l.k]);
    const wz = g.initializer('wz', 'int8', [0], []);
    const xz = g.initializer('xz', 'uint8', [128], []);
    const yz = g.initializer('yz', 'uint8', [0], []);
    const b = g.initializer('b', 'int32', Int32Array.from({ length: l.oc }, () => Math.floor(Math.random() * 1000)), [l.oc]);
    const [y] = g.node('QLinearConv', [x, f('xs', 0.02), xz, w, f('ws', 0.01), wz, f('ys', 0.5), yz, b], ['y'], attrs);
    g.output(y, 'uint8', [1, l.oc, oh, ow]);
    feeds = { x: new ort.Tensor('uint8', rand8(l.c * l.h * l.w, false), [1, l.c, l.h, l.w]) };
  } else {
    const x = g.input('x', 'float32', [1, l.c, l.h, l.w]);
    const w = g.initializer('w', 'float32', Float32Array.from({ length: wn }, () => Math.random() - 0.5), [l.oc, l.c, l.k, l.k]);
    const b = g.initializer('b', 'float32', Float32Array.from({ length: l.oc }, () => Math.random()), [l.oc]);
    const [y] = g.node('Conv', [x, w, b], ['y'], attrs);
    g.output(y, 'float32', [1, l.oc, oh, ow]);
    feeds = { x: new ort.Tensor('float32', Float32Array.from({ length: l.c * l.h * l.w }, () => Math.random()), [1, l.c, l.h, l.w]) };
  }
  const session = await ort.InferenceSession.create(g.toBytes(), { executionProviders: ['wasm'] });
  return () => session.run(feeds);
}

async function convSection(ctx: BenchContext): Promise<void> {
  ort.env.wasm.numThreads = 1;
  const layers = QUICK ? CONV_LAYERS.filter((l) => l.name.includes('56 3x3 64') || l.name.includes('56 1x1 24->144')) : CONV_LAYERS;
  const int8Wasm = ctx.relaxedWasm ?? ctx.simd;
  console.log(`\n## INT8 convolutions per layer (one image, NHWC, uint8 activations, int8 per-channel weights, ms; lower is better)\n`);
  console.log(`| net | layer | x | INT8 x86 | INT8 arm | FP32 ours | ORT QLinearConv | ORT Conv f32 | INT8/FP32 | INT8/ORT q |`);
  console.log(`|---|---|---:|---:|---:|---:|---:|---:|---:|---:|`);
  const sums: Record<string, { int8: number; f32: number; ortq: number; ortf: number }> = {};
  for (const l of layers) {
    const wn = l.oc * l.c * l.k * l.k;
    const w8 = rand8(wn, true);
    const x8 = rand8(l.h * l.w * l.c, false);
    const common = {
      n: 1, h: l.h, w: l.w, c: l.c, oc: l.oc, kernel: [l.k, l.k] as [number, number], strides: [l.s, l.s] as [number, number], pads: [l.p, l.p, l.p, l.p] as [number, number, number, number],
      aType: 'uint8' as const, aScale: 0.02, aZeroPoint: 128,
      weights: { data: w8, type: 'int8' as const, scales: Array.from({ length: l.oc }, () => 0.005 + 0.01 * Math.random()) },
      bias: Int32Array.from({ length: l.oc }, () => Math.floor(Math.random() * 1000)),
      output: { type: 'uint8' as const, scale: 0.5, zeroPoint: 0, clamp: { min: 0 } },
    };
    const q86 = prepareQConv2d({ ...common, path: ctx.relaxedWasm ? 'relaxed' : 'x86' });
    const [, oh, ow] = q86.outShape;
    const tq = await timeIt(place(int8Wasm, q86, x8, oh * ow * l.oc));
    const qarm = prepareQConv2d({ ...common, path: 'arm' });
    const tarm = await timeIt(place(ctx.simd, qarm, x8, oh * ow * l.oc));
    const f = prepareF32Conv2d({ N: 1, H: l.h, W: l.w, C: l.c, KH: l.k, KW: l.k, strides: [l.s, l.s], pads: [l.p, l.p, l.p, l.p], Cout: l.oc,
      weights: Float32Array.from({ length: wn }, () => Math.random() - 0.5), bias: Float32Array.from({ length: l.oc }, () => Math.random()), min: 0 }, { path: ctx.relaxedWasm ? 'relaxed' : 'x86' });
    const tf = await timeIt(place(int8Wasm, f, Float32Array.from({ length: l.h * l.w * l.c }, () => Math.random()), oh * ow * l.oc * 4));
    const tortq = await timeIt(await ortConv(l, true), 0.3, 5);
    const tortf = await timeIt(await ortConv(l, false), 0.3, 5);
    const sm = (sums[l.net] ??= { int8: 0, f32: 0, ortq: 0, ortf: 0 });
    sm.int8 += tq * l.count; sm.f32 += tf * l.count; sm.ortq += tortq * l.count; sm.ortf += tortf * l.count;
    const ms = (t: number) => (t * 1000).toFixed(3);
    console.log(`| ${l.net} | ${l.name} (${q86.method}) | ${l.count} | ${ms(tq)} | ${ms(tarm)} | ${ms(tf)} | ${ms(tortq)} | ${ms(tortf)} | ${(tf / tq).toFixed(2)}x | ${(tortq / tq).toFixed(2)}x |`);
  }
  for (const [net, sm] of Object.entries(sums)) {
    console.log(`\n${net} non-depthwise convs, sum over layers x count: INT8 ${(sm.int8 * 1000).toFixed(2)} ms, FP32 ours ${(sm.f32 * 1000).toFixed(2)} ms (${(sm.f32 / sm.int8).toFixed(2)}x), ORT QLinearConv ${(sm.ortq * 1000).toFixed(2)} ms (${(sm.ortq / sm.int8).toFixed(2)}x), ORT FP32 Conv ${(sm.ortf * 1000).toFixed(2)} ms (${(sm.ortf / sm.int8).toFixed(2)}x)`);
  }
}

export const SECTIONS: Array<{ name: string; run: (ctx: BenchContext) => Promise<void> }> = [
  { name: 'qs8-gemm', run: gemmSection },
  { name: 'qs8-conv', run: convSection },
  { name: 'f32', run: (ctx) => f32Section({ simd: ctx.simd, relaxedWasm: ctx.relaxedWasm }) },
  // INT8 depthwise convolution, MobileNetV2 layers, both requantization modes (bench/kernels-dwconv.ts)
  { name: 'q8-dwconv', run: async (ctx) => { for (const m of ['fixed-point', 'float'] as const) await dwconvSection(ctx, QUICK, m); } },
];

async function main(): Promise<void> {
  const f = await detectFeatures();
  const ctx: BenchContext = {
    relaxed: f.relaxedSimd,
    simd: await WasmKernels.create('simd128', { initialBytes: 64 << 20 }),
    scalar: await WasmKernels.create('scalar', { initialBytes: 16 << 20 }),
    relaxedWasm: f.relaxedSimd ? await WasmKernels.create('relaxed', { initialBytes: 64 << 20 }) : undefined,
  };
  console.log(`# Octet kernel benchmarks`);
  console.log(`command: node ${process.execArgv.join(' ')} ${process.argv.slice(1).map((a) => a.replace(process.cwd() + '/', '')).join(' ')}`);
  console.log(`machine: ${os.cpus()[0]?.model} x${os.cpus().length}, Node ${process.version}, one thread; simd128=${f.simd128} relaxed=${f.relaxedSimd} arch=${f.arch}`);
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
  for (const s of SECTIONS) if (!only || s.name === only) await s.run(ctx);
}

await main();
