// Shape inference and constant folding in one topological walk, for concrete input shapes (a session
// compiles once per set of input shapes). Nodes whose inputs are all constant are evaluated on the host
// (Shape of a static shape, Constant, Cast/Gather/Concat chains of exporters, DQ of weights, ...) and vanish;
// the rest get output types and shapes and are validated by their op's rule.
import type { Graph, Node } from './ir.js';
import { topoSort, nodeLabel } from './ir.js';
import { sizeOf, type HostTensor } from './tensor.js';
import { findOp } from '../ops/index.js';
import { requiredInputs } from '../ops/arity.js';
import { NeedsValue, type ValueState } from '../ops/types.js';

export interface TypedGraph {
  nodes: Node[];
  values: Map<string, ValueState>;
  inputs: string[];
  outputs: string[];
  opsets: Map<string, number>;
}

/** Folding stops producing constants bigger than this (elements), to keep huge broadcasts lazy. */
const MAX_FOLD_ELEMENTS = 1 << 24;

export function opsetFor(opsets: Map<string, number>, domain: string): number {
  if (domain === '' || domain === 'ai.onnx') return opsets.get('') ?? 1;
  // com.microsoft ops follow ai.onnx conventions for shared attributes
  return opsets.get('') ?? 1;
}

/**
 * `inputValues` binds graph inputs whose values decide shapes (Reshape's shape, Slice's bounds, Resize's sizes
 * fed at run time): they become constants of this compile.
 */
export function typeGraph(g: Graph, inputDims: Map<string, number[]>, inputValues?: Map<string, HostTensor>): TypedGraph {
  const values = new Map<string, ValueState>();
  for (const [name, t] of g.consts) values.set(name, { name, dtype: t.dtype, dims: t.dims.slice(), const: t });
  for (const vi of g.inputs) {
    const dims = inputDims.get(vi.name);
    if (!dims) throw new Error(`octet: input '${vi.name}': no shape`);
    const bound = inputValues?.get(vi.name);
    values.set(vi.name, bound
      ? { name: vi.name, dtype: vi.dtype, dims: dims.slice(), const: bound, isInput: true }
      : { name: vi.name, dtype: vi.dtype, dims: dims.slice(), layout: 'logical', isInput: true });
  }
  const nodes: Node[] = [];
  for (const node of topoSort(g)) {
    const op = findOp(node.domain, node.op);
    if (!op) {
      throw new Error(`octet: ${nodeLabel(node)}: unsupported operator ${node.domain ? node.domain + '.' : ''}${node.op}`);
    }
    const opset = opsetFor(g.opsets, node.domain);
    const required = requiredInputs(node.domain, node.op, opset);
    for (const i of required) {
      if (!node.inputs[i]) {
        throw new Error(`octet: ${nodeLabel(node)}: input ${i} is required (${node.op} at opset ${opset} takes inputs ${required.join(', ')}), but the node ${i < node.inputs.length ? 'leaves it empty' : `has ${node.inputs.length}`}`);
      }
    }
    const ins = node.inputs.map((name) => {
      if (!name) return undefined;
      const v = values.get(name);
      if (!v) throw new Error(`octet: ${nodeLabel(node)}: input '${name}' is not available`);
      return v;
    });
    const allConst = ins.every((v) => !v || v.const) || (op.shapeOnly && ins[0] !== undefined);
    if (op.eval && !op.noFold && allConst) {
      const inferred = op.infer({ node, inputs: ins, opset });
      const big = inferred.some((t) => sizeOf(t.dims) > MAX_FOLD_ELEMENTS);
      if (!big) {
        let outs: HostTensor[];
        try {
          outs = op.eval(node, ins.map((v) => v?.const ?? (v && op.shapeOnly ? { dtype: v.dtype, dims: v.dims, data: new Float32Array(0) } : undefined)), opset);
        } catch (e: any) {
          if (e instanceof NeedsValue) throw e;
          throw new Error(e.message.startsWith('octet:') ? e.message : `octet: ${nodeLabel(node)}: ${e.message}`);
        }
        node.outputs.forEach((name, i) => {
          if (!name) return;
          const t = outs[i];
          if (!t) throw new Error(`octet: ${nodeLabel(node)}: output ${i} is not produced`);
          values.set(name, { name, dtype: t.dtype, dims: t.dims.slice(), const: t });
        });
        continue;
      }
    }
    let outs;
    try {
      outs = op.infer({ node, inputs: ins, opset });
    } catch (e: any) {
      if (e instanceof NeedsValue) throw e;
      throw new Error(e.message.startsWith('octet:') ? e.message : `octet: ${nodeLabel(node)}: ${e.message}`);
    }
    node.outputs.forEach((name, i) => {
      if (!name) return;
      const t = outs[i];
      if (!t) throw new Error(`octet: ${nodeLabel(node)}: output ${i} ('${name}') is unsupported`);
      values.set(name, { name, dtype: t.dtype, dims: t.dims, layout: 'logical' });
    });
    nodes.push(node);
  }
  for (const o of g.outputs) {
    const v = values.get(o.name);
    if (!v) throw new Error(`octet: graph output '${o.name}' is not produced`);
    if (o.dims) {
      const ok = o.dims.length === v.dims.length && o.dims.every((d, i) => typeof d !== 'number' || d === v.dims[i] || d <= 0);
      if (!ok && o.dims.every((d) => typeof d === 'number')) {
        throw new Error(`octet: graph output '${o.name}': computed shape [${v.dims}] does not match the declared [${o.dims}]`);
      }
    }
  }
  return { nodes, values, inputs: g.inputs.map((v) => v.name), outputs: g.outputs.map((v) => v.name), opsets: g.opsets };
}
