// The worker pool: intra-op parallelism over one shared WebAssembly.Memory.
//
// - N threads = the calling thread (thread 0) + N-1 workers (worker_threads in Node, Web Workers in
//   browsers: platform.ts). Each worker instantiates the same wasm build over the same shared memory as
//   the session (`attach`), once per session memory, so sessions keep separate memories and share workers.
// - `run(instance, kernel, io)` splits a node's work items [0, workItems) into static contiguous ranges
//   ("chunks"): chunk c = [floor(c*n/T), floor((c+1)*n/T)), T = 4 x threads (one chunk per item when there are at
//   most 8 per thread: chunkCount); a thread runs a chunk on its own scratch slot (the scratch arguments are
//   relocated per thread, see dispatch). Each thread has a home range of the chunks (the same part of every node:
//   it reads back what it wrote) and steals from the others' when it runs out, all through compare-and-swap claims
//   (worker.ts: runShare), so a worker that wakes late (a busy machine) leaves its chunks to the calling thread
//   instead of stalling it. Each item is computed entirely by one thread with the same code, so every thread count
//   (and every claim order) gives bit-identical outputs.
// - Workers cannot receive closures: for each chunk the pool takes the kernel's export calls
//   (PreparedKernel.calls, or the calls `run` makes, recorded) and writes them as numbers into a command
//   area in a SharedArrayBuffer; one GEN bump + Atomics.notify starts every worker, the last chunk to finish
//   notifies PENDING (worker.ts has the protocol). No message per node or tile.
// - The calling thread spins briefly, then blocks in Atomics.wait in bounded slices; where it may not
//   block (a page's main thread) or after SYNC_BUDGET_MS, run() returns a promise and waits with
//   Atomics.waitAsync, so a dead worker is noticed (its exit event is delivered) instead of hanging.
// - A kernel that throws in a worker (e.g. a wasm trap) rejects that run() with the worker's message; the
//   worker stays alive. A worker that dies rejects the run in flight and the pool restarts its workers.
// - Whole runs as one job (`planJob` / `runPlanJob`): every step of a plan is a phase of one job; threads claim
//   a phase's chunks once the phases before it are done and go from node to node without coming back to the
//   calling thread (no per-node dispatch from JS). InferenceSession uses it whenever every step is replayable.
// - Request level (`runPrograms`): several queued run() calls of one session each run whole on one thread, over
//   their own copy of the arena ("lane"); a program is the list of every step's export calls (laneProgram in
//   executor.ts) and goes through the same command area as one chunk per request.
// - Without SharedArrayBuffer / shared wasm memory (a page without cross-origin isolation) the pool has
//   one thread and says why in `note`; it never fails for that reason.
// - Work counters (`stats(inst)`): each worker counts the chunks it ran in its own slot of a SharedArrayBuffer;
//   after each parallel node the pool credits the new counts to the node's instance (one node is in flight at
//   a time), so a session can show which threads actually did work (InferenceSession.threadStats()).
import type { WasmKernels } from './wasm.js';
import { alignScratch, runCalls, scratchBytesForThreads, type KernelAccess, type KernelCall, type KernelIO, type PreparedKernel } from '../kernels/types.js';
import { CTL, ERR_CHARS, CLAIM_WORDS, MAX_PHASE_CHUNKS, TRACE_FIELDS, TRACE_PHASES, claimWordsFor, runShare, writeClaims, type ShareContext } from './worker.js';
import { spawnWorker, threadSupport, type WorkerHandle } from './platform.js';

export interface PoolOptions {
  /**
   * Threads including the calling one. Default: OCTET_THREADS if set, else the number of cores capped at
   * MAX_DEFAULT_THREADS. 1 runs without workers.
   */
  threads?: number;
  /** Float64 entries of the command area (default 262144 = 2 MiB: room for two whole-model programs). */
  commandCapacity?: number;
}

/** Work the pool's threads did for one instance (a session), counted since it was attached. */
export interface ThreadStats {
  /** Threads of the pool, including the calling one (1 when the instance runs on the calling thread only). */
  threads: number;
  /** Nodes split into chunks over the threads. */
  parallelNodes: number;
  /**
   * Nodes run whole on one thread: on the calling thread (too small, not replayable by workers, or no workers), or
   * as part of a request run whole on one thread while concurrent requests ran on the others (runPrograms).
   */
  serialNodes: number;
  /** Chunks (tiles of a parallel node's work items) each thread ran; index 0 is the calling thread. */
  chunks: number[];
}

/**
 * What each thread did in each phase of the last job run with tracing on (ThreadPool.setTrace). Times in ms from the
 * job's start (just before the workers are woken); per phase, arrays indexed by thread (0 = the calling thread), NaN
 * where a thread never reached the phase (it left the job: a worker that woke after the end, or a phase without chunks).
 */
export interface JobTrace {
  threads: number;
  /** The calling thread saw the last chunk done (ms from the start). */
  end: number;
  phases: {
    /** The thread started waiting for the phase (it had finished its part of the phase before). */
    ready: number[];
    /** It saw the phase open (every earlier chunk done). */
    open: number[];
    /** Sum of the run times of the chunks it ran in the phase. */
    busy: number[];
    /** It found nothing left to claim in the phase. */
    done: number[];
    chunks: number[];
  }[];
}

/** A whole run of a plan encoded as one job (ThreadPool.planJob). */
export interface PlanJob {
  readonly pool: ThreadPool;
  readonly threads: number;
  readonly inst: number;
  readonly encoded: Float64Array;
  readonly chunks: KernelCall[][];
  readonly phaseStart: number[];
  /** Per phase: 1 = local (no barrier before it: range r waits for range r of the phase before), 0 = barrier. */
  readonly deps: number[];
  readonly parallelNodes: number;
  readonly serialNodes: number;
}

