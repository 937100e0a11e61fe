// Graph passes on a typed graph (after shape inference and constant folding), run once per compile:
//   deadNodes        remove nodes no graph output depends on;
//   foldBatchNorm    Conv -> BatchNormalization becomes one Conv (weights and bias rescaled); a lone BN becomes
//                    Mul + Add with per-channel constants (layout-transparent);
//   fuseActivations  Relu / Clip (constant bounds) after Conv / ConvTranspose / Gemm / MatMul becomes the
//                    producer's clamp (_min / _max attributes);
//   assignLayouts    channels-last inside: 'native' ops take NHWC, 'transparent' ops follow their inputs, the
//                    rest get logical tensors; conversions are inserted once per value (graph outputs are
//                    converted when read back).
// A value declared as a graph output is never fused away, so any tensor can be fetched.
import type { Node } from './ir.js';
import { nodeLabel } from './ir.js';
import { lazyF32, makeTensor, sizeOf, toNumbers, transposeData, type HostTensor, type TypedData } from './tensor.js';

const bytesOfTyped = (d: TypedData): Uint8Array => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
import { findOp } from '../ops/index.js';
import { clipBounds } from '../ops/elementwise.js';
import { bnScaleShift } from '../ops/conv.js';
import { clPerm, invPerm, type ValueState } from '../ops/types.js';
import { opsetFor, type TypedGraph } from './infer.js';

export function consumers(tg: TypedGraph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of tg.nodes) for (const i of n.inputs) if (i) (m.get(i) ?? m.set(i, []).get(i)!).push(n);
  return m;
}

export function deadNodes(tg: TypedGraph): void {
  const live = new Set(tg.outputs);
  const keep: Node[] = [];
  for (let i = tg.nodes.length - 1; i >= 0; i--) {
    const n = tg.nodes[i];
    if (n.outputs.some((o) => o && live.has(o))) {
      keep.push(n);
      for (const x of n.inputs) if (x) live.add(x);
    }
  }
  tg.nodes = keep.reverse();
  for (const [name, v] of tg.values) if (!v.const && !live.has(name) && !tg.inputs.includes(name)) tg.values.delete(name);
}

let uniq = 0;
function freshName(tg: TypedGraph, base: string): string {
  let n = `${base}__${uniq++}`;
  while (tg.values.has(n)) n = `${base}__${uniq++}`;
  return n;
}

function addConst(tg: TypedGraph, base: string, t: HostTensor): string {
  const name = freshName(tg, base);
  tg.values.set(name, { name, dtype: t.dtype, dims: t.dims.slice(), const: t });
  return name;
}

/** The single consumer of `value`, or null when it has several, none, or is a graph output. */
function soleConsumer(tg: TypedGraph, cons: Map<string, Node[]>, value: string): Node | null {
  if (tg.outputs.includes(value)) return null;
  const c = cons.get(value);
  return c && c.length === 1 ? c[0] : null;
}

