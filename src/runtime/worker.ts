// The code each pool worker runs, and the layout of the control block it shares with the pool.
// `workerMain` is shipped as source text (Function.prototype.toString) into a worker_threads eval worker
// or a Blob-URL Web Worker, so it must be self-contained: no imports, no closures over module scope.
//
// Protocol (no message per node): a node's work items are cut into static contiguous ranges ("chunks", a few per
// thread); the pool writes every chunk's export calls into the command area (a Float64Array over a
// SharedArrayBuffer), sets PENDING = number of chunks, writes the claim words (below), bumps GEN and notifies it.
// Phases: chunks [phaseStart[k], phaseStart[k+1]) form phase k (one node); a thread starts on phase k once every
// chunk of the earlier phases is done (PENDING <= nChunks - phaseStart[k]; it spins up to spinMs, then sleeps in
// Atomics.wait on PENDING), so a whole run of a model can be one job with no return to the calling thread between
// nodes. A one-node job is one phase.
// Claiming (runShare, the same code on every thread): each phase's chunks are dealt out as T contiguous home ranges,
// range t to thread t (0 = the calling thread), so a thread tends to read what it wrote in the phase before (the
// same pixel rows) from its own cache. A thread takes chunks from the front of its own range, then steals from the
// back of the others' ranges; a claim is a compare-and-swap on the range's claim word, [tag:10 | next:11 | end:11]
// (chunk indices relative to the phase; tag = GEN & 0x3ff, so a thread still in an older job never claims). Claim
// words sit in their own SharedArrayBuffer, thread t's for phase k at t * stride + k (stride = nPhases rounded up
// to 16: each thread's words on their own cache lines). When a thread finds nothing left in a range of a phase it
// subtracts the chunks it ran there from that range's and that phase's counters (after the claim words) and from
// PENDING (a few atomics per thread and phase, not per chunk); the one that empties the phase stamps its end time
// (phaseTimes, for the session's profile), and one that empties a range notifies PENDING. A thread that wakes
// late finds its range taken and does nothing, so a descheduled worker (a busy machine) costs no more than running
// its chunks on the calling thread. Outputs do not depend on which thread ran a chunk: each item is computed by one
// thread, the same way.
// Local phases (pool.ts planJob): a phase whose home range r reads only what range r of the phase before wrote, and
// whose ranges cannot conflict with other ranges still running (byte intervals from PreparedKernel.access), has
// dep 1: range r starts when range r of the phase before is done (counters of chunks left per home range), with no
// barrier; a thread steals another range of it only once that range's dependency is met, else leaves it to its
// owner (or to a thread that waits later: help). The first phase of such a chain keeps its barrier, so a chain never
// overlaps what came before it.
// Command area (a "job"): [instanceId, nChunks, nPhases, T, phaseStart[0..nPhases], dep[0..nPhases-1],
// chunkOffset[0..nChunks-1]], then
// per chunk at its offset: [nCalls, scratchStride, (fnIndex, argc, scratchMask, arg0 .. argc-1) * nCalls]. fnIndex
// indexes the instance's export list (WebAssembly.Module.exports order, the same on both sides). Chunks are
// recorded with scratch slot 0; thread t (worker index + 1) adds t * scratchStride to the arguments whose bit is set
// in scratchMask, so any thread can run any chunk with its own scratch (a node may have more chunks than threads).
// A worker that throws (a wasm trap, a missing instance) writes the message into its error slot, counts
// itself in ERRORS and still decrements PENDING, so the pool turns it into a rejected promise and goes on.
// Messages (init, attach, detach) are only handled while the worker idles in Atomics.waitAsync: the pool
// sets the worker's YIELD flag and notifies GEN to make a busy-waiting worker go back to its event loop.

/**
 * Int32 indices into the control block. What the main thread spins on (PENDING) and what workers spin on
 * (GEN, SHUTDOWN, YIELD) sit on different 64-byte cache lines: sharing one line made a round trip ~100x
 * slower on this 2-core VM (measured with a ping-pong microbenchmark, 0.3-3 us vs 150 us).
 */
export const CTL = {
  GEN: 0,
  SHUTDOWN: 1,
  PENDING: 16,
  ERRORS: 32,
  /** YIELD + t: worker t should return to its event loop to read messages. */
  YIELD: 48,
  /** Non-zero: threads record a trace of the job (ThreadPool.setTrace; read once per job). */
  TRACE: 304,
  /** Int32 length of the control block (supports up to 255 workers). */
  LENGTH: 320,
} as const;

