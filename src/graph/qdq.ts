// QDQ folding: DequantizeLinear -> op -> QuantizeLinear patterns become integer operators, as onnxruntime's QDQ
// transformers do, so the INT8 kernels run them with a fused epilogue:
//   DQ(x), DQ(w const)[, bias] -> Conv [+ fused Relu/Clip] -> Q      => QLinearConv (bias as int32, clamp fused)
//   DQ(a), DQ(b const) -> MatMul -> Q                                 => QLinearMatMul
//   DQ(a), DQ(w const)[, bias] -> Gemm (transB, alpha = beta = 1) -> Q => QLinearConv 1x1 on [M, K, 1, 1]... (as MatMul + bias)
//   DQ(a), DQ(b) -> Add | Mul [-> Relu | Clip] -> Q                   => com.microsoft QLinearAdd | QLinearMul [+ clamp table]
//                                                                      (Add: the clamp fused as _qlo / _qhi when exact)
//   DQ -> GlobalAveragePool | AveragePool -> Q                         => QLinearGlobalAveragePool | QLinearAveragePool
//   DQ -> MaxPool / Reshape / Flatten / Squeeze / Unsqueeze / Transpose / Identity -> Q (same scale and zero point)
//                                                                      => the op on the integers
//   DQ... -> Concat -> Q                                               => QLinearConcat
//   DQ -> Sigmoid | HardSigmoid | HardSwish | LeakyRelu | Tanh | Relu | Clip -> Q => a 256-entry lookup table
// PyTorch-exporter noise (Constant, Cast, ConstantOfShape, Shape chains) is folded before this pass. Dequantize
// nodes left with constant inputs (unfused weights) are then evaluated into float constants.
//
// fusion 'ort' (session option qdqFusion: 'ort') folds only what onnxruntime's CPU provider on x86-64 folds, so a
// QDQ model computes what onnxruntime computes (observed on its optimized graphs, onnxruntime-node 1.30, levels
// 'extended' and 'all'; test/runtime/qdq-ort-fusion.test.ts):
//  - an int8 QuantizeLinear -> DequantizeLinear pair whose dequantized value has a single consumer is turned into
//    uint8 (QDQS8ToU8Transformer, after each consumer got its own DQ copy); a value that fans out (a residual input
//    read by a Conv and an Add) stays int8;
//  - Conv and MatMul fold only with uint8 activations in and out; Add, Mul, Gemm, pooling and Concat fold when the
//    (converted) activation types of their inputs and output agree, int8 included;
//  - a float bias of a QDQ Conv / Gemm is first quantized to int32 (BiasQuantization), so one left in float adds
//    that bias dequantized;
//  - what is left runs DequantizeLinear -> float op -> QuantizeLinear; its float Conv and GlobalAveragePool are
//    stamped `_ortf32` (= onnxruntime's intra-op thread count, which decides how some of its GEMMs cut K) and
//    computed in MLAS's order (src/ops/ort-float.ts).
import type { Node } from './ir.js';
import { attrInt, attrFloat } from './ir.js';
import { toNumbers, makeTensor, lazyQ8, sizeOf, type HostTensor } from './tensor.js';
import { roundHalfEven } from '../kernels/requant.js';
import type { TypedGraph } from './infer.js';
import { opsetFor } from './infer.js';
import { consumers, deadNodes } from './passes.js';
import { clipBounds } from '../ops/elementwise.js';
import { findOp } from '../ops/index.js';
import { buildLut, lutFunction } from '../kernels/eltwise.js';
import { qrange } from '../kernels/qcommon.js';
import type { ValueState } from '../ops/types.js';

interface QParams { scale: string; zp: string; s: number[]; z: number[]; dtype: string }

let uniq = 0;

export type QdqFusion = 'octet' | 'ort';

