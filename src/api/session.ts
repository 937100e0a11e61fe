// InferenceSession: the public entry, shaped like onnxruntime-web's so switching is a one-line change.
//   const s = await InferenceSession.create(pathOrBytes, { kernels: 'auto', requantization: 'float' });
//   const out = await s.run({ [s.inputNames[0]]: new Tensor('float32', data, [1, 3, 224, 224]) });
// One wasm memory per session: packed weights once, then one planned arena reused by every run. The plan is made
// for concrete input shapes (open dims default to 1 at create) and redone when a run brings other shapes.
import type { Graph, Dim } from '../graph/ir.js';
import { readModel, readModelFile } from '../onnx/reader.js';
import { choosePath, type KernelsOption } from '../runtime/select.js';
import { WasmKernels, type WasmSource } from '../runtime/wasm.js';
import { buildOf, type KernelPath, type KernelCall } from '../kernels/types.js';
import type { RequantMode } from '../kernels/requant.js';
import { compile, executeAsync, laneProgram, laneStride, writeFeeds, readOutputs, type CompiledPlan, type StepTiming, type Step } from '../runtime/executor.js';
import { sharedPool, diffThreadStats, recordCalls, type PlanJob, type ThreadPool, type PoolInstance, type ThreadStats } from '../runtime/pool.js';
import type { HostTensor } from '../graph/tensor.js';
import { NeedsValue, type KernelEnv } from '../ops/types.js';
import { Tensor, type TensorType } from './tensor.js';
import { phase } from '../runtime/phases.js';

export interface SessionOptions {
  /** Code path: 'auto' (detect), or force 'scalar' | 'x86' | 'arm' | 'relaxed'. */
  kernels?: KernelsOption;
  /**
   * Integer requantization: 'float' (default: the ONNX reference formula, bit-identical to onnxruntime and the
   * cheaper epilogue on wasm) or 'fixed-point' (gemmlowp/TFLite integer-only arithmetic).
   */
  requantization?: RequantMode;
  /**
   * Which QDQ patterns fold into integer kernels: 'octet' (default: every supported pattern, fastest) or 'ort'
   * (only those onnxruntime's CPU provider folds on x86-64; the rest runs DequantizeLinear -> float op ->
   * QuantizeLinear with float Conv / GlobalAveragePool in onnxruntime's MLAS order, on the host, slowly). With
   * requantization 'float', 'ort' makes int8-activation QDQ models (onnxruntime quantizer) bit-identical to
   * onnxruntime; see README "QDQ and onnxruntime".
   */
  qdqFusion?: 'octet' | 'ort';
  /**
   * With qdqFusion 'ort': the intra-op thread count of the onnxruntime session to reproduce (its
   * `intraOpNumThreads`; default 1). onnxruntime splits some float GEMMs over its threads, which changes how they
   * cut K and so their rounding (a pointwise Conv with fewer filters than output pixels and more than 128 input
   * channels, for one).
   */
  ortThreads?: number;
  /** Reject models whose weights + arena would exceed this many bytes of wasm memory. */
  maxMemoryBytes?: number;
  /**
   * Threads per node, including the calling one (src/runtime/pool.ts). Default: the number of cores, at most 4
   * (or OCTET_THREADS). 1 runs without workers. Sessions asking for the same count share one pool of workers.
   * Without SharedArrayBuffer (a page that is not cross-origin isolated) the session runs on 1 thread and
   * says why in `session.threadsNote`.
   */
  threads?: number;
  /**
   * With threads > 1: queued run() calls (same input shapes) run side by side, each whole on one thread over its
   * own copy of the arena (true, default: better throughput on an idle machine), or one after another, each split
   * over the threads (false: less memory, and better when other processes compete for the cores).
   */
  parallelRequests?: boolean;
  /**
   * Where the wasm builds come from. Default: the files next to the compiled code, found with
   * `new URL('…', import.meta.url)` (bundlers copy them). Or a base URL of a folder holding the six files, or
   * per file bytes / URLs: `{ 'octet-relaxed-mt.wasm': bytes }` (see WasmSource in src/runtime/wasm.ts).
   */
  wasm?: WasmSource;
}

export interface ValueMetadata {
  name: string;
  isTensor: true;
  type: TensorType;
  /** Declared dims: numbers, or symbolic names for open dims. */
  shape: (number | string)[];
}