/** A session's wasm instance as the pool knows it. */
export interface PoolInstance {
  readonly id: number;
  readonly wasm: WasmKernels;
  /** False when this instance runs on the calling thread only (private memory, or a 1-thread pool). */
  readonly parallel: boolean;
  /** Work counters (read them through ThreadPool.stats). */
  readonly counts: ThreadStats;
}

/** ThreadStats b - a, thread by thread (b from a later snapshot of the same instance). */
export function diffThreadStats(a: ThreadStats, b: ThreadStats): ThreadStats {
  return {
    threads: b.threads,
    parallelNodes: b.parallelNodes - a.parallelNodes,
    serialNodes: b.serialNodes - a.serialNodes,
    chunks: b.chunks.map((c, i) => c - (a.chunks[i] ?? 0)),
  };
}

interface Attached extends PoolInstance {
  names: Map<string, number>;
}

/**
 * Above this many threads a static split of mid-sized CNN layers stops paying (wake-up and barrier cost per
 * node grow with N while per-thread work shrinks). Only 1 and 2 threads were measured (bench/threads.ts on
 * a 2-core machine); 4 is a conservative guess for larger hosts.
 */
export const MAX_DEFAULT_THREADS = 4;
/**
 * Nodes whose `cost` (multiply-accumulates) is below this run on the calling thread only: a worker
 * round trip costs about 10-30 us, about what 20k MACs take at ~1-2 GMAC/s per thread for small shapes.
 */
export const MIN_PARALLEL_COST = 20_000;
/**
 * Inside a plan job no worker is woken per node, so a step costs a phase boundary (a few us), not a round trip:
 * steps from this cost up to MIN_PARALLEL_COST get one chunk per thread (e.g. a 14x14x64 QLinearAdd, ~20 us).
 */
export const MIN_PHASE_COST = 4_000;
/** Chunks per thread for kernels without scratch (see dispatch). */
export const CHUNKS_PER_THREAD = 4;
/**
 * A node with at most this many items per thread is cut into one chunk per item (10 items in 8 chunks would give
 * one thread 6 items' work and the other 4), so no node has more than this many chunks per thread.
 */
export const MAX_CHUNKS_PER_THREAD = 2 * CHUNKS_PER_THREAD;

/** How many chunks a node of n work items is cut into for `threads` threads (at most n). */
export function chunkCount(n: number, threads: number): number {
  return n <= threads * MAX_CHUNKS_PER_THREAD ? n : threads * CHUNKS_PER_THREAD;
}
/** Calling thread busy-waits this long for the workers before sleeping (ms). */
const SPIN_MS = 0.25;
/** Calling thread blocks at most this long in Atomics.wait before switching to an async wait (ms). */
const SYNC_BUDGET_MS = 20;
/**
 * Workers busy-wait this long after a job for the next one, then sleep in Atomics.wait (no CPU; a notify wakes
 * them in microseconds) this long before idling in their event loop (waking from there takes a task turn).
 * Long enough to stay out of the event loop between the runs of a service or a benchmark.
 */
const WORKER_SPIN_MS = 0.5;
const WORKER_SLEEP_MS = 100;
const START_TIMEOUT_MS = 15_000;
/** Phases (steps of a plan job) whose end time is recorded. */
const PHASE_TIMES = 4096;

const now = (): number => (globalThis as any).performance.now();

/** Default thread count: OCTET_THREADS, else cores capped at MAX_DEFAULT_THREADS. */
export async function defaultThreads(): Promise<number> {
  const env = typeof process !== 'undefined' ? Number((process as any).env?.OCTET_THREADS) : NaN;
  if (Number.isInteger(env) && env >= 1) return env;
  const { cores } = await threadSupport();
  return Math.max(1, Math.min(cores, MAX_DEFAULT_THREADS));
}

/** Thrown inside a recording when run() touches memory from JS: such a kernel cannot be replayed by a worker. */
const TOUCHES_MEMORY = Symbol('octet.touchesMemory');

/**
 * The export calls `kernel.run` makes for [begin, end), recorded instead of executed. Returns null when run()
 * reads or writes wasm memory from JS (views, `memory`, `ensure`) or uses an export's result: its work cannot be
 * replayed as export calls (e.g. a host-side im2col done by the range that starts at 0), so the pool runs such a
 * node on the calling thread.
 */
export function recordCalls(kernel: PreparedKernel, wasm: WasmKernels, io: KernelIO, begin: number, end: number): KernelCall[] | null {
  const calls: KernelCall[] = [];
  const touch = (): never => {
    throw TOUCHES_MEMORY;
  };
  // The target is a plain object: the real exports object is frozen, and a proxy of it may not return anything
  // but its own (non-configurable) properties.
  const real = wasm.exports;
  const exports = new Proxy({} as Record<string, any>, {
    get(_target, name) {
      const f = real[name as string];
      if (typeof name !== 'string') return f;
      if (typeof f !== 'function') return touch();
      return (...args: number[]) => {
        calls.push({ fn: name, args });
        // Any use of the result (arithmetic, comparison, as an offset) turns into a TypeError on a symbol.
        return NO_RESULT;
      };
    },
  });
  const fake = Object.create(wasm, {
    exports: { value: exports },
    memory: { get: touch },
    ensure: { value: touch },
    u8: { value: touch },
    i8: { value: touch },
    i16: { value: touch },
    i32: { value: touch },
    f32: { value: touch },
  });
  try {
    kernel.run(fake, io, begin, end);
  } catch (e) {
    if (e === TOUCHES_MEMORY || e instanceof TypeError) return null;
    throw e;
  }
  return calls;
}

const NO_RESULT = Symbol('octet.noResult');

