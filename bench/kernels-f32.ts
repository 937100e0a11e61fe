// FP32 kernel benchmark: the FP32 GEMM in GFLOP/s on issue 2's shapes, and every convolution layer of
// MobileNetV2-224 and ResNet-18-224 (depthwise included) in ms, ours (simd128 and, when the engine has it,
// relaxed SIMD) against onnxruntime-web (wasm, one thread) running one FP32 MatMul / Conv node of the same shape
// in the same process. One image, NHWC for us, NCHW for onnxruntime-web (its native layout).
// Run alone:  node --experimental-wasm-relaxed-simd --import tsx bench/kernels-f32.ts [--quick]
// (bench/kernels.ts runs it as its 'f32' section: npm run bench:kernels -- --only=f32).
//
// Layer shapes: MobileNetV2 (Sandler et al. 2018, Table 2; torchvision mobilenet_v2 / ONNX model zoo
// mobilenetv2-7): stem 3x3/2, per block 1x1 expand (t = 6, none in the first block), 3x3 depthwise, 1x1 project,
// final 1x1 to 1280. ResNet-18 (He et al. 2016, Table 1; torchvision resnet18): conv1 7x7/2, 3x3 convs per stage,
// 1x1/2 downsample shortcuts. `count` = how many layers share the shape.
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { WasmKernels, BumpAllocator } from '../src/runtime/wasm.js';
import { detectFeatures } from '../src/runtime/features.js';
import { prepareF32Gemm, prepareF32Conv2d, prepareF32DwConv2d, F32_GEMM_VARIANTS } from '../src/kernels/f32.js';
import type { PreparedKernel } from '../src/kernels/types.js';
import { GraphBuilder } from '../src/onnx/writer.js';

const QUICK = process.argv.includes('--quick');

export interface F32Layer { net: 'mnv2' | 'resnet18'; name: string; h: number; c: number; oc: number; k: number; s: number; dw?: boolean; count: number }

function mnv2Layers(): F32Layer[] {
  const L: F32Layer[] = [{ net: 'mnv2', name: 'stem 3x3/2 3->32', h: 224, c: 3, oc: 32, k: 3, s: 2, count: 1 }];
  // (expansion t, output channels c, repeats n, first stride s), Table 2
  const cfg = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]];
  let cin = 32, h = 112;
  const add = (l: F32Layer) => {
    const same = L.find((x) => x.name === l.name);
    if (same) same.count++;
    else L.push(l);
  };
  for (const [t, c, n, s0] of cfg) {
    for (let i = 0; i < n; i++) {
      const s = i === 0 ? s0 : 1;
      const hid = cin * t;
      if (t !== 1) add({ net: 'mnv2', name: `${h} 1x1 ${cin}->${hid}`, h, c: cin, oc: hid, k: 1, s: 1, count: 1 });
      add({ net: 'mnv2', name: `${h} dw3x3${s === 2 ? '/2' : ''} ${hid}`, h, c: hid, oc: hid, k: 3, s, dw: true, count: 1 });
      const ho = s === 2 ? h / 2 : h;
      add({ net: 'mnv2', name: `${ho} 1x1 ${hid}->${c}`, h: ho, c: hid, oc: c, k: 1, s: 1, count: 1 });
      cin = c;
      h = ho;
    }
  }
  add({ net: 'mnv2', name: '7 1x1 320->1280', h: 7, c: 320, oc: 1280, k: 1, s: 1, count: 1 });
  return L;
}

export const F32_LAYERS: F32Layer[] = [
  ...mnv2Layers(),
  { net: 'resnet18', name: 'conv1 7x7/2 3->64', h: 224, c: 3, oc: 64, k: 7, s: 2, count: 1 },
  { net: 'resnet18', name: '56 3x3 64->64', h: 56, c: 64, oc: 64, k: 3, s: 1, count: 4 },
  { net: 'resnet18', name: '56 3x3/2 64->128', h: 56, c: 64, oc: 128, k: 3, s: 2, count: 1 },
  { net: 'resnet18', name: '56 1x1/2 64->128', h: 56, c: 64, oc: 128, k: 1, s: 2, count: 1 },
  { net: 'resnet18', name: '28 3x3 128->128', h: 28, c: 128, oc: 128, k: 3, s: 1, count: 3 },
  { net: 'resnet18', name: '28 3x3/2 128->256', h: 28, c: 128, oc: 256, k: 3, s: 2, count: 1 },
  { net: 'resnet18', name: '28 1x1/2 128->256', h: 28, c: 128, oc: 256, k: 1, s: 2, count: 1 },
  { net: 'resnet18', name: '14 3x3 256->256', h: 14, c: 256, oc: 256, k: 3, s: 1, count: 3 },
  { net: 'resnet18', name: '14 3x3/2 256->512', h: 14, c: 256, oc: 512, k: 3, s: 2, count: 1 },
  { net: 'resnet18', name: '14 1x1/2 256->512', h: 14, c: 256, oc: 512, k: 1, s: 2, count: 1 },
  { net: 'resnet18', name: '7 3x3 512->512', h: 7, c: 512, oc: 512, k: 3, s: 1, count: 3 },
];

