// Thread scaling: `npm run bench:threads` (= tsx bench/threads.ts; add `-- --quick` for fewer rounds).
//   [--models-only] (no GEMM section) [--models resnet18:qdq-ort-s8,...] [--no-requests] [--json] (a last line
//   `{"threadScaling": [...]}`: bench/models.ts runs `--models-only --no-requests --json` for its 2-thread section)
// 1. GEMM shapes: one node split over 2 threads by the worker pool vs the same kernel on the calling thread.
// 2. Models (src/zoo): ResNet-18 and MobileNetV2, INT8 (QDQ) and FP32, InferenceSession threads 2 vs 1 (a run is
//    one pool job, a phase per node, when every step is replayable: ThreadPool.planJob).
// 3. Request-level: 8 concurrent run() calls vs the same 8 one at a time on a 1-thread session (queued calls of a
//    session run side by side, each whole on one thread: ThreadPool.runPrograms).
// Wall time (threads only help wall time). GEMMs and requests: median over rounds, the two sides alternating round by
// round so both see the same background load. Models: both sessions warmed up first (V8 tiers code up over the
// first ~100-150 runs of a 2-thread session), then blocks of runs interleaved; ms are medians of every run, speedups
// medians of per-round paired ratios, beside the capacity of the two cores at that moment (two requests side by
// side). The load average is printed: on a shared machine the figures are only as good as the idle cores they got.
import os from 'node:os';
import { WasmKernels, BumpAllocator } from '../src/runtime/wasm.js';
import { ThreadPool } from '../src/runtime/pool.js';
import { prepareQGemm } from '../src/kernels/qgemm.js';
import { prepareF32Gemm } from '../src/kernels/f32.js';
import { scratchBytesForThreads, type KernelIO, type PreparedKernel } from '../src/kernels/types.js';
import { InferenceSession } from '../src/api/session.js';
import { Tensor } from '../src/api/tensor.js';
import { zooModel } from '../src/zoo/index.js';

const QUICK = process.argv.includes('--quick');
const argAfter = (flag: string) => { const i = process.argv.indexOf(flag); return i >= 0 ? process.argv[i + 1] : undefined; };
const MODEL_LIST = argAfter('--models')?.split(',').map((x) => x.split(':') as [string, string]);
/** One row per model of the models section (for --json). */
interface ScalingRow { model: string; form: string; ms1: number; ms2: number; speedup: number; capacity: number; p10: number; p90: number; equal: boolean; early: number; error?: string }
const scaling: ScalingRow[] = [];
const ROUNDS = QUICK ? 5 : 11;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};
const fmt = (x: number, d = 2) => x.toFixed(d);