/**
 * Which arguments of each call are scratch pointers: `a` recorded with scratch slot 0, `b` with slot 1. An argument
 * that moved by exactly one stride is one (bit set); any other difference (or different calls) returns null.
 */
function scratchMasks(a: readonly KernelCall[], b: readonly KernelCall[] | null, stride: number): number[] | null {
  if (!b || a.length !== b.length) return null;
  const masks: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i].args, y = b[i].args;
    if (a[i].fn !== b[i].fn || x.length !== y.length) return null;
    let m = 0;
    for (let j = 0; j < x.length; j++) {
      if (Object.is(x[j], y[j])) continue; // equal (also +-Infinity clamp bounds, whose difference is NaN)
      const d = y[j] - x[j];
      if (d !== stride || j > 30) return null;
      m |= 1 << j;
    }
    masks.push(m);
  }
  return masks;
}

/**
 * What each home range (pool.ts / worker.ts: thread t's t-th of T contiguous parts of a phase's `nChunks` chunks,
 * chunk c = items [floor(c n / nChunks), floor((c + 1) n / nChunks))) of a step touches, or null when the kernel does
 * not say (no `access`) or a range is empty. Includes the step's whole scratch (every thread's slot) as written: the
 * arena gives a step's scratch a lifetime of that step only, so the next step's output may lie on it.
 */
export function rangeAccess(kernel: PreparedKernel, io: KernelIO, nChunks: number, threads: number): KernelAccess[] | null {
  const n = kernel.workItems;
  if (!kernel.access || nChunks < threads) return null;
  const out: KernelAccess[] = [];
  for (let t = 0; t < threads; t++) {
    const c0 = Math.floor((t * nChunks) / threads), c1 = Math.floor(((t + 1) * nChunks) / threads);
    const b = Math.floor((c0 * n) / nChunks), e = Math.floor((c1 * n) / nChunks);
    if (e <= b) return null;
    const acc = kernel.access(io, b, e);
    // scratch: any thread may run any range, each on its own slot: count every slot as written by every range
    const scratch = scratchBytesForThreads(kernel, threads);
    out.push(scratch > 0 ? { reads: acc.reads, writes: [...acc.writes, [io.scratch, io.scratch + scratch]] } : acc);
  }
  return out;
}

const overlaps = (a: readonly [number, number][], b: readonly [number, number][]): boolean =>
  a.some(([p, q]) => q > p && b.some(([r, s]) => s > r && p < s && r < q));

/** Can range x (of one phase) and range y (of another) run at once: neither writes what the other reads or writes? */
function independent(x: KernelAccess, y: KernelAccess): boolean {
  return !overlaps(x.writes, y.reads) && !overlaps(x.writes, y.writes) && !overlaps(x.reads, y.writes);
}

/**
 * Local phases of a plan job (worker.ts: dep 1, no barrier before the phase): phase k is local when it and every
 * phase since the last barrier (the chain) have per-range accesses (rangeAccess), and no range r of phase k touches
 * bytes that another range r' != r of any phase of the chain writes, or writes bytes it reads (then range r of
 * phase k reads only what range r of the phases before it wrote or what was done before the chain, and no range
 * still running elsewhere overwrites what it reads or reads what it overwrites: write-after-read hazards of
 * arena reuse included). A chain starts at a phase with a barrier: nothing before it can still be running.
 */
export function localDeps(access: readonly (KernelAccess[] | null)[]): number[] {
  const deps: number[] = [];
  let chain: KernelAccess[][] = [];
  for (let k = 0; k < access.length; k++) {
    const acc = access[k];
    let local = k > 0 && acc !== null && chain.length > 0;
    for (const prev of local ? chain : []) {
      for (let r = 0; r < acc!.length && local; r++) {
        for (let q = 0; q < prev.length && local; q++) {
          if (q !== r && !independent(acc![r], prev[q])) local = false;
        }
      }
      if (!local) break;
    }
    deps.push(local ? 1 : 0);
    if (local) chain.push(acc!);
    else chain = acc ? [acc] : [];
  }
  return deps;
}

export class ThreadPool {
  /** Threads in use, including the calling thread. */
  threads: number;
  /** Why fewer threads than requested run (no SharedArrayBuffer, workers failed to start...). */
  note?: string;
  private workers: WorkerHandle[] = [];
  private ctl!: Int32Array;
  private cmd!: Float64Array;
  private err!: Uint16Array;
  /** Chunks run per worker (slot w - 1 for thread w), written by the workers; `seen` = already credited. */
  private workCounts!: Int32Array;
  /** End time of each phase of the job in flight (worker.ts), for per-step times of a plan job. */
  private phaseTimes!: Float64Array;
  /** Trace rows of the threads (worker.ts TRACE_FIELDS), written while tracing is on (setTrace). */
  private traceBuf!: Float64Array;
  private tracing = false;
  /** Plan jobs may have local phases (planJob); false: a barrier before every phase (tests, bench/threads-trace.ts). */
  localPhases = true;
  private traced: { start: number; end: number; phases: number } | null = null;
  /** The job image now in the command area (see load). */
  private resident: Float64Array | null = null;
  /** Claim words of the job in flight (worker.ts: each thread's home range of each phase). */
  private claims!: Int32Array;
  private workSeen!: Int32Array;
  private instances = new Map<number, Attached>();
  /** Per step (its io object): the chunks of the last split and their command-area image (dispatch). */
  private nodes = new WeakMap<KernelIO, { kernel: PreparedKernel; inst: number; threads: number; key: string; T: number; chunks: KernelCall[][] | null; encoded: Float64Array | null }>();
  private nextId = 1;
  /** Resolves when the in-flight async dispatch or restart ends (never rejects). */
  private lock: Promise<void> | null = null;
  private restarting: Promise<void> | null = null;
  private deathReason: string | null = null;
  private canBlock = false;
  private terminated = false;
  private waiters = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();

