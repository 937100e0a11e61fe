// Depthwise-convolution benchmark: every depthwise layer of MobileNetV2-224, INT8 on each path vs our FP32
// depthwise kernel (prepareF32DwConv2d, when present) and vs onnxruntime-web (wasm, 1 thread) running one
// QLinearConv node with group == channels (uint8 activations, int8 per-channel weights) and one FP32 Conv node.
// Run alone:  node --experimental-wasm-relaxed-simd --import tsx bench/kernels-dwconv.ts [--quick] [--requant=fixed-point|float]
// (bench/kernels.ts runs it as one of its sections). One thread; each figure is the median of timed runs after
// warm-up; all baselines run in the same process; our INT8 paths and our FP32 are timed round-robin (alternating
// calls) so machine load affects them alike.
//
// Shapes: MobileNetV2 (Sandler et al. 2018, Table 2; torchvision mobilenet_v2 / ONNX model zoo mobilenetv2-7):
// 17 inverted-residual blocks, each with one 3x3 depthwise conv, pads 1; input side, channels (= 6 x block input
// channels, 32 for the first block), stride, and how many blocks share the shape.
import os from 'node:os';
import * as ort from 'onnxruntime-web';
import { WasmKernels, BumpAllocator } from '../src/runtime/wasm.js';
import { detectFeatures } from '../src/runtime/features.js';
import { prepareQDwConv2d, type QDwConvParams } from '../src/kernels/dwconv.js';
import type { PreparedKernel } from '../src/kernels/types.js';
import type { KernelPath } from '../src/kernels/types.js';
import { GraphBuilder } from '../src/onnx/writer.js';

export const MOBILENETV2_DW: Array<{ h: number; c: number; s: number; count: number }> = [
  { h: 112, c: 32, s: 1, count: 1 },
  { h: 112, c: 96, s: 2, count: 1 },
  { h: 56, c: 144, s: 1, count: 1 },
  { h: 56, c: 144, s: 2, count: 1 },
  { h: 28, c: 192, s: 1, count: 2 },
  { h: 28, c: 192, s: 2, count: 1 },
  { h: 14, c: 384, s: 1, count: 4 },
  { h: 14, c: 576, s: 1, count: 2 },
  { h: 14, c: 576, s: 2, count: 1 },
  { h: 7, c: 960, s: 1, count: 3 },
];

/** Median ms per call of an async closure (onnxruntime-web), CPU time in batches as timeRoundRobin. */
async function timeIt(fn: () => unknown, minTime = 0.6, minRuns = 7): Promise<number> {
  const wall = process.env.OCTET_BENCH_WALL === '1';
  const now = () => (wall ? performance.now() : (() => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; })());
  for (let i = 0; i < 3; i++) await fn();
  let b = 1;
  for (;;) {
    const s = now();
    for (let i = 0; i < b; i++) await fn();
    if (now() - s >= 15 || b >= 1 << 12) break;
    b *= 2;
  }
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < minRuns || performance.now() - t0 < minTime * 1000) {
    const s = now();
    for (let i = 0; i < b; i++) await fn();
    times.push((now() - s) / b);
    if (times.length > 200) break;
  }
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)];
}

/**
 * Median ms per call of each closure, timed round-robin (a batch of calls of each in turn) so that load changes
 * on a shared machine hit every candidate alike. Time is process CPU time (process.cpuUsage), as in
 * bench/kernels.ts; OCTET_BENCH_WALL=1 uses wall time.
 */
export function timeRoundRobin(fns: Array<() => unknown>, minTime = 0.6, minRuns = 9): number[] {
  const wall = process.env.OCTET_BENCH_WALL === '1';
  const now = () => (wall ? performance.now() : (() => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; })());
  for (const f of fns) for (let i = 0; i < 3; i++) f();
  // per closure, a batch long enough (>= ~15 ms) for cpuUsage's granularity
  const batch = fns.map((f) => {
    let b = 1;
    for (;;) {
      const s = now();
      for (let i = 0; i < b; i++) f();
      if (now() - s >= 15 || b >= 1 << 14) return b;
      b *= 2;
    }
  });
  const times: number[][] = fns.map(() => []);
  const t0 = performance.now();
  while (times[0].length < minRuns || performance.now() - t0 < minTime * 1000 * fns.length) {
    fns.forEach((f, i) => {
      const s = now();
      for (let j = 0; j < batch[i]; j++) f();
      times[i].push((now() - s) / batch[i]);
    });
    if (times[0].length > 200) break;
  }
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]);
}

