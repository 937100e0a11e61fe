// The claiming protocol (src/runtime/worker.ts runShare / writeClaims) on one thread, without workers: every chunk of
// every phase is run exactly once, phases in order, a thread's own range front to back and the others' stolen from
// the back; a thread of an older job (other generation tag) claims nothing; PENDING ends at 0 and each phase's end is
// stamped once. Local phases (no barrier: range r waits only for range r of the phase before): a thread runs its own
// range without waiting for the other ranges, skips another range whose dependency is not met, and takes it later;
// localDeps (pool.ts) makes a phase local only when no other range of the chain can conflict. Two threads sharing a
// job are covered by the pool and session suites (1..4 threads bit-identical).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CTL, CLAIM_WORDS, runShare, writeClaims, type ShareContext } from '../../src/runtime/worker.js';
import { localDeps } from '../../src/runtime/pool.js';
import type { KernelAccess } from '../../src/kernels/types.js';

function job(phaseStart: number[], threads: number, gen: number, deps?: number[]) {
  const ctl = new Int32Array(new SharedArrayBuffer(CTL.LENGTH * 4));
  const claims = new Int32Array(new SharedArrayBuffer(CLAIM_WORDS * 4));
  const nPhases = phaseStart.length - 1;
  const total = phaseStart[nPhases];
  const cmd = new Float64Array(4 + 2 * nPhases + 1);
  cmd[1] = total;
  cmd[2] = nPhases;
  cmd[3] = threads;
  phaseStart.forEach((p, k) => (cmd[4 + k] = p));
  deps?.forEach((d, k) => (cmd[4 + nPhases + 1 + k] = d));
  writeClaims(claims, gen, threads, phaseStart);
  Atomics.store(ctl, CTL.PENDING, total);
  Atomics.store(ctl, CTL.GEN, gen);
  return { ctl, claims, cmd };
}

function share(j: ReturnType<typeof job>, me: number, gen: number, ran: number[], stamps: number[]): ShareContext {
  return {
    ...j, layout: CTL, gen, me, run: (c) => ran.push(c), count: () => {}, stamp: (k) => stamps.push(k),
    now: () => performance.now(), spinMs: 0.1, canBlock: false, budgetMs: 50, progress: () => 0,
  };
}

test('one thread alone runs every chunk once: own range first, then the others stolen from the back', () => {
  for (const [phaseStart, threads] of [[[0, 7, 8, 20], 2], [[0, 5, 6, 9, 41], 3], [[0, 1], 4], [[0, 16, 32], 2]] as const) {
    for (let me = 0; me < threads; me++) {
      const gen = 1000 + me; // tags wrap at 1024: also checks a negative claim word
      const j = job([...phaseStart], threads, gen);
      const ran: number[] = [], stamps: number[] = [];
      const n = runShare(share(j, me, gen, ran, stamps));
      const total = phaseStart[phaseStart.length - 1];
      assert.is(n, total);
      assert.equal([...ran].sort((a, b) => a - b), Array.from({ length: total }, (_, i) => i), `every chunk once (threads ${threads}, me ${me})`);
      assert.is(Atomics.load(j.ctl, CTL.PENDING), 0);
      assert.equal(stamps, Array.from({ length: phaseStart.length - 1 }, (_, k) => k), 'each phase stamped once, in order');
      // per phase: this thread's home range in order, then each other range (me+1, me+2, ...) from its back
      let at = 0;
      for (let k = 0; k + 1 < phaseStart.length; k++) {
        const a = phaseStart[k], m = phaseStart[k + 1] - a;
        const want: number[] = [];
        for (let d = 0; d < threads; d++) {
          const t = (me + d) % threads;
          const b = a + Math.floor((t * m) / threads), e = a + Math.floor(((t + 1) * m) / threads);
          const r = Array.from({ length: e - b }, (_, i) => b + i);
          want.push(...(d === 0 ? r : r.reverse()));
        }
        assert.equal(ran.slice(at, at + m), want, `phase ${k} order`);
        at += m;
      }
    }
  }
});

