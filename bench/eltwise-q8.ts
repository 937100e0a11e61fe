// INT8 element-wise kernels that cost real time in the zoo models (issue 7), A/B in one process, rounds interleaved:
//  - QLinearAdd, SIMD128: the fixed-point screen with exact recomputation of near-tie steps (default) against the
//    exact float form alone (the same export with the screen switched off in its parameter block, s = 0): ResNet-18
//    and MobileNetV2 residual shapes, int8 and uint8, ratios of a calibrated model;
//  - the 256-entry table (x8_lut): the scalar u32-packed loop against the 16-swizzle SIMD128 kernel and, with the
//    relaxed build, the pshufb-semantics relaxed-swizzle kernel (x86-like engines).
//   node --experimental-wasm-relaxed-simd --import tsx bench/eltwise-q8.ts [--rounds 31]
// Prints the machine and load average; compare the ratios, not the absolute times (shared 2-core machine).
import { loadavg, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { WasmKernels, BumpAllocator } from '../src/runtime/wasm.js';
import { prepareQAdd } from '../src/kernels/eltwise.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '31' } } });
const rounds = Number(values.rounds);
const wasm = await WasmKernels.create('simd128');
const load0 = loadavg().map((v) => v.toFixed(2)).join(' ');
const med = (a: number[]) => { const s = [...a].sort((p, q) => p - q); return s[s.length >> 1]; };
let seed = 12345;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));

function time(f: () => void, reps: number): number {
  const t = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t) / reps;
}

console.log(`bench/eltwise-q8.ts · ${cpus()[0]?.model}, Node ${process.version} · ${rounds} interleaved rounds · load average ${load0}`);
const shapes: [string, number[]][] = [['56x56x64 (ResNet-18 add1)', [1, 56, 56, 64]], ['7x7x512 (ResNet-18 add8)', [1, 7, 7, 512]], ['28x28x32 (MobileNetV2)', [1, 28, 28, 32]]];
for (const [label, shape] of shapes) {
  for (const dtype of ['int8', 'uint8'] as const) {
    const n = shape.reduce((a, b) => a * b, 1);
    const k = prepareQAdd({ dtype, aShape: shape, bShape: shape, aScale: 0.0371, bScale: 0.0523, yScale: 0.0611,
      aZero: dtype === 'int8' ? -3 : 125, bZero: dtype === 'int8' ? 5 : 130, yZero: dtype === 'int8' ? -10 : 118 }, { path: 'x86' });
    const al = new BumpAllocator(wasm);
    const screenPrm = al.put(k.constants);
    const exactOnly = new Uint8Array(k.constants);
    new Int32Array(exactOnly.buffer)[7] = 0;
    const exactPrm = al.put(exactOnly);
    const a = al.put(bytes(n)), b = al.put(bytes(n)), y = al.alloc(n);
    const run = (prm: number) => () => k.run(wasm, { inputs: [a, b], outputs: [y], constants: prm, scratch: 0 });
    const reps = Math.max(1, Math.round(2e6 / n));
    const A: number[] = [], B: number[] = [];
    for (let r = 0; r < 3; r++) { run(screenPrm)(); run(exactPrm)(); }
    for (let r = 0; r < rounds; r++) {
      if (r % 2) { A.push(time(run(screenPrm), reps)); B.push(time(run(exactPrm), reps)); }
      else { B.push(time(run(exactPrm), reps)); A.push(time(run(screenPrm), reps)); }
    }
    const [ta, tb] = [med(A), med(B)];
    console.log(`  QLinearAdd ${dtype.padEnd(5)} ${label.padEnd(26)} screen ${(ta * 1000).toFixed(1).padStart(6)} us (${(n / ta / 1e6).toFixed(2)} G/s)  exact form ${(tb * 1000).toFixed(1).padStart(6)} us (${(n / tb / 1e6).toFixed(2)} G/s)  ratio ${(ta / tb).toFixed(3)}`);
  }
}
let lw = wasm;
try { lw = await WasmKernels.create('relaxed'); } catch { /* no relaxed SIMD: scalar and simd128 tables only */ }
const lutNames = ['x8_lut__scalar', 'x8_lut__simd128_swizzle', ...(lw !== wasm ? ['x8_lut__relaxed_pshufb'] : [])];
for (const n of [200704, 37632]) {
  const al = new BumpAllocator(lw);
  const t = al.put(bytes(256)), x = al.put(bytes(n)), y = al.alloc(n);
  const ROW = 4096;
  const lut = (name: string) => () => {
    const full = Math.floor(n / ROW);
    lw.exports[name](x, y, ROW, ROW, ROW, t, 0, full);
    if (n > full * ROW) lw.exports[name](x + full * ROW, y + full * ROW, n - full * ROW, 0, 0, t, 0, 1);
  };
  const reps = Math.max(1, Math.round(4e6 / n));
  const ms: number[][] = lutNames.map(() => []);
  for (let r = 0; r < 3; r++) for (const f of lutNames) lut(f)();
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < lutNames.length; k++) {
      const j = (k + r) % lutNames.length;
      ms[j].push(time(lut(lutNames[j]), reps));
    }
  }
  const base = med(ms[0]);
  console.log(`  x8_lut ${String(n).padStart(7)} bytes  ` + lutNames.map((f, j) => `${f} ${(med(ms[j]) * 1000).toFixed(1)} us (${(n / med(ms[j]) / 1e6).toFixed(2)} GB/s, ${(med(ms[j]) / base).toFixed(3)}x)`).join('  '));
}
console.log(`  load average after: ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
