// The executor: compiles a graph for concrete input shapes into a flat list of steps (wasm kernels or host
// reference ops), places packed weights once and plans every runtime tensor into one arena (src/runtime/arena.ts)
// inside the session's wasm memory, then runs the steps. Nothing is allocated in wasm memory during run().
// runStep() is the one place a step is executed (a worker pool can replace it: kernels take a work range).
import type { Graph, Node } from '../graph/ir.js';
import { nodeLabel } from '../graph/ir.js';
import { typeGraph, opsetFor, type TypedGraph } from '../graph/infer.js';
import { deadNodes, foldBatchNorm, fuseActivations, assignLayouts } from '../graph/passes.js';
import { foldQDQ } from '../graph/qdq.js';
import { DTYPE_BYTES, releaseWeightScratch, reserveWeightScratch, sizeOf, viewData, type HostTensor } from '../graph/tensor.js';
import { findOp } from '../ops/index.js';
import { fromChannelsLast } from '../ops/layout.js';
import { physDims, type KernelEnv, type ValueState, type OpDef } from '../ops/types.js';
import { scratchBytesForThreads, type PreparedKernel, type KernelIO, type KernelCall } from '../kernels/types.js';
import type { WasmKernels } from './wasm.js';
import { planArena, alignUp, type BufferRequest } from './arena.js';
import { phase } from './phases.js';

export interface Step {
  name: string;
  op: string;
  kernel: PreparedKernel;
  inputs: string[];
  outputs: string[];
  io: KernelIO;
}

export interface CompiledPlan {
  steps: Step[];
  values: Map<string, ValueState>;
  /** Absolute byte offset of every runtime value. */
  offsets: Map<string, number>;
  inputs: string[];
  outputs: string[];
  inputDims: Map<string, number[]>;
  weightsBytes: number;
  arenaBytes: number;
  arenaLowerBound: number;
  /** heapBase + weights + arena. */
  totalBytes: number;
}

/** Row-local steps (PreparedKernel.access) a buffer outlives its last use by when a plan runs on threads (see below). */
export const LOCAL_SLACK = 3;

export interface CompileOptions {
  maxMemoryBytes?: number;
  /** Graph inputs bound to values for this compile (see typeGraph). */
  inputValues?: Map<string, HostTensor>;
  /** Threads the steps may be split over: each step's scratch is reserved once per thread (src/runtime/pool.ts). */
  threads?: number;
}

function cloneGraph(g: Graph): Graph {
  return { ...g, nodes: g.nodes.map((n) => ({ ...n, inputs: n.inputs.slice(), outputs: n.outputs.slice(), attrs: { ...n.attrs } })) };
}

export function optimize(g: Graph, inputDims: Map<string, number[]>, inputValues?: Map<string, HostTensor>, requant: 'fixed-point' | 'float' = 'float',
  qdqFusion: 'octet' | 'ort' = 'octet', ortThreads = 1): TypedGraph {
  const cg = cloneGraph(g);
  for (const n of cg.nodes) n.attrs._requant = requant;
  const tg = typeGraph(cg, inputDims, inputValues);
  phase('infer+fold');
  deadNodes(tg);
  foldBatchNorm(tg);
  fuseActivations(tg);
  phase('bn+fuse');
  foldQDQ(tg, qdqFusion, ortThreads);
  phase('qdq');
  deadNodes(tg);
  assignLayouts(tg);
  phase('layouts');
  return tg;
}

