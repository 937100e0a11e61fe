// Work ranges: cutting a node's work items [0, workItems) into any ranges and running them one after another
// writes exactly what the whole call writes. This is what makes the pool's outputs bit-identical for every
// thread count. Covers the qs8 GEMM and convolution splits (row quads, and 8-column blocks for small outputs:
// shifted weight / table / output pointers, for every epilogue kind and path), the FP32 GEMM and direct 1x1
// convolution (row tiles x column blocks when rows are few) and the layout kernels (vs the host).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WasmKernels, BumpAllocator } from '../../src/runtime/wasm.js';
import { prepareQGemm, gemmSplit, type QOutput } from '../../src/kernels/qgemm.js';
import { prepareQConv2d } from '../../src/kernels/qconv.js';
import type { KernelIO, KernelPath, PreparedKernel } from '../../src/kernels/types.js';
import { LAYOUT_OPS } from '../../src/ops/layout.js';
import { prepareF32Gemm, prepareF32Conv2d, f32ColumnBlocks } from '../../src/kernels/f32.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Output of the whole call, then of the items cut at `cuts`, on a fresh output buffer each time. */
function compareCuts(wasm: WasmKernels, kernel: PreparedKernel, input: ArrayBufferView, outBytes: number, what: string, seed: number): void {
  const mem = new BumpAllocator(wasm);
  const io: KernelIO = { constants: mem.put(kernel.constants), inputs: [mem.put(input)], outputs: [mem.alloc(outBytes)], scratch: mem.alloc(kernel.scratchBytes + 64) };
  const out = () => wasm.u8(io.outputs[0], outBytes);
  out().fill(0xcd);
  kernel.run(wasm, io, 0, kernel.workItems);
  const want = out().slice();
  const n = kernel.workItems;
  const r = rng(seed);
  for (let trial = 0; trial < 4; trial++) {
    const cuts = [0, ...Array.from({ length: Math.min(n - 1, 1 + trial) }, () => 1 + Math.floor(r() * (n - 1))), n].sort((a, b) => a - b);
    out().fill(0xcd);
    // in reverse order, so a range that wrote outside its part would be caught by a later one being overwritten
    for (let i = cuts.length - 2; i >= 0; i--) kernel.run(wasm, io, cuts[i], cuts[i + 1]);
    assert.equal(out().slice(), want, `${what}: cuts ${cuts}`);
  }
}

const outputs: [string, QOutput][] = [
  ['int8 fixed-point', { type: 'int8', scale: 0.2, zeroPoint: -5 }],
  ['int8 fixed-point, left shift', { type: 'int8', scale: 0.00002, zeroPoint: 1 }],
  ['uint8 float requant', { type: 'uint8', scale: 0.3, zeroPoint: 120 }],
  ['int32', { type: 'int32' }],
  ['float32', { type: 'float32' }],
];
const paths: [KernelPath, 'scalar' | 'simd128'][] = [['scalar', 'scalar'], ['x86', 'simd128'], ['arm', 'simd128']];

test('qs8 GEMM: row-quad and column-block ranges equal the whole call (every epilogue, every path)', async () => {
  for (const [path, build] of paths) {
    const wasm = await WasmKernels.create(build);
    for (const [m, k, n] of [[49, 100, 45], [7, 33, 64], [130, 20, 19], [1, 64, 1000]]) {
      for (const [label, output] of outputs) {
        const r = rng(m * 7 + n);
        const kernel = prepareQGemm({
          m, k, n, aType: 'int8', aScale: 0.05, aZeroPoint: 3,
          weights: { data: Int8Array.from({ length: k * n }, () => Math.floor(r() * 256) - 128), type: 'int8', layout: 'kn', scales: Array.from({ length: n }, () => 0.001 + r() * 0.02) },
          bias: output.type === 'float32' ? Float32Array.from({ length: n }, () => r()) : Int32Array.from({ length: n }, () => Math.floor(r() * 2000) - 1000),
          output, requant: label.includes('float') ? 'float' : 'fixed-point', path,
        });
        const es = output.type === 'int32' || output.type === 'float32' ? 4 : 1;
        const mode = gemmSplit(m, n, true).byColumns ? 'columns' : 'rows';
        compareCuts(wasm, kernel, Int8Array.from({ length: m * k }, () => Math.floor(r() * 256) - 128), m * n * es, `${path} ${m}x${k}x${n} ${label} (${mode})`, m + k);
      }
    }
  }
});

test('qs8 conv (direct 1x1, im2col 3x3): ranges equal the whole call, row quads and column blocks', async () => {
  for (const [path, build] of paths) {
    const wasm = await WasmKernels.create(build);
    for (const [h, c, oc, kh, stride] of [[7, 16, 40, 1, 1], [7, 24, 36, 3, 1], [28, 8, 16, 3, 2], [14, 32, 64, 1, 1], [20, 3, 8, 3, 1]]) {
      const r = rng(h * 31 + oc);
      const kernel = prepareQConv2d({
        n: 1, h, w: h, c, oc, kernel: [kh, kh], strides: [stride, stride], pads: kh === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0],
        aType: 'int8', aScale: 0.05, aZeroPoint: -2,
        weights: { data: Int8Array.from({ length: oc * c * kh * kh }, () => Math.floor(r() * 256) - 128), type: 'int8', scales: Array.from({ length: oc }, () => 0.001 + r() * 0.01) },
        bias: Int32Array.from({ length: oc }, () => Math.floor(r() * 2000) - 1000),
        output: { type: 'int8', scale: 0.3, zeroPoint: 4 }, path,
      });
      const [, oh, ow] = kernel.outShape;
      compareCuts(wasm, kernel, Int8Array.from({ length: h * h * c }, () => Math.floor(r() * 256) - 128), oh * ow * oc, `${path} conv ${h}x${h}x${c} -> ${oc}, ${kh}x${kh}/${stride} (${kernel.method}, ${kernel.workItems} items)`, h + c);
    }
  }
});

