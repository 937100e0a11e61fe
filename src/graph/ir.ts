// The graph IR: what the ONNX reader produces and the passes rewrite. Values are named (ONNX names);
// constants (initializers, Constant nodes, folded values) live in `consts`. Node attributes are plain JS values.
import type { DType, HostTensor } from './tensor.js';

export type AttrValue = number | string | number[] | string[] | HostTensor | HostTensor[] | { graph: true };

export interface Node {
  name: string;
  op: string;
  /** '' for ai.onnx. */
  domain: string;
  /** '' for an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

/** A dimension: a size, or a symbolic name / null when the model leaves it open. */
export type Dim = number | string | null;

export interface ValueInfo {
  name: string;
  dtype: DType;
  dims: Dim[] | null;
}

export interface Graph {
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  consts: Map<string, HostTensor>;
  /** Declared types of intermediate values (value_info), used only as hints. */
  valueInfo: Map<string, ValueInfo>;
  /** domain ('' = ai.onnx) -> opset version. */
  opsets: Map<string, number>;
  producer?: string;
}

export function nodeLabel(n: Node): string {
  return `node '${n.name || n.outputs[0] || '?'}' (${n.domain && n.domain !== 'ai.onnx' ? n.domain + '.' : ''}${n.op})`;
}

export function attrInt(n: Node, name: string, dflt: number): number {
  const v = n.attrs[name];
  if (v === undefined) return dflt;
  if (typeof v !== 'number') throw new Error(`octet: ${nodeLabel(n)}: attribute ${name} must be an int`);
  return v;
}
export function attrFloat(n: Node, name: string, dflt: number): number {
  const v = n.attrs[name];
  if (v === undefined) return dflt;
  if (typeof v !== 'number') throw new Error(`octet: ${nodeLabel(n)}: attribute ${name} must be a float`);
  return v;
}
export function attrInts(n: Node, name: string): number[] | undefined {
  const v = n.attrs[name];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) {
    if (typeof v === 'number') return [v];
    throw new Error(`octet: ${nodeLabel(n)}: attribute ${name} must be a list of ints`);
  }
  return v as number[];
}
export function attrFloats(n: Node, name: string): number[] | undefined {
  return attrInts(n, name);
}
export function attrString(n: Node, name: string, dflt: string): string {
  const v = n.attrs[name];
  if (v === undefined) return dflt;
  if (typeof v !== 'string') throw new Error(`octet: ${nodeLabel(n)}: attribute ${name} must be a string`);
  return v;
}

/** Nodes in a topological order (ONNX requires it, but some exporters don't keep it). Throws on a cycle. */
export function topoSort(g: Graph): Node[] {
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const state = new Map<Node, number>();
  const out: Node[] = [];
  const visit = (root: Node) => {
    const stack: [Node, number][] = [[root, 0]];
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [n, i] = top;
      if (i === 0) {
        const s = state.get(n);
        if (s === 2) { stack.pop(); continue; }
        if (s === 1 && i === 0 && top[1] === 0 && stack.indexOf(top) !== stack.length - 1) {
          throw new Error(`octet: ${nodeLabel(n)}: the graph has a cycle`);
        }
        state.set(n, 1);
      }
      if (i < n.inputs.length) {
        top[1]++;
        const p = producer.get(n.inputs[i]);
        if (p && p !== n) {
          const s = state.get(p);
          if (s === 1) throw new Error(`octet: ${nodeLabel(p)}: the graph has a cycle`);
          if (s !== 2) stack.push([p, 0]);
        }
      } else {
        state.set(n, 2);
        out.push(n);
        stack.pop();
      }
    }
  };
  for (const n of g.nodes) if (state.get(n) !== 2) visit(n);
  return out;
}
