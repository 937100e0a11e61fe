// Gemm and MatMul (FP32 and the other numeric types host side). With constant weights and float32 data they
// lower to the wasm FP32 GEMM (src/kernels/f32.ts: weights packed once, bias and a fused clamp in the epilogue);
// otherwise (weights fed at run time, transA, a full [M, N] C) the host reference runs.
import type { Node } from '../graph/ir.js';
import { attrFloat, attrInt } from '../graph/ir.js';
import { broadcastShapes, f32Rows, fromNumbers, makeTensor, sizeOf, toNumbers, type HostTensor } from '../graph/tensor.js';
import { prepareF32Gemm } from '../kernels/f32.js';
import { inputAt, need, fail, type OpDef, type LowerCtx, type LoweredStep } from './types.js';

/** Fused activation clamp set by the fusion pass (float units). */
export function fusedClamp(node: Node): { min: number; max: number } {
  return { min: attrFloat(node, '_min', -Infinity), max: attrFloat(node, '_max', Infinity) };
}

function applyClamp(v: Float64Array, node: Node): void {
  const { min, max } = fusedClamp(node);
  if (min === -Infinity && max === Infinity) return;
  for (let i = 0; i < v.length; i++) v[i] = Math.min(Math.max(v[i], min), max);
}

function matmulDims(node: Node, a: number[], b: number[]): { out: number[]; batch: number[]; M: number; K: number; N: number } {
  need(node, a.length >= 1 && b.length >= 1, 'inputs must have rank >= 1');
  const A = a.length === 1 ? [1, a[0]] : a;
  const B = b.length === 1 ? [b[0], 1] : b;
  const M = A[A.length - 2], K = A[A.length - 1], K2 = B[B.length - 2], N = B[B.length - 1];
  need(node, K === K2, `inner dimensions differ: A [${a}] and B [${b}]`);
  const batch = broadcastShapes([A.slice(0, -2), B.slice(0, -2)], `node '${node.name}' (${node.op}) batch dims`);
  const out = [...batch];
  if (a.length !== 1) out.push(M);
  if (b.length !== 1) out.push(N);
  return { out, batch, M, K, N };
}

/** Batched matmul on doubles (host reference). */
export function matmulNumbers(node: Node, a: HostTensor, b: HostTensor, av: Float64Array, bv: Float64Array): { dims: number[]; v: Float64Array } {
  const { out, batch, M, K, N } = matmulDims(node, a.dims, b.dims);
  const aB = a.dims.length > 2 ? a.dims.slice(0, -2) : [];
  const bB = b.dims.length > 2 ? b.dims.slice(0, -2) : [];
  const nb = sizeOf(batch);
  const res = new Float64Array(nb * M * N);
  const r = batch.length;
  const idx = new Array(r).fill(0);
  const off = (dims: number[]) => {
    let o = 0;
    const pad = r - dims.length;
    for (let i = 0; i < dims.length; i++) o = o * dims[i] + (dims[i] === 1 ? 0 : idx[i + pad]);
    return o;
  };
  for (let bi = 0; bi < nb; bi++) {
    const ao = off(aB) * M * K, bo = off(bB) * K * N, co = bi * M * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += av[ao + m * K + k] * bv[bo + k * N + n];
        res[co + m * N + n] = s;
      }
    }
    for (let x = r - 1; x >= 0; x--) {
      if (++idx[x] < batch[x]) break;
      idx[x] = 0;
    }
  }
  return { dims: out, v: res };
}

export const matmul: OpDef = {
  op: 'MatMul',
  infer: (ctx) => {
    const a = inputAt(ctx, 0), b = inputAt(ctx, 1);
    need(ctx.node, a.dtype === b.dtype, `input types differ (${a.dtype} and ${b.dtype})`);
    return [{ dtype: a.dtype, dims: matmulDims(ctx.node, a.dims, b.dims).out }];
  },
  eval: (node, [a, b]) => {
    const { dims, v } = matmulNumbers(node, a!, b!, toNumbers(a!), toNumbers(b!));
    applyClamp(v, node);
    return [fromNumbers(a!.dtype, dims, v)];
  },
  lower: (lc) => {
    const [a, b] = lc.inputs;
    if (!a || !b || !b.const || a.dtype !== 'float32' || b.dims.length !== 2 || a.dims.length < 2 || a.layout === 'cl') return null;
    const K = b.dims[0], N = b.dims[1], M = sizeOf(a.dims) / K;
    const { min, max } = fusedClamp(lc.node);
    const k = prepareF32Gemm({ M, N, K, weights: f32Rows(b.const, K), min, max, node: lc.node.name, alloc: lc.env.constAlloc }, { path: lc.env.path, arch: lc.env.arch });
    return [{ kernel: k, inputs: [a.name], outputs: [lc.outputs[0].name] }];
  },
};