function hostKernel(node: Node, op: OpDef, opset: number, ins: (ValueState | undefined)[], outs: (ValueState | undefined)[], cl: boolean): PreparedKernel {
  const fn = cl ? op.evalCL : op.eval;
  if (!fn) throw new Error(`octet: ${nodeLabel(node)}: no implementation for this configuration`);
  const inPhys = ins.map((v) => (v ? physDims(v) : []));
  const outPhys = outs.map((v) => (v ? physDims(v) : []));
  return {
    variant: 'host',
    constants: new Uint8Array(0),
    scratchBytes: 0,
    workItems: 1,
    run(wasm: WasmKernels, io: KernelIO) {
      let k = 0;
      const tensors = ins.map((v, i): HostTensor | undefined => {
        if (!v) return undefined;
        if (v.const) return v.const;
        const off = io.inputs[k++];
        return { dtype: v.dtype, dims: inPhys[i], data: viewData(v.dtype, wasm.memory.buffer, off, sizeOf(inPhys[i])) };
      });
      let res: HostTensor[];
      try {
        res = fn(node, tensors, opset);
      } catch (e: any) {
        throw new Error(e.message?.startsWith('octet:') ? e.message : `octet: ${nodeLabel(node)}: ${e.message}`);
      }
      let j = 0;
      outs.forEach((v, i) => {
        if (!v) return;
        const t = res[i];
        const n = sizeOf(outPhys[i]);
        if (!t || t.data.length !== n) {
          throw new Error(`octet: ${nodeLabel(node)}: produced ${t?.data.length} values for output '${v.name}', expected ${n} [${outPhys[i]}]`);
        }
        const bytes = n * DTYPE_BYTES[v.dtype];
        new Uint8Array(wasm.memory.buffer, io.outputs[j++], bytes).set(new Uint8Array(t.data.buffer, t.data.byteOffset, bytes));
      });
    },
  };
}