  private constructor(
    readonly requested: number,
    private readonly capacity: number,
  ) {
    this.threads = requested;
  }

  static async create(opts: PoolOptions = {}): Promise<ThreadPool> {
    const requested = opts.threads ?? (await defaultThreads());
    if (!Number.isInteger(requested) || requested < 1) {
      throw new Error(`octet: threads must be a positive integer, got ${String(opts.threads)}`);
    }
    const pool = new ThreadPool(requested, opts.commandCapacity ?? 1 << 18);
    if (requested === 1) return pool;
    const sup = await threadSupport();
    pool.canBlock = sup.canBlock;
    if (!sup.ok) {
      pool.threads = 1;
      pool.note = `running on 1 thread: ${sup.reason}`;
      return pool;
    }
    try {
      await pool.start();
    } catch (e: any) {
      pool.shutdownWorkers();
      pool.threads = 1;
      pool.note = `running on 1 thread: workers failed to start (${e?.message ?? e})`;
    }
    return pool;
  }

  private async start(): Promise<void> {
    const W = this.requested - 1;
    if (W + 1 > CTL.LENGTH - CTL.YIELD) throw new Error(`too many threads (${this.requested})`);
    const ctlSab = new SharedArrayBuffer(CTL.LENGTH * 4);
    const cmdSab = new SharedArrayBuffer(this.capacity * 8);
    const errSab = new SharedArrayBuffer(W * ERR_CHARS * 2);
    const countsSab = new SharedArrayBuffer(Math.max(1, W) * 4);
    const phaseSab = new SharedArrayBuffer(PHASE_TIMES * 8);
    const claimSab = new SharedArrayBuffer(CLAIM_WORDS * 4);
    const traceSab = new SharedArrayBuffer(this.requested * TRACE_FIELDS * TRACE_PHASES * 8);
    this.traceBuf = new Float64Array(traceSab);
    this.claims = new Int32Array(claimSab);
    this.phaseTimes = new Float64Array(phaseSab);
    this.workCounts = new Int32Array(countsSab);
    this.workSeen = new Int32Array(W);
    this.ctl = new Int32Array(ctlSab);
    this.err = new Uint16Array(errSab);
    this.cmd = new Float64Array(cmdSab);
    this.resident = null;
    this.workers = [];
    const ready: Promise<void>[] = [];
    for (let i = 0; i < W; i++) {
      const w = await spawnWorker(`octet-pool-${i + 1}`);
      this.workers.push(w);
      w.onMessage((m) => this.onMessage(w, m));
      w.onDeath((reason) => this.onDeath(w, reason));
      ready.push(this.expect(w, 'ready'));
      w.postMessage({
        type: 'init', index: i, ctl: ctlSab, cmd: cmdSab, cmdOffset: 0, cmdLength: this.capacity,
        err: errSab, counts: countsSab, phaseTimes: phaseSab, claims: claimSab, layout: CTL, errChars: ERR_CHARS, spinMs: WORKER_SPIN_MS, sleepMs: WORKER_SLEEP_MS,
        epoch: performance.timeOrigin, trace: traceSab, threads: this.requested,
      });
    }
    await withTimeout(Promise.all(ready), START_TIMEOUT_MS, 'workers did not start');
    for (const inst of this.instances.values()) await this.attachWorkers(inst);
  }

  private expect(w: WorkerHandle, key: string): Promise<void> {
    const release = w.hold();
    const p = new Promise<void>((resolve, reject) => this.waiters.set(`${this.workers.indexOf(w)}:${key}`, { resolve, reject }));
    p.then(release, release);
    return p;
  }

  private onMessage(w: WorkerHandle, m: any): void {
    const i = this.workers.indexOf(w);
    const key = m.type === 'attached' ? `${i}:attached:${m.id}` : `${i}:${m.type}`;
    const waiter = this.waiters.get(key);
    if (!waiter) return;
    this.waiters.delete(key);
    if (m.error) waiter.reject(new Error(m.error));
    else waiter.resolve();
  }

  private onDeath(w: WorkerHandle, reason: string): void {
    if (this.terminated || !this.workers.includes(w)) return;
    this.deathReason = reason;
    for (const [, waiter] of this.waiters) waiter.reject(new Error(`a worker died: ${reason}`));
    this.waiters.clear();
    if (!this.restarting) {
      const r = this.restart().finally(() => {
        this.restarting = null;
      });
      this.restarting = r;
      // Runs queued behind the restart start after it.
      const prev = this.lock;
      this.setLock((prev ? prev.then(() => r) : r).catch(() => {}));
    }
  }

  /** Replaces every worker (the survivors may be mid-job on a generation that can no longer complete). */
  private async restart(): Promise<void> {
    this.shutdownWorkers();
    try {
      await this.start();
      this.deathReason = null;
    } catch (e: any) {
      this.shutdownWorkers();
      this.threads = 1;
      this.note = `running on 1 thread: workers could not be restarted (${e?.message ?? e})`;
      for (const inst of this.instances.values()) (inst as { parallel: boolean }).parallel = false;
      this.deathReason = null;
    }
  }

  private shutdownWorkers(): void {
    if (this.ctl) {
      Atomics.store(this.ctl, CTL.SHUTDOWN, 1);
      Atomics.notify(this.ctl, CTL.GEN);
    }
    for (const w of this.workers) w.terminate();
    this.workers = [];
  }

