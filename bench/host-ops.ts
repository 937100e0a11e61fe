// Operators moved from the host (TypeScript) to wasm kernels: `npx tsx bench/host-ops.ts [--quick]`.
// For each case, a one-node model runs in an InferenceSession (threads 1, default path) and the node's own step
// time is read from session.profile(); the host reference the runtime used before (the op's eval on logical
// tensors, src/ops/*) runs on the same data in the same process, rounds alternating. Medians; ratio = host / kernel.
// Layout conversions at the graph boundary are not counted on either side.
import os from 'node:os';
import { InferenceSession, Tensor } from '../src/index.js';
import { GraphBuilder } from '../src/onnx/writer.js';
import { findOp } from '../src/ops/index.js';
import { Rng } from '../src/zoo/rng.js';
import type { HostTensor } from '../src/graph/tensor.js';
import type { Node } from '../src/graph/ir.js';

const ROUNDS = process.argv.includes('--quick') ? 5 : 11;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

interface Case {
  name: string;
  op: string;
  x: { type: 'float32' | 'uint8'; dims: number[] };
  attrs: Record<string, any>;
  /** initializers after x: [name, dtype, data, dims] */
  consts: [string, string, any, number[]][];
  opset?: number;
}

const rng = new Rng(7);
const f32 = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => rng.range(lo, hi));
const u8 = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rng.range(0, 256)));

const CASES: Case[] = [
  { name: 'Resize linear half_pixel 2x [1,64,80,80]', op: 'Resize', x: { type: 'float32', dims: [1, 64, 80, 80] }, attrs: { mode: 'linear' },
    consts: [['roi', 'float32', new Float32Array(0), [0]], ['scales', 'float32', Float32Array.of(1, 1, 2, 2), [4]]] },
  { name: 'Resize nearest asymmetric 2x [1,256,20,20]', op: 'Resize', x: { type: 'float32', dims: [1, 256, 20, 20] }, attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' },
    consts: [['roi', 'float32', new Float32Array(0), [0]], ['scales', 'float32', Float32Array.of(1, 1, 2, 2), [4]]] },
  { name: 'Resize linear uint8 2x [1,32,40,40]', op: 'Resize', x: { type: 'uint8', dims: [1, 32, 40, 40] }, attrs: { mode: 'linear', coordinate_transformation_mode: 'asymmetric' },
    consts: [['roi', 'float32', new Float32Array(0), [0]], ['scales', 'float32', Float32Array.of(1, 1, 2, 2), [4]]] },
  { name: 'ConvTranspose 2x2 s2 64->64 [1,64,40,40]', op: 'ConvTranspose', x: { type: 'float32', dims: [1, 64, 40, 40] }, attrs: { strides: [2, 2] },
    consts: [['w', 'float32', f32(64 * 64 * 4), [64, 64, 2, 2]], ['b', 'float32', f32(64), [64]]] },
  { name: 'ConvTranspose 3x3 s2 p1 op1 32->16 [1,32,28,28]', op: 'ConvTranspose', x: { type: 'float32', dims: [1, 32, 28, 28] }, attrs: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] },
    consts: [['w', 'float32', f32(32 * 16 * 9), [32, 16, 3, 3]]] },
  { name: 'ConvInteger 3x3 16->32 [1,16,28,28] uint8', op: 'ConvInteger', x: { type: 'uint8', dims: [1, 16, 28, 28] }, attrs: { pads: [1, 1, 1, 1] },
    consts: [['w', 'uint8', u8(32 * 16 * 9), [32, 16, 3, 3]], ['xz', 'uint8', Uint8Array.of(128), []], ['wz', 'uint8', Uint8Array.of(120), []]] },
  { name: 'DynamicQuantizeLinear [1,64,56,56]', op: 'DynamicQuantizeLinear', x: { type: 'float32', dims: [1, 64, 56, 56] }, attrs: {}, consts: [] },
  { name: 'ReduceMean H,W [1,576,14,14]', op: 'ReduceMean', x: { type: 'float32', dims: [1, 576, 14, 14] }, attrs: { axes: [2, 3] }, consts: [] },
  { name: 'Pow 2 [1,64,56,56]', op: 'Pow', x: { type: 'float32', dims: [1, 64, 56, 56] }, attrs: {}, consts: [['e', 'float32', Float32Array.of(2), []]] },
];

console.log(`node ${process.version}, ${os.cpus()[0]?.model} x${os.cpus().length}, load average ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
console.log('| case | host eval ms | wasm kernel ms | host / kernel | kernel |');
console.log('|---|---:|---:|---:|---|');
for (const c of CASES) {
  const g = new GraphBuilder({ opset: c.opset ?? 13 });
  g.input('x', c.x.type, c.x.dims);
  for (const [name, dt, data, dims] of c.consts) g.initializer(name, dt as any, data, dims);
  const outs = c.op === 'DynamicQuantizeLinear' ? ['y', 'ys', 'yz'] : ['y'];
  g.node(c.op, ['x', ...c.consts.map((k) => k[0])], outs, c.attrs);
  for (const o of outs) g.output(o, o === 'ys' ? 'float32' : o === 'yz' ? 'uint8' : c.op === 'ConvInteger' ? 'int32' : c.op === 'DynamicQuantizeLinear' ? 'uint8' : c.x.type);
  const n = c.x.dims.reduce((a, b) => a * b, 1);
  const xd = c.x.type === 'float32' ? f32(n, -2, 2) : u8(n);
  const s = await InferenceSession.create(g.toBytes(), { threads: 1 });
  const feeds = { x: new Tensor(c.x.type, xd, c.x.dims) };
  // the host reference as the runtime ran it before: op.eval on logical tensors with constant inputs
  const op = findOp('', c.op)!;
  const node: Node = { name: 'n', op: c.op, domain: '', inputs: ['x', ...c.consts.map((k) => k[0])], outputs: outs, attrs: { ...c.attrs, _requant: 'float' } };
  const hostIns: HostTensor[] = [{ dtype: c.x.type, dims: c.x.dims, data: xd }, ...c.consts.map(([, dt, data, dims]) => ({ dtype: dt as any, dims, data }))];
  const th: number[] = [], tk: number[] = [];
  let variant = '';
  for (let r = 0; r < ROUNDS + 1; r++) {
    const t0 = performance.now();
    op.eval!(node, hostIns, c.opset ?? 13);
    const t1 = performance.now();
    await s.run(feeds);
    const step = s.profile().nodes.find((p) => p.op === c.op)!;
    variant = step.variant;
    if (r > 0) { th.push(t1 - t0); tk.push(step.ms); }
  }
  const h = median(th), k = median(tk);
  console.log(`| ${c.name} | ${h.toFixed(2)} | ${k.toFixed(3)} | ${(h / k).toFixed(0)}x | ${variant} |`);
  s.release();
}
console.log(`load average after: ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