/**
 * Trace of a job (ThreadPool.setTrace): per thread, TRACE_FIELDS Float64 per phase for the first TRACE_PHASES phases:
 * [ready (started waiting for the phase), open (saw it open), busy (sum of its chunks' run times), done (claimed its
 * last chunk of the phase), chunks run]. Times in ms on the pool's clock (worker clocks shifted by the difference of
 * time origins). NaN where a phase has no chunks.
 */
export const TRACE_FIELDS = 5;
export const TRACE_PHASES = 1024;

/** Int32 claim words (see the protocol): threads x phases, each thread's rounded up to 16. */
export const CLAIM_WORDS = 1 << 16;
/** Most chunks in one phase (11-bit fields of a claim word). */
export const MAX_PHASE_CHUNKS = 0x7ff;

/** Int32 words a job of `nPhases` phases needs in the claim area for `threads` threads (claim words, range counters). */
export function claimWordsFor(threads: number, nPhases: number): number {
  return (2 * threads + 1) * ((nPhases + 15) & ~15);
}

/**
 * The claim words of a job: thread t's home range of each phase (claimWord layout, see the protocol), then the
 * chunks left in each home range (range t of phase k at (T + t) * stride + k) and in each phase (at 2T * stride + k).
 */
export function writeClaims(claims: Int32Array, gen: number, threads: number, phaseStart: readonly number[]): void {
  const nPhases = phaseStart.length - 1;
  const stride = (nPhases + 15) & ~15;
  const tagBits = (gen & 0x3ff) << 22;
  for (let k = 0; k < nPhases; k++) {
    const m = phaseStart[k + 1] - phaseStart[k];
    for (let t = 0; t < threads; t++) {
      const b = Math.floor((t * m) / threads), e = Math.floor(((t + 1) * m) / threads);
      claims[t * stride + k] = tagBits | (b << 11) | e;
      claims[(threads + t) * stride + k] = e - b;
    }
    claims[2 * threads * stride + k] = m;
  }
}

/** What runShare needs from the thread it runs on (plain data and functions: it is shipped to workers as text). */
export interface ShareContext {
  ctl: Int32Array;
  claims: Int32Array;
  cmd: Float64Array;
  layout: typeof CTL;
  /** GEN of the job. */
  gen: number;
  /** This thread (0 = the calling thread, worker i = i + 1). */
  me: number;
  run(chunk: number): void;
  /** Called with the chunks this thread ran in a phase, before they are released (work counters). */
  count(n: number): void;
  /** The end of phase k (the thread that completes it). */
  stamp(k: number): void;
  now(): number;
  /** Spin this long waiting for a phase before sleeping (ms). */
  spinMs: number;
  /** May this thread block in Atomics.wait? */
  canBlock: boolean;
  /** Give up (return, leaving the rest to the others) when progress() has not changed for this long (ms). */
  budgetMs: number;
  progress(): number;
  /** Set when runShare gave up (budgetMs, or SHUTDOWN). */
  gaveUp?: boolean;
  /** Tracing on: this thread's trace row (TRACE_FIELDS per phase; times from now()). Absent: no timing at all. */
  trace?: Float64Array;
}

/**
 * One thread's part of the job in the command area (protocol above). Returns the chunks it ran. Self-contained
 * (no module scope): workers get it as source text.
 */
