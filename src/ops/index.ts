// The one list of operators Octet runs. Key: 'domain:op' ('' = ai.onnx; 'ai.onnx' is normalised to '').
import type { OpDef } from './types.js';
import { ELEMENTWISE_OPS } from './elementwise.js';
import { SHAPE_OPS } from './shape.js';
import { REDUCE_OPS } from './reduce.js';
import { MATMUL_OPS } from './matmul.js';
import { CONV_OPS } from './conv.js';
import { POOL_OPS } from './pool.js';
import { RESIZE_OPS } from './resize.js';
import { QUANT_OPS } from './quant.js';
import { LAYOUT_OPS } from './layout.js';

const ALL: OpDef[] = [
  ...ELEMENTWISE_OPS, ...SHAPE_OPS, ...REDUCE_OPS, ...MATMUL_OPS, ...CONV_OPS, ...POOL_OPS, ...RESIZE_OPS, ...QUANT_OPS, ...LAYOUT_OPS,
];

export const OPS = new Map<string, OpDef>();
for (const d of ALL) {
  const key = `${d.domain ?? ''}:${d.op}`;
  if (OPS.has(key)) throw new Error(`octet: operator ${key} registered twice`);
  OPS.set(key, d);
}

export function findOp(domain: string, op: string): OpDef | undefined {
  const dom = domain === 'ai.onnx' ? '' : domain;
  return OPS.get(`${dom}:${op}`) ?? (dom === 'com.microsoft' ? OPS.get(`:${op}`) : undefined);
}

/** Sorted "op" names (domain-prefixed when not ai.onnx), for the README and errors. */
export function supportedOps(): string[] {
  return [...OPS.values()].map((d) => (d.domain ? `${d.domain}.${d.op}` : d.op)).sort();
}