function gemmParts(node: Node, a: number[], b: number[]) {
  need(node, a.length === 2 && b.length === 2, `A and B must be 2-D, got [${a}] and [${b}]`);
  const tA = attrInt(node, 'transA', 0) === 1, tB = attrInt(node, 'transB', 0) === 1;
  const M = tA ? a[1] : a[0], K = tA ? a[0] : a[1];
  const K2 = tB ? b[1] : b[0], N = tB ? b[0] : b[1];
  need(node, K === K2, `inner dimensions differ: A [${a}]${tA ? '^T' : ''} and B [${b}]${tB ? '^T' : ''}`);
  return { M, N, K, tA, tB };
}

export const gemm: OpDef = {
  op: 'Gemm',
  infer: (ctx) => {
    const a = inputAt(ctx, 0), b = inputAt(ctx, 1);
    const { M, N } = gemmParts(ctx.node, a.dims, b.dims);
    const c = ctx.inputs[2];
    if (c) broadcastShapes([c.dims, [M, N]], `node '${ctx.node.name}' (Gemm) C`);
    if (c) need(ctx.node, broadcastShapes([c.dims, [M, N]], '').every((d, i) => d === [M, N][i]), `C [${c.dims}] does not broadcast to [${M}, ${N}]`);
    return [{ dtype: a.dtype, dims: [M, N] }];
  },
  eval: (node, [a, b, c]) => {
    const { M, N, K, tA, tB } = gemmParts(node, a!.dims, b!.dims);
    const alpha = attrFloat(node, 'alpha', 1), beta = attrFloat(node, 'beta', 1);
    const av = toNumbers(a!), bv = toNumbers(b!);
    const out = new Float64Array(M * N);
    let cv: Float64Array | undefined, cIdx: ((m: number, n: number) => number) | undefined;
    if (c) {
      cv = toNumbers(c);
      const cd = c.dims.length === 1 ? [1, c.dims[0]] : c.dims.length === 0 ? [1, 1] : c.dims;
      cIdx = (m, n) => (cd[0] === 1 ? 0 : m) * cd[1] + (cd[1] === 1 ? 0 : n);
    }
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += av[tA ? k * M + m : m * K + k] * bv[tB ? n * K + k : k * N + n];
        out[m * N + n] = alpha * s + (cv ? beta * cv[cIdx!(m, n)] : 0);
      }
    }
    applyClamp(out, node);
    return [fromNumbers(a!.dtype, [M, N], out)];
  },
  lower: (lc) => lowerGemm(lc),
};

function lowerGemm(lc: LowerCtx): LoweredStep[] | null {
  const [a, b, c] = lc.inputs;
  const node = lc.node;
  if (!a || !b || !b.const || a.dtype !== 'float32' || (c && !c.const)) return null;
  const { M, N, K, tA, tB } = gemmParts(node, a.dims, b.dims);
  if (tA) return null;
  const alpha = attrFloat(node, 'alpha', 1), beta = attrFloat(node, 'beta', 1);
  let bias: Float32Array | undefined;
  if (c) {
    const cd = c.dims;
    const cv = c.const!.data as Float32Array;
    if (cv.length === 1) bias = new Float32Array(N).fill(beta * cv[0]);
    else if (cd[cd.length - 1] === N && sizeOf(cd) === N) bias = Float32Array.from(cv, (x) => beta * x);
    else return null; // per-row or full C: host
  }
  // read by rows where they lie (tensor.ts f32Rows), packed into wasm memory
  const w = alpha !== 1 ? Float32Array.from(b.const.data as Float32Array, (x) => alpha * x) : f32Rows(b.const, tB ? N : K);
  const { min, max } = fusedClamp(node);
  const k = prepareF32Gemm({ M, N, K, weights: w, transB: tB, bias, min, max, node: node.name, alloc: lc.env.constAlloc }, { path: lc.env.path, arch: lc.env.arch });
  return [{ kernel: k, inputs: [a.name], outputs: [lc.outputs[0].name] }];
}

export const MATMUL_OPS: OpDef[] = [matmul, gemm];
export { makeTensor, fail };
