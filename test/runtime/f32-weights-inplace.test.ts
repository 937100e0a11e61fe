// FP32 weights at session creation from a file: initializers viewed in place in the file's bytes (misaligned float32
// ones read by rows, src/graph/tensor.ts lazyF32), large payloads left in the file and read by rows when packed
// (src/onnx/reader.ts), BatchNorm folded as a per-row scale applied while packing, weights packed straight into
// wasm memory. The same model from a path and from bytes (every initializer copied) must give bit-identical outputs,
// and both must match onnxruntime-node (Conv + BN + Relu6, depthwise + BN, a BN after a BN, Gemm with transB and
// without, MatMul, a large rank-1 constant), on the scalar and SIMD paths, also after a new input shape re-reads the
// weights; a file changed after the session read it is reported, not read.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/onnx/writer.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { Rng } from '../../src/zoo/rng.js';
import { expectChangedFileReported, withModelFile } from './weights-file-util.js';

function model(): Uint8Array {
  const rng = new Rng(1234);
  const r = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => rng.range(lo, hi));
  const g = new GraphBuilder({ opset: 13 });
  g.input('x', 'float32', [1, 5, 'H', 'W']);
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
  // large enough to stay in the file (>= 64 KB), with a BatchNorm folded into it
  g.initializer('w4', 'float32', r(128 * 32 * 9, -0.2, 0.2), [128, 32, 3, 3]);
  g.node('Conv', ['b3', 'w4'], ['c4'], { pads: [1, 1, 1, 1] });
  g.node('BatchNormalization', ['c4', ...bn('bn4', 128)], ['b4']);
  g.initializer('w3_', 'float32', r(24 * 128), [24, 128, 1, 1]);
  g.initializer('bias3', 'float32', r(24), [24]);
  g.node('Conv', ['b4', 'w3_', 'bias3'], ['c3']);
  g.node('GlobalAveragePool', ['c3'], ['p']);
  g.node('Flatten', ['p'], ['f']);
  g.initializer('fcw', 'float32', r(12 * 24), [12, 24]);
  g.initializer('fcb_', 'float32', r(12), [12]);
  g.node('Gemm', ['f', 'fcw', 'fcb_'], ['y1'], { transB: 1 });
  // 12 rows of 64 KB: read from the file a few rows at a time
  g.initializer('mmw', 'float32', r(12 * 16384), [12, 16384]);
  g.node('MatMul', ['y1', 'mmw'], ['y2']);
  // rank 1, 64 KB: read from the file when the model is read
  g.node('Add', ['y2', g.initializer('addc', 'float32', r(16384), [16384])], ['y3']);
  g.initializer('gw', 'float32', r(16384 * 9, -0.05, 0.05), [16384, 9]);
  g.node('Gemm', ['y3', 'gw'], ['y']);
  g.output('y', 'float32', [1, 9]);
  return g.toBytes();
}

test('FP32 model from its file (weights in place or left in the file, BN applied while packing) = from bytes, bit for bit; both match onnxruntime', async () => {
  const bytes = model();
  // the cases under test: float32 weights (rank >= 2, >= 256 values) that are not 4-aligned in the file, and
  // payloads large enough to be left in the file
  const inits = decodeModel(bytes).graph!.initializer!;
  const mis = inits.filter((t) => t.rawData && (t.dims ?? []).length >= 2 && t.rawData.length >= 1024 && t.rawData.length < 65536 && t.rawData.byteOffset % 4 !== 0);
  assert.ok(mis.length >= 3, `misaligned weight tensors: ${mis.map((t) => t.name)}`);
  assert.equal(inits.filter((t) => (t.rawData?.length ?? 0) >= 65536).map((t) => t.name).sort(), ['addc', 'gw', 'mmw', 'w4']);
  await withModelFile(bytes, async (path) => {
    const rng = new Rng(99);
    const ref = await ort.InferenceSession.create(bytes);
    const input = (h: number, w: number) => Float32Array.from({ length: 5 * h * w }, () => rng.range(-2, 2));
    for (const kernels of ['scalar', 'x86'] as const) {
      const fromPath = await InferenceSession.create(path, { kernels, threads: 1 });
      const fromBytes = await InferenceSession.create(bytes.slice(), { kernels, threads: 1 });
      // two shapes: the second compile reads the weights left in the file again
      for (const [h, w] of [[9, 9], [7, 11]]) {
        const x = input(h, w);
        const want = (await ref.run({ x: new ort.Tensor('float32', x, [1, 5, h, w]) })).y.data as Float32Array;
        const a = (await fromPath.run({ x: new Tensor('float32', x, [1, 5, h, w]) })).y.data as Float32Array;
        const b = (await fromBytes.run({ x: new Tensor('float32', x, [1, 5, h, w]) })).y.data as Float32Array;
        assert.equal(Array.from(a), Array.from(b), `${kernels} ${h}x${w}: path and bytes differ`);
        for (let i = 0; i < want.length; i++) {
          assert.ok(Math.abs(a[i] - want[i]) <= 1e-4 * (1 + Math.abs(want[i])), `${kernels} ${h}x${w} y[${i}] = ${a[i]}, onnxruntime ${want[i]}`);
        }
      }
      await fromPath.release();
      await fromBytes.release();
    }
    // the file changes under a session whose weights are still in it: the next compile says so
    await expectChangedFileReported(path, 'scalar', { x: new Tensor('float32', input(9, 9), [1, 5, 9, 9]) }, { x: new Tensor('float32', input(6, 6), [1, 5, 6, 6]) });
  });
});

test.run();