  /** Makes a session's instance usable by the pool's workers. Private-memory instances run on one thread. */
  async attach(wasm: WasmKernels): Promise<PoolInstance> {
    const id = this.nextId++;
    const shared = typeof SharedArrayBuffer !== 'undefined' && wasm.memory.buffer instanceof SharedArrayBuffer;
    const names = new Map<string, number>();
    WebAssembly.Module.exports(wasm.module).forEach((e, i) => names.set(e.name, i));
    const parallel = shared && this.threads > 1 && !this.terminated;
    const counts: ThreadStats = { threads: parallel ? this.threads : 1, parallelNodes: 0, serialNodes: 0, chunks: new Array(parallel ? this.threads : 1).fill(0) };
    const inst: Attached = { id, wasm, parallel, names, counts };
    if (!inst.parallel) return inst;
    if (this.restarting) await this.restarting;
    this.instances.set(id, inst);
    try {
      await this.attachWorkers(inst);
    } catch (e: any) {
      this.instances.delete(id);
      throw new Error(`octet: worker threads could not instantiate the wasm build: ${e?.message ?? e}`);
    }
    return inst;
  }

  private async attachWorkers(inst: Attached): Promise<void> {
    const names = [...inst.names.keys()];
    const acks = this.workers.map((w) => {
      const p = this.expect(w, `attached:${inst.id}`);
      w.postMessage({ type: 'attach', id: inst.id, module: inst.wasm.module, memory: inst.wasm.memory, names });
      return p;
    });
    // Wake workers that are busy-waiting so they read their messages.
    for (let i = 0; i < this.workers.length; i++) Atomics.store(this.ctl, CTL.YIELD + i, 1);
    Atomics.notify(this.ctl, CTL.GEN);
    await withTimeout(Promise.all(acks), START_TIMEOUT_MS, 'workers did not instantiate the build');
  }

  /** Forgets an instance (session released). */
  detach(inst: PoolInstance): void {
    if (!this.instances.delete(inst.id)) return;
    for (const w of this.workers) w.postMessage({ type: 'detach', id: inst.id });
  }

  /**
   * Runs one node: all of kernel's work items, split over the threads. Returns undefined when done
   * synchronously, else a promise; throws / rejects if the kernel failed on any thread. `io.scratch` must
   * hold scratchBytesForThreads(kernel, pool.threads) bytes. Callers simply `await pool.run(...)`.
   */
  run(inst: PoolInstance, kernel: PreparedKernel, io: KernelIO): void | Promise<void> {
    const n = kernel.workItems;
    if (!inst.parallel || this.terminated || this.threads === 1 || n <= 1 || (kernel.cost !== undefined && kernel.cost < MIN_PARALLEL_COST)) {
      kernel.run(inst.wasm, io, 0, n);
      inst.counts.serialNodes++;
      return;
    }
    if (this.lock) return this.lock.then(() => this.run(inst, kernel, io));
    return this.dispatch(inst as Attached, kernel, io);
  }

  private dispatch(inst: Attached, kernel: PreparedKernel, io: KernelIO): void | Promise<void> {
    // A step's chunks and their encoding are computed once and reused while its io and the split stay the same.
    const key = `${io.inputs.join(',')}|${io.outputs.join(',')}|${io.constants}|${io.scratch}`;
    let node = this.nodes.get(io);
    if (!node || node.kernel !== kernel || node.inst !== inst.id || node.threads !== this.threads || node.key !== key) {
      const res = this.split(inst, kernel, io, chunkCount(kernel.workItems, this.threads));
      node = {
        kernel, inst: inst.id, threads: this.threads, key, T: res?.chunks.length ?? 0, chunks: res?.chunks ?? null,
        encoded: res && this.encode(inst, kernel.variant, res.chunks, res.masks, res.strides),
      };
      this.nodes.set(io, node);
    }
    // Not replayable, or a command list larger than the area: run the node here (same result).
    if (!node.chunks || !node.encoded) return this.runHere(inst, kernel, io);
    this.load(node.encoded);
    inst.counts.parallelNodes++;
    return this.runEncoded(inst, kernel.variant, node.chunks, [0, node.T]);
  }

  /**
   * A node's work items cut into at most `maxChunks` chunks (chunk c = items [floor(c*n/T), floor((c+1)*n/T))),
   * each as export calls, or null if run() cannot be replayed (it touches memory from JS). Chunks are recorded with
   * scratch slot 0 and each thread moves the scratch arguments to its own slot (found by recording with slot 1 too:
   * the arguments that moved by one stride); a kernel whose calls do not move that way gets one chunk per thread,
   * chunk c on slot c (stride 0: no move).
   */
  private split(inst: Attached, kernel: PreparedKernel, io: KernelIO, maxChunks: number): { chunks: KernelCall[][]; masks: number[][]; strides: number[] } | null {
    const n = kernel.workItems;
    const stride = alignScratch(kernel.scratchBytes);
    const record = (ioC: KernelIO, b: number, e: number) => (kernel.calls ? kernel.calls(ioC, b, e) : recordCalls(kernel, inst.wasm, ioC, b, e));
    const cut = (T: number, relocate: boolean): { chunks: KernelCall[][]; masks: number[][]; strides: number[] } | null => {
      const chunks: KernelCall[][] = [], masks: number[][] = [], strides: number[] = [];
      for (let c = 0; c < T; c++) {
        const b = Math.floor((c * n) / T);
        const e = Math.floor(((c + 1) * n) / T);
        const calls = record(relocate || stride === 0 ? io : { ...io, scratch: io.scratch + c * stride }, b, e);
        if (!calls) return null;
        let m: number[] | null = calls.map(() => 0);
        if (relocate && stride > 0) m = scratchMasks(calls, record({ ...io, scratch: io.scratch + stride }, b, e), stride);
        if (!m) return null;
        chunks.push(calls);
        masks.push(m);
        strides.push(relocate ? stride : 0);
      }
      return { chunks, masks, strides };
    };
    const T = Math.max(1, Math.min(n, maxChunks));
    const res = cut(T, true);
    if (res || stride === 0 || !record(io, 0, n)) return res;
    return cut(Math.min(n, this.threads), false);
  }

