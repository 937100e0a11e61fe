// Where a 2-thread run loses time, measured in real runs (ThreadPool.setTrace: every thread stamps, per phase, when it
// started waiting, saw the phase open, how long its chunks ran and when it had nothing left to claim).
//   npm run bench:threads-trace -- [--models mobilenetv2:qdq-ort-s8,resnet18:qdq-ort-s8] [--rounds 21] [--top 8]
//        [--stat median|min]
// Per round, interleaved in one process: a 1-thread session run (per-step times from profile()), the 2-thread job's
// chunks run in order on the calling thread alone (the cut work without a second thread), and a traced 2-thread
// session run; also an untraced 2-thread session with a barrier before every phase (ThreadPool.localPhases = false:
// no local phases), to see what dropping barriers gains. The 2-thread wall time W is split exactly, run by run, against half the 1-thread wall time X:
//   W - X/2 = outside   (2-thread time outside the pool job - half of the 1-thread time outside its steps: feeds,
//                        outputs, JS per run; one thread does it while the other idles)
//           + cutting   (chunks in order alone - the steps whole, / 2: what splitting a node costs on one thread)
//           + slowdown  (sum over threads of chunk run time in the 2-thread run - chunks alone, / 2: a chunk run
//                        while the other core works: shared cache and memory bandwidth, frequency)
//           + imbalance (sum of waits for a phase to open until the other thread's last chunk of the phase before
//                        ended, / 2)
//           + wake      (sum of waits from that moment until the thread saw the phase open, / 2: barrier latency,
//                        a sleeping thread's wake-up)
//           + lag       (time before a thread reached its first phase (a worker waking up) and after it left its last, / 2)
//           + claiming  (the rest of the time inside the job: claims, counters, between phases, / 2)
// Each term is the median over rounds (so they need not add up exactly to the median loss); --stat min takes the
// fastest 1-thread run and the fastest 2-thread run instead (a loaded machine: the least disturbed samples), whose
// terms add up exactly. Also prints the phases
// losing most (phase span - half the 1-thread step time; medians over rounds in both modes). Tracing adds two clock
// reads per chunk and four per phase.
// Only meaningful on a quiet machine (the load average is printed).
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { InferenceSession, Tensor } from '../src/index.js';
import { zooModel, zooNet, randomInputs, type ArchName, type Form } from '../src/zoo/index.js';
import { runCalls, type KernelCall } from '../src/kernels/types.js';
import type { PlanJob, ThreadPool, JobTrace } from '../src/runtime/pool.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'mobilenetv2:qdq-ort-s8,resnet18:qdq-ort-s8' },
    rounds: { type: 'string', default: '21' },
    top: { type: 'string', default: '8' },
    stat: { type: 'string', default: 'median' },
  },
});
// median: each figure the median over rounds; min: the least disturbed samples (a loaded machine): the fastest
// 1-thread run and the fastest 2-thread run, whose terms then add up exactly
const stat = values.stat === 'min' ? 'min' : 'median';
const rounds = Number(values.rounds);
const top = Number(values.top);
const med = (a: number[]): number => {
  const s = a.filter((x) => x === x).sort((p, q) => p - q);
  return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sum = (a: number[]): number => a.reduce((p, q) => p + (q === q ? q : 0), 0);
const ms = (x: number, d = 2) => x.toFixed(d);
const la = () => loadavg().map((v) => v.toFixed(2)).join(' ');

/** Per-phase figures of one traced run: the loss terms (ms, summed over threads) and per-phase spans. */
function analyse(tr: JobTrace) {
  const T = tr.threads;
  let busy = 0, imbalance = 0, wake = 0, lag = 0;
  const span: number[] = [], busyK: number[] = [], waitK: number[] = [];
  const first: number[] = new Array(T).fill(NaN), last: number[] = new Array(T).fill(NaN);
  let prevEnd = 0;
  for (let k = 0; k < tr.phases.length; k++) {
    const p = tr.phases[k];
    // the phase ends when the last thread that ran a chunk of it is done
    let end = -Infinity;
    for (let t = 0; t < T; t++) if (p.chunks[t] > 0) end = Math.max(end, p.done[t]);
    busy += sum(p.busy);
    busyK.push(sum(p.busy));
    let w = 0;
    for (let t = 0; t < T; t++) {
      if (!(p.open[t] === p.open[t])) continue;
      if (!(first[t] === first[t])) first[t] = p.ready[t];
      last[t] = p.done[t];
      // the phase could open once the last thread finished the phase before (prevEnd): waiting until then is
      // imbalance, after it latency (a thread that arrives after the phase opened waited for nothing)
      const ready = p.ready[t], open = p.open[t];
      const split = Math.min(Math.max(prevEnd, ready), open);
      imbalance += split - ready;
      wake += open - split;
      w += open - ready;
    }
    waitK.push(w);
    span.push(end === -Infinity ? NaN : end - prevEnd);
    if (end !== -Infinity) prevEnd = end;
  }
  // before a thread reached its first phase (a worker waking up) and after it left its last one
  for (let t = 0; t < T; t++) lag += first[t] === first[t] ? first[t] + (tr.end - last[t]) : tr.end;
  const inJob = T * tr.end;
  return { busy, imbalance, wake, lag, claiming: inJob - busy - imbalance - wake - lag, span, busyK, waitK };
}

/** The loss terms of one 2-thread run against a 1-thread run (see the header). */
function addTerms(terms: Record<string, number[]>, W1: number, Y: number, Yc: number, W2: number, end: number, a: ReturnType<typeof analyse>): void {
  terms.loss.push(W2 - W1 / 2);
  terms.outside.push((W2 - end) - (W1 - Y) / 2);
  terms.cutting.push((Yc - Y) / 2);
  terms.slowdown.push((a.busy - Yc) / 2);
  terms.imbalance.push(a.imbalance / 2);
  terms.wake.push(a.wake / 2);
  terms.lag.push(a.lag / 2);
  terms.claiming.push(a.claiming / 2);
}

console.log(`bench/threads-trace.ts --rounds ${rounds} --stat ${stat} · ${cpus().length} x ${cpus()[0]?.model}, Node ${process.version} · load average ${la()}`);
for (const spec of values.models!.split(',')) {
  const [arch, form] = spec.split(':') as [ArchName, Form];
  const bytes = await zooModel(arch, form);
  const s1 = await InferenceSession.create(bytes, { threads: 1 });
  const s2 = await InferenceSession.create(bytes, { threads: 2 });
  // the same with a barrier before every phase (no local phases: ThreadPool.localPhases), for comparison
  const s2b = await InferenceSession.create(bytes, { threads: 2 });
  const x = randomInputs(await zooNet(arch), 1, 7);
  const feed = { [s2.inputNames[0]]: new Tensor('float32', x, [1, 3, 224, 224]) };
  await s1.run(feed);
  await s2.run(feed);
  const sharedPool = (s2b as unknown as { pool: ThreadPool }).pool;
  sharedPool.localPhases = false;
  await s2b.run(feed);
  sharedPool.localPhases = true;
  const internals = s2 as unknown as { pool: ThreadPool; job: { plan: { steps: { name: string; op: string; kernel: { variant: string; workItems: number } }[] }; job: PlanJob | null } | null; wasm: { exports: Record<string, any> } };
  const job = internals.job?.job;
  if (!job) {
    console.log(`\n## ${arch} ${form}: no plan job (a step is not replayable, or 1 thread): nothing to trace`);
    continue;
  }
  const pool = internals.pool;
  const steps = internals.job!.plan.steps;
  const nPhases = job.phaseStart.length - 1;
  const chunks = job.chunks as KernelCall[][];
  const terms: Record<string, number[]> = { loss: [], outside: [], cutting: [], slowdown: [], imbalance: [], wake: [], lag: [], claiming: [] };
  const w1: number[] = [], w2: number[] = [], w2b: number[] = [], y1: number[] = [], yc: number[] = [], jobMs: number[] = [];
  const step1: number[][] = steps.map(() => []), chunkK: number[][] = steps.map(() => []), spanK: number[][] = steps.map(() => []);
  const busyK: number[][] = steps.map(() => []), waitK: number[][] = steps.map(() => []);
  const perThreadBusy: number[][] = [[], []];
  const perRound: { W2: number; end: number; a: ReturnType<typeof analyse> }[] = [];
  for (let r = 0; r < rounds + 2; r++) {
    // 1 thread: wall and per-step times
    let t0 = performance.now();
    await s1.run(feed);
    const W1 = performance.now() - t0;
    const prof = s1.profile().nodes.map((n) => n.ms);
    // the 2-thread job's chunks in order, alone on this thread (the job stays resident: runCalls only)
    const ck: number[] = [];
    for (let k = 0; k < nPhases; k++) {
      t0 = performance.now();
      for (let c = job.phaseStart[k]; c < job.phaseStart[k + 1]; c++) runCalls(internals.wasm as never, chunks[c]);
      ck.push(performance.now() - t0);
    }
    // 2 threads, barrier before every phase (untraced)
    t0 = performance.now();
    await s2b.run(feed);
    const W2b = performance.now() - t0;
    // 2 threads, traced
    pool.setTrace(true);
    t0 = performance.now();
    await s2.run(feed);
    const W2 = performance.now() - t0;
    const tr = pool.lastTrace()!;
    pool.setTrace(false);
    if (r < 2) continue; // warm-up
    const a = analyse(tr);
    const Y = sum(prof), Yc = sum(ck);
    w1.push(W1); w2.push(W2); w2b.push(W2b); y1.push(Y); yc.push(Yc); jobMs.push(tr.end);
    perRound.push({ W2, end: tr.end, a });
    addTerms(terms, W1, Y, Yc, W2, tr.end, a);
    for (let k = 0; k < nPhases; k++) {
      step1[k].push(prof[k]);
      chunkK[k].push(ck[k]);
      spanK[k].push(a.span[k]);
      busyK[k].push(a.busyK[k]);
      waitK[k].push(a.waitK[k]);
    }
    for (let t = 0; t < 2; t++) perThreadBusy[t].push(sum(tr.phases.map((p) => p.busy[t])));
  }
  let X = med(w1), W = med(w2), J = med(jobMs);
  const W2b = stat === 'min' ? Math.min(...w2b) : med(w2b);
  if (stat === 'min') {
    // the fastest 1-thread run against the fastest 2-thread run (and its trace)
    const r1 = w1.indexOf(Math.min(...w1)), r2 = w2.indexOf(Math.min(...w2));
    X = w1[r1];
    W = w2[r2];
    J = perRound[r2].end;
    for (const k of Object.keys(terms)) terms[k] = [];
    addTerms(terms, X, y1[r1], Math.min(...yc), W, perRound[r2].end, perRound[r2].a);
  }
  const local = job.deps.filter((d) => d === 1).length;
  console.log(`\n## ${arch} ${form}: ${nPhases} phases (${local} without a barrier), ${chunks.length} chunks · load average ${la()}`);
  console.log(`1 thread: run ${ms(X)} ms (steps ${ms(stat === 'min' ? y1[w1.indexOf(X)] : med(y1))} ms) · 2 threads: run ${ms(W)} ms, job ${ms(J)} ms · speed-up ${ms(X / W)}x (${stat === 'min' ? 'fastest' : 'medians'} of ${rounds})`);
  console.log(`2 threads with a barrier before every phase: run ${ms(W2b)} ms, speed-up ${ms(X / W2b)}x (untraced)`);
  console.log(`chunk run time per thread in the 2-thread run: ${perThreadBusy.map((b) => ms(med(b))).join(' / ')} ms (thread 0 = the calling thread); chunks alone in order ${ms(med(yc))} ms\n`);
  console.log(`| 2-thread run above half the 1-thread run (ms, ${stat === 'min' ? 'fastest runs' : 'median over rounds'}) | ms | share of 2-thread run |`);
  console.log('|---|---|---|');
  const names: Record<string, string> = {
    loss: 'total: W - X/2', outside: 'outside the job (feeds, outputs, JS)', cutting: 'cutting nodes into chunks (one thread)',
    slowdown: 'chunks slower beside the other core', imbalance: 'waiting for the other thread at phase ends (imbalance)',
    wake: 'barrier latency after the last chunk (seeing the phase open, wake-up)', lag: 'a thread not yet in the job (worker wake-up) or already out of it', claiming: 'claiming, counters, between phases',
  };
  for (const [k, v] of Object.entries(terms)) console.log(`| ${names[k]} | ${ms(med(v), 3)} | ${(100 * med(v) / W).toFixed(1)}% |`);
  // phases losing most
  const rows = steps.map((s, k) => ({ k, s, span: med(spanK[k]), one: med(step1[k]), alone: med(chunkK[k]), busy: med(busyK[k]), wait: med(waitK[k]) }))
    .map((r) => ({ ...r, loss: r.span - r.one / 2 }));
  rows.sort((p, q) => q.loss - p.loss);
  console.log(`\nphases losing most (span in the 2-thread run - half the 1-thread step), us:\n`);
  console.log('| # | op | kernel | chunks | 1-thread step | chunks alone | busy (both threads) | waits (both) | span | loss |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows.slice(0, top)) {
    const us = (v: number) => (v * 1000).toFixed(0);
    console.log(`| ${r.k} | ${r.s.op} | ${r.s.kernel.variant} | ${job.phaseStart[r.k + 1] - job.phaseStart[r.k]} | ${us(r.one)} | ${us(r.alone)} | ${us(r.busy)} | ${us(r.wait)} | ${us(r.span)} | ${us(r.loss)} |`);
  }
  const lossAll = rows.reduce((a, r) => a + (r.loss === r.loss ? r.loss : 0), 0);
  console.log(`\nsum of phase losses ${ms(lossAll, 3)} ms over ${nPhases} phases (${ms((1000 * lossAll) / nPhases, 1)} us per phase)`);
  await s1.release();
  await s2.release();
  await s2b.release();
}
process.exit(0);