export interface ProfileEntry {
  name: string;
  op: string;
  /** Kernel variant that ran ('host' for host-side reference ops). */
  variant: string;
  ms: number;
}

export interface SessionProfile {
  nodes: ProfileEntry[];
  totalMs: number;
  /** What each thread did during the run (chunks per thread; index 0 is the calling thread). */
  threads: ThreadStats;
}

export type { ThreadStats };

export interface SessionMemory {
  /** Arena bytes planned for intermediate tensors (the planned peak). */
  arenaBytes: number;
  /** Largest sum of tensor sizes alive at one step: what a perfect planner would need. */
  arenaLowerBound: number;
  /** Packed weights and kernel constants. */
  weightsBytes: number;
  /** Highest wasm memory offset used (static data + weights + arena). */
  peakBytes: number;
  /** Size of the session's wasm memory. */
  wasmBytes: number;
}

interface PendingRun {
  feeds: Record<string, Tensor>;
  fetches?: readonly string[];
  resolve(r: Record<string, Tensor>): void;
  reject(e: unknown): void;
}

interface CheckedFeeds {
  dims: Map<string, number[]>;
  host: Map<string, HostTensor>;
  wanted: readonly string[];
}

function dimsKey(m: Map<string, number[]>): string {
  return [...m].map(([k, v]) => `${k}:${v.join('x')}`).join(';');
}