  /**
   * A whole run of a plan (its steps in order) as one job: step k is phase k, split like a node (steps below
   * MIN_PHASE_COST or with one item are one chunk, run by whichever thread claims it; below MIN_PARALLEL_COST one
   * chunk per thread). Threads go from node to
   * node without returning to the calling thread (worker.ts: phases). Null when a step cannot be replayed or the
   * job does not fit the command area: run the steps one by one instead.
   */
  planJob(inst: PoolInstance, steps: readonly { kernel: PreparedKernel; io: KernelIO }[]): PlanJob | null {
    const a = inst as Attached;
    if (!a.parallel || this.terminated || this.threads === 1) return null;
    const chunks: KernelCall[][] = [], masks: number[][] = [], strides: number[] = [], phaseStart: number[] = [];
    const access: (KernelAccess[] | null)[] = [];
    let parallelNodes = 0;
    for (const s of steps) {
      const k = s.kernel;
      const n = k.workItems, cost = k.cost ?? Infinity;
      const parts = n <= 1 || cost < MIN_PHASE_COST ? 1 : cost < MIN_PARALLEL_COST ? Math.min(n, this.threads) : chunkCount(n, this.threads);
      const res = this.split(a, k, s.io, parts);
      if (!res) return null;
      phaseStart.push(chunks.length);
      chunks.push(...res.chunks);
      masks.push(...res.masks);
      strides.push(...res.strides);
      if (res.chunks.length > 1) parallelNodes++;
      access.push(this.localPhases ? rangeAccess(k, s.io, res.chunks.length, this.threads) : null);
    }
    phaseStart.push(chunks.length);
    const deps = localDeps(access);
    const encoded = this.encode(a, 'a run', chunks, masks, strides, phaseStart, deps);
    if (!encoded) return null;
    return { pool: this, threads: this.threads, inst: a.id, encoded, chunks, phaseStart, deps, parallelNodes, serialNodes: steps.length - parallelNodes };
  }

  /**
   * Runs a planJob. Returns undefined when done synchronously, else a promise; throws / rejects if a step failed.
   * `phaseMs`, if given, receives each step's time (ms; NaN where unknown).
   */
  runPlanJob(inst: PoolInstance, job: PlanJob, phaseMs?: number[]): void | Promise<void> {
    const a = inst as Attached;
    if (job.pool !== this || job.threads !== this.threads || job.inst !== a.id) throw new Error('octet: a plan job is run on the pool and instance that made it');
    if (this.lock) return this.lock.then(() => this.runPlanJob(inst, job, phaseMs));
    const nPhases = job.phaseStart.length - 1;
    const t0 = now();
    const times = this.phaseTimes;
    times.fill(NaN, 0, Math.min(nPhases, times.length));
    this.load(job.encoded);
    a.counts.parallelNodes += job.parallelNodes;
    a.counts.serialNodes += job.serialNodes;
    const done = () => {
      if (!phaseMs) return;
      phaseMs.length = 0;
      let prev = t0;
      for (let k = 0; k < nPhases; k++) {
        const t = k < times.length ? times[k] : NaN;
        phaseMs.push(t - prev);
        if (t === t) prev = t;
      }
    };
    const r = this.runEncoded(a, 'a run', job.chunks, job.phaseStart);
    if (r) return r.then(done);
    done();
  }

  /**
   * Request-level parallelism: runs each program (a whole run of a model over its own arena lane, see
   * laneProgram in executor.ts) entirely on one thread, the programs concurrently, the calling thread taking one
   * like a worker. Returns undefined when done synchronously, else a promise; throws / rejects if any failed.
   * Programs that do not fit the command area run one after another on the calling thread (same results).
   */
  runPrograms(inst: PoolInstance, programs: KernelCall[][], nodesPerProgram = 0): void | Promise<void> {
    const a = inst as Attached;
    // Each program's nodes run whole on one thread: counted as serial nodes (ThreadStats).
    a.counts.serialNodes += nodesPerProgram * programs.length;
    const serial = !a.parallel || this.terminated || this.threads === 1 || programs.length < 2;
    // The command area belongs to the job in flight until its lock is released.
    if (!serial && this.lock) return this.lock.then(() => this.runPrograms(inst, programs)); // nodes counted above
    const encoded = serial ? null : this.encode(a, 'a request', programs);
    if (!encoded) {
      for (const p of programs) runCalls(inst.wasm, p);
      return;
    }
    this.load(encoded);
    return this.runEncoded(a, 'a request', programs, [0, programs.length]);
  }