export function foldBatchNorm(tg: TypedGraph): void {
  const cons = consumers(tg);
  const out: Node[] = [];
  const removed = new Set<Node>();
  for (const n of tg.nodes) {
    if (removed.has(n)) continue;
    if (n.op !== 'BatchNormalization' || n.domain !== '') { out.push(n); continue; }
    const [x, s, b, m, v] = n.inputs.map((i) => (i ? tg.values.get(i) : undefined));
    if (!x || ![s, b, m, v].every((t) => t?.const) || n.outputs.filter((o) => o).length !== 1) { out.push(n); continue; }
    const { scale, shift } = bnScaleShift(n, s!.const!, b!.const!, m!.const!, v!.const!);
    const prod = out.find((p) => p.outputs[0] === n.inputs[0]);
    if (prod && (prod.op === 'Conv') && prod.domain === '' && soleConsumer(tg, cons, n.inputs[0]) === n
      && tg.values.get(prod.inputs[1])?.const && (!prod.inputs[2] || tg.values.get(prod.inputs[2])?.const) && x.dtype === 'float32') {
      const w = tg.values.get(prod.inputs[1])!.const!;
      const oc = w.dims[0];
      // The scaled weights are not computed here: a float32 source with per-output-channel scales that the FP32
      // packing applies as it reads each row (one pass over the weights, straight into wasm memory; anything else
      // reading the tensor's data gets the same products, built then). Weights already scaled by a first BN are
      // built and scaled again, as two folds would.
      const src = w.dtype === 'float32' && !w.f32src?.rowScale ? w.f32src ?? { bytes: bytesOfTyped(w.data) }
        : { bytes: bytesOfTyped(w.dtype === 'float32' ? w.data : Float32Array.from(toNumbers(w))) };
      const nw = lazyF32(w.dims, { ...src, rowScale: scale });
      const bv = prod.inputs[2] ? toNumbers(tg.values.get(prod.inputs[2])!.const!) : new Float64Array(oc);
      const nb = makeTensor('float32', [oc]);
      for (let o = 0; o < oc; o++) (nb.data as Float32Array)[o] = bv[o] * scale[o] + shift[o];
      prod.inputs = [prod.inputs[0], addConst(tg, `${prod.inputs[1]}_bn`, nw), addConst(tg, `${prod.name}_bias_bn`, nb)];
      tg.values.delete(prod.outputs[0]);
      prod.outputs = [n.outputs[0]];
      continue;
    }
    // Lone BN: y = x * scale + shift, constants shaped [C, 1, ...] to broadcast over logical dims.
    const r = x.dims.length;
    const cdims = [x.dims[1] ?? 1, ...new Array(Math.max(r - 2, 0)).fill(1)];
    const mul = makeTensor(x.dtype === 'float32' ? 'float32' : x.dtype, cdims);
    const add = makeTensor(mul.dtype, cdims);
    for (let c = 0; c < scale.length; c++) { (mul.data as any)[c] = scale[c]; (add.data as any)[c] = shift[c]; }
    const mid = freshName(tg, `${n.outputs[0]}_bnmul`);
    tg.values.set(mid, { name: mid, dtype: x.dtype, dims: x.dims.slice(), layout: 'logical' });
    out.push({ name: `${n.name}_mul`, op: 'Mul', domain: '', inputs: [n.inputs[0], addConst(tg, `${n.name}_scale`, mul)], outputs: [mid], attrs: {} });
    out.push({ name: `${n.name}_add`, op: 'Add', domain: '', inputs: [mid, addConst(tg, `${n.name}_shift`, add)], outputs: [n.outputs[0]], attrs: {} });
  }
  tg.nodes = out;
}

const FUSE_INTO = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

export function fuseActivations(tg: TypedGraph): void {
  const cons = consumers(tg);
  const opset = opsetFor(tg.opsets, '');
  const drop = new Set<Node>();
  for (const n of tg.nodes) {
    if (drop.has(n) || n.domain !== '' || !FUSE_INTO.has(n.op)) continue;
    const out = tg.values.get(n.outputs[0]);
    if (!out || out.dtype !== 'float32') continue;
    const c = soleConsumer(tg, cons, n.outputs[0]);
    if (!c || c.domain !== '') continue;
    let bounds: { min: number; max: number } | null = null;
    if (c.op === 'Relu') bounds = { min: 0, max: Infinity };
    else if (c.op === 'Clip') bounds = clipBounds(c, opset, c.inputs.map((i) => (i ? tg.values.get(i)?.const : undefined)));
    if (!bounds) continue;
    const lo = Math.max(n.attrs._min === undefined ? -Infinity : (n.attrs._min as number), bounds.min);
    const hi = Math.min(n.attrs._max === undefined ? Infinity : (n.attrs._max as number), bounds.max);
    n.attrs = { ...n.attrs, _min: lo, _max: hi };
    tg.values.delete(n.outputs[0]);
    n.outputs = [c.outputs[0]];
    drop.add(c);
    // the fused node may fuse again (Relu then Clip): refresh consumers of the new output
    cons.set(c.outputs[0], cons.get(c.outputs[0]) ?? []);
  }
  tg.nodes = tg.nodes.filter((n) => !drop.has(n));
}

/** Internal conversion op between logical and channels-last layouts (see src/ops/layout.ts). */
export const TO_CL = '_ToChannelsLast';
export const TO_LOGICAL = '_ToLogical';

