// The code each pool worker runs, and the layout of the control block it shares with the pool.
// `workerMain` is shipped as source text (Function.prototype.toString) into a worker_threads eval worker
// or a Blob-URL Web Worker, so it must be self-contained: no imports, no closures over module scope.
//
// Protocol (no message per node): a node's work items are cut into static contiguous ranges ("chunks", a few per
// thread); the pool writes every chunk's export calls into the command area (a Float64Array over a
// SharedArrayBuffer), sets PENDING = NCHUNKS = number of chunks, CLAIM = (generation tag << 16 | 0), bumps GEN and
// notifies it. Each thread, the calling one included, claims chunks with a compare-and-swap on CLAIM (which only
// succeeds while CLAIM carries the current generation tag), runs the chunk's calls and decrements PENDING; the
// last one notifies PENDING. A thread that wakes late finds no chunk left and does nothing, so a descheduled
// worker (a busy machine) costs no more than running its chunk on the calling thread. Outputs do not depend on
// which thread ran a chunk: each item is computed by one thread, the same way.
// Command area (a "job"): [instanceId, nChunks, nPhases, 0, phaseStart[0..nPhases], chunkOffset[0..nChunks-1]], then
// per chunk at its offset: [nCalls, scratchStride, (fnIndex, argc, scratchMask, arg0 .. argc-1) * nCalls]. fnIndex
// indexes the instance's export list (WebAssembly.Module.exports order, the same on both sides). Chunks are
// recorded with scratch slot 0; thread t (worker index + 1) adds t * scratchStride to the arguments whose bit is set
// in scratchMask, so any thread can run any chunk with its own scratch (a node may have more chunks than threads).
// Phases: chunks [phaseStart[k], phaseStart[k+1]) form phase k (one node); a thread that claims a chunk of phase k
// waits (spins, then Atomics.wait on PENDING) until every chunk of the earlier phases is done, so a whole run of a
// model can be one job with no return to the calling thread between nodes. The thread that finishes a phase's last
// chunk stamps its end time (phaseTimes, for the session's profile) and notifies PENDING. A one-node job is one phase.
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
  /** (generation tag << 16) | next unclaimed chunk. */
  CLAIM: 304,
  /** Chunks of the current generation. */
  NCHUNKS: 305,
  /** Int32 length of the control block (supports up to 255 workers). */
  LENGTH: 320,
} as const;

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
  /** Float64 per phase: end time of the phase (performance.timeOrigin + now()), written by its last chunk's thread. */
  phaseTimes: SharedArrayBuffer;
  layout: typeof CTL;
  errChars: number;
  /** Busy-wait this long after a job before sleeping (ms). */
  spinMs: number;
  /** Sleep in Atomics.wait this long before going idle in the event loop (ms). */
  sleepMs: number;
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
  let seen = 0;
  let running = false;
  const now = () => G.performance.now();

  // Job layout (see the header comment): [instanceId, nChunks, nPhases, 0, phaseStart[0..nPhases], chunkOffset[...]].
  const runChunk = (c: number) => {
    const fns = instances.get(cmd[0]);
    if (!fns) throw new Error(`instance ${cmd[0]} is not attached`);
    let p = cmd[4 + cmd[2] + 1 + c];
    const n = cmd[p];
    // This thread's scratch slot: scratch arguments (mask bits) were recorded for slot 0.
    const shift = cmd[p + 1] * (init.index + 1);
    p += 2;
    for (let i = 0; i < n; i++) {
      const f = fns[cmd[p]];
      const argc = cmd[p + 1];
      const mask = cmd[p + 2];
      const args = new Array(argc);
      for (let a = 0; a < argc; a++) args[a] = cmd[p + 3 + a] + ((mask >>> a) & 1) * shift;
      if (typeof f !== 'function') throw new Error(`export #${cmd[p]} is not a function`);
      f(...args);
      p += 3 + argc;
    }
  };

  const runJob = (g: number) => {
    const L = init.layout;
    const tag = g & 0x7fff;
    const total = cmd[1];
    let phase = 0, spins = 0;
    for (;;) {
      const c = Atomics.load(ctl, L.CLAIM);
      if (c >>> 16 !== tag) return;
      const idx = c & 0xffff;
      if (idx >= Atomics.load(ctl, L.NCHUNKS)) return;
      // Chunks of phase k start once every chunk of the phases before it is done (PENDING <= total - phaseStart[k]).
      // Claim only then: a thread descheduled while waiting must not hold a chunk the others could run.
      while (cmd[4 + phase + 1] <= idx) phase++;
      const v = Atomics.load(ctl, L.PENDING);
      if (v > total - cmd[4 + phase]) {
        if (Atomics.load(ctl, L.SHUTDOWN)) return;
        if (++spins > 2000) Atomics.wait(ctl, L.PENDING, v, 1);
        continue;
      }
      spins = 0;
      if (Atomics.compareExchange(ctl, L.CLAIM, c, c + 1) !== c) continue;
      try {
        runChunk(idx);
      } catch (e: any) {
        const msg = String((e && e.message) || e).slice(0, init.errChars - 1);
        err[0] = msg.length;
        for (let i = 0; i < msg.length; i++) err[1 + i] = msg.charCodeAt(i);
        Atomics.add(ctl, L.ERRORS, 1);
      }
      // Counted before the chunk is released: when PENDING reaches 0 the pool sees every count.
      Atomics.add(counts, init.index, 1);
      const left = Atomics.sub(ctl, L.PENDING, 1) - 1;
      if (left === total - cmd[4 + phase + 1]) {
        // Last chunk of its phase: stamp the phase's end (absolute time: thread clocks have other origins).
        if (phase < phaseTimes.length) phaseTimes[phase] = G.performance.timeOrigin + now();
        Atomics.notify(ctl, L.PENDING);
      }
    }
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
      if (++spins < 64 || now() - last < init.spinMs) continue;
      spins = 0;
      if (Atomics.wait(ctl, L.GEN, seen, init.sleepMs) === 'timed-out') break;
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
  return `var __name = (f) => f;\n${prelude}\n(${workerMain.toString()})();\n`;
}
