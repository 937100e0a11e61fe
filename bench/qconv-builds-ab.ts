// A/B of the INT8 convolution kernels of two (or more) wasm builds, per layer of ResNet-18-224 / MobileNetV2-224
// (the non-depthwise convolutions, bench/kernels-layers.ts), in one process, interleaved (A B A B ...), each build
// in its own instance: how a kernel change compares with the build before it (e.g. a copy of main's build/wasm).
// The same prepared convolution (prepareQConv2d, x86 path, method as the runtime picks it) runs on each build; the
// outputs are compared byte for byte (MISMATCH flags a difference). Time = process CPU time per call (user +
// system), median (or with --min, the minimum) over rounds; ratios against the first build.
//   node --import tsx bench/qconv-builds-ab.ts --builds /tmp/base,build/wasm [--net resnet18|mnv2] [--rounds 9]
//        [--filter <substring>] [--atype int8|uint8] [--min]
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WasmKernels, BumpAllocator } from '../src/runtime/wasm.js';
import { prepareQConv2d } from '../src/kernels/qconv.js';
import { CONV_LAYERS } from './kernels-layers.js';

const { values } = parseArgs({
  options: {
    builds: { type: 'string', default: 'build/wasm' },
    net: { type: 'string', default: 'resnet18' },
    rounds: { type: 'string', default: '9' },
    filter: { type: 'string', default: '' },
    atype: { type: 'string', default: 'int8' },
    min: { type: 'boolean', default: false },
  },
});
const dirs = values.builds!.split(',');
const rounds = Number(values.rounds);
const aType = values.atype as 'int8' | 'uint8';
const inst = await Promise.all(dirs.map((d) => WasmKernels.create('simd128', { initialBytes: 128 << 20, source: { simd128: new Uint8Array(readFileSync(join(d, 'octet-simd128.wasm'))) } })));
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const med = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
const stat = values.min ? (a: number[]) => Math.min(...a) : med;
const rand8 = (n: number, signed: boolean) => { const a = signed ? new Int8Array(n) : new Uint8Array(n); for (let i = 0; i < n; i++) a[i] = Math.floor(Math.random() * 256); return a; };
console.log(`command: node ${process.execArgv.join(' ')} ${process.argv.slice(1).map((a) => a.replace(process.cwd() + '/', '')).join(' ')}`);
console.log(`machine: ${os.cpus()[0]?.model} x${os.cpus().length}, Node ${process.version}; load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}; ${aType} activations, float requantization; ${values.min ? 'min' : 'median'} CPU ms per call`);
console.log(`| layer | x | method | ${dirs.map((d, i) => (i ? `${d} /first` : `${d} ms`)).join(' | ')} |`);
console.log(`|---|---:|---|${dirs.map(() => '---:').join('|')}|`);
const sums = dirs.map(() => 0);
for (const l of CONV_LAYERS.filter((x) => x.net === values.net && x.name.includes(values.filter!))) {
  const q = prepareQConv2d({ n: 1, h: l.h, w: l.w, c: l.c, oc: l.oc, kernel: [l.k, l.k], strides: [l.s, l.s], pads: [l.p, l.p, l.p, l.p], aType, aScale: 0.02, aZeroPoint: aType === 'uint8' ? 128 : 3,
    weights: { data: rand8(l.oc * l.c * l.k * l.k, true), type: 'int8', scales: Array.from({ length: l.oc }, () => 0.001 * (0.5 + Math.random())) },
    bias: Int32Array.from({ length: l.oc }, () => Math.floor(Math.random() * 1000)),
    output: { type: aType, scale: 0.5, zeroPoint: aType === 'uint8' ? 0 : -128, clamp: { min: 0 } }, path: 'x86', requant: 'float' });
  const [, oh, ow] = q.outShape;
  const ob = oh * ow * l.oc;
  const x = rand8(l.h * l.w * l.c, aType === 'int8');
  const outs: Uint8Array[] = [];
  const fns = inst.map((w) => {
    const al = new BumpAllocator(w);
    const io = { inputs: [al.put(x)], constants: al.put(q.constants, 16), outputs: [al.alloc(ob)], scratch: al.alloc(q.scratchBytes + 64) };
    w.u8(io.outputs[0], ob).fill(0x55);
    q.run(w, io, 0, q.workItems);
    outs.push(w.u8(io.outputs[0], ob).slice());
    return () => q.run(w, io, 0, q.workItems);
  });
  const bad = outs.map((o) => o.some((v, i) => v !== outs[0][i]));
  const t = fns.map(() => [] as number[]);
  const reps = Math.max(1, Math.round(2e8 / q.cost));
  for (let r = 0; r < rounds; r++) for (let j = 0; j < fns.length; j++) {
    const i = (j + r) % fns.length; const s = cpu(); for (let b = 0; b < reps; b++) fns[i](); t[i].push((cpu() - s) / reps);
  }
  const m = t.map(stat);
  m.forEach((v, i) => (sums[i] += v * l.count));
  console.log(`| ${l.name} | ${l.count} | ${q.method} | ${m.map((v, i) => (i ? `${(v / m[0]).toFixed(3)}` : (v * 1e3).toFixed(3)) + (bad[i] ? ' MISMATCH' : '')).join(' | ')} |`);
}
console.log(`\nsum over layers x count: ${dirs.map((d, i) => `${d} ${(sums[i] * 1e3).toFixed(2)} ms (${(sums[i] / sums[0]).toFixed(3)}x)`).join('; ')}`);
console.log(`load average at end: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
process.exit(0);