export function compile(g: Graph, inputDims: Map<string, number[]>, env: KernelEnv, wasm: WasmKernels, opts: CompileOptions = {}): CompiledPlan {
  const tg = optimize(g, inputDims, opts.inputValues, env.requant, env.qdqFusion, env.ortThreads);
  const values = tg.values;
  const steps: Step[] = [];
  const alias = new Map<string, string>(); // value -> value whose buffer it shares
  const root = (n: string): string => {
    let r = n;
    while (alias.has(r)) r = alias.get(r)!;
    return r;
  };
  const graphIO = new Set([...tg.inputs, ...tg.outputs]);
  // Weights staged in wasm memory while lowering: kernels that can pack straight into the weights region take their
  // constants from here (no JS copy, no second copy into wasm; bench/cold-phases.ts). Memory grows once, before
  // lowering, to an estimate (twice the integer constants' bytes: int16 packing; four times for 3x3 integer kernels,
  // which Winograd F(2x2, 3x3) packs as 16 int16 matrices, 32/9 of their bytes; 5/4 of the float32 constants' bytes:
  // 8-column panels and their bias row; untouched pages of the estimate cost no memory), so no view of it is detached while lowering; what does not fit is allocated
  // by the kernel and copied below as before. Constants lying in the staged range (what constAlloc gave, or a typed
  // view of it) stay where they are.
  const staged = new Set<Uint8Array>();
  let stageTop = wasm.heapBase;
  let stageEnd = stageTop;
  // bytes from here on were never written: memory grown below is zero (a first touch of a page costs ~20 us here, so
  // constAlloc zeroes only what an earlier plan of this memory may have written)
  const cleanFrom = wasm.memory.buffer.byteLength;
  {
    let bytes = 0, q8 = 0;
    for (const v of values.values()) {
      if (!v.const) continue;
      const n = sizeOf(v.const.dims); // not v.const.data: a lazy constant (tensor.ts lazyF32, lazyQ8) is not built here
      if (v.const.q8src) q8 = Math.max(q8, n);
      if (n < 256) continue;
      const d = v.const.dims;
      const k3x3 = d.length === 4 && ((d[2] === 3 && d[3] === 3) || (d[1] === 3 && d[2] === 3));
      if (v.dtype === 'int8' || v.dtype === 'uint8') bytes += (k3x3 ? 4 : 2) * n;
      else if (v.dtype === 'float32') bytes += 5 * n;
    }
    reserveWeightScratch(q8);
    // at most maxMemoryBytes: what does not fit the staged range is packed in JS and placed after it (the estimate
    // can exceed what the plan needs: a 3x3 kernel that does not run as Winograd packs 2 bytes per weight)
    let want = alignUp(stageTop + bytes + (bytes ? 1 << 16 : 0), 64);
    if (opts.maxMemoryBytes !== undefined) want = Math.min(want, Math.floor(opts.maxMemoryBytes / 64) * 64);
    if (bytes && want > stageTop) {
      try {
        wasm.ensure(want);
        stageEnd = want;
      } catch { /* above the build's limit: no staging */ }
    }
  }
  const threadEnv: KernelEnv = { ...env, threads: opts.threads ?? 1 };
  const lowerEnv: KernelEnv = stageEnd > stageTop ? {
    ...threadEnv,
    constAlloc: (bytes: number) => {
      const at = alignUp(stageTop, 64);
      if (at + bytes > stageEnd) return null;
      stageTop = at + bytes;
      const view = wasm.u8(at, bytes);
      if (at < cleanFrom) view.fill(0, 0, Math.min(bytes, cleanFrom - at)); // a previous plan's weights may lie here
      return view;
    },
  } : threadEnv;
  const stageBuffer = wasm.memory.buffer;
  const stagedAt = (c: Uint8Array): number | undefined =>
    (c.buffer === stageBuffer && c.byteLength > 0 && c.byteOffset >= wasm.heapBase && c.byteOffset + c.byteLength <= stageTop ? c.byteOffset : undefined);
  for (const node of tg.nodes) {
    const op = findOp(node.domain, node.op)!;
    const opset = opsetFor(tg.opsets, node.domain);
    const ins = node.inputs.map((i) => (i ? values.get(i) : undefined));
    const outs = node.outputs.map((o) => (o ? values.get(o) : undefined));
    const x0 = ins[0];
    const mayAlias = op.alias ? x0?.layout !== 'cl' && outs[0]?.layout !== 'cl' : !!op.aliasWhen?.(ins, outs);
    if (mayAlias && x0 && !x0.const && outs[0] && outs.length === 1
      && !(graphIO.has(node.outputs[0]) && graphIO.has(root(node.inputs[0])))) {
      alias.set(node.outputs[0], node.inputs[0]);
      continue;
    }
    let lowered = null;
    try {
      lowered = op.lower?.({ node, inputs: ins, outputs: outs.filter((v): v is ValueState => !!v), env: lowerEnv, opset }) ?? null;
    } catch (e: any) {
      throw new Error(e.message?.startsWith('octet:') ? e.message : `octet: ${nodeLabel(node)}: ${e.message}`);
    }
    if (lowered) {
      for (const s of lowered) steps.push({ name: node.name, op: node.op, kernel: s.kernel, inputs: s.inputs, outputs: s.outputs, io: { inputs: [], outputs: [], constants: 0, scratch: 0 } });
      continue;
    }
    const cl = !!op.evalCL && x0?.layout === 'cl';
    steps.push({
      name: node.name,
      op: node.op,
      kernel: hostKernel(node, op, opset, ins, outs, cl),
      inputs: node.inputs.filter((i, k) => i && !ins[k]!.const),
      outputs: node.outputs.filter((o) => o),
      io: { inputs: [], outputs: [], constants: 0, scratch: 0 },
    });
  }
  releaseWeightScratch();
  phase('lower+pack');
  // weights region: staged constants where they were packed, the others after them
  let top = stageTop;
  let weightsBytes = 0;
  for (const s of steps) {
    const at = stagedAt(s.kernel.constants);
    if (at !== undefined) {
      staged.add(s.kernel.constants);
      s.io.constants = at;
      weightsBytes += s.kernel.constants.length;
      continue;
    }
    const a = Math.max(s.kernel.constantsAlign ?? 16, 16);
    top = alignUp(top, a);
    s.io.constants = top;
    top += s.kernel.constants.length;
    weightsBytes += s.kernel.constants.length;
  }
  const arenaBase = alignUp(top, 64);
  // lifetimes per buffer root
  const life = new Map<string, { first: number; last: number; bytes: number }>();
  const touch = (name: string, t: number) => {
    const v = values.get(name);
    if (!v || v.const) return;
    const r = root(name);
    const rv = values.get(r)!;
    const bytes = sizeOf(rv.dims) * DTYPE_BYTES[rv.dtype];
    const l = life.get(r);
    if (!l) life.set(r, { first: t, last: t, bytes });
    else { l.first = Math.min(l.first, t); l.last = Math.max(l.last, t); }
  };
  const last = Math.max(steps.length - 1, 0);
  for (const i of tg.inputs) if (values.has(i)) touch(i, 0);
  steps.forEach((s, t) => {
    for (const i of s.inputs) touch(i, t);
    for (const o of s.outputs) touch(o, t);
  });
  for (const o of tg.outputs) touch(o, last);
  // With threads, a buffer (or a step's scratch) stays reserved for up to LOCAL_SLACK row-local steps after its last
  // use, so that those steps' outputs never land on bytes another thread may still read: pool.ts localDeps can then
  // drop their barriers (MobileNetV2 INT8 at 2 threads: 23 local phases instead of 4, arena 1.5 -> 2.7 MB; ResNet-18,
  // whose steps are not row-local, +0.2 MB). OCTET_LOCAL_SLACK=0 plans as for one thread (A/B).
  const envSlack = typeof process !== 'undefined' ? (process as any).env?.OCTET_LOCAL_SLACK : undefined;
  const slack = (opts.threads ?? 1) > 1 ? (envSlack !== undefined && envSlack !== '' ? Number(envSlack) : LOCAL_SLACK) : 0;
  const arenaFor = (slack: number) => {
    const keep = (t: number): number => {
      let e = t;
      while (e < t + slack && e < last && steps[e + 1].kernel.access) e++;
      return e;
    };
    const reqs: BufferRequest[] = [];
    for (const [id, l] of life) reqs.push({ id, bytes: l.bytes, first: l.first, last: keep(l.last) });
    steps.forEach((s, t) => {
      if (s.kernel.scratchBytes > 0) reqs.push({ id: `\u0000scratch${t}`, bytes: scratchBytesForThreads(s.kernel, opts.threads ?? 1), first: t, last: keep(t) });
    });
    return planArena(reqs, 64);
  };
  let arena = arenaFor(slack);
  // the slack is a speed-up, not a need: dropped when it alone would break maxMemoryBytes
  if (slack > 0 && opts.maxMemoryBytes !== undefined && arenaBase + arena.bytes > opts.maxMemoryBytes) arena = arenaFor(0);
  const totalBytes = arenaBase + arena.bytes;
  if (opts.maxMemoryBytes !== undefined && totalBytes > opts.maxMemoryBytes) {
    throw new Error(`octet: the model needs ${totalBytes} bytes of memory (weights ${weightsBytes}, arena ${arena.bytes}), above maxMemoryBytes ${opts.maxMemoryBytes}`);
  }
  wasm.ensure(totalBytes);
  phase('arena');
  const offsets = new Map<string, number>();
  for (const name of values.keys()) {
    const v = values.get(name)!;
    if (v.const) continue;
    const off = arena.offsets.get(root(name));
    if (off !== undefined) offsets.set(name, arenaBase + off);
  }
  for (const [name, target] of alias) {
    const off = arena.offsets.get(root(target));
    if (off !== undefined) offsets.set(name, arenaBase + off);
  }
  steps.forEach((s, t) => {
    s.io.inputs = s.inputs.map((i) => offsets.get(i)!);
    s.io.outputs = s.outputs.map((o) => offsets.get(o)!);
    const sc = arena.offsets.get(`\u0000scratch${t}`);
    s.io.scratch = sc === undefined ? 0 : arenaBase + sc;
    if (s.kernel.constants.length && !staged.has(s.kernel.constants)) wasm.u8(s.io.constants, s.kernel.constants.length).set(s.kernel.constants);
  });
  phase('copy-weights');
  return {
    steps, values, offsets, inputs: tg.inputs, outputs: tg.outputs, inputDims,
    weightsBytes, arenaBytes: arena.bytes, arenaLowerBound: arena.lowerBound, totalBytes,
  };
}