export function runShare(x: ShareContext): number {
  const ctl = x.ctl, claims = x.claims, cmd = x.cmd, L = x.layout;
  const total = cmd[1], nPhases = cmd[2], T = cmd[3];
  const stride = (nPhases + 15) & ~15;
  const tagBits = (x.gen & 0x3ff) << 22;
  // per phase: 1 = local (range r waits only for range r of the phase before), else a barrier on every phase before
  const depAt = 4 + nPhases + 1;
  const remAt = T * stride, phaseRemAt = 2 * T * stride;
  const tr = x.trace;
  let ran = 0;
  // A thread that wakes after its job ended may see the next job's command area half written: nothing to do.
  if (!(T >= 1 && x.me < T && (2 * T + 1) * stride <= claims.length && nPhases >= 0)) return 0;
  // Can range r of phase k start? (its dependency: every phase before done, or range r of the phase before done)
  const ready = (k: number, r: number): boolean =>
    cmd[depAt + k] === 1 ? Atomics.load(claims, remAt + r * stride + k - 1) === 0 : Atomics.load(ctl, L.PENDING) <= total - cmd[4 + k];
  // Claims and runs the chunks left in range r of phase k (own range from the front, another's from the back).
  // Returns the chunks run; release() then gives them back.
  let busy = 0;
  const drain = (k: number, r: number, own: boolean): number => {
    const w = r * stride + k, a = cmd[4 + k];
    let done = 0;
    for (;;) {
      const c = Atomics.load(claims, w);
      if ((c & ~0x3fffff) !== tagBits) break; // not this job's word
      const next = (c >>> 11) & 0x7ff, end = c & 0x7ff;
      if (next >= end) break;
      if (Atomics.compareExchange(claims, w, c, own ? c + 0x800 : c - 1) !== c) continue;
      if (tr) {
        const s = x.now();
        x.run(a + (own ? next : end - 1));
        busy += x.now() - s;
      } else x.run(a + (own ? next : end - 1));
      done++;
    }
    return done;
  };
  // Counts chunks of range r of phase k as done: the range's and the phase's counters, then PENDING (the last: once
  // PENDING is 0 the job is over and nothing of it may move).
  const release = (k: number, r: number, n: number): void => {
    ran += n;
    x.count(n);
    const rangeLeft = Atomics.sub(claims, remAt + r * stride + k, n) - n;
    if (Atomics.sub(claims, phaseRemAt + k, n) === n) x.stamp(k);
    Atomics.sub(ctl, L.PENDING, n);
    // wake threads sleeping on a phase (or on a range of it) that may now start
    if (rangeLeft === 0) Atomics.notify(ctl, L.PENDING);
  };
  // Ranges left unclaimed because their dependency was not met yet (local phases): any waiting thread takes them.
  let skippedFrom = nPhases;
  const help = (upTo: number): void => {
    for (let j = skippedFrom; j < upTo; j++) {
      let left = false;
      for (let d = 1; d < T; d++) {
        const r = (x.me + d) % T, c = Atomics.load(claims, r * stride + j);
        if ((c & ~0x3fffff) !== tagBits || ((c >>> 11) & 0x7ff) >= (c & 0x7ff)) continue;
        if (ready(j, r)) {
          const n = drain(j, r, false);
          if (n) release(j, r, n);
        } else left = true;
      }
      if (!left && j === skippedFrom) skippedFrom = j + 1;
    }
  };
  // Waits until this thread's range of phase k can start (k < nPhases), or until the job is done or nothing is left
  // that this thread could take (k = nPhases), helping with skipped ranges meanwhile. False if the job is over or
  // this thread should stop (a newer job, SHUTDOWN, no progress for budgetMs). No closure per call: nothing to
  // collect per phase on any thread.
  const wait = (k: number): boolean => {
    let spins = 0, since = 0, seen = 0;
    for (;;) {
      if (Atomics.load(ctl, L.GEN) !== x.gen) return false; // a newer job: this one is over
      const v = Atomics.load(ctl, L.PENDING);
      if (k < nPhases ? ready(k, x.me) : v === 0 || skippedFrom >= nPhases) return true;
      if (skippedFrom < k) help(k);
      if ((++spins & 127) !== 0) continue;
      if (Atomics.load(ctl, L.SHUTDOWN)) {
        x.gaveUp = true;
        return false;
      }
      const t = x.now(), p = x.progress();
      if (spins === 128 || p !== seen) {
        since = t;
        seen = p;
      } else if (t - since > x.budgetMs) {
        x.gaveUp = true;
        return false;
      } else if (t - since > x.spinMs && x.canBlock && skippedFrom >= k) Atomics.wait(ctl, L.PENDING, v, 1);
    }
  };
  const took: number[] = new Array(T).fill(0);
  for (let k = 0; k < nPhases; k++) {
    const a = cmd[4 + k], b = cmd[5 + k];
    if (b === a) continue;
    const at = tr && 5 * k + 4 < tr.length ? 5 * k : -1; // TRACE_FIELDS = 5 (no module scope here)
    if (at >= 0) tr![at] = x.now();
    if (!wait(k)) return ran;
    if (at >= 0) tr![at + 1] = x.now();
    busy = 0;
    // own range from the front, then the others' from the back (those whose dependency is met: the rest is left
    // to their owners, or to whichever thread waits later); released together at the end of the phase
    let done = 0;
    for (let d = 0; d < T; d++) {
      const r = (x.me + d) % T;
      if (d === 0 || ready(k, r)) done += took[d] = drain(k, r, d === 0);
      else {
        took[d] = 0;
        if (k < skippedFrom) skippedFrom = k;
      }
    }
    if (at >= 0) {
      tr![at + 2] = busy;
      tr![at + 3] = x.now();
      tr![at + 4] = done;
    }
    for (let d = 0; d < T; d++) if (took[d]) release(k, (x.me + d) % T, took[d]);
  }
  // skipped ranges: stay until the job is done (or nothing is left that this thread could take)
  if (skippedFrom < nPhases) wait(nPhases);
  return ran;
}