/** Alternates a and b for `rounds` rounds; each sample = mean wall ms of `inner` calls. */
async function ab(a: () => unknown, b: () => unknown, rounds = ROUNDS, inner = 1): Promise<[number, number]> {
  const ta: number[] = [], tb: number[] = [];
  for (let i = 0; i < 2; i++) { await a(); await b(); }
  for (let r = 0; r < rounds; r++) {
    for (const [fn, out] of [[a, ta], [b, tb]] as const) {
      const t0 = performance.now();
      for (let i = 0; i < inner; i++) await fn();
      out.push((performance.now() - t0) / inner);
    }
  }
  return [median(ta), median(tb)];
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

async function gemms(pool: ThreadPool): Promise<void> {
  console.log('\n## GEMM nodes: 2 threads (pool) vs 1 (same kernel, calling thread)\n');
  console.log('| kernel | M x K x N | 1 thread ms | 2 threads ms | speedup |');
  console.log('|---|---|---|---|---|');
  const wasm = await WasmKernels.create('simd128', { shared: true });
  const inst = await pool.attach(wasm);
  const shapes = [[3136, 576, 64], [784, 1152, 128], [196, 2304, 256], [49, 4608, 512]];
  for (const [m, k, n] of shapes) {
    const r = rng(m + k + n);
    const kernels: [string, PreparedKernel, ArrayBufferView, number][] = [
      ['qs8 ' , prepareQGemm({ m, k, n, aType: 'int8', aScale: 0.05, aZeroPoint: 1, weights: { data: Int8Array.from({ length: k * n }, () => Math.floor(r() * 255) - 127), type: 'int8', layout: 'kn', scales: 0.01 }, output: { type: 'int8', scale: 0.3, zeroPoint: 0 }, path: 'x86' }), Int8Array.from({ length: m * k }, () => Math.floor(r() * 256) - 128), m * n],
      ['f32 ', prepareF32Gemm({ M: m, N: n, K: k, weights: Float32Array.from({ length: k * n }, () => r() - 0.5) }, { path: 'x86' }), Float32Array.from({ length: m * k }, () => r()), m * n * 4],
    ];
    for (const [label, kernel, input, outBytes] of kernels) {
      const mem = new BumpAllocator(wasm);
      const io: KernelIO = { constants: mem.put(kernel.constants), inputs: [mem.put(input)], outputs: [mem.alloc(outBytes)], scratch: mem.alloc(64 + scratchBytesForThreads(kernel, pool.threads)) };
      const inner = Math.max(1, Math.round(2e8 / (m * k * n)));
      const [t1, t2] = await ab(() => kernel.run(wasm, io), () => pool.run(inst, kernel, io), ROUNDS, inner);
      console.log(`| ${label}${kernel.variant} | ${m} x ${k} x ${n} | ${fmt(t1, 3)} | ${fmt(t2, 3)} | ${fmt(t1 / t2)}x |`);
    }
  }
  pool.detach(inst);
}

function input(s: InferenceSession, seed: number): Record<string, Tensor> {
  const r = rng(seed);
  const meta = s.inputMetadata[0];
  const dims = meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const size = dims.reduce((a, b) => a * b, 1);
  return { [s.inputNames[0]]: new Tensor('float32', Float32Array.from({ length: size }, () => r() * 2 - 1), dims) };
}

/**
 * Runs fns[0..] one run each in turn, `warm` times (warm-up: V8 tiers the worker's and the kernels' code up over the
 * first ~100-150 runs of a session, on the same cores the threads use), then `rounds` rounds of `inner` runs of each
 * (order rotating by round). Returns every measured run's wall ms per fn, and fns[1]'s first `early` warm-up runs.
 */
async function blocks(fns: (() => unknown)[], warm: number, rounds: number, inner: number, early = 50): Promise<{ t: number[][]; early: number[] }> {
  const t: number[][] = fns.map(() => []), earlyRuns: number[] = [];
  for (let i = 0; i < warm; i++) {
    for (let j = 0; j < fns.length; j++) {
      const t0 = performance.now();
      await fns[j]();
      if (j === 1 && i < early) earlyRuns.push(performance.now() - t0);
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < fns.length; j++) {
      const k = (j + r) % fns.length;
      for (let i = 0; i < inner; i++) {
        const t0 = performance.now();
        await fns[k]();
        t[k].push(performance.now() - t0);
      }
    }
  }
  return { t, early: earlyRuns };
}

async function models(): Promise<void> {
  const warm = QUICK ? 40 : 150, rounds = QUICK ? 5 : 15;
  console.log('\n## Models: InferenceSession threads 2 vs 1 (median wall ms per run)\n');
  console.log(`Both sessions in one process, warmed up by ${warm} runs each, then ${rounds} rounds of blocks of runs, interleaved; ms = medians of every run; speedup and capacity = medians over rounds of the ratio of that round's adjacent blocks (the host's state drifts on a scale of seconds).`);
  console.log('"2 side by side" = two run() calls at once on the 2-thread session, each whole on one thread (no sharing of work, no barrier): what the two cores deliver together at that moment, as 2 x (1-thread ms) / (ms for the pair); on a shared host the two cores are not always equal, and no split of one run can beat this. "runs 1-50" = the 2-thread session\'s first 50 runs after creation (during the warm-up).\n');
  console.log('| model | 1 thread ms | 2 threads ms | speedup | p10 / p90 2 threads | 2 side by side (capacity) | outputs equal | 2 threads, runs 1-50 |');
  console.log('|---|---|---|---|---|---|---|---|');
  const list: [string, string][] = MODEL_LIST ?? (QUICK ? [['resnet18', 'qdq-ort-s8'], ['mobilenetv2', 'qdq-ort-s8']]
    : [['resnet18', 'qdq-ort-s8'], ['mobilenetv2', 'qdq-ort-s8'], ['resnet18', 'qdq-ort-u8'], ['mobilenetv2', 'qdq-ort-u8'], ['resnet18', 'fp32'], ['mobilenetv2', 'fp32']]);
  const q = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
  for (const [arch, form] of list) {
    let s1: InferenceSession | undefined, s2: InferenceSession | undefined;
    try {
      const bytes = await zooModel(arch as any, form as any);
      s1 = await InferenceSession.create(bytes, { threads: 1 });
      s2 = await InferenceSession.create(bytes, { threads: 2 });
      const feeds = input(s1, 7);
      const o1 = await s1.run(feeds), o2 = await s2.run(feeds);
      const eq = s1.outputNames.every((n) => Buffer.compare(Buffer.from((o1[n].data as any).buffer), Buffer.from((o2[n].data as any).buffer)) === 0);
      // blocks of about 60 ms of 1-thread runs
      const t0 = performance.now();
      await s1.run(feeds);
      const inner = Math.max(3, Math.round(60 / (performance.now() - t0)));
      const pair = () => Promise.all([s2!.run(feeds), s2!.run(feeds)]);
      const { t, early } = await blocks([() => s1!.run(feeds), () => s2!.run(feeds), pair], warm, rounds, inner);
      // ratios paired round by round (adjacent blocks see the same state of the host), median over rounds
      const block = (k: number, r: number) => median(t[k].slice(r * inner, (r + 1) * inner));
      const paired = (f: (r: number) => number) => median(Array.from({ length: rounds }, (_, r) => f(r)));
      const t1 = median(t[0]), t2 = median(t[1]);
      const speedup = paired((r) => block(0, r) / block(1, r)), cap = paired((r) => (2 * block(0, r)) / block(2, r));
      scaling.push({ model: arch, form, ms1: t1, ms2: t2, speedup, capacity: cap, p10: q(t[1], 0.1), p90: q(t[1], 0.9), equal: eq, early: median(early) });
      console.log(`| ${arch} ${form} | ${fmt(t1, 1)} | ${fmt(t2, 1)} | ${fmt(speedup)}x | ${fmt(q(t[1], 0.1), 1)} / ${fmt(q(t[1], 0.9), 1)} | ${fmt(cap)}x | ${eq ? 'yes' : 'NO'} | ${fmt(median(early), 1)} (${fmt(t1 / median(early))}x) |`);
    } catch (e: any) {
      scaling.push({ model: arch, form, ms1: NaN, ms2: NaN, speedup: NaN, capacity: NaN, p10: NaN, p90: NaN, equal: false, early: NaN, error: String(e?.message ?? e).slice(0, 200) });
      console.log(`| ${arch} ${form} | - | - | - | - | - | not runnable yet: ${String(e?.message ?? e).slice(0, 100)} | - |`);
    } finally {
      await s1?.release();
      await s2?.release();
    }
  }
}

async function concurrency(): Promise<void> {
  console.log('\n## Requests: 8 concurrent run() calls vs 8 one at a time on 1 thread (throughput, runs/s)\n');
  console.log('side by side = parallelRequests (default): each queued call whole on one thread; split = parallelRequests: false, one call at a time over both threads.\n');
  console.log('| model | one at a time, 1 thread | 8 concurrent, 1 session x 2 threads, side by side | 8 concurrent, 1 session x 2 threads, split | 8 concurrent, 2 sessions x 2 threads | gain (best) |');
  console.log('|---|---|---|---|---|---|');
  for (const [arch, form] of [['mobilenetv2', 'qdq-ort-s8'], ['resnet18', 'qdq-ort-s8']] as const) {
    try {
      const bytes = await zooModel(arch, form);
      const s1 = await InferenceSession.create(bytes, { threads: 1 });
      const a = await InferenceSession.create(bytes, { threads: 2 });
      const b = await InferenceSession.create(bytes, { threads: 2 });
      const c = await InferenceSession.create(bytes, { threads: 2, parallelRequests: false });
      const feeds = Array.from({ length: 8 }, (_, i) => input(s1, 100 + i));
      const seq = async () => { for (const f of feeds) await s1.run(f); };
      const conc1 = async () => { await Promise.all(feeds.map((f) => a.run(f))); };
      const concSplit = async () => { await Promise.all(feeds.map((f) => c.run(f))); };
      const conc2 = async () => { await Promise.all(feeds.map((f, i) => (i & 1 ? a : b).run(f))); };
      const [ts, tc1] = await ab(seq, conc1, QUICK ? 2 : 4);
      const [ts2, tcs] = await ab(seq, concSplit, QUICK ? 2 : 4);
      const [ts3, tc2] = await ab(seq, conc2, QUICK ? 2 : 4);
      const rps = (ms: number) => (8 * 1000) / ms;
      // each column against the one-at-a-time runs interleaved with it
      const best = Math.max(ts / tc1, ts2 / tcs, ts3 / tc2);
      console.log(`| ${arch} ${form} | ${fmt(rps(ts), 1)} | ${fmt(rps(tc1), 1)} (${fmt(ts / tc1)}x) | ${fmt(rps(tcs), 1)} (${fmt(ts2 / tcs)}x) | ${fmt(rps(tc2), 1)} (${fmt(ts3 / tc2)}x) | ${fmt(best)}x |`);
      await Promise.all([s1.release(), a.release(), b.release(), c.release()]);
    } catch (e: any) {
      console.log(`| ${arch} ${form} | - | - | - | - | not runnable yet: ${String(e?.message ?? e).slice(0, 100)} |`);
    }
  }
}

const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
console.log(`# Octet thread scaling\n\ncommand: npx tsx bench/threads.ts${QUICK ? ' --quick' : ''}`);
console.log(`machine: ${os.cpus().length} x ${cpu}, Node ${process.versions.node}; load average at start ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
const pool = await ThreadPool.create({ threads: 2 });
if (pool.threads < 2) console.log(`(no threads: ${pool.note})`);
if (!process.argv.includes('--models-only')) await gemms(pool);
pool.terminate();
await models();
if (!process.argv.includes('--no-requests')) await concurrency();
console.log(`\nload average at end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
if (process.argv.includes('--json')) console.log(JSON.stringify({ threadScaling: scaling }));