/** Bytes between the arenas of two request lanes (laneProgram). */
export function laneStride(plan: CompiledPlan): number {
  return alignUp(Math.max(plan.arenaBytes, 64), 64);
}

/**
 * A whole run of the plan as wasm export calls over lane `lane`: a copy of the arena `lane * laneStride(plan)`
 * bytes further (weights are shared), every step's work items in one range, scratch slot 0. A worker can run it
 * alone (request-level parallelism: concurrent run() calls each on their own thread, src/api/session.ts); outputs
 * are those of execute(). Null when a step cannot be replayed as export calls (a host step, or a kernel that
 * touches memory from JS). `record` is the pool's recordCalls (passed in to keep this module free of the pool).
 */
export function laneProgram(plan: CompiledPlan, wasm: WasmKernels, lane: number,
  record: (k: PreparedKernel, wasm: WasmKernels, io: KernelIO, begin: number, end: number) => KernelCall[] | null): KernelCall[] | null {
  const shift = lane * laneStride(plan);
  const calls: KernelCall[] = [];
  for (const s of plan.steps) {
    const io: KernelIO = {
      inputs: s.io.inputs.map((o) => o + shift),
      outputs: s.io.outputs.map((o) => o + shift),
      constants: s.io.constants,
      scratch: s.io.scratch ? s.io.scratch + shift : 0,
    };
    const n = s.kernel.workItems;
    const c = s.kernel.calls ? s.kernel.calls(io, 0, n) : record(s.kernel, wasm, io, 0, n);
    if (!c) return null;
    for (const x of c) calls.push(x);
  }
  return calls;
}

