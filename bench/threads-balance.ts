// Structural thread-scaling estimate (no 2-thread wall clock: valid on a loaded machine).
//   npm run bench:threads-balance -- [--models resnet18:qdq-ort-s8,mobilenetv2:fp32]
//        [--threads 2] [--rounds 9] [--barrier-us 5|auto] [--top 12] [--stat min|median]
// For each model: builds the session's whole-run pool job (ThreadPool.planJob: a phase per step, each phase cut into
// chunks), times every chunk on the calling thread alone (minimum or median over rounds; running the chunks in order is one
// whole run), then simulates the pool's claiming: in each phase each thread works through its home range and then
// steals from the others' (worker.ts runShare), and a phase starts when the one before it is done (barrier).
// Predicted time = sum over phases of (slowest thread's time + the barrier cost); upper bound of the speed-up =
// time of the steps run whole / predicted time.
// The baseline is every step run whole (one range, as a 1-thread session runs it) on the same thread, so the bound
// includes what cutting a step into chunks costs. Also prints the barriers (phases) per run and the phases that
// lose the most (slowest thread minus an even share).
// What it cannot see: memory-bandwidth contention, cores taken by other processes, wake-up latency of a sleeping
// worker. On this 2-core VM an idle measurement (npm run bench:threads -- --models-only) should land below the bound.
// Times are the minimum over rounds by default (--stat min: on a loaded machine the least disturbed sample). The
// 2-thread session's wall time is printed too (only meaningful on a quiet machine).
// --barrier-us auto measures the phase boundary: a plan job of 400 phases of one tiny chunk per thread (x8_fill of
// 64 bytes) on the pool, time per phase (minimum over 30 runs): what a barrier costs on this machine at this load.
import { loadavg, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { InferenceSession, Tensor } from '../src/index.js';
import { zooModel, zooNet, randomInputs, type ArchName, type Form } from '../src/zoo/index.js';
import { runCalls, type KernelCall } from '../src/kernels/types.js';
import { recordCalls, ThreadPool, type PlanJob } from '../src/runtime/pool.js';
import { kernelFromCalls, type KernelIO, type PreparedKernel } from '../src/kernels/types.js';
import { WasmKernels, BumpAllocator } from '../src/runtime/wasm.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'mobilenetv2:qdq-ort-s8,resnet18:qdq-ort-s8,mobilenetv2:fp32,resnet18:fp32' },
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '9' },
    'barrier-us': { type: 'string', default: '5' },
    top: { type: 'string', default: '10' },
    stat: { type: 'string', default: 'min' },
  },
});
const T = Number(values.threads);
const rounds = Number(values.rounds);
let barrierMs = Number(values['barrier-us']) / 1000;
const top = Number(values.top);
const stat = values.stat === 'median' ? 'median' : 'min';
const min = (a: number[]): number => Math.min(...a.filter((x) => x === x));
const med = (a: number[]): number => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * The pool's claiming (worker.ts runShare), simulated: in each phase thread t starts on the front of its home range
 * (the t-th of T contiguous parts of the phase's chunks); a thread out of work steals from the back of the next
 * thread's range that has any left. Returns per-phase makespans and each thread's busy time.
 */
export function simulate(cost: number[], phaseStart: number[], threads: number): { makespan: number[]; perThread: number[][] } {
  const makespan: number[] = [], perThread: number[][] = [];
  for (let k = 0; k + 1 < phaseStart.length; k++) {
    const a = phaseStart[k], m = phaseStart[k + 1] - a;
    const next: number[] = [], end: number[] = [];
    for (let t = 0; t < threads; t++) {
      next.push(a + Math.floor((t * m) / threads));
      end.push(a + Math.floor(((t + 1) * m) / threads));
    }
    const free = new Array(threads).fill(0), busy = new Array(threads).fill(0), out = new Array(threads).fill(false);
    for (;;) {
      let t = -1;
      for (let i = 0; i < threads; i++) if (!out[i] && (t < 0 || free[i] < free[t])) t = i;
      if (t < 0) break;
      let c = -1;
      for (let d = 0; d < threads && c < 0; d++) {
        const v = (t + d) % threads;
        if (next[v] < end[v]) c = d === 0 ? next[v]++ : --end[v];
      }
      if (c < 0) {
        out[t] = true;
        continue;
      }
      free[t] += cost[c];
      busy[t] += cost[c];
    }
    makespan.push(Math.max(...free));
    perThread.push(busy);
  }
  return { makespan, perThread };
}

const pick = (a: number[]): number => (stat === 'min' ? min(a) : med(a));

/** Time per phase boundary of a plan job whose phases are one tiny chunk per thread (ms; minimum over runs). */
async function measureBarrier(threads: number): Promise<number> {
  const pool = await ThreadPool.create({ threads });
  if (pool.threads < threads) throw new Error(`no ${threads} threads: ${pool.note}`);
  const wasm = await WasmKernels.create('simd128', { shared: true });
  const inst = await pool.attach(wasm);
  const mem = new BumpAllocator(wasm);
  const buf = mem.alloc(64 * threads * 2);
  const phases = 400;
  const kernel = kernelFromCalls({
    variant: 'x8_fill', constants: new Uint8Array(0), scratchBytes: 0, workItems: threads, cost: 1e9,
    calls: (io, b, e) => [{ fn: 'x8_fill', args: [io.outputs[0] + b * 128, b, (e - b) * 64] }],
  });
  const steps = Array.from({ length: phases }, () => ({ kernel, io: { inputs: [], outputs: [buf], constants: 0, scratch: 0 } }));
  const job = pool.planJob(inst, steps)!;
  const t: number[] = [];
  for (let r = 0; r < 30; r++) {
    const t0 = performance.now();
    const w = pool.runPlanJob(inst, job);
    if (w) await w;
    t.push((performance.now() - t0) / phases);
  }
  pool.terminate();
  return Math.min(...t);
}

if (values['barrier-us'] === 'auto') {
  barrierMs = await measureBarrier(T);
  values['barrier-us'] = `${(barrierMs * 1000).toFixed(1)} (measured)`;
}
console.log(`bench/threads-balance.ts --stat ${stat} --threads ${T} --rounds ${rounds} --barrier-us ${values['barrier-us']} · ${cpus().length} x ${cpus()[0]?.model}, Node ${process.version} · load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
for (const spec of values.models!.split(',')) {
  const [arch, form] = spec.split(':') as [ArchName, Form];
  const bytes = await zooModel(arch, form);
  const sN = await InferenceSession.create(bytes, { threads: T });
  const s1 = await InferenceSession.create(bytes, { threads: 1 });
  const x = randomInputs(await zooNet(arch), 1, 7);
  const feed = { [sN.inputNames[0]]: new Tensor('float32', x, [1, 3, 224, 224]) };
  await sN.run(feed);
  const internals = sN as unknown as { job: { plan: { steps: { name: string; op: string; kernel: { variant: string; workItems: number } }[] }; job: PlanJob | null } | null; wasm: { exports: Record<string, any> } };
  const job = internals.job?.job;
  if (!job) {
    const plan = internals.job?.plan as unknown as { steps: { name: string; op: string; kernel: PreparedKernel; io: KernelIO }[] } | undefined;
    const bad = plan?.steps.find((st) => !st.kernel.calls && !recordCalls(st.kernel, internals.wasm as never, st.io, 0, st.kernel.workItems));
    console.log(`\n## ${arch} ${form}: no plan job (${bad ? `step '${bad.name}' (${bad.op}, ${bad.kernel.variant}) is not replayable by a worker` : 'too large for the command area, or 1 thread'})`);
    continue;
  }
  const steps = internals.job!.plan.steps;
  const wasm = internals.wasm;
  const chunks: KernelCall[][] = job.chunks as KernelCall[][];
  const times: number[][] = chunks.map(() => []);
  // each step whole (all its items in one range), as a 1-thread session runs it: the baseline of the speed-up
  const full = (steps as unknown as { kernel: PreparedKernel; io: KernelIO }[]).map((st) => st.kernel.calls
    ? st.kernel.calls(st.io, 0, st.kernel.workItems) : recordCalls(st.kernel, wasm as never, st.io, 0, st.kernel.workItems)!);
  const wholeTimes: number[][] = full.map(() => []);
  const runs1: number[] = [], runsN: number[] = [];
  await s1.run(feed);
  for (let r = 0; r < rounds; r++) {
    const tN = performance.now();
    await sN.run(feed);
    runsN.push(performance.now() - tN);

    for (let c = 0; c < chunks.length; c++) {
      const t0 = performance.now();
      runCalls(wasm, chunks[c]);
      times[c].push(performance.now() - t0);
    }
    for (let i = 0; i < full.length; i++) {
      const t0 = performance.now();
      runCalls(wasm, full[i]);
      wholeTimes[i].push(performance.now() - t0);
    }
    const t0 = performance.now();
    await s1.run(feed);
    runs1.push(performance.now() - t0);
  }
  const cost = times.map(pick);
  const serial = cost.reduce((a, b) => a + b, 0);
  const wholeStep = wholeTimes.map(pick);
  const whole = wholeStep.reduce((a, b) => a + b, 0);
  const { makespan, perThread } = simulate(cost, job.phaseStart, T);
  const phases = makespan.length;
  const spanSum = makespan.reduce((a, b) => a + b, 0);
  const predicted = spanSum + phases * barrierMs;
  const oneChunk = job.phaseStart.slice(0, -1).filter((p, k) => job.phaseStart[k + 1] - p === 1);
  const oneChunkMs = oneChunk.reduce((a, p) => a + cost[p], 0);
  console.log(`\n## ${arch} ${form}: ${phases} phases (barriers), ${chunks.length} chunks, ${oneChunk.length} one-chunk phases (${oneChunkMs.toFixed(3)} ms serial)`);
  console.log(`  one thread: steps whole ${whole.toFixed(2)} ms, chunks in order ${serial.toFixed(2)} ms (cutting costs ${(100 * (serial / whole - 1)).toFixed(1)}%) · 1-thread session run ${pick(runs1).toFixed(2)} ms (wall clock, at this load)`);
  console.log(`  ${T} threads: sum of phase makespans ${spanSum.toFixed(2)} ms (ideal ${(serial / T).toFixed(2)}; idle share ${(100 * (1 - serial / (T * spanSum))).toFixed(1)}%)`
    + ` + ${phases} x ${values['barrier-us']} us barriers = ${predicted.toFixed(2)} ms`);
  console.log(`  predicted ${T}-thread speed-up bound: ${(whole / predicted).toFixed(2)}x (steps whole / predicted; ${(serial / spanSum).toFixed(2)}x chunk sum / makespans)`);
  console.log(`  measured ${T}-thread session run (wall clock, at this load): ${pick(runsN).toFixed(2)} ms`);
  const loss = makespan.map((m, k) => ({ k, loss: m - perThread[k].reduce((a, b) => a + b, 0) / T, m, n: job.phaseStart[k + 1] - job.phaseStart[k] }));
  loss.sort((a, b) => b.loss - a.loss);
  console.log(`  phases losing most (slowest thread - even share):`);
  const cut = wholeStep.map((w, k) => ({ k, extra: cost.slice(job.phaseStart[k], job.phaseStart[k + 1]).reduce((a, b) => a + b, 0) - w }));
  cut.sort((a, b) => b.extra - a.extra);
  console.log(`  steps costing most to cut (chunks in order - step whole): ${cut.slice(0, top).map((c) => `#${c.k} ${steps[c.k].kernel.variant} ${(c.extra * 1000).toFixed(0)} us`).join(', ')}`);
  for (const l of loss.slice(0, top)) {
    const s = steps[l.k];
    console.log(`    #${String(l.k).padStart(3)} ${s.op.padEnd(14)} ${s.kernel.variant.padEnd(36)} items ${String(s.kernel.workItems).padStart(4)} chunks ${String(l.n).padStart(2)}`
      + ` span ${(l.m * 1000).toFixed(0).padStart(5)} us loss ${(l.loss * 1000).toFixed(0).padStart(4)} us  [${perThread[l.k].map((v) => (v * 1000).toFixed(0)).join(' / ')}]`);
  }
  await sN.release();
  await s1.release();
}
process.exit(0);