// Issue 2's GEMM shapes (M = output pixels, K = input channels x taps, N = output channels).
export const F32_GEMM_SHAPES = [
  { name: 'resnet18 56x56 3x3 64->64', m: 3136, k: 576, n: 64 },
  { name: 'resnet18 14x14 3x3 256->256', m: 196, k: 2304, n: 256 },
  { name: 'mnv2 112x112 1x1 16->96', m: 12544, k: 16, n: 96 },
  { name: 'mnv2 56x56 1x1 24->144', m: 3136, k: 24, n: 144 },
  { name: 'mnv2 56x56 1x1 144->24', m: 3136, k: 144, n: 24 },
  { name: 'mnv2 28x28 1x1 32->192', m: 784, k: 32, n: 192 },
  { name: 'mnv2 14x14 1x1 64->384', m: 196, k: 64, n: 384 },
  { name: 'mnv2 7x7 1x1 320->1280', m: 49, k: 320, n: 1280 },
];

/** Median seconds per call after warm-up (process CPU time, as bench/kernels.ts; OCTET_BENCH_WALL=1 for wall time). */
async function timeIt(fn: () => unknown, minTime = 0.3, minRuns = 7): Promise<number> {
  const wall = process.env.OCTET_BENCH_WALL === '1';
  const now = () => (wall ? performance.now() / 1000 : (() => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; })());
  for (let i = 0; i < 3; i++) await fn();
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

const rnd = (n: number, lo = -0.5, hi = 0.5) => Float32Array.from({ length: n }, () => lo + (hi - lo) * Math.random());

function place(wasm: WasmKernels, prep: PreparedKernel, input: Float32Array, outFloats: number): () => void {
  const al = new BumpAllocator(wasm);
  const io = { inputs: [al.put(input)], constants: al.put(prep.constants, 16), outputs: [al.alloc(outFloats * 4)], scratch: al.alloc(prep.scratchBytes + 64) };
  return () => prep.run(wasm, io, 0, prep.workItems);
}

async function ortMatMul(m: number, k: number, n: number) {
  const g = new GraphBuilder({ opset: 21 });
  const a = g.input('a', 'float32', [m, k]);
  const b = g.initializer('b', 'float32', rnd(k * n), [k, n]);
  const [y] = g.node('MatMul', [a, b], ['y']);
  g.output(y, 'float32', [m, n]);
  const s = await ort.InferenceSession.create(g.toBytes(), { executionProviders: ['wasm'] });
  const feeds = { a: new ort.Tensor('float32', rnd(m * k), [m, k]) };
  return () => s.run(feeds);
}

async function ortConv(l: F32Layer) {
  const g = new GraphBuilder({ opset: 21 });
  const p = (l.k - 1) >> 1;
  const oh = Math.floor((l.h + 2 * p - l.k) / l.s) + 1;
  const group = l.dw ? l.c : 1;
  const x = g.input('x', 'float32', [1, l.c, l.h, l.h]);
  const w = g.initializer('w', 'float32', rnd((l.oc * l.c * l.k * l.k) / group), [l.oc, l.c / group, l.k, l.k]);
  const b = g.initializer('b', 'float32', rnd(l.oc), [l.oc]);
  const [y] = g.node('Conv', [x, w, b], ['y'], { kernel_shape: [l.k, l.k], strides: [l.s, l.s], pads: [p, p, p, p], group });
  g.output(y, 'float32', [1, l.oc, oh, oh]);
  const s = await ort.InferenceSession.create(g.toBytes(), { executionProviders: ['wasm'] });
  const feeds = { x: new ort.Tensor('float32', rnd(l.c * l.h * l.h), [1, l.c, l.h, l.h]) };
  return () => s.run(feeds);
}

export interface F32BenchContext { simd: WasmKernels; relaxedWasm?: WasmKernels }