/** Error slot per worker: Uint16 [length, ...UTF-16 code units]. */
export const ERR_CHARS = 1024;

export interface WorkerInit {
  type: 'init';
  index: number;
  ctl: SharedArrayBuffer;
  cmd: SharedArrayBuffer;
  cmdOffset: number;
  cmdLength: number;
  err: SharedArrayBuffer;
  /** Int32 per worker: chunks this worker ran (slot `index`), read by the pool's work counters. */
  counts: SharedArrayBuffer;
  /** Float64 per phase: end time of the phase (ms on the pool's clock), written by its last chunk's thread. */
  phaseTimes: SharedArrayBuffer;
  /** The pool's performance.timeOrigin: this worker's clock is shifted to the pool's (now() below). */
  epoch: number;
  /** Float64 trace rows (TRACE_FIELDS x TRACE_PHASES per thread, thread t at row t), written while CTL.TRACE is set. */
  trace: SharedArrayBuffer;
  /** Int32 claim words (CLAIM_WORDS). */
  claims: SharedArrayBuffer;
  layout: typeof CTL;
  errChars: number;
  /** Busy-wait this long after a job before sleeping (ms). */
  spinMs: number;
  /** Sleep in Atomics.wait this long before going idle in the event loop (ms). */
  sleepMs: number;
  /** Threads of the pool (trace rows). */
  threads: number;
}

