// Which nodes get quantized, which activation tensors need a range, which tensors share one scale, and which
// Relu/Clip nodes are fused into the op before them (so the activation is quantized after the ReLU).
import { type ModelProto, type NodeProto, DT, GraphIndex, attrInt, tensorToFloat32 } from './model.js';

export type Role =
  | 'conv' // Conv with constant float weights
  | 'gemm' // Gemm with constant float B, transA = 0
  | 'matmul' // MatMul (constant B or two activations)
  | 'add'
  | 'mul'
  | 'concat'
  | 'gap' // GlobalAveragePool
  | 'avgpool'
  | 'maxpool'
  | 'move' // Reshape, Flatten, Transpose, Squeeze, Unsqueeze: output shares the input's scale
  | 'relu' // Relu / Clip not fused into a producer
  | 'sigmoid'
  | 'leakyrelu';

export type Format = 'qdq' | 'qoperator';

export interface NodePlan {
  node: NodeProto;
  role: Role;
  /** Indices of inputs quantized as activations (observed). */
  actInputs: number[];
  /** The Relu/Clip fused into this node, whose output is this group's quantized output. */
  fusedAct?: NodeProto;
  /** Output tensor that carries the quantized result (the fused activation's output when fused). */
  output: string;
}

export interface QuantPlan {
  nodes: Map<NodeProto, NodePlan>;
  /** Relu/Clip nodes absorbed by their producer. */
  fused: Set<NodeProto>;
  /** Activation tensors to observe during calibration. */
  tensors: string[];
  /** Tensor -> representative of its scale-sharing group. */
  group: Map<string, string>;
  /** Nodes left in FP32, with the reason. */
  skipped: { name: string; op: string; reason: string }[];
  /** Per-op-type count of quantized nodes. */
  quantizedOps: Record<string, number>;
}

const MOVE_OPS = new Set(['Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze']);
const STRUCTURAL = new Set(['Shape', 'Constant', 'ConstantOfShape', 'Gather', 'Cast', 'Range', 'Size']);

export interface PlanOptions {
  format: Format;
  exclude?: string[];
  /** Residual Add: give both inputs (and the output) one scale. */
  shareAddScales?: boolean;
  /** Op types not to quantize at all. */
  excludeOpTypes?: string[];
}

function isFloatConst(idx: GraphIndex, t: string): boolean {
  const i = idx.inits.get(t);
  return !!i && (i.dataType === DT.FLOAT || i.dataType === DT.FLOAT16 || i.dataType === DT.DOUBLE);
}

/** Clip with constant bounds containing 0 (or Relu): quantizing its output to a range inside the bounds is exact. */
export function isFusableAct(idx: GraphIndex, n: NodeProto): boolean {
  if ((n.domain ?? '') !== '') return false;
  if (n.opType === 'Relu') return true;
  if (n.opType !== 'Clip') return false;
  const lo = n.input![1] ? idx.inits.get(n.input![1]) : undefined;
  const hi = n.input![2] ? idx.inits.get(n.input![2]) : undefined;
  if ((n.input![1] && !lo) || (n.input![2] && !hi)) return false;
  const l = lo ? tensorToFloat32(lo)[0] : -Infinity;
  const h = hi ? tensorToFloat32(hi)[0] : Infinity;
  return l <= 0 && h >= 0;
}