export async function f32Section(ctx: F32BenchContext): Promise<void> {
  ort.env.wasm.numThreads = 1;
  const variants = F32_GEMM_VARIANTS.filter((v) => v.build === 'simd128' || (v.build === 'relaxed' && ctx.relaxedWasm));
  const shapes = QUICK ? F32_GEMM_SHAPES.slice(0, 2) : F32_GEMM_SHAPES;
  console.log(`\n## FP32 GEMM, GFLOP/s (2*M*N*K / time; higher is better)\n`);
  console.log(`| shape | M | K | N | ${variants.map((v) => v.name).join(' | ')} | ORT MatMul | best/ORT |`);
  console.log(`|---|---:|---:|---:|${variants.map(() => '---:').join('|')}|---:|---:|`);
  for (const s of shapes) {
    const w = rnd(s.k * s.n);
    const fl = (t: number) => (2 * s.m * s.n * s.k) / t / 1e9;
    const row: number[] = [];
    for (const v of variants) {
      const prep = prepareF32Gemm({ M: s.m, N: s.n, K: s.k, weights: w }, { path: 'x86', variant: v.name });
      row.push(fl(await timeIt(place(v.build === 'relaxed' ? ctx.relaxedWasm! : ctx.simd, prep, rnd(s.m * s.k), s.m * s.n))));
    }
    const ortg = fl(await timeIt(await ortMatMul(s.m, s.k, s.n)));
    console.log(`| ${s.name} | ${s.m} | ${s.k} | ${s.n} | ${row.map((x) => x.toFixed(1)).join(' | ')} | ${ortg.toFixed(1)} | ${(Math.max(...row) / ortg).toFixed(2)}x |`);
  }

  const layers = QUICK ? F32_LAYERS.filter((l) => /56 3x3 64->64|56 1x1 24->144|56 dw3x3 144/.test(l.name)) : F32_LAYERS;
  const paths: Array<['simd128' | 'relaxed', WasmKernels]> = [['simd128', ctx.simd], ...(ctx.relaxedWasm ? [['relaxed', ctx.relaxedWasm] as ['relaxed', WasmKernels]] : [])];
  console.log(`\n## FP32 convolution per layer (one image, ms; lower is better; bias fused, no activation)\n`);
  console.log(`| net | layer | x | kernel | ${paths.map(([p]) => `ours ${p}`).join(' | ')} | ORT Conv | ORT/ours |`);
  console.log(`|---|---|---:|---|${paths.map(() => '---:').join('|')}|---:|---:|`);
  const sums: Record<string, { ours: number; ort: number }> = {};
  for (const l of layers) {
    const p = (l.k - 1) >> 1;
    const geo = { N: 1, H: l.h, W: l.h, C: l.c, KH: l.k, KW: l.k, strides: [l.s, l.s], pads: [p, p, p, p] };
    const w = rnd((l.oc * l.c * l.k * l.k) / (l.dw ? l.c : 1)), b = rnd(l.oc), x = rnd(l.h * l.h * l.c);
    const ts: number[] = [];
    let variant = '';
    for (const [path, wasm] of paths) {
      const sel = { path: path === 'relaxed' ? ('relaxed' as const) : ('x86' as const) };
      const prep = l.dw ? prepareF32DwConv2d({ ...geo, weights: w, bias: b }, sel) : prepareF32Conv2d({ ...geo, Cout: l.oc, weights: w, bias: b }, sel);
      variant = prep.variant;
      ts.push(await timeIt(place(wasm, prep, x, prep.OH * prep.OW * l.oc)));
    }
    const tort = await timeIt(await ortConv(l));
    const best = Math.min(...ts);
    const sm = (sums[l.net] ??= { ours: 0, ort: 0 });
    sm.ours += best * l.count;
    sm.ort += tort * l.count;
    const ms = (t: number) => (t * 1000).toFixed(3);
    console.log(`| ${l.net} | ${l.name} | ${l.count} | ${variant} | ${ts.map(ms).join(' | ')} | ${ms(tort)} | ${(tort / best).toFixed(2)}x |`);
  }
  for (const [net, sm] of Object.entries(sums)) {
    console.log(`\n${net}: sum over its convolution layers x count: ours ${(sm.ours * 1000).toFixed(2)} ms, onnxruntime-web FP32 Conv ${(sm.ort * 1000).toFixed(2)} ms (ORT/ours ${(sm.ort / sm.ours).toFixed(2)}x)`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const f = await detectFeatures();
  console.log(`# Octet FP32 kernel benchmark`);
  console.log(`command: node ${process.execArgv.join(' ')} ${process.argv.slice(1).map((a) => a.replace(process.cwd() + '/', '')).join(' ')}`);
  console.log(`machine: ${os.cpus()[0]?.model} x${os.cpus().length}, Node ${process.version}, one thread; simd128=${f.simd128} relaxed=${f.relaxedSimd}`);
  await f32Section({
    simd: await WasmKernels.create('simd128', { initialBytes: 64 << 20 }),
    relaxedWasm: f.relaxedSimd ? await WasmKernels.create('relaxed', { initialBytes: 64 << 20 }) : undefined,
  });
}