/** Runs one step on the calling thread (the worker pool swaps this for a split over ranges). */
export function runStep(wasm: WasmKernels, step: Step): void {
  step.kernel.run(wasm, step.io, 0, step.kernel.workItems);
}

export interface StepTiming {
  name: string;
  op: string;
  variant: string;
  ms: number;
}

export function execute(plan: CompiledPlan, wasm: WasmKernels, feeds: Map<string, HostTensor>, timings?: StepTiming[],
  run: (wasm: WasmKernels, step: Step) => void = runStep): Map<string, HostTensor> {
  writeFeeds(plan, wasm, feeds);
  for (const s of plan.steps) {
    if (timings) {
      const t0 = performance.now();
      run(wasm, s);
      timings.push({ name: s.name, op: s.op, variant: s.kernel.variant, ms: performance.now() - t0 });
    } else run(wasm, s);
  }
  return readOutputs(plan, wasm, feeds);
}

/** execute() with a step runner that may return a promise (the worker pool: src/runtime/pool.ts). */
export async function executeAsync(plan: CompiledPlan, wasm: WasmKernels, feeds: Map<string, HostTensor>, timings: StepTiming[] | undefined,
  run: (wasm: WasmKernels, step: Step) => void | Promise<void>): Promise<Map<string, HostTensor>> {
  writeFeeds(plan, wasm, feeds);
  for (const s of plan.steps) {
    const t0 = timings ? performance.now() : 0;
    const r = run(wasm, s);
    if (r) await r;
    if (timings) timings.push({ name: s.name, op: s.op, variant: s.kernel.variant, ms: performance.now() - t0 });
  }
  return readOutputs(plan, wasm, feeds);
}

/** Copies the feeds into their arena buffers (shifted by `shift` bytes: a request lane, see laneProgram). */
export function writeFeeds(plan: CompiledPlan, wasm: WasmKernels, feeds: Map<string, HostTensor>, shift = 0): void {
  for (const [name, t] of feeds) {
    const off = plan.offsets.get(name);
    if (off === undefined) continue; // input not used by any output
    const bytes = t.data.byteLength;
    new Uint8Array(wasm.memory.buffer, off + shift, bytes).set(new Uint8Array(t.data.buffer, t.data.byteOffset, bytes));
  }
}

/** Copies the graph outputs out of the arena (shifted by `shift` bytes: a request lane). */
export function readOutputs(plan: CompiledPlan, wasm: WasmKernels, feeds: Map<string, HostTensor>, shift = 0): Map<string, HostTensor> {
  const out = new Map<string, HostTensor>();
  for (const name of plan.outputs) {
    const v = plan.values.get(name)!;
    if (v.const) {
      out.set(name, { dtype: v.const.dtype, dims: v.const.dims.slice(), data: (v.const.data as any).slice() });
      continue;
    }
    const off = plan.offsets.get(name);
    if (off === undefined) {
      const f = feeds.get(name)!;
      out.set(name, { dtype: f.dtype, dims: f.dims.slice(), data: (f.data as any).slice() });
      continue;
    }
    const pd = physDims(v);
    const view = viewData(v.dtype, wasm.memory.buffer, off + shift, sizeOf(pd));
    let t: HostTensor = { dtype: v.dtype, dims: pd, data: (view as any).slice() };
    if (v.layout === 'cl') t = fromChannelsLast(t);
    out.set(name, t);
  }
  return out;
}