test('a thread of an older job claims nothing and leaves at once', () => {
  const j = job([0, 4, 9], 2, 7);
  const ran: number[] = [];
  // its job (gen 6) ended; gen 7 is running: GEN differs and the claim words carry tag 7
  assert.is(runShare(share(j, 1, 6, ran, [])), 0);
  assert.equal(ran, []);
  assert.is(Atomics.load(j.ctl, CTL.PENDING), 9);
  // a job older by exactly 1024 generations has the same tag but not the same GEN: it stops at the first phase wait
  const j2 = job([0, 4, 9], 2, 7 + 1024);
  Atomics.store(j2.ctl, CTL.PENDING, 9);
  assert.is(runShare(share(j2, 1, 7, [], [])), 0);
});

test('a phase does not start before the earlier phases are done: gives up after the budget', () => {
  const j = job([0, 4, 6], 2, 3);
  // pretend thread 1 holds two chunks of phase 0: this thread runs the rest of phase 0, then waits for phase 1
  Atomics.store(j.claims, 1 * 16 + 0, (3 << 22) | (4 << 11) | 4); // thread 1's range of phase 0: taken
  const ran: number[] = [];
  const x = share(j, 0, 3, ran, []);
  const t0 = performance.now();
  assert.is(runShare(x), 2);
  assert.ok(x.gaveUp && performance.now() - t0 >= 50, 'waited for the budget, then gave up');
  assert.equal(ran, [0, 1]);
  assert.is(Atomics.load(j.ctl, CTL.PENDING), 4);
});

/** Home range t of a phase of m chunks (chunk indices relative to the phase). */
const home = (m: number, threads: number, t: number) => [Math.floor((t * m) / threads), Math.floor(((t + 1) * m) / threads)];

test('local phases, one thread alone: every chunk once, each after the range it depends on', () => {
  // phases: 6 chunks (barrier), 4 (local), 8 (local), 3 (barrier), 6 (local)
  const phaseStart = [0, 6, 10, 18, 21, 27], deps = [0, 1, 1, 0, 1];
  for (const threads of [2, 3]) {
    for (let me = 0; me < threads; me++) {
      const gen = 40 + me;
      const j = job(phaseStart, threads, gen, deps);
      const ran: number[] = [], stamps: number[] = [];
      assert.is(runShare(share(j, me, gen, ran, stamps)), 27);
      assert.equal([...ran].sort((a, b) => a - b), Array.from({ length: 27 }, (_, i) => i));
      assert.is(Atomics.load(j.ctl, CTL.PENDING), 0);
      assert.equal([...stamps].sort(), [0, 1, 2, 3, 4]);
      const when = new Map(ran.map((c, i) => [c, i]));
      for (let k = 1; k < 5; k++) {
        const a = phaseStart[k], m = phaseStart[k + 1] - a, pa = phaseStart[k - 1], pm = a - pa;
        for (let c = a; c < a + m; c++) {
          const r = Math.floor(((c - a) * threads + threads - 1) / m); // the home range holding c
          const [b, e] = home(m, threads, r);
          assert.ok(c - a >= b && c - a < e);
          // local: range r of the phase before; barrier: every earlier chunk
          const need = deps[k] ? (() => { const [pb, pe] = home(pm, threads, r); return Array.from({ length: pe - pb }, (_, i) => pa + pb + i); })() : Array.from({ length: a }, (_, i) => i);
          for (const d of need) assert.ok(when.get(d)! < when.get(c)!, `threads ${threads} me ${me}: chunk ${c} ran before ${d}`);
        }
      }
    }
  }
});