export class InferenceSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueMetadata[];
  readonly outputMetadata: readonly ValueMetadata[];
  /** The code path this session runs ('scalar' | 'x86' | 'arm' | 'relaxed') and why ('option' | 'env' | 'auto'). */
  readonly kernelPath: KernelPath;
  readonly kernelPathReason: string;
  /** Threads each node is split over (1 when threads are unavailable: see threadsNote). */
  readonly threads: number;
  /** Why fewer threads than requested run (e.g. no SharedArrayBuffer), else undefined. */
  readonly threadsNote?: string;

  private wasm: WasmKernels | null;
  private plan: CompiledPlan | null = null;
  private planKey = '';
  private lastProfile: SessionProfile;
  private queue: Promise<unknown> = Promise.resolve();
  /** The per-step runner: the worker pool splits each step's work items over the threads. */
  stepRunner: (wasm: WasmKernels, step: Step) => void | Promise<void> = (_wasm, step) => this.pool.run(this.poolInstance, step.kernel, step.io);

  private constructor(private graph: Graph, private env: KernelEnv, wasm: WasmKernels, reason: string, private opts: SessionOptions,
    private pool: ThreadPool, private poolInstance: PoolInstance) {
    this.wasm = wasm;
    this.kernelPath = env.path;
    this.kernelPathReason = reason;
    this.threads = poolInstance.parallel ? pool.threads : 1;
    this.threadsNote = pool.note;
    this.lastProfile = { nodes: [], totalMs: 0, threads: diffThreadStats(pool.stats(poolInstance), pool.stats(poolInstance)) };
    this.inputNames = graph.inputs.map((v) => v.name);
    this.outputNames = graph.outputs.map((v) => v.name);
    const meta = (v: Graph['inputs'][number]): ValueMetadata => ({
      name: v.name, isTensor: true, type: v.dtype,
      shape: (v.dims ?? []).map((d: Dim, i: number) => (typeof d === 'number' ? d : d ?? `unk__${i}`)),
    });
    this.inputMetadata = graph.inputs.map(meta);
    this.outputMetadata = graph.outputs.map(meta);
  }

  static async create(model: string | Uint8Array | ArrayBuffer, options: SessionOptions = {}): Promise<InferenceSession> {
    const requant = options.requantization ?? 'float';
    if (requant !== 'fixed-point' && requant !== 'float') {
      throw new Error(`octet: unknown requantization '${requant}' (expected 'fixed-point' or 'float')`);
    }
    const qdqFusion = options.qdqFusion ?? 'octet';
    if (qdqFusion !== 'octet' && qdqFusion !== 'ort') {
      throw new Error(`octet: unknown qdqFusion '${String(qdqFusion)}' (expected 'octet' or 'ort')`);
    }
    const ortThreads = options.ortThreads ?? 1;
    if (!(Number.isInteger(ortThreads) && ortThreads >= 1)) throw new Error(`octet: ortThreads must be an integer >= 1, got ${ortThreads}`);
    if (options.maxMemoryBytes !== undefined && !(options.maxMemoryBytes > 0)) {
      throw new Error(`octet: maxMemoryBytes must be a positive number, got ${options.maxMemoryBytes}`);
    }
    if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1)) {
      throw new Error(`octet: threads must be an integer >= 1, got ${options.threads}`);
    }
    if (typeof model !== 'string' && !(model instanceof ArrayBuffer) && !(model instanceof Uint8Array)) {
      throw new Error('octet: InferenceSession.create expects a path, a Uint8Array or an ArrayBuffer');
    }
    phase('create');
    const choice = await choosePath(options.kernels ?? 'auto', options.wasm);
    const pool = await sharedPool(options.threads);
    phase('select');
    // The chosen build compiles (asynchronously, off the main thread) while the model is read and decoded.
    const wasmP = WasmKernels.create(buildOf(choice.path), {
      source: options.wasm,
      // Shared memory (the -mt build) only when workers will use it.
      shared: pool.threads > 1,
      maxBytes: options.maxMemoryBytes !== undefined ? Math.max(options.maxMemoryBytes, 1 << 20) : undefined,
    });
    wasmP.then(() => phase('~wasm-ready'), () => undefined); // a bad model is reported first; the build's error, if any, on await below
    let graph: Graph;
    if (typeof model === 'string') graph = await readModelFile(model);
    else if (model instanceof ArrayBuffer) graph = readModel(new Uint8Array(model));
    else graph = readModel(model);
    const wasm = await wasmP;
    const inst = await pool.attach(wasm);
    phase('wasm-wait');
    const env: KernelEnv = { path: choice.path, arch: choice.features.arch, requant, qdqFusion, ortThreads };
    const s = new InferenceSession(graph, env, wasm, choice.reason, options, pool, inst);
    if (graph.inputs.every((v) => v.dims)) {
      const dims = new Map(graph.inputs.map((v) => [v.name, v.dims!.map((d) => (typeof d === 'number' && d >= 0 ? d : 1))]));
      s.prepare(dims, new Map());
    }
    return s;
  }

  /** Compiles for these input shapes; returns null when a graph input's value is needed (known at run). */
  private prepare(dims: Map<string, number[]>, feeds: Map<string, HostTensor>): CompiledPlan | null {
    for (;;) {
      const values = new Map<string, HostTensor>();
      for (const name of this.valueInputs) {
        const t = feeds.get(name);
        if (!t) return null;
        values.set(name, t);
      }
      let key = dimsKey(dims);
      for (const [name, t] of values) key += `|${name}=${Array.from(t.data as ArrayLike<number | bigint>).join(',')}`;
      if (this.plan && this.planKey === key) return this.plan;
      this.plan = null;
      try {
        this.plan = compile(this.graph, dims, this.env, this.wasm!, { maxMemoryBytes: this.opts.maxMemoryBytes, inputValues: values, threads: this.threads });
      } catch (e) {
        if (e instanceof NeedsValue && !this.valueInputs.has(e.input)) {
          this.valueInputs.add(e.input);
          continue;
        }
        throw e;
      }
      this.planKey = key;
      return this.plan;
    }
  }

  /** Graph inputs whose values decide shapes (the plan is redone when they change). */
  private valueInputs = new Set<string>();

  /**
   * Runs the model. `fetches` limits which outputs are returned. Concurrent calls are queued; with threads > 1,
   * queued calls with the same input shapes run side by side, each whole on one thread over its own copy of the
   * arena (request-level parallelism: better throughput than splitting each node), a lone call is split node by
   * node. Results are the same either way.
   */
  run(feeds: Record<string, Tensor>, fetches?: readonly string[]): Promise<Record<string, Tensor>> {
    return new Promise((resolve, reject) => {
      this.pending.push({ feeds, fetches, resolve, reject });
      if (this.pending.length === 1 && !this.draining) this.queue = this.drain();
    });
  }

  private pending: PendingRun[] = [];
  /** The current plan as one pool job (null: some step cannot run on a worker). */
  private job: { plan: CompiledPlan; job: PlanJob | null } | null = null;
  private draining = false;
  /** Programs of the current plan per request lane (null: the plan cannot run as a program). */
  private lanes: { plan: CompiledPlan; programs: (KernelCall[] | null)[] } | null = null;

  private async drain(): Promise<void> {
    this.draining = true;
    // Let callers that issue several run() calls in one go queue them all before the first batch is formed.
    await null;
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0, this.threads > 1 && this.opts.parallelRequests !== false ? this.threads : 1);
        if (batch.length > 1 && (await this.runBatch(batch))) continue;
        for (const r of batch) {
          try {
            r.resolve(await this.runNow(r.feeds, r.fetches));
          } catch (e) {
            r.reject(e);
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Runs 2..threads queued calls at once, each whole on one thread (ThreadPool.runPrograms) over its own arena lane.
   * False (nothing done) when they cannot: different shapes, shape-deciding input values, or a step that only runs
   * on the calling thread; the caller then runs them one by one. Settles every call of the batch when true.
   */
  private async runBatch(batch: PendingRun[]): Promise<boolean> {
    if (!this.wasm || this.valueInputs.size > 0) return false;
    const checked: { r: PendingRun; c: CheckedFeeds }[] = [];
    let key: string | undefined;
    for (const r of batch) {
      let c: CheckedFeeds;
      try {
        c = this.checkFeeds(r.feeds, r.fetches);
      } catch {
        return false; // runNow reports the error
      }
      const k = dimsKey(c.dims);
      if (key !== undefined && k !== key) return false;
      key = k;
      checked.push({ r, c });
    }
    const plan = this.prepare(checked[0].c.dims, checked[0].c.host);
    if (!plan || this.valueInputs.size > 0) return false;
    if (this.lanes?.plan !== plan) this.lanes = { plan, programs: [] };
    const programs: KernelCall[][] = [];
    for (let lane = 0; lane < checked.length; lane++) {
      let prog = this.lanes.programs[lane];
      if (prog === undefined) {
        const bytes = plan.totalBytes + lane * laneStride(plan);
        if (this.opts.maxMemoryBytes !== undefined && bytes > this.opts.maxMemoryBytes) return false;
        try {
          this.wasm.ensure(bytes);
        } catch {
          return false; // above the build's memory limit: run one by one
        }
        prog = this.lanes.programs[lane] = laneProgram(plan, this.wasm, lane, recordCalls);
      }
      if (!prog) return false;
      programs.push(prog);
    }
    const t0 = performance.now();
    const before = this.pool.stats(this.poolInstance);
    const stride = laneStride(plan);
    try {
      this.pool.wake();
      checked.forEach(({ c }, lane) => writeFeeds(plan, this.wasm!, c.host, lane * stride));
      const w = this.pool.runPrograms(this.poolInstance, programs, plan.steps.length);
      if (w) await w;
    } catch (e) {
      for (const { r } of checked) r.reject(e);
      return true;
    }
    this.lastProfile = { nodes: [], totalMs: performance.now() - t0, threads: diffThreadStats(before, this.pool.stats(this.poolInstance)) };
    checked.forEach(({ r, c }, lane) => {
      const res = readOutputs(plan, this.wasm!, c.host, lane * stride);
      r.resolve(this.toResult(res, c.wanted));
    });
    return true;
  }

  private toResult(res: Map<string, HostTensor>, wanted: readonly string[]): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const name of wanted) {
      const t = res.get(name)!;
      out[name] = new Tensor(t.dtype, t.data, t.dims);
    }
    return out;
  }

  private async runNow(feeds: Record<string, Tensor>, fetches?: readonly string[]): Promise<Record<string, Tensor>> {
    const { dims, host, wanted } = this.checkFeeds(feeds, fetches);
    const plan = this.prepare(dims, host)!;
    const timings: StepTiming[] = [];
    const t0 = performance.now();
    const before = this.pool.stats(this.poolInstance);
    // With threads, the whole run is one pool job (every step a phase: no return to this thread between nodes)
    // when every step can be replayed by a worker; else the steps go to the pool one by one.
    if (this.threads > 1 && (this.job?.plan !== plan || (this.job.job && this.job.job.threads !== this.pool.threads))) {
      this.job = { plan, job: this.pool.planJob(this.poolInstance, plan.steps) };
    }
    const job = this.threads > 1 ? this.job!.job : null;
    let res: Map<string, HostTensor>;
    if (job) {
      this.pool.wake(); // the workers wake while the feeds are written
      writeFeeds(plan, this.wasm!, host);
      const ms: number[] = [];
      const w = this.pool.runPlanJob(this.poolInstance, job, ms);
      if (w) await w;
      plan.steps.forEach((s, i) => timings.push({ name: s.name, op: s.op, variant: s.kernel.variant, ms: ms[i] }));
      res = readOutputs(plan, this.wasm!, host);
    } else {
      res = await executeAsync(plan, this.wasm!, host, timings, this.stepRunner);
    }
    this.lastProfile = { nodes: timings, totalMs: performance.now() - t0, threads: diffThreadStats(before, this.pool.stats(this.poolInstance)) };
    return this.toResult(res, wanted);
  }

  /** Validates feeds and fetches (clear errors naming the input); their dims and host views. */
  private checkFeeds(feeds: Record<string, Tensor>, fetches?: readonly string[]): CheckedFeeds {
    if (!this.wasm) throw new Error('octet: the session was released');
    if (!feeds || typeof feeds !== 'object') throw new Error('octet: run() expects an object of input tensors');
    const dims = new Map<string, number[]>();
    const host = new Map<string, HostTensor>();
    for (const name of Object.keys(feeds)) {
      if (!this.inputNames.includes(name)) {
        throw new Error(`octet: feed '${name}' is not an input of the model (inputs: ${this.inputNames.join(', ')})`);
      }
    }
    for (const vi of this.graph.inputs) {
      const t = feeds[vi.name];
      if (t === undefined) throw new Error(`octet: input '${vi.name}' is missing from the feeds`);
      if (!t || typeof t !== 'object' || !('type' in t) || !('data' in t) || !('dims' in t)) {
        throw new Error(`octet: input '${vi.name}' must be a Tensor`);
      }
      if (t.type !== vi.dtype) throw new Error(`octet: input '${vi.name}' has type ${t.type}, the model expects ${vi.dtype}`);
      const d = Array.from(t.dims);
      if (vi.dims) {
        const ok = d.length === vi.dims.length && vi.dims.every((x, i) => typeof x !== 'number' || x < 0 || x === d[i]);
        if (!ok) {
          throw new Error(`octet: input '${vi.name}' has dims [${d}], the model expects [${vi.dims.map((x) => x ?? '?')}]`);
        }
      }
      let n = 1;
      for (const x of d) n *= x;
      if (n !== t.data.length) throw new Error(`octet: input '${vi.name}': dims [${d}] hold ${n} values, data has ${t.data.length}`);
      dims.set(vi.name, d);
      host.set(vi.name, { dtype: vi.dtype, dims: d, data: t.data });
    }
    const wanted = fetches ?? this.outputNames;
    for (const f of wanted) if (!this.outputNames.includes(f)) throw new Error(`octet: '${f}' is not an output of the model`);
    return { dims, host, wanted };
  }

  /** Per-node time and kernel variant of the last run, and the work each thread did in it. */
  profile(): SessionProfile {
    const p = this.lastProfile;
    return { nodes: p.nodes.map((x) => ({ ...x })), totalMs: p.totalMs, threads: { ...p.threads, chunks: p.threads.chunks.slice() } };
  }

  /**
   * Work the threads did for this session since it was created: nodes split over the threads, nodes run whole on
   * the calling thread, and chunks (tiles of a node's work) run by each thread (index 0 = the calling thread).
   * `chunks.filter((c) => c > 0).length > 1` means more than one thread computed part of the model.
   */
  threadStats(): ThreadStats {
    return this.pool.stats(this.poolInstance);
  }

  /** Memory of the current plan. */
  memory(): SessionMemory {
    const p = this.plan;
    return {
      arenaBytes: p?.arenaBytes ?? 0,
      arenaLowerBound: p?.arenaLowerBound ?? 0,
      weightsBytes: p?.weightsBytes ?? 0,
      peakBytes: p?.totalBytes ?? 0,
      wasmBytes: this.wasm?.byteLength ?? 0,
    };
  }

  /** Frees the session's wasm memory; later run() calls fail. */
  async release(): Promise<void> {
    await this.queue.catch(() => undefined);
    this.pool.detach(this.poolInstance);
    this.wasm = null;
    this.plan = null;
    this.job = null;
    this.lanes = null;
  }
}
