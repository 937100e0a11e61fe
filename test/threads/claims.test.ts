// The claiming protocol (src/runtime/worker.ts runShare / writeClaims) on one thread, without workers: every chunk of
// every phase is run exactly once, phases in order, a thread's own range front to back and the others' stolen from
// the back; a thread of an older job (other generation tag) claims nothing; PENDING ends at 0 and each phase's end is
// stamped once. Two threads sharing a job are covered by the pool and session suites (1..4 threads bit-identical).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CTL, CLAIM_WORDS, runShare, writeClaims, type ShareContext } from '../../src/runtime/worker.js';

function job(phaseStart: number[], threads: number, gen: number) {
  const ctl = new Int32Array(new SharedArrayBuffer(CTL.LENGTH * 4));
  const claims = new Int32Array(new SharedArrayBuffer(CLAIM_WORDS * 4));
  const nPhases = phaseStart.length - 1;
  const total = phaseStart[nPhases];
  const cmd = new Float64Array(4 + nPhases + 1);
  cmd[1] = total;
  cmd[2] = nPhases;
  cmd[3] = threads;
  phaseStart.forEach((p, k) => (cmd[4 + k] = p));
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

test.run();