export function planQuantization(model: ModelProto, opts: PlanOptions): QuantPlan {
  const g = model.graph!;
  const idx = new GraphIndex(g);
  const exclude = new Set(opts.exclude ?? []);
  const excludeOps = new Set(opts.excludeOpTypes ?? []);
  const nodes = new Map<NodeProto, NodePlan>();
  const fused = new Set<NodeProto>();
  const skipped: QuantPlan['skipped'] = [];
  const quantizedTensor = new Set<string>(); // produced in quantized form by a quantized node
  const qdq = opts.format === 'qdq';

  const nonConst = (n: NodeProto, i: number) => !!n.input![i] && !idx.isConst(n.input![i]);

  for (const n of g.node ?? []) {
    if (fused.has(n)) continue;
    const name = n.name || n.output![0];
    const op = n.opType ?? '';
    if ((n.domain ?? '') !== '' && n.domain !== 'ai.onnx') {
      skipped.push({ name, op: `${n.domain}.${op}`, reason: 'custom domain' });
      continue;
    }
    if (exclude.has(name) || exclude.has(n.output![0])) {
      skipped.push({ name, op, reason: 'excluded' });
      continue;
    }
    if (excludeOps.has(op)) {
      skipped.push({ name, op, reason: 'op type excluded' });
      continue;
    }
    let role: Role | undefined;
    let actInputs: number[] = [];
    let reason = 'no quantized form';
    switch (op) {
      case 'Conv':
        if (isFloatConst(idx, n.input![1]) && nonConst(n, 0) && (!n.input![2] || isFloatConst(idx, n.input![2]))) {
          role = 'conv';
          actInputs = [0];
        } else reason = 'weights are not constant floats';
        break;
      case 'Gemm':
        if (isFloatConst(idx, n.input![1]) && nonConst(n, 0) && attrInt(n, 'transA', 0) === 0 && (!n.input![2] || isFloatConst(idx, n.input![2]))) {
          role = 'gemm';
          actInputs = [0];
        } else reason = 'needs constant B and transA = 0';
        break;
      case 'MatMul':
        if (isFloatConst(idx, n.input![1]) && nonConst(n, 0)) {
          role = 'matmul';
          actInputs = [0];
        } else if (nonConst(n, 0) && nonConst(n, 1)) {
          role = 'matmul';
          actInputs = [0, 1];
        } else reason = 'constant A';
        break;
      case 'Add':
      case 'Mul':
        role = op === 'Add' ? 'add' : 'mul';
        actInputs = [0, 1].filter((i) => nonConst(n, i));
        if (!actInputs.length) role = undefined;
        break;
      case 'Concat':
        role = 'concat';
        actInputs = n.input!.map((_, i) => i).filter((i) => nonConst(n, i));
        if (actInputs.length !== n.input!.length) {
          role = undefined;
          reason = 'constant inputs';
        }
        break;
      case 'GlobalAveragePool':
        role = 'gap';
        actInputs = [0];
        break;
      case 'AveragePool':
        if (qdq) {
          role = 'avgpool';
          actInputs = [0];
        } else reason = 'no QLinear form in the ONNX/com.microsoft set Octet runs';
        break;
      case 'MaxPool':
        if ((n.output ?? []).filter((o) => o).length === 1 && quantizedTensor.has(n.input![0])) {
          role = 'maxpool';
          actInputs = [0];
        } else reason = 'input not quantized';
        break;
      case 'Relu':
      case 'Clip':
        if (qdq && isFusableAct(idx, n) && quantizedTensor.has(n.input![0])) {
          role = 'relu';
          actInputs = [0];
        } else reason = !qdq ? 'standalone activation (no QLinear form)' : isFusableAct(idx, n) ? 'input not quantized' : 'non-constant bounds';
        break;
      case 'Sigmoid':
        role = 'sigmoid';
        actInputs = [0];
        break;
      case 'LeakyRelu':
        role = 'leakyrelu';
        actInputs = [0];
        break;
      default:
        if (MOVE_OPS.has(op)) {
          if (quantizedTensor.has(n.input![0])) {
            role = 'move';
            actInputs = [0];
          } else reason = 'input not quantized';
        }
    }
    if (!role) {
      if (!STRUCTURAL.has(op) && !MOVE_OPS.has(op) && op !== 'MaxPool') skipped.push({ name, op, reason });
      continue;
    }
    // Fuse a following Relu/Clip: the only consumer of the output, not a graph output, not excluded.
    let output = n.output![0];
    let fusedAct: NodeProto | undefined;
    if (['conv', 'gemm', 'matmul', 'add', 'mul', 'gap', 'avgpool'].includes(role)) {
      const cons = idx.consumersOf(output);
      if (cons.length === 1 && !idx.graphOutputs.has(output) && isFusableAct(idx, cons[0])) {
        const a = cons[0];
        const aname = a.name || a.output![0];
        if (!exclude.has(aname) && !exclude.has(a.output![0])) {
          fusedAct = a;
          fused.add(a);
          output = a.output![0];
        }
      }
    }
    nodes.set(n, { node: n, role, actInputs, fusedAct, output });
    quantizedTensor.add(output);
  }

  // Scale sharing (union-find) and the set of observed tensors.
  const parent = new Map<string, string>();
  const find = (t: string): string => {
    let r = t;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(t, r);
    return r;
  };
  const add = (t: string) => {
    if (!parent.has(t)) parent.set(t, t);
  };
  const union = (a: string, b: string) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(rb, ra);
  };
  const quantizedOps: Record<string, number> = {};
  for (const p of nodes.values()) {
    for (const i of p.actInputs) add(p.node.input![i]);
    add(p.output);
    quantizedOps[p.node.opType!] = (quantizedOps[p.node.opType!] ?? 0) + 1;
    if (p.fusedAct) quantizedOps[p.fusedAct.opType!] = (quantizedOps[p.fusedAct.opType!] ?? 0) + 1;
    if (p.role === 'move' || p.role === 'maxpool') union(p.node.input![0], p.output);
    if (p.role === 'concat') for (const i of p.actInputs) union(p.node.input![i], p.output);
    if (p.role === 'add' && opts.shareAddScales && p.actInputs.length === 2) union(p.node.input![0], p.node.input![1]);
  }
  const tensors = [...parent.keys()];
  const group = new Map<string, string>();
  for (const t of tensors) group.set(t, find(t));
  return { nodes, fused, tensors, group, skipped, quantizedOps };
}