  /**
   * Starts the job already in the command area (its chunks, phases as in encode), runs chunks here too, then
   * waits for the rest. This thread only claims a chunk once its phase is open, and stops claiming when the
   * workers make no progress for SYNC_BUDGET_MS (the rest is then waited for asynchronously, so a dead worker
   * is noticed).
   */
  private runEncoded(inst: Attached, what: string, chunks: readonly KernelCall[][], phaseStart: readonly number[]): void | Promise<void> {
    const ctl = this.ctl;
    const gen = (Atomics.load(ctl, CTL.GEN) + 1) | 0;
    writeClaims(this.claims, gen, this.threads, phaseStart);
    const nPhases = phaseStart.length - 1;
    let trace: Float64Array | undefined;
    if (this.tracing) {
      const row = TRACE_FIELDS * TRACE_PHASES;
      for (let t = 0; t < this.threads; t++) this.traceBuf.fill(NaN, t * row, t * row + TRACE_FIELDS * Math.min(nPhases, TRACE_PHASES));
      trace = this.traceBuf.subarray(0, row);
      this.traced = { start: now(), end: NaN, phases: nPhases };
    }
    Atomics.store(ctl, CTL.TRACE, trace ? 1 : 0);
    Atomics.store(ctl, CTL.ERRORS, 0);
    Atomics.store(ctl, CTL.PENDING, chunks.length);
    Atomics.store(ctl, CTL.GEN, gen);
    Atomics.notify(ctl, CTL.GEN);
    // This thread takes its share like a worker (runShare): a late worker leaves its chunks to it.
    let mainError: unknown;
    const counts = this.workCounts;
    const x: ShareContext = {
      ctl, claims: this.claims, cmd: this.cmd, layout: CTL, gen, me: 0,
      run: (c) => {
        try {
          runCalls(inst.wasm, chunks[c]);
        } catch (e) {
          mainError ??= e;
        }
      },
      count: () => {},
      stamp: (k) => {
        if (k < this.phaseTimes.length) this.phaseTimes[k] = now();
      },
      now, spinMs: SPIN_MS, canBlock: this.canBlock, budgetMs: SYNC_BUDGET_MS,
      // the workers' chunk counters (and PENDING) move while they make progress
      progress: () => {
        let p = Atomics.load(ctl, CTL.PENDING);
        for (let w = 0; w < counts.length; w++) p += Atomics.load(counts, w) * (w + 2);
        return p;
      },
      trace,
    };
    inst.counts.chunks[0] += runShare(x);
    const traced = this.traced;
    if (!x.gaveUp && this.waitSync()) {
      if (trace) traced!.end = now();
      return this.finish(inst, what, mainError);
    }
    const p = this.waitAsync(what).then(() => {
      if (trace) traced!.end = now();
      this.finish(inst, what, mainError);
    });
    this.setLock(p.then(
      () => undefined,
      () => undefined,
    ));
    return p;
  }

  /**
   * Puts a job's image into the command area, unless it is already there (a session running the same plan job run
   * after run: a MobileNetV2 INT8 job is 179 KB, 1266 export calls, that the workers would otherwise read back from the
   * other core's cache).
   * Images are never modified once encoded, so identity is enough.
   */
  private load(encoded: Float64Array): void {
    if (this.resident === encoded) return;
    this.cmd.set(encoded);
    this.resident = encoded;
  }

  /** Makes later runs wait for `lock` (which never rejects), and clears it when it settles. */
  private setLock(lock: Promise<void>): void {
    this.lock = lock;
    void lock.then(() => {
      if (this.lock === lock) this.lock = null;
    });
  }

  private runHere(inst: Attached, kernel: PreparedKernel, io: KernelIO): void {
    kernel.run(inst.wasm, io, 0, kernel.workItems);
    inst.counts.serialNodes++;
  }

  /**
   * The command-area image of a job (layout in worker.ts), or null if it does not fit the area (or has more chunks
   * than the claim counter holds). masks[c][i]: the arguments of call i of chunk c that thread t moves by
   * t * strides[c] (its scratch slot). phaseStart: chunk index where each phase starts, then the chunk count.
   * deps: per phase, 1 for a local phase (see planJob), else 0.
   */
  private encode(inst: Attached, what: string, chunks: readonly KernelCall[][], masks?: readonly number[][], strides?: readonly number[],
    phaseStart: readonly number[] = [0, chunks.length], deps?: readonly number[]): Float64Array | null {
    const nPhases = phaseStart.length - 1;
    if (claimWordsFor(this.threads, nPhases) > CLAIM_WORDS) return null;
    for (let k = 0; k < nPhases; k++) if (phaseStart[k + 1] - phaseStart[k] > MAX_PHASE_CHUNKS) return null;
    let size = 4 + 2 * nPhases + 1 + chunks.length;
    for (const calls of chunks) {
      size += 2;
      for (const call of calls) size += 3 + call.args.length;
    }
    if (size > this.cmd.length || chunks.length > 0xffff) return null;
    const cmd = new Float64Array(size);
    cmd[0] = inst.id;
    cmd[1] = chunks.length;
    cmd[2] = nPhases;
    cmd[3] = this.threads;
    for (let k = 0; k <= nPhases; k++) cmd[4 + k] = phaseStart[k];
    for (let k = 0; k < nPhases; k++) cmd[4 + nPhases + 1 + k] = deps ? deps[k] : 0;
    const offsets = 4 + 2 * nPhases + 1;
    let p = offsets + chunks.length;
    for (let c = 0; c < chunks.length; c++) {
      cmd[offsets + c] = p;
      cmd[p++] = chunks[c].length;
      cmd[p++] = strides ? strides[c] : 0;
      chunks[c].forEach((call, i) => {
        const idx = inst.names.get(call.fn);
        if (idx === undefined) throw new Error(`octet: ${what}: the wasm build has no export '${call.fn}'`);
        const argc = call.args.length;
        cmd[p] = idx;
        cmd[p + 1] = argc;
        cmd[p + 2] = masks ? masks[c][i] : 0;
        for (let a = 0; a < argc; a++) cmd[p + 3 + a] = call.args[a];
        p += 3 + argc;
      });
    }
    return cmd;
  }

  /** Waits for PENDING == 0 without leaving this call; false if it may not block or took too long. */
  private waitSync(): boolean {
    const ctl = this.ctl;
    const t0 = now();
    let i = 0;
    while (Atomics.load(ctl, CTL.PENDING) !== 0) {
      if ((++i & 63) === 0 && now() - t0 > SPIN_MS) break;
    }
    if (!this.canBlock) return Atomics.load(ctl, CTL.PENDING) === 0;
    for (;;) {
      const v = Atomics.load(ctl, CTL.PENDING);
      if (v === 0) return true;
      if (now() - t0 > SYNC_BUDGET_MS) return false;
      Atomics.wait(ctl, CTL.PENDING, v, 2);
    }
  }

  private async waitAsync(what: string): Promise<void> {
    const holds = this.workers.map((w) => w.hold());
    try {
      await this.waitAsyncLoop(what);
    } finally {
      for (const release of holds) release();
    }
  }