function rnd(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// one allocator per instance, reset per layer, so kernels placed side by side never overlap
const allocators = new Map<WasmKernels, BumpAllocator>();
export function place(wasm: WasmKernels, prep: PreparedKernel, input: ArrayBufferView, outBytes: number): () => void {
  let al = allocators.get(wasm);
  if (!al) allocators.set(wasm, (al = new BumpAllocator(wasm)));
  const io = { constants: al.put(prep.constants, 16), inputs: [al.put(input)], outputs: [al.alloc(outBytes)], scratch: al.alloc(prep.scratchBytes + 64) };
  return () => prep.run(wasm, io, 0, prep.workItems);
}

export interface DwBenchContext {
  scalar: WasmKernels;
  simd: WasmKernels;
  relaxedWasm?: WasmKernels;
}

async function ortDwModel(h: number, c: number, s: number, kind: 'qlinear' | 'f32', r: () => number): Promise<() => Promise<unknown>> {
  const oh = Math.floor((h + 2 - 3) / s) + 1;
  const g = new GraphBuilder({ opset: 13 });
  let session: ort.InferenceSession;
  let feeds: Record<string, ort.Tensor>;
  if (kind === 'qlinear') {
    const x = g.input('x', 'uint8', [1, c, h, h]);
    const f = (n: string, v: number | number[], dims: number[]) => g.initializer(n, 'float32', Array.isArray(v) ? v : [v], dims);
    const ins = [
      x, f('xs', 0.02, []), g.initializer('xz', 'uint8', [128], []),
      g.initializer('w', 'int8', Int8Array.from({ length: c * 9 }, () => Math.floor(r() * 256) - 128), [c, 1, 3, 3]),
      f('ws', Array.from({ length: c }, () => 0.001 + r() * 0.01), [c]), g.initializer('wz', 'int8', new Int8Array(c), [c]),
      f('ys', 0.05, []), g.initializer('yz', 'uint8', [128], []),
      g.initializer('b', 'int32', Int32Array.from({ length: c }, () => Math.floor((r() - 0.5) * 4000)), [c]),
    ];
    const [y] = g.node('QLinearConv', ins, ['y'], { group: c, kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [s, s] });
    g.output(y, 'uint8', [1, c, oh, oh]);
    session = await ort.InferenceSession.create(g.toBytes(), { executionProviders: ['wasm'] });
    feeds = { x: new ort.Tensor('uint8', Uint8Array.from({ length: c * h * h }, () => Math.floor(r() * 256)), [1, c, h, h]) };
  } else {
    const x = g.input('x', 'float32', [1, c, h, h]);
    const w = g.initializer('w', 'float32', Float32Array.from({ length: c * 9 }, () => r() - 0.5), [c, 1, 3, 3]);
    const b = g.initializer('b', 'float32', Float32Array.from({ length: c }, () => r() - 0.5), [c]);
    const [y] = g.node('Conv', [x, w, b], ['y'], { group: c, kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [s, s] });
    g.output(y, 'float32', [1, c, oh, oh]);
    session = await ort.InferenceSession.create(g.toBytes(), { executionProviders: ['wasm'] });
    feeds = { x: new ort.Tensor('float32', Float32Array.from({ length: c * h * h }, () => r() - 0.5), [1, c, h, h]) };
  }
  return () => session.run(feeds);
}

/** Prints the per-layer table; returns the rows (ms per layer). */
export async function dwconvSection(ctx: DwBenchContext, quick = false, mode: 'fixed-point' | 'float' = 'fixed-point'): Promise<Record<string, number>[]> {
  ort.env.wasm.numThreads = 1;
  const r = rnd(42);
  let f32mod: any;
  try {
    f32mod = await import('../src/kernels/f32.js');
  } catch {
    f32mod = undefined;
  }
  const haveF32 = typeof f32mod?.prepareF32DwConv2d === 'function';
  const layers = quick ? MOBILENETV2_DW.filter((_, i) => i % 3 === 0) : MOBILENETV2_DW;
  const paths: Array<[string, KernelPath, WasmKernels]> = [
    ['s8 scalar', 'scalar', ctx.scalar],
    ['s8 x86 dot16', 'x86', ctx.simd],
    ['u8 x86 dot16', 'x86', ctx.simd],
    ['s8 arm extmul', 'arm', ctx.simd],
    ...(ctx.relaxedWasm ? [['s8 relaxed', 'relaxed', ctx.relaxedWasm] as [string, KernelPath, WasmKernels]] : []),
  ];
  const cols = [...paths.map((p) => p[0]), 'f32 ours', 'ORT QLinearConv', 'ORT f32 Conv', 'best int8 / f32 ours', 'best int8 / ORT QLinearConv'];
  console.log(`\n## INT8 depthwise convolution (${mode} requantization), MobileNetV2-224 layers (3x3, pads 1, ReLU6), ms per layer (lower is better)\n`);
  console.log(`| layer (HxWxC, stride) | n | ${cols.join(' | ')} |`);
  console.log(`|---|---:|${cols.map(() => '---:').join('|')}|`);
  const rows: Record<string, number>[] = [];
  const sum: Record<string, number> = {};
  for (const L of layers) {
    for (const a of allocators.values()) a.reset();
    const row: Record<string, number> = {};
    const x8 = Uint8Array.from({ length: L.h * L.h * L.c }, () => Math.floor(r() * 256));
    const w8 = Int8Array.from({ length: L.c * 9 }, () => Math.floor(r() * 256) - 128);
    const bias = Int32Array.from({ length: L.c }, () => Math.floor((r() - 0.5) * 4000));
    const wScale = Array.from({ length: L.c }, () => 0.001 + r() * 0.01);
    const oh = Math.floor((L.h + 2 - 3) / L.s) + 1;
    const fns: Array<() => unknown> = [];
    const names: string[] = [];
    for (const [name, path, wasm] of paths) {
      const dtype = name.startsWith('u8') ? 'uint8' : 'int8';
      const p: QDwConvParams = {
        dtype, shape: [1, L.h, L.h, L.c], kernel: [3, 3], strides: [L.s, L.s], pads: [1, 1, 1, 1], weights: w8, bias,
        xScale: 0.02, xZero: dtype === 'uint8' ? 128 : 0, wScale, yScale: 0.05, yZero: dtype === 'uint8' ? 128 : 0,
        requantization: mode, clamp: { min: 0, max: 6 },
      };
      const prep = prepareQDwConv2d(p, { path, arch: 'x86' });
      if (path === 'scalar') {
        row[name] = quick ? NaN : timeRoundRobin([place(wasm, prep, x8, oh * oh * L.c)], 0.2, 3)[0];
        continue;
      }
      fns.push(place(wasm, prep, x8, oh * oh * L.c));
      names.push(name);
    }
    if (haveF32) {
      const fw = Float32Array.from(w8, (v) => v / 128);
      const fb = Float32Array.from(bias, (v) => v / 1000);
      const xf = Float32Array.from(x8, (v) => v / 255);
      for (const [path, wasm] of [['x86', ctx.simd], ...(ctx.relaxedWasm ? [['relaxed', ctx.relaxedWasm]] : [])] as Array<[KernelPath, WasmKernels]>) {
        const prep = f32mod.prepareF32DwConv2d({ N: 1, H: L.h, W: L.h, C: L.c, KH: 3, KW: 3, strides: [L.s, L.s], pads: [1, 1, 1, 1], weights: fw, bias: fb, min: 0, max: 6 }, { path, arch: 'x86' });
        fns.push(place(wasm, prep, xf, oh * oh * L.c * 4));
        names.push(`f32 ${path}`);
      }
    }
    const ms = timeRoundRobin(fns);
    names.forEach((n, i) => (row[n] = ms[i]));
    row['f32 ours'] = haveF32 ? Math.min(...names.filter((n) => n.startsWith('f32 ')).map((n) => row[n])) : NaN;
    for (const n of names) if (n.startsWith('f32 ')) delete row[n];
    row['ORT QLinearConv'] = await timeIt(await ortDwModel(L.h, L.c, L.s, 'qlinear', r));
    row['ORT f32 Conv'] = await timeIt(await ortDwModel(L.h, L.c, L.s, 'f32', r));
    const bestInt8 = Math.min(...paths.filter((p) => p[0].startsWith('s8') && p[1] !== 'scalar').map((p) => row[p[0]]));
    row['best int8 / f32 ours'] = row['f32 ours'] / bestInt8;
    row['best int8 / ORT QLinearConv'] = row['ORT QLinearConv'] / bestInt8;
    rows.push(row);
    for (const k of Object.keys(row)) sum[k] = (sum[k] ?? 0) + row[k] * L.count;
    const fmt = (k: string) => (Number.isNaN(row[k]) ? 'n/a' : k.includes('/') ? `${row[k].toFixed(2)}x` : row[k].toFixed(3));
    console.log(`| ${L.h}x${L.h}x${L.c} s${L.s} | ${L.count} | ${cols.map(fmt).join(' | ')} |`);
  }
  const bestSum = Math.min(...paths.filter((p) => p[0].startsWith('s8') && p[1] !== 'scalar').map((p) => sum[p[0]]));
  const fmtS = (k: string) => (k.includes('/') ? (k.includes('f32') ? `${(sum['f32 ours'] / bestSum).toFixed(2)}x` : `${(sum['ORT QLinearConv'] / bestSum).toFixed(2)}x`) : Number.isNaN(sum[k]) ? 'n/a' : sum[k].toFixed(2));
  console.log(`| **sum (each layer x n)** | ${layers.reduce((a, l) => a + l.count, 0)} | ${cols.map(fmtS).join(' | ')} |`);
  return rows;
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!);
if (isMain) {
  const f = await detectFeatures();
  const ctx: DwBenchContext = {
    scalar: await WasmKernels.create('scalar', { initialBytes: 1 << 25 }),
    simd: await WasmKernels.create('simd128', { initialBytes: 1 << 25 }),
    relaxedWasm: f.relaxedSimd ? await WasmKernels.create('relaxed', { initialBytes: 1 << 25 }) : undefined,
  };
  console.log(`node ${process.version}, ${os.cpus()[0]?.model} x${os.cpus().length}, relaxed SIMD ${f.relaxedSimd ? 'on' : 'off'}`);
  console.log(`command: node ${process.execArgv.join(' ')} ${process.argv.slice(1).map((a) => a.replace(process.cwd() + '/', '')).join(' ')}`);
  const modeArg = process.argv.find((a) => a.startsWith('--requant='))?.slice(10);
  for (const m of modeArg ? [modeArg] : ['fixed-point', 'float']) await dwconvSection(ctx, process.argv.includes('--quick'), m as 'fixed-point' | 'float');
}