export function foldQDQ(tg: TypedGraph, fusion: QdqFusion = 'octet', ortThreads = 1): void {
  const producer = new Map<string, Node>();
  for (const n of tg.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const cons = consumers(tg);
  const val = (n: string) => tg.values.get(n);
  const ort = fusion === 'ort';
  /** onnxruntime's view of a quantized activation's type: int8 Q -> DQ pairs read once become uint8. */
  const ortType = (q: string, dtype: string): string => {
    if (dtype !== 'int8') return dtype;
    const p = producer.get(q);
    if (!p || p.op !== 'QuantizeLinear' || tg.outputs.includes(q)) return dtype;
    const cs = cons.get(q) ?? [];
    if (!cs.every((c) => c.op === 'DequantizeLinear' && c.domain === '')) return dtype;
    let reads = 0;
    for (const c of cs) reads += (cons.get(c.outputs[0])?.length ?? 0) + (tg.outputs.includes(c.outputs[0]) ? 1 : 0);
    return reads === 1 ? 'uint8' : dtype;
  };
  /** In 'ort' mode: do the activations (DQ inputs, Q output) let onnxruntime fold this node? */
  const ortFolds = (xs: ({ x: string; dtype: string } | null)[], q: { y: string; dtype: string }, uint8Only: boolean): boolean => {
    if (!ort) return true;
    const t = ortType(q.y, q.dtype);
    if (uint8Only && t !== 'uint8') return false;
    return xs.every((x) => !x || ortType(x.x, x.dtype) === t);
  };
  const isQ8 = (t?: string) => t === 'int8' || t === 'uint8';
  const paramCache = new Map<Node, QParams | null>(); // a DQ / Q node is asked about by each of its neighbours
  const constParams = (n: Node): QParams | null => {
    let q = paramCache.get(n);
    if (q !== undefined) return q;
    const s = val(n.inputs[1]), z = n.inputs[2] ? val(n.inputs[2]) : undefined;
    q = !s?.const || (z && !z.const) || attrInt(n, 'block_size', 0) ? null
      : { scale: n.inputs[1], zp: n.inputs[2] ?? '', s: Array.from(toNumbers(s.const)), z: z ? Array.from(toNumbers(z.const!)) : [0], dtype: z?.dtype ?? 'uint8' };
    paramCache.set(n, q);
    return q;
  };
  /** The DQ node producing `v` (runtime or const integer input). */
  const dqOf = (v: string): (QParams & { node: Node; x: string }) | null => {
    const p = producer.get(v);
    if (!p || p.op !== 'DequantizeLinear' || p.domain !== '') return null;
    const x = val(p.inputs[0]);
    if (!x || !isQ8(x.dtype)) return null;
    const q = constParams(p);
    return q ? { ...q, dtype: x.dtype, node: p, x: p.inputs[0] } : null;
  };
  /** The sole Q consumer of `v` with scalar params (v must not be a graph output). */
  const qAfter = (v: string): (QParams & { node: Node; y: string }) | null => {
    if (tg.outputs.includes(v)) return null;
    const c = cons.get(v);
    if (!c || c.length !== 1 || c[0].op !== 'QuantizeLinear' || c[0].domain !== '') return null;
    const q = constParams(c[0]);
    if (!q || q.s.length !== 1 || q.z.length !== 1) return null;
    const y = val(c[0].outputs[0]);
    if (!y || !isQ8(y.dtype)) return null;
    return { ...q, dtype: y.dtype, node: c[0], y: c[0].outputs[0] };
  };
  const scalar = (q: QParams) => q.s.length === 1 && q.z.length === 1;
  const addConst = (base: string, t: HostTensor): string => {
    let name = `${base}__q${uniq++}`;
    while (tg.values.has(name)) name = `${base}__q${uniq++}`;
    tg.values.set(name, { name, dtype: t.dtype, dims: t.dims.slice(), const: t });
    return name;
  };
  const removed = new Set<Node>();
  const replace = new Map<Node, Node[]>();
  const finish = (n: Node, q: Node, repl: Node[]) => {
    removed.add(q);
    tg.values.delete(n.outputs[0]);
    replace.set(n, repl);
  };
  const opset = opsetFor(tg.opsets, '');

  for (const n of tg.nodes) {
    if (n.domain !== '' || removed.has(n) || replace.has(n)) continue;
    const out = n.outputs[0];
    if (!out) continue;
    switch (n.op) {
      case 'Conv': {
        const x = dqOf(n.inputs[0]), w = dqOf(n.inputs[1]), q = qAfter(out);
        if (!x || !w || !q || !scalar(x) || !val(w.x)?.const || !ortFolds([x], q, true)) break;
        if (w.s.length > 1 && w.s.length !== val(w.x)!.dims[0]) break;
        const bias = biasInt32(tg, n.inputs[2], x.s[0], w.s, val(w.x)!.dims[0], dqOf);
        if (bias === null) break;
        const ins = [x.x, x.scale, x.zp || addConst('x_zp', zpTensor(x)), w.x, w.scale, w.zp || addConst('w_zp', zpTensor(w)), q.scale, q.zp || addConst('y_zp', zpTensor(q))];
        if (bias) ins.push(addConst(`${n.name}_bias`, bias));
        finish(n, q.node, [{ name: n.name, op: 'QLinearConv', domain: '', inputs: ins, outputs: [q.y], attrs: { ...n.attrs } }]);
        break;
      }
      case 'MatMul': {
        const a = dqOf(n.inputs[0]), b = dqOf(n.inputs[1]), q = qAfter(out);
        if (!a || !b || !q || !scalar(a) || !ortFolds([a], q, true) || (b.s.length > 1 && b.s.length !== val(b.x)!.dims[val(b.x)!.dims.length - 1])) break;
        finish(n, q.node, [{ name: n.name, op: 'QLinearMatMul', domain: '', attrs: { ...n.attrs },
          inputs: [a.x, a.scale, a.zp || addConst('a_zp', zpTensor(a)), b.x, b.scale, b.zp || addConst('b_zp', zpTensor(b)), q.scale, q.zp || addConst('y_zp', zpTensor(q))], outputs: [q.y] }]);
        break;
      }
      case 'Gemm': {
        // Gemm(A [M,K], W^T) + bias as QLinearConv 1x1 over [M, K, 1, 1]: reuse the conv lowering (weights [N, K, 1, 1]).
        const a = dqOf(n.inputs[0]), w = dqOf(n.inputs[1]), q = qAfter(out);
        if (!a || !w || !q || !scalar(a) || !val(w.x)?.const || !ortFolds([a], q, false) || attrInt(n, 'transA', 0) || attrFloat(n, 'alpha', 1) !== 1 || attrFloat(n, 'beta', 1) !== 1) break;
        const wt = val(w.x)!.const!;
        const tB = attrInt(n, 'transB', 0) === 1;
        const [K, N] = tB ? [wt.dims[1], wt.dims[0]] : wt.dims;
        if (w.s.length > 1 && w.s.length !== N) break;
        const aV = val(a.x)!;
        if (aV.dims.length !== 2) break;
        const bias = biasInt32(tg, n.inputs[2], a.s[0], w.s, N, dqOf);
        if (bias === null) break;
        // transB: W is already [N, K] (shared, not copied; still in the model file if it was there: tensor.ts lazyQ8);
        // else transposed once
        const w4 = tB && wt.q8src ? lazyQ8(wt.dtype as 'int8' | 'uint8', [N, K, 1, 1], wt.q8src) : makeTensor(wt.dtype, [N, K, 1, 1], tB ? wt.data : undefined);
        if (!tB) {
          const src = wt.data as Int8Array, dst = w4.data as Int8Array;
          for (let k = 0; k < K; k++) for (let i = 0; i < N; i++) dst[i * K + k] = src[k * N + i];
        }
        const M = aV.dims[0];
        const x4 = `${a.x}__as4d${uniq++}`, y4 = `${q.y}__4d${uniq++}`;
        tg.values.set(x4, { name: x4, dtype: aV.dtype, dims: [M, K, 1, 1], layout: 'logical' });
        tg.values.set(y4, { name: y4, dtype: q.dtype as any, dims: [M, N, 1, 1], layout: 'logical' });
        const ins = [x4, a.scale, a.zp || addConst('a_zp', zpTensor(a)), addConst(`${w.x}_4d`, w4), w.scale, w.zp || addConst('w_zp', zpTensor(w)), q.scale, q.zp || addConst('y_zp', zpTensor(q))];
        if (bias) ins.push(addConst(`${n.name}_bias`, bias));
        const shape4 = addConst('shape4', { dtype: 'int64', dims: [4], data: BigInt64Array.from([M, K, 1, 1].map(BigInt)) });
        const shape2 = addConst('shape2', { dtype: 'int64', dims: [2], data: BigInt64Array.from([M, N].map(BigInt)) });
        finish(n, q.node, [
          { name: `${n.name}_to4d`, op: 'Reshape', domain: '', inputs: [a.x, shape4], outputs: [x4], attrs: {} },
          { name: n.name, op: 'QLinearConv', domain: '', inputs: ins, outputs: [y4], attrs: { _min: n.attrs._min ?? -Infinity, _max: n.attrs._max ?? Infinity } as any },
          { name: `${n.name}_to2d`, op: 'Reshape', domain: '', inputs: [y4, shape2], outputs: [q.y], attrs: {} },
        ]);
        break;
      }
      case 'Add':
      case 'Mul': {
        const a = dqOf(n.inputs[0]), b = dqOf(n.inputs[1]);
        if (!a || !b || !scalar(a) || !scalar(b)) break;
        // optional Relu / Clip between the op and Q (residual blocks): QLinearAdd, then a clamp table on the integers
        let act: Node | null = null;
        let q = qAfter(out);
        if (!q) {
          const c = cons.get(out);
          if (!tg.outputs.includes(out) && c && c.length === 1 && c[0].domain === '' && (c[0].op === 'Relu' || c[0].op === 'Clip')) {
            act = c[0];
            q = qAfter(act.outputs[0]);
          }
        }
        if (!q || a.dtype !== q.dtype || b.dtype !== q.dtype || !ortFolds([a, b], q, false)) break;
        const yzp = q.zp || addConst('y_zp', zpTensor(q));
        const qop: Node = { name: n.name, op: n.op === 'Add' ? 'QLinearAdd' : 'QLinearMul', domain: 'com.microsoft', attrs: {},
          inputs: [a.x, a.scale, a.zp || addConst('a_zp', zpTensor(a)), b.x, b.scale, b.zp || addConst('b_zp', zpTensor(b)), q.scale, yzp], outputs: [q.y] };
        if (!act) {
          finish(n, q.node, [qop]);
          break;
        }
        const bounds = act.op === 'Relu' ? { min: 0, max: Infinity } : clipBounds(act, opset, act.inputs.map((i) => (i ? val(i)?.const : undefined)));
        if (!bounds) break;
        // the activation's table (same scale and zero point in and out) is usually a clamp of the integers: then it
        // rides in the add kernel's output clamp (attributes _qlo / _qhi), proven on all 256 bytes, no second pass
        const qt = q.dtype as 'int8' | 'uint8';
        const clamp = n.op === 'Add' ? clampOfTable(buildLut(qt, qt, q.s[0], q.z[0], q.s[0], q.z[0], lutFunction('clip', bounds)), qt) : null;
        if (clamp) {
          qop.attrs = { _qlo: clamp[0], _qhi: clamp[1] };
          removed.add(act);
          tg.values.delete(act.outputs[0]);
          finish(n, q.node, [qop]);
          break;
        }
        const mid = `${q.y}__preact${uniq++}`;
        tg.values.set(mid, { name: mid, dtype: q.dtype as any, dims: val(out)!.dims.slice(), layout: 'logical' });
        qop.outputs = [mid];
        removed.add(act);
        tg.values.delete(act.outputs[0]);
        finish(n, q.node, [qop, { name: `${act.name}_q`, op: '_QLut', domain: '', attrs: { kind: 'Clip', min: bounds.min, max: bounds.max },
          inputs: [mid, q.scale, yzp, q.scale, yzp], outputs: [q.y] }]);
        break;
      }
      case 'GlobalAveragePool':
      case 'AveragePool': {
        const x = dqOf(n.inputs[0]), q = qAfter(out);
        if (!x || !q || !scalar(x) || x.dtype !== q.dtype || val(x.x)!.dims.length !== 4 || !ortFolds([x], q, false)) break;
        finish(n, q.node, [{ name: n.name, op: n.op === 'AveragePool' ? 'QLinearAveragePool' : 'QLinearGlobalAveragePool', domain: 'com.microsoft',
          attrs: { ...n.attrs }, inputs: [x.x, x.scale, x.zp || addConst('x_zp', zpTensor(x)), q.scale, q.zp || addConst('y_zp', zpTensor(q))], outputs: [q.y] }]);
        break;
      }
      case 'MaxPool': case 'Reshape': case 'Flatten': case 'Squeeze': case 'Unsqueeze': case 'Transpose': case 'Identity': {
        const x = dqOf(n.inputs[0]), q = qAfter(out);
        if (!x || !q || !scalar(x) || x.dtype !== q.dtype || x.s[0] !== q.s[0] || x.z[0] !== q.z[0]) break;
        if (n.outputs.filter((o) => o).length !== 1) break;
        finish(n, q.node, [{ ...n, inputs: [x.x, ...n.inputs.slice(1)], outputs: [q.y] }]);
        break;
      }
      case 'Concat': {
        const q = qAfter(out);
        const xs = n.inputs.map((i) => dqOf(i));
        if (!q || xs.some((x) => !x || !scalar(x) || x.dtype !== q.dtype) || !ortFolds(xs, q, false)) break;
        const ins = [q.scale, q.zp || addConst('y_zp', zpTensor(q))];
        for (const x of xs) ins.push(x!.x, x!.scale, x!.zp || addConst('x_zp', zpTensor(x!)));
        finish(n, q.node, [{ name: n.name, op: 'QLinearConcat', domain: 'com.microsoft', attrs: { axis: attrInt(n, 'axis', 0) }, inputs: ins, outputs: [q.y] }]);
        break;
      }
      case 'Sigmoid': case 'HardSigmoid': case 'HardSwish': case 'LeakyRelu': case 'Tanh': case 'Relu': case 'Clip': {
        const x = dqOf(n.inputs[0]), q = qAfter(out);
        if (!x || !q || !scalar(x)) break;
        const attrs: Node['attrs'] = { kind: n.op };
        if (n.op === 'LeakyRelu') attrs.alpha = attrFloat(n, 'alpha', 0.01);
        if (n.op === 'HardSigmoid') { attrs.alpha = attrFloat(n, 'alpha', 0.2); attrs.beta = attrFloat(n, 'beta', 0.5); }
        if (n.op === 'Clip') {
          const b = clipBounds(n, opset, n.inputs.map((i) => (i ? val(i)?.const : undefined)));
          if (!b) break;
          attrs.min = b.min; attrs.max = b.max;
        }
        finish(n, q.node, [{ name: n.name, op: '_QLut', domain: '', attrs,
          inputs: [x.x, x.scale, x.zp || addConst('x_zp', zpTensor(x)), q.scale, q.zp || addConst('y_zp', zpTensor(q))], outputs: [q.y] }]);
        break;
      }
    }
  }
  if (ort) {
    // onnxruntime's BiasQuantization quantizes a float bias of a QDQ Conv / Gemm to int32 (scale sx * sw) before it
    // decides what to fold: a Conv / Gemm left in float adds that bias dequantized, float(q) * f32(sx * sw).
    for (const n of tg.nodes) {
      if (n.domain !== '' || (n.op !== 'Conv' && n.op !== 'Gemm') || replace.has(n) || !n.inputs[2]) continue;
      const x = dqOf(n.inputs[0]), w = dqOf(n.inputs[1]), b = val(n.inputs[2]);
      if (!x || !w || !scalar(x) || !val(w.x)?.const || !b?.const || b.dtype !== 'float32') continue;
      const wd = val(w.x)!.dims;
      const cout = n.op === 'Conv' ? wd[0] : attrInt(n, 'transB', 0) ? wd[0] : wd[wd.length - 1];
      if (w.s.length > 1 && w.s.length !== cout) continue;
      const q = biasInt32(tg, n.inputs[2], x.s[0], w.s, cout, dqOf);
      if (!q) continue;
      const f = makeTensor('float32', b.dims.slice());
      const fd = f.data as Float32Array, qd = q.data as Int32Array;
      for (let i = 0; i < cout; i++) fd[i] = Math.fround(Math.fround(qd[i]) * Math.fround(Math.fround(x.s[0]) * Math.fround(w.s.length > 1 ? w.s[i] : w.s[0])));
      n.inputs[2] = addConst(`${n.name}_bias_dq`, f);
    }
  }
  const out: Node[] = [];
  for (const n of tg.nodes) {
    if (removed.has(n)) continue;
    const r = replace.get(n);
    if (r) {
      for (const m of r) {
        m.attrs._requant = n.attrs._requant;
        for (const o of m.outputs) if (o && !tg.values.has(o)) tg.values.set(o, { name: o, dtype: 'uint8', dims: [], layout: 'logical' });
        out.push(m);
      }
    } else out.push(n);
  }
  tg.nodes = out;
  deadNodes(tg);
  // outputs of replaced nodes keep their Q output's type/shape (already in values); fold constant DQs (weights left in float)
  const kept: Node[] = [];
  for (const n of tg.nodes) {
    const ins = n.inputs.map((i) => (i ? tg.values.get(i) : undefined));
    if (n.op === 'DequantizeLinear' && n.domain === '' && ins.every((v) => !v || v.const)) {
      const op = findOp('', 'DequantizeLinear')!;
      const [t] = op.eval!(n, ins.map((v) => v?.const), opset);
      tg.values.set(n.outputs[0], { name: n.outputs[0], dtype: t.dtype, dims: t.dims, const: t });
      continue;
    }
    kept.push(n);
  }
  tg.nodes = kept;
  if (ort) for (const n of tg.nodes) if (n.domain === '' && (n.op === 'Conv' || n.op === 'GlobalAveragePool')) n.attrs._ortf32 = ortThreads;
}

/** [lo, hi] when table[x] = min(max(x, lo), hi) for every byte x (values as the dtype reads them), else null. */
export function clampOfTable(table: Uint8Array, dtype: 'int8' | 'uint8'): [number, number] | null {
  const sv = (b: number) => (dtype === 'int8' ? (b << 24) >> 24 : b);
  const [qlo, qhi] = qrange(dtype);
  const lo = sv(table[qlo & 255]), hi = sv(table[qhi & 255]);
  if (lo > hi) return null;
  for (let x = qlo; x <= qhi; x++) if (sv(table[x & 255]) !== Math.min(Math.max(x, lo), hi)) return null;
  return [lo, hi];
}

function zpTensor(q: QParams): HostTensor {
  const t = makeTensor(q.dtype === 'int8' ? 'int8' : 'uint8', q.z.length > 1 ? [q.z.length] : []);
  q.z.forEach((v, i) => ((t.data as Int8Array)[i] = v));
  return t;
}

/**
 * Bias for an integer conv/gemm: DQ(int32 const) is used as is (its scale is meant to be sx*sw), a float constant is
 * quantized with sx*sw[n] (round half to even). Returns undefined when there is no bias, null when it cannot fold.
 */
function biasInt32(tg: TypedGraph, name: string | undefined, sx: number, sw: number[], n: number,
  dqOf: (v: string) => (QParams & { node: Node; x: string }) | null): HostTensor | undefined | null {
  if (!name) return undefined;
  const v = tg.values.get(name);
  const out = makeTensor('int32', [n]);
  const d = out.data as Int32Array;
  if (v?.const && v.dtype === 'float32') {
    const b = toNumbers(v.const);
    if (b.length !== n) return null;
    // as onnxruntime's BiasQuantization transformer: Cast<int32>(Round(bias / f32(sx * sw))), float32 steps, ties to even
    for (let i = 0; i < n; i++) {
      const s = Math.fround(Math.fround(sx) * Math.fround(sw.length > 1 ? sw[i] : sw[0]));
      d[i] = roundHalfEven(Math.fround(Math.fround(b[i]) / s));
    }
    return out;
  }
  const p = tg.nodes.find((m) => m.outputs[0] === name);
  if (!p || p.op !== 'DequantizeLinear') return null;
  const x = tg.values.get(p.inputs[0]);
  if (!x?.const || x.dtype !== 'int32' || sizeOf(x.dims) !== n) return null;
  const z = p.inputs[2] ? tg.values.get(p.inputs[2])?.const : undefined;
  if (z && toNumbers(z).some((q) => q !== 0)) return null;
  // onnxruntime's QDQ fusion takes the int32 bias as it is (its scale is meant to be sx*sw): do the same.
  const xv = toNumbers(x.const);
  for (let i = 0; i < n; i++) d[i] = xv[i];
  void dqOf;
  return out;
}

export type { ValueState };