test('local phases: a range runs without waiting for the other ranges; a range whose dependency is not met is left, then taken', () => {
  // two threads; phase 0: 4 chunks (barrier), phase 1: 4 (local), phase 2: 4 (local). Thread 1 holds chunk 3 of
  // phase 0 (its home range [2, 4), chunk 2 done): thread 0 runs its own ranges of phases 1 and 2 without waiting,
  // leaves thread 1's (their dependency is not met), waits for the job's end and gives up after the budget.
  const gen = 9;
  const j = job([0, 4, 8, 12], 2, gen, [0, 1, 1]);
  const stride = 16;
  Atomics.store(j.claims, 1 * stride + 0, ((gen & 0x3ff) << 22) | (4 << 11) | 4); // range 1 of phase 0: all claimed
  Atomics.sub(j.claims, (2 + 1) * stride + 0, 1); // ... chunk 2 done
  Atomics.sub(j.claims, 4 * stride + 0, 1);
  Atomics.sub(j.ctl, CTL.PENDING, 1);
  const ran: number[] = [];
  const x = share(j, 0, gen, ran, []);
  assert.is(runShare(x), 2 + 2 + 2);
  assert.ok(x.gaveUp, 'waited for the rest, then gave up');
  assert.equal(ran, [0, 1, 4, 5, 8, 9], 'its own ranges, nothing of range 1 past phase 0');
  // thread 1 finishes chunk 3; thread 0 now takes the ranges it left (each once its dependency is met)
  Atomics.sub(j.claims, (2 + 1) * stride + 0, 1);
  Atomics.sub(j.claims, 4 * stride + 0, 1);
  Atomics.sub(j.ctl, CTL.PENDING, 1);
  const x2 = share(j, 0, gen, ran, []);
  assert.is(runShare(x2), 4);
  assert.equal(ran.slice(6), [7, 6, 11, 10], 'ranges left before, stolen from the back, phase by phase');
  assert.is(Atomics.load(j.ctl, CTL.PENDING), 0);
});

test('localDeps: local only where no other range of the chain conflicts', () => {
  // a range of 100-byte rows: [base + 100 r0, base + 100 r1)
  const rows = (base: number, r0: number, r1: number): [number, number] => [base + 100 * r0, base + 100 * r1];
  const rowwise = (inp: number, out: number): KernelAccess[] => [0, 1].map((r) => ({ reads: [rows(inp, 4 * r, 4 * r + 4)], writes: [rows(out, 4 * r, 4 * r + 4)] }));
  const halo = (inp: number, out: number): KernelAccess[] => [0, 1].map((r) => ({ reads: [rows(inp, Math.max(0, 4 * r - 1), Math.min(8, 4 * r + 5))], writes: [rows(out, 4 * r, 4 * r + 4)] }));
  const A = 0, B = 10000, C = 20000, D = 30000;
  // row-wise chain: every phase after the first is local
  assert.equal(localDeps([rowwise(A, B), rowwise(B, C), rowwise(C, D)]), [0, 1, 1]);
  // a 3x3 (reads the neighbour rows) after a row-wise phase keeps its barrier; a row-wise phase after it is local
  assert.equal(localDeps([rowwise(A, B), halo(B, C), rowwise(C, D)]), [0, 0, 1]);
  // no access (null) breaks the chain, and the phase after it has a barrier too
  assert.equal(localDeps([rowwise(A, B), null, rowwise(C, D), rowwise(D, A)]), [0, 0, 0, 1]);
  // write after read: phase 2 writes rows of A that range 1 of phase 0 (same chain) reads: barrier
  const war = [{ reads: [rows(C, 0, 4)], writes: [rows(A, 4, 8)] }, { reads: [rows(C, 4, 8)], writes: [rows(A, 8, 12)] }];
  assert.equal(localDeps([rowwise(A, B), rowwise(B, C), war]), [0, 1, 0]);
  // ... but not once a barrier separates them
  assert.equal(localDeps([rowwise(A, B), halo(B, C), war]), [0, 0, 1]);
  // ranges out of step (range r reads what range r' wrote): barrier
  const swapped: KernelAccess[] = [1, 0].map((r) => ({ reads: [rows(B, 4 * r, 4 * r + 4)], writes: [rows(C, 4 * (1 - r), 4 * (1 - r) + 4)] }));
  assert.equal(localDeps([rowwise(A, B), swapped]), [0, 0]);
});

test.run();