export function assignLayouts(tg: TypedGraph): void {
  const out: Node[] = [];
  const clOf = new Map<string, string>(); // logical value -> its channels-last copy
  const logicalOf = new Map<string, string>(); // channels-last value -> its logical copy
  const val = (n: string) => tg.values.get(n)!;
  const toCL = (name: string): string => {
    const v = val(name);
    if (v.layout === 'cl') return name;
    let c = clOf.get(name);
    if (!c) {
      c = freshName(tg, `${name}_nhwc`);
      tg.values.set(c, { name: c, dtype: v.dtype, dims: v.dims.slice(), layout: 'cl' });
      out.push({ name: `${name}_to_nhwc`, op: TO_CL, domain: '', inputs: [name], outputs: [c], attrs: {} });
      clOf.set(name, c);
      logicalOf.set(c, name);
    }
    return c;
  };
  const toLogical = (name: string): string => {
    const v = val(name);
    if (v.layout !== 'cl') return name;
    let l = logicalOf.get(name);
    if (!l) {
      l = freshName(tg, `${name}_nchw`);
      tg.values.set(l, { name: l, dtype: v.dtype, dims: v.dims.slice(), layout: 'logical' });
      out.push({ name: `${name}_to_nchw`, op: TO_LOGICAL, domain: '', inputs: [name], outputs: [l], attrs: {} });
      logicalOf.set(name, l);
      clOf.set(l, name);
    }
    return l;
  };
  for (const n of tg.nodes) {
    const op = findOp(n.domain, n.op)!;
    const opset = opsetFor(tg.opsets, n.domain);
    const ins = n.inputs.map((i) => (i ? tg.values.get(i) : undefined));
    let kind = op.layout ? op.layout({ node: n, inputs: ins, opset }) : 'logical';
    const runtimeIns = ins.filter((v): v is ValueState => !!v && !v.const);
    if (kind === 'native') {
      const x = ins[0];
      if (!x || x.const || (x.dims.length !== 4 && x.dims.length !== 3)) kind = 'logical';
    }
    if (kind === 'transparent') {
      const r = Math.max(...n.outputs.filter((o) => o && tg.values.has(o)).map((o) => val(o).dims.length));
      const anyCL = runtimeIns.some((v) => v.layout === 'cl');
      if (!anyCL || r < 3 || runtimeIns.some((v) => v.dims.length !== r)) kind = 'logical';
      else {
        n.inputs = n.inputs.map((name, i) => {
          const v = ins[i];
          if (!v) return name;
          if (!v.const) return toCL(name);
          if (op.clConsts === 'keep' || sizeOf(v.dims) <= 1) return name;
          // broadcast constant: expand to rank r, then permute like the data
          const t = v.const;
          const expanded = { ...t, dims: [...new Array(r - t.dims.length).fill(1), ...t.dims] };
          return addConst(tg, `${name}_nhwc`, transposeData(expanded, clPerm(r)));
        });
        if (op.clAxisAttrs) {
          const attrs = { ...n.attrs };
          for (const a of op.clAxisAttrs) {
            const ax = attrs[a];
            if (typeof ax === 'number') {
              const la = ax < 0 ? ax + r : ax;
              attrs[a] = invPerm(clPerm(r))[la];
            } else if (ax === undefined && a === 'axis' && op.clDefaultAxis !== undefined) {
              attrs[a] = invPerm(clPerm(r))[op.clDefaultAxis];
            }
          }
          n.attrs = attrs;
        }
        // outputs of the data's rank follow it; lower-rank side outputs (DynamicQuantizeLinear's scale and zero point) stay logical
        for (const o of n.outputs) if (o && tg.values.has(o) && val(o).dims.length === r) val(o).layout = 'cl';
        out.push(n);
        continue;
      }
    }
    if (kind === 'native') {
      n.inputs = n.inputs.map((name, i) => (i === 0 && name ? toCL(name) : ins[i] && !ins[i]!.const ? toLogical(name) : name));
      for (const o of n.outputs) if (o) val(o).layout = val(o).dims.length >= 3 ? 'cl' : 'logical';
      out.push(n);
      continue;
    }
    n.inputs = n.inputs.map((name, i) => (ins[i] && !ins[i]!.const ? toLogical(name) : name));
    for (const o of n.outputs) if (o) val(o).layout = 'logical';
    out.push(n);
  }
  tg.nodes = out;
  void nodeLabel;
}
