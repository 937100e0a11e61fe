// INT8 depthwise on the MobileNetV2-224 layers: the rows kernels with the f64 fixed-point form (current) against the
// per-pixel kernels with the FIXB form (before, `tuning: { rows: false, f64: false }`) and against our FP32 depthwise
// kernel (its simd128 rows kernel, and the relaxed-FMA one FP32 sessions pick when Node runs with
// --experimental-wasm-relaxed-simd), all in one process, timed round-robin (bench/kernels-dwconv.ts timeRoundRobin:
// process CPU time, median). Checks that both INT8 forms write the same bytes before timing. One thread, x86 path.
//   node --experimental-wasm-relaxed-simd --import tsx bench/dwconv-rows.ts [--requant=fixed-point|float] [--dtype=int8|uint8]
import os from 'node:os';
import { WasmKernels, BumpAllocator } from '../src/runtime/wasm.js';
import { detectFeatures } from '../src/runtime/features.js';
import { prepareQDwConv2d, type QDwConvParams } from '../src/kernels/dwconv.js';
import { prepareF32DwConv2d } from '../src/kernels/f32.js';
import { MOBILENETV2_DW, timeRoundRobin } from './kernels-dwconv.js';

const arg = (k: string, d: string) => process.argv.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3) ?? d;
const modes = arg('requant', 'fixed-point,float').split(',') as Array<'fixed-point' | 'float'>;
const dtype = arg('dtype', 'int8') as 'int8' | 'uint8';
const wasm = await WasmKernels.create('simd128', { initialBytes: 1 << 26 });
const al = new BumpAllocator(wasm);
const relaxed = (await detectFeatures()).relaxedSimd ? await WasmKernels.create('relaxed', { initialBytes: 1 << 26 }) : undefined;
const alr = relaxed ? new BumpAllocator(relaxed) : undefined;
let seed = 7;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
console.log(`node ${process.version}, ${os.cpus()[0]?.model} x${os.cpus().length}, load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
console.log(`command: node ${process.execArgv.join(' ')} ${process.argv.slice(1).map((a) => a.replace(process.cwd() + '/', '')).join(' ')}`);
for (const mode of modes) {
  console.log(`\n${dtype} activations, ${mode} requantization: ms per layer (median), ratios per layer`);
  console.log('| layer | n | int8 before (per pixel) | int8 rows | f32 simd128 | f32 relaxed | before / rows | best f32 / rows | kernel mode |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const sum = [0, 0, 0, 0];
  for (const L of MOBILENETV2_DW) {
    al.reset();
    alr?.reset();
    const x8 = Uint8Array.from({ length: L.h * L.h * L.c }, () => Math.floor(rnd() * 256));
    const w8 = Int8Array.from({ length: L.c * 9 }, () => Math.floor(rnd() * 255) - 127);
    const bias = Int32Array.from({ length: L.c }, () => Math.floor((rnd() - 0.5) * 4000));
    const wScale = Array.from({ length: L.c }, () => 0.002 + rnd() * 0.018); // multipliers 8e-4..7e-3 (shift 0, as in the zoo model)
    const oh = Math.floor((L.h + 2 - 3) / L.s) + 1;
    const p: QDwConvParams = {
      dtype, shape: [1, L.h, L.h, L.c], kernel: [3, 3], strides: [L.s, L.s], pads: [1, 1, 1, 1], weights: w8, bias,
      xScale: 0.02, xZero: dtype === 'uint8' ? 128 : 0, wScale, yScale: 0.05, yZero: dtype === 'uint8' ? 128 : 0,
      requantization: mode, clamp: { min: 0, max: 6 },
    };
    const preps = [prepareQDwConv2d({ ...p, tuning: { rows: false, f64: false } }, { path: 'x86' }), prepareQDwConv2d(p, { path: 'x86' })];
    const kmode = new Int32Array(preps[1].constants.buffer, preps[1].constants.byteOffset, 24)[16];
    const xo = al.put(x8);
    const outs: number[] = [];
    const fns = preps.map((k) => {
      const io = { constants: al.put(k.constants, 16), inputs: [xo], outputs: [al.alloc(oh * oh * L.c)], scratch: al.alloc(k.scratchBytes + 64) };
      outs.push(io.outputs[0]);
      return () => k.run(wasm, io, 0, k.workItems);
    });
    fns.forEach((f) => f());
    const a = wasm.u8(outs[0], oh * oh * L.c), b = wasm.u8(outs[1], oh * oh * L.c);
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) throw new Error(`layer ${L.h}x${L.c}s${L.s}: byte ${i} differs (${a[i]} vs ${b[i]})`);
    const xf = Float32Array.from(x8, (v) => v / 255);
    for (const [path, kw, a] of [['x86', wasm, al], ...(relaxed ? [['relaxed', relaxed, alr!]] : [])] as Array<[string, WasmKernels, BumpAllocator]>) {
      const f = prepareF32DwConv2d({ N: 1, H: L.h, W: L.h, C: L.c, KH: 3, KW: 3, strides: [L.s, L.s], pads: [1, 1, 1, 1],
        weights: Float32Array.from(w8, (v) => v / 128), bias: Float32Array.from(bias, (v) => v / 1000), min: 0, max: 6 }, { path, arch: 'x86' } as never);
      const fio = { constants: a.put(f.constants, 16), inputs: [a.put(xf)], outputs: [a.alloc(oh * oh * L.c * 4)], scratch: a.alloc(f.scratchBytes + 64) };
      fns.push(() => f.run(kw, fio, 0, f.workItems));
    }
    const ms = timeRoundRobin(fns, 0.4, 7);
    if (ms.length < 4) ms.push(NaN);
    ms.forEach((v, i) => (sum[i] += v * L.count));
    const f32 = (m: number[]) => Math.min(m[2], Number.isNaN(m[3]) ? Infinity : m[3]);
    const ms3 = (v: number) => (Number.isNaN(v) ? 'n/a' : v.toFixed(3));
    console.log(`| ${L.h}x${L.h}x${L.c} s${L.s} | ${L.count} | ${ms[0].toFixed(3)} | ${ms[1].toFixed(3)} | ${ms[2].toFixed(3)} | ${ms3(ms[3])} | ${(ms[0] / ms[1]).toFixed(2)}x | ${(f32(ms) / ms[1]).toFixed(2)}x | ${kmode} |`);
  }
  const f32s = Math.min(sum[2], Number.isNaN(sum[3]) ? Infinity : sum[3]);
  console.log(`| **sum (x n)** | 17 | ${sum[0].toFixed(2)} | ${sum[1].toFixed(2)} | ${sum[2].toFixed(2)} | ${Number.isNaN(sum[3]) ? 'n/a' : sum[3].toFixed(2)} | ${(sum[0] / sum[1]).toFixed(2)}x | ${(f32s / sum[1]).toFixed(2)}x | |`);
}
console.log(`load average after: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