test('layout kernels ([N, C, S] <-> [N, S, C], 1- and 4-byte elements): equal the host transposes, any cut of the items', async () => {
  const wasm = await WasmKernels.create('scalar');
  const to = LAYOUT_OPS.find((o) => o.op === '_ToChannelsLast')!, from = LAYOUT_OPS.find((o) => o.op === '_ToLogical')!;
  for (const [dtype, dims] of [['int8', [1, 3, 20, 30]], ['float32', [2, 5, 17, 19]], ['uint8', [1, 7, 300]], ['float32', [1, 1280, 1, 1]], ['int32', [2, 3, 4, 5, 6]]] as const) {
    const n = dims.reduce((a, b) => a * b, 1);
    const r = rng(n);
    const data = dtype === 'float32' ? Float32Array.from({ length: n }, () => r()) : dtype === 'int32' ? Int32Array.from({ length: n }, () => Math.floor(r() * 2 ** 31)) : dtype === 'int8' ? Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128) : Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
    const x = { dtype, dims: [...dims], data } as any;
    const cl = to.eval!({} as any, [x], 17)[0]; // physical [N, S..., C]
    for (const [op, input, want] of [[to, x, cl], [from, cl, from.eval!({} as any, [cl], 17)[0]]] as const) {
      const toCL = op === to;
      const v = { name: 'x', dtype, dims: [...dims], layout: toCL ? 'logical' : 'cl' } as any;
      const steps = op.lower!({ node: { op: op.op, name: 'n', inputs: ['x'], outputs: ['y'], attrs: {} } as any, inputs: [v], outputs: [{ ...v, name: 'y', layout: toCL ? 'cl' : 'logical' }], env: { path: 'scalar', arch: 'x86', requant: 'fixed-point' }, opset: 17 });
      assert.ok(steps && steps.length === 1, `${op.op} ${dtype} lowered to a wasm step`);
      const kernel = steps![0].kernel;
      const bytes = (input.data as any).byteLength;
      const mem = new BumpAllocator(wasm);
      const io: KernelIO = { constants: 0, inputs: [mem.put(input.data)], outputs: [mem.alloc(bytes)], scratch: 0 };
      for (const cuts of [[0, kernel.workItems], [0, Math.floor(kernel.workItems / 3), kernel.workItems - 1, kernel.workItems]]) {
        wasm.u8(io.outputs[0], bytes).fill(0xcd);
        for (let i = cuts.length - 2; i >= 0; i--) kernel.run(wasm, io, cuts[i], Math.max(cuts[i], cuts[i + 1]));
        const w = want.data as any;
        assert.equal(Array.from(wasm.u8(io.outputs[0], bytes)), Array.from(new Uint8Array(w.buffer, w.byteOffset, w.byteLength)), `${op.op} ${dtype} [${dims}] cuts ${cuts}`);
      }
    }
  }
});

test('f32 GEMM and conv (direct 1x1, im2col): row tiles x column blocks (few rows: 7x7, 14x14 stages, M = 1) equal the whole call', async () => {
  for (const [path, build] of [['scalar', 'scalar'], ['x86', 'simd128']] as const) {
    const wasm = await WasmKernels.create(build);
    for (const [m, k, n] of [[1, 64, 1000], [49, 40, 72], [7, 33, 20], [196, 24, 48], [3, 8, 5]]) {
      const r = rng(m * 13 + n);
      const kernel = prepareF32Gemm({ M: m, N: n, K: k, weights: Float32Array.from({ length: k * n }, () => r() - 0.5), bias: Float32Array.from({ length: n }, () => r()), min: -0.6, max: 0.8 }, { path });
      const blocks = f32ColumnBlocks(Math.ceil(m / 4), n).blocks;
      assert.ok(n <= 8 || blocks > 1 || m >= 64, `${m}x${k}x${n}: column blocks when rows are few`);
      compareCuts(wasm, kernel, Float32Array.from({ length: m * k }, () => r() - 0.5), m * n * 4, `${path} f32 gemm ${m}x${k}x${n} (${kernel.workItems} items)`, m + k);
    }
    for (const [h, c, oc, groups, kh, s] of [[7, 16, 160, 1, 1, 1], [14, 24, 40, 1, 1, 1], [7, 8, 48, 2, 1, 1], [3, 5, 9, 1, 1, 1], [14, 64, 128, 1, 1, 2], [7, 96, 64, 1, 3, 1], [7, 16, 40, 2, 3, 1]]) {
      const r = rng(h * 17 + oc);
      const kernel = prepareF32Conv2d({ N: 1, H: h, W: h, C: c, Cout: oc, KH: kh, KW: kh, strides: [s, s], pads: kh === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0], groups, weights: Float32Array.from({ length: oc * (c / groups) * kh * kh }, () => r() - 0.5), bias: Float32Array.from({ length: oc }, () => r()), min: 0, max: 6 }, { path });
      const oh = Math.floor((h + (kh === 3 ? 2 : 0) - kh) / s) + 1;
      compareCuts(wasm, kernel, Float32Array.from({ length: h * h * c }, () => r() * 2 - 1), oh * oh * oc * 4, `${path} f32 conv ${kh}x${kh}/${s} ${h}x${h}x${c} -> ${oc} groups ${groups} (${kernel.variant}, ${kernel.workItems} items)`, h + c);
    }
  }
});

test.run();