export function workerMain(): void {
  const G: any = globalThis;
  // The platform layer (platform.ts) defines __octetPort before this function: { post(m), listen(cb) }.
  const port: { post(m: unknown): void; listen(cb: (m: any) => void): void } = G.__octetPort;
  const post = port.post;
  const listen = port.listen;
  const instances = new Map<number, Function[]>();
  let init: any = null;
  let ctl: Int32Array;
  let cmd: Float64Array;
  let err: Uint16Array;
  let counts: Int32Array;
  let phaseTimes: Float64Array;
  let claims: Int32Array;
  let traceRow: Float64Array;
  let seen = 0;
  let running = false;
  // The pool's clock (its performance.now()): phase stamps and traces from every thread compare.
  let clockShift = 0;
  const now = () => clockShift + G.performance.now();

  // Job layout (see the header comment): [instanceId, nChunks, nPhases, T, phaseStart[0..nPhases], dep[...], chunkOffset[...]].
  // Arguments go through one reused array and a call with a fixed argument count: no array and no spread per call
  // (~40-90 ns each; a MobileNetV2 INT8 run makes ~1300 export calls).
  const A: number[] = new Array(32).fill(0);
  const invoke = (f: Function, n: number): void => {
    const a = A;
    switch (n) {
      case 0: f(); return;
      case 1: f(a[0]); return;
      case 2: f(a[0], a[1]); return;
      case 3: f(a[0], a[1], a[2]); return;
      case 4: f(a[0], a[1], a[2], a[3]); return;
      case 5: f(a[0], a[1], a[2], a[3], a[4]); return;
      case 6: f(a[0], a[1], a[2], a[3], a[4], a[5]); return;
      case 7: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6]); return;
      case 8: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]); return;
      case 9: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]); return;
      case 10: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9]); return;
      case 11: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10]); return;
      case 12: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11]); return;
      case 13: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12]); return;
      case 14: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13]); return;
      case 15: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14]); return;
      case 16: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15]); return;
      case 17: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16]); return;
      case 18: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17]); return;
      case 19: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18]); return;
      case 20: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19]); return;
      case 21: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20]); return;
      case 22: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21]); return;
      case 23: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22]); return;
      case 24: f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23]); return;
      default: f(...a.slice(0, n));
    }
  };

  const runChunk = (c: number) => {
    const fns = instances.get(cmd[0]);
    if (!fns) throw new Error(`instance ${cmd[0]} is not attached`);
    let p = cmd[4 + 2 * cmd[2] + 1 + c];
    const n = cmd[p];
    // This thread's scratch slot: scratch arguments (mask bits) were recorded for slot 0.
    const shift = cmd[p + 1] * (init.index + 1);
    p += 2;
    for (let i = 0; i < n; i++) {
      const f = fns[cmd[p]];
      const argc = cmd[p + 1];
      const mask = cmd[p + 2];
      if (typeof f !== 'function') throw new Error(`export #${cmd[p]} is not a function`);
      for (let a = 0; a < argc; a++) A[a] = cmd[p + 3 + a] + ((mask >>> a) & 1) * shift;
      invoke(f, argc);
      p += 3 + argc;
    }
  };

  const runJob = (g: number) => {
    const x = {
      ctl, claims, cmd, layout: init.layout, gen: g, me: init.index + 1,
      run: (c: number) => {
        try {
          runChunk(c);
        } catch (e: any) {
          const msg = String((e && e.message) || e).slice(0, init.errChars - 1);
          err[0] = msg.length;
          for (let i = 0; i < msg.length; i++) err[1 + i] = msg.charCodeAt(i);
          Atomics.add(ctl, init.layout.ERRORS, 1);
        }
      },
      // Counted before the chunks are released: when PENDING reaches 0 the pool sees every count.
      count: (n: number) => Atomics.add(counts, init.index, n),
      // The end of a phase (absolute time: thread clocks have other origins).
      stamp: (k: number) => {
        if (k < phaseTimes.length) phaseTimes[k] = now();
      },
      now, spinMs: init.spinMs, canBlock: true, budgetMs: Infinity, progress: () => 0,
      trace: Atomics.load(ctl, init.layout.TRACE) ? traceRow : undefined,
    };
    G.__octetRunShare(x);
  };

  const loop = () => {
    const L = init.layout;
    running = true;
    let last = now();
    let spins = 0;
    for (;;) {
      if (Atomics.load(ctl, L.SHUTDOWN)) {
        running = false;
        return;
      }
      const g = Atomics.load(ctl, L.GEN);
      if (g !== seen) {
        seen = g;
        runJob(g);
        last = now();
        continue;
      }
      if (Atomics.load(ctl, L.YIELD + init.index)) {
        Atomics.store(ctl, L.YIELD + init.index, 0);
        break;
      }
      // the clock every 64 spins only (each read allocates a heap number)
      if ((++spins & 63) !== 0 || now() - last < init.spinMs) continue;
      if (Atomics.wait(ctl, L.GEN, seen, init.sleepMs) === 'timed-out') break;
      last = now(); // woken: a job, or ThreadPool.wake (a job is coming): spin again first
    }
    running = false;
    idle();
  };

  // Idle in the event loop: messages are handled, and the next GEN bump (or YIELD notify) resumes loop().
  const idle = () => {
    const L = init.layout;
    const w = (Atomics as any).waitAsync(ctl, L.GEN, seen);
    if (w.async) w.value.then(() => { if (!running) loop(); });
    else setTimeout(() => { if (!running) loop(); }, 0);
  };

  listen((m: any) => {
    if (m.type === 'init') {
      init = m;
      ctl = new Int32Array(m.ctl);
      cmd = new Float64Array(m.cmd, m.cmdOffset, m.cmdLength);
      err = new Uint16Array(m.err, m.index * m.errChars * 2, m.errChars);
      counts = new Int32Array(m.counts);
      phaseTimes = new Float64Array(m.phaseTimes);
      claims = new Int32Array(m.claims);
      clockShift = G.performance.timeOrigin - m.epoch;
      const row = m.trace.byteLength / 8 / m.threads;
      traceRow = new Float64Array(m.trace, (m.index + 1) * row * 8, row);
      seen = Atomics.load(ctl, m.layout.GEN);
      post({ type: 'ready' });
      idle();
    } else if (m.type === 'attach') {
      (WebAssembly.instantiate(m.module as WebAssembly.Module, { env: { memory: m.memory } }) as Promise<WebAssembly.Instance>).then(
        (inst: WebAssembly.Instance) => {
          const ex = inst.exports as any;
          instances.set(m.id, m.names.map((n: string) => ex[n]));
          post({ type: 'attached', id: m.id });
        },
        (e: any) => post({ type: 'attached', id: m.id, error: String((e && e.message) || e) }),
      );
    } else if (m.type === 'detach') {
      instances.delete(m.id);
    } else if (m.type === 'crash') {
      // Test hook: die the way a worker dies on an uncaught error.
      setTimeout(() => { throw new Error('crash requested by the pool (test hook)'); }, 0);
    }
  });
}

/** Source text of a worker: `prelude` defines globalThis.__octetPort; `__name` covers the helper some
 * TypeScript transpilers (esbuild keepNames, used by tsx) insert into function bodies. */
export function workerSource(prelude: string): string {
  return `var __name = (f) => f;\n${prelude}\nglobalThis.__octetRunShare = (${runShare.toString()});\n(${workerMain.toString()})();\n`;
}