  private async waitAsyncLoop(what: string): Promise<void> {
    const ctl = this.ctl;
    const waitAsync = (Atomics as any).waitAsync as undefined | ((a: Int32Array, i: number, v: number, t: number) => { async: boolean; value: any });
    for (;;) {
      if (this.deathReason !== null || this.ctl !== ctl) {
        const reason = this.deathReason ?? 'workers restarted';
        if (this.restarting) await this.restarting;
        throw new Error(`octet: a worker thread died while running ${what} (${reason}); the pool restarted its workers`);
      }
      const v = Atomics.load(ctl, CTL.PENDING);
      if (v === 0) return;
      if (waitAsync) {
        const r = waitAsync(ctl, CTL.PENDING, v, 50);
        if (r.async) await r.value;
        // Let exit / error events of dead workers through before looking again.
        await new Promise((res) => setTimeout(res, 0));
      } else {
        await new Promise((res) => setTimeout(res, 1));
      }
    }
  }

  private finish(inst: Attached, what: string, mainError: unknown): void {
    // Every chunk is done (PENDING reached 0) and workers count a chunk before they release it: credit the
    // chunks the workers ran since the last node to this node's instance.
    for (let w = 0; w < this.workSeen.length; w++) {
      const c = Atomics.load(this.workCounts, w);
      inst.counts.chunks[w + 1] = (inst.counts.chunks[w + 1] ?? 0) + (c - this.workSeen[w]);
      this.workSeen[w] = c;
    }
    if (Atomics.load(this.ctl, CTL.ERRORS) > 0) {
      const msgs: string[] = [];
      for (let w = 0; w < this.threads - 1; w++) {
        const at = w * ERR_CHARS;
        const len = this.err[at];
        if (!len) continue;
        msgs.push(`thread ${w + 1}: ${String.fromCharCode(...this.err.subarray(at + 1, at + 1 + len))}`);
        this.err[at] = 0;
      }
      throw new Error(`octet: ${what} failed on a worker thread (${msgs.join('; ')})`);
    }
    if (mainError !== undefined) throw mainError;
  }

  /**
   * Tracing (instrumentation, bench/threads-trace.ts): while on, every thread records per phase when it waited, ran
   * and finished (worker.ts TRACE_FIELDS); lastTrace() reads the last job's. Off (the default), runShare does no
   * timing at all.
   */
  setTrace(on: boolean): void {
    this.tracing = on && this.threads > 1;
    if (!this.tracing) this.traced = null;
  }

  /** The trace of the last job run with tracing on (its first TRACE_PHASES phases), or null. */
  lastTrace(): JobTrace | null {
    const t = this.traced;
    if (!t || this.threads === 1) return null;
    const row = TRACE_FIELDS * TRACE_PHASES, buf = this.traceBuf;
    const phases: JobTrace['phases'] = [];
    for (let k = 0; k < Math.min(t.phases, TRACE_PHASES); k++) {
      const p = { ready: [] as number[], open: [] as number[], busy: [] as number[], done: [] as number[], chunks: [] as number[] };
      for (let th = 0; th < this.threads; th++) {
        const at = th * row + TRACE_FIELDS * k;
        p.ready.push(buf[at] - t.start);
        p.open.push(buf[at + 1] - t.start);
        p.busy.push(buf[at + 2]);
        p.done.push(buf[at + 3] - t.start);
        p.chunks.push(buf[at + 4]);
      }
      phases.push(p);
    }
    return { threads: this.threads, end: t.end - t.start, phases };
  }

  /**
   * Wakes sleeping workers ahead of a job (a run about to start: they spin again instead of waking on the job's
   * notify, which in a VM costs tens of microseconds while the calling thread works alone). Harmless otherwise.
   */
  wake(): void {
    if (this.threads > 1 && this.ctl) Atomics.notify(this.ctl, CTL.GEN);
  }

  /** Work counters of one instance since it was attached (a copy). */
  stats(inst: PoolInstance): ThreadStats {
    const c = inst.counts;
    return { threads: c.threads, parallelNodes: c.parallelNodes, serialNodes: c.serialNodes, chunks: c.chunks.slice() };
  }

  /** Stops the workers; later runs use the calling thread only. */
  terminate(): void {
    this.terminated = true;
    this.shutdownWorkers();
    for (const [, w] of this.waiters) w.reject(new Error('pool terminated'));
    this.waiters.clear();
  }

  /** Test hook: makes worker `i` (1-based thread index) die with an uncaught error. */
  crashWorkerForTest(thread: number): void {
    this.workers[thread - 1]?.postMessage({ type: 'crash' });
    Atomics.store(this.ctl, CTL.YIELD + thread - 1, 1);
    Atomics.notify(this.ctl, CTL.GEN);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: any;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const shared = new Map<number, Promise<ThreadPool>>();

/** The process-wide pool for a thread count, shared by every session that asks for it. */
export async function sharedPool(threads?: number): Promise<ThreadPool> {
  const n = threads ?? (await defaultThreads());
  let p = shared.get(n);
  if (!p) {
    p = ThreadPool.create({ threads: n });
    shared.set(n, p);
    p.catch(() => shared.delete(n));
  }
  return p;
}

/** Stops every shared pool (tests, or a process that wants to exit early). */
export async function terminateSharedPools(): Promise<void> {
  const pools = [...shared.values()];
  shared.clear();
  for (const p of pools) (await p.catch(() => null))?.terminate();
}

/** Serializes async jobs (concurrent run() calls on one session): each starts after the previous settles. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(job: () => T | Promise<T>): Promise<T> {
    const p = this.tail.then(job);
    this.tail = p.catch(() => undefined);
    return p;
  }
}
