// FP32 weights at session creation from a file: initializers viewed in place in the file's bytes (misaligned float32
// ones read by rows, src/graph/tensor.ts lazyF32), BatchNorm folded as a per-row scale applied while packing, weights
// packed straight into wasm memory. The same model from a path and from bytes (every initializer copied) must give
// bit-identical outputs, and both must match onnxruntime-node (Conv + BN + Relu6, depthwise + BN, a BN after a
// BN, Gemm with transB and without, MatMul), on the scalar and SIMD paths.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/onnx/writer.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { Rng } from '../../src/zoo/rng.js';

function model(): Uint8Array {
  const rng = new Rng(1234);
  const r = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => rng.range(lo, hi));
  const g = new GraphBuilder({ opset: 13 });
  g.input('x', 'float32', [1, 5, 9, 9]);
  // names of odd lengths: initializer raw_data lands at every alignment in the file
  const bn = (name: string, c: number) => ['s', 'b', 'm', 'v'].map((k, i) => g.initializer(`${name}${k}${'_'.repeat(i)}`, 'float32', k === 'v' ? r(c, 0.2, 2) : r(c), [c]));
  g.initializer('w1', 'float32', r(32 * 5 * 9), [32, 5, 3, 3]);
  g.node('Conv', ['x', 'w1'], ['c1'], { pads: [1, 1, 1, 1] });
  g.node('BatchNormalization', ['c1', ...bn('bn1', 32)], ['b1'], { epsilon: 1e-3 });
  g.node('Clip', ['b1', g.initializer('lo', 'float32', [0], []), g.initializer('hi', 'float32', [6], [])], ['r1']);
  g.initializer('wd__', 'float32', r(32 * 9), [32, 1, 3, 3]);
  g.node('Conv', ['r1', 'wd__'], ['c2'], { pads: [1, 1, 1, 1], strides: [2, 2], group: 32 });
  g.node('BatchNormalization', ['c2', ...bn('bn2x', 32)], ['b2']);
  g.node('BatchNormalization', ['b2', ...bn('bn3', 32)], ['b3']);
  g.initializer('w3_', 'float32', r(24 * 32), [24, 32, 1, 1]);
  g.initializer('bias3', 'float32', r(24), [24]);
  g.node('Conv', ['b3', 'w3_', 'bias3'], ['c3']);
  g.node('GlobalAveragePool', ['c3'], ['p']);
  g.node('Flatten', ['p'], ['f']);
  g.initializer('fcw', 'float32', r(12 * 24), [12, 24]);
  g.initializer('fcb_', 'float32', r(12), [12]);
  g.node('Gemm', ['f', 'fcw', 'fcb_'], ['y1'], { transB: 1 });
  g.initializer('mmw', 'float32', r(12 * 40), [12, 40]);
  g.node('MatMul', ['y1', 'mmw'], ['y2']);
  g.initializer('gw', 'float32', r(40 * 9), [40, 9]);
  g.node('Gemm', ['y2', 'gw'], ['y']);
  g.output('y', 'float32', [1, 9]);
  return g.toBytes();
}

test('FP32 model from its file (weights in place, BN applied while packing) = from bytes, bit for bit; both match onnxruntime', async () => {
  const bytes = model();
  // the case under test: float32 weights (rank >= 2, >= 256 values) that are not 4-aligned in the file
  const mis = decodeModel(bytes).graph!.initializer!.filter((t) => t.rawData && (t.dims ?? []).length >= 2 && t.rawData.length >= 1024 && t.rawData.byteOffset % 4 !== 0);
  assert.ok(mis.length >= 3, `misaligned weight tensors: ${mis.map((t) => t.name)}`);
  const dir = mkdtempSync(join(tmpdir(), 'octet-inplace-'));
  try {
    const path = join(dir, 'm.onnx');
    writeFileSync(path, bytes);
    const rng = new Rng(99);
    const x = Float32Array.from({ length: 5 * 81 }, () => rng.range(-2, 2));
    const want = (await (await ort.InferenceSession.create(bytes)).run({ x: new ort.Tensor('float32', x, [1, 5, 9, 9]) })).y.data as Float32Array;
    for (const kernels of ['scalar', 'x86'] as const) {
      const outs: Float32Array[] = [];
      for (const src of [path, bytes.slice()]) {
        const s = await InferenceSession.create(src, { kernels, threads: 1 });
        outs.push((await s.run({ x: new Tensor('float32', x, [1, 5, 9, 9]) })).y.data as Float32Array);
        await s.release();
      }
      assert.equal(Array.from(outs[0]), Array.from(outs[1]), `${kernels}: path and bytes differ`);
      for (let i = 0; i < want.length; i++) {
        assert.ok(Math.abs(outs[0][i] - want[i]) <= 1e-4 * (1 + Math.abs(want[i])), `${kernels} y[${i}] = ${outs[0][i]}, onnxruntime ${want[i]}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
