// INT8 weights at session creation from a file: int8 / uint8 initializers of 64 KB or more stay in the file
// (src/onnx/reader.ts) and are read, one at a time, into one reused buffer when their kernel is packed
// (src/graph/tensor.ts lazyQ8 / weightBytes). The same model from a path and from bytes (every initializer in memory)
// must give bit-identical outputs on the scalar and x86 paths (Winograd, indirect, 1x1 direct
// convolutions, QLinearMatMul, a QDQ Gemm folded into a 1x1 convolution, uint8 weights with zero points), and match onnxruntime-node within one quantization
// step; also after a new input shape re-reads the weights; a file changed after the session read it is reported.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/onnx/writer.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { Rng } from '../../src/zoo/rng.js';
import { expectChangedFileReported, withModelFile } from './weights-file-util.js';

function model(): Uint8Array {
  const rng = new Rng(4321);
  const i8 = (n: number) => Int8Array.from({ length: n }, () => Math.round(rng.range(-127, 127)));
  const u8 = (n: number) => Uint8Array.from({ length: n }, () => Math.round(rng.range(0, 255)));
  const i32 = (n: number) => Int32Array.from({ length: n }, () => Math.round(rng.range(-2000, 2000)));
  const g = new GraphBuilder({ opset: 13 });
  const f = (name: string, v: number) => g.initializer(name, 'float32', [v], []);
  const zi = (name: string, v: number) => g.initializer(name, 'int8', Int8Array.of(v), []);
  const zu = (name: string, v: number) => g.initializer(name, 'uint8', Uint8Array.of(v), []);
  g.input('x', 'float32', [1, 64, 'H', 'W']);
  g.node('QuantizeLinear', ['x', f('xs', 0.02), zi('xz', 3)], ['xq']);
  // 3x3 stride 1, 64 -> 128 (72 KB of int8 weights, left in the file): Winograd on the x86 path
  g.node('QLinearConv', ['xq', 'xs', 'xz', g.initializer('w1', 'int8', i8(128 * 64 * 9), [128, 64, 3, 3]), f('w1s', 0.004), zi('w1z', 0),
    f('y1s', 0.05), zi('y1z', -2), g.initializer('b1', 'int32', i32(128), [128])], ['y1'], { pads: [1, 1, 1, 1] });
  // to uint8 activations (onnxruntime's QLinearConv takes uint8 weights with uint8 inputs only)
  g.node('DequantizeLinear', ['y1', 'y1s', 'y1z'], ['d1']);
  g.node('QuantizeLinear', ['d1', f('u1s', 0.05), zu('u1z', 120)], ['u1']);
  // 3x3 stride 2, 128 -> 64, uint8 weights with a zero point (72 KB): the indirect kernel
  g.node('QLinearConv', ['u1', 'u1s', 'u1z', g.initializer('w2', 'uint8', u8(64 * 128 * 9), [64, 128, 3, 3]), f('w2s', 0.003), zu('w2z', 131),
    f('y2s', 0.06), zu('y2z', 129)], ['y2'], { pads: [1, 1, 1, 1], strides: [2, 2] });
  // 1x1, 64 -> 1024 (64 KB): the GEMM reading the input in place
  g.node('QLinearConv', ['y2', 'y2s', 'y2z', g.initializer('w3', 'int8', i8(1024 * 64), [1024, 64, 1, 1]), f('w3s', 0.005), zi('w3z', 0),
    f('y3s', 0.08), zu('y3z', 128)], ['y3']);
  g.node('DequantizeLinear', ['y3', 'y3s', 'y3z'], ['d3']);
  g.node('GlobalAveragePool', ['d3'], ['p']);
  g.node('Flatten', ['p'], ['fl']);
  g.node('QuantizeLinear', ['fl', f('fs', 0.01), zi('fz', 0)], ['fq']);
  // QLinearMatMul [1024, 64] (64 KB, left in the file)
  g.node('QLinearMatMul', ['fq', 'fs', 'fz', g.initializer('w4', 'int8', i8(1024 * 64), [1024, 64]), f('w4s', 0.006), zi('w4z', 0),
    f('y4s', 0.1), zi('y4z', 0)], ['y4']);
  g.node('DequantizeLinear', ['y4', 'y4s', 'y4z'], ['y']);
  g.output('y', 'float32', [1, 64]);
  // QDQ Gemm with transB (folded into a 1x1 QLinearConv that shares the [N, K] weights, 64 KB, left in the file)
  g.node('DequantizeLinear', ['fq', 'fs', 'fz'], ['fd']);
  g.node('DequantizeLinear', [g.initializer('w5', 'int8', i8(64 * 1024), [64, 1024]), f('w5s', 0.007), zi('w5z', 0)], ['w5d']);
  g.node('Gemm', ['fd', 'w5d'], ['g5'], { transB: 1 });
  g.node('QuantizeLinear', ['g5', f('y5s', 0.1), zi('y5z', 0)], ['y5']);
  g.node('DequantizeLinear', ['y5', 'y5s', 'y5z'], ['z']);
  g.output('z', 'float32', [1, 64]);
  return g.toBytes();
}

test('INT8 model from its file (weights left in the file, read when packed) = from bytes, bit for bit; both within one step of onnxruntime', async () => {
  const bytes = model();
  const inits = decodeModel(bytes).graph!.initializer!;
  assert.equal(inits.filter((t) => (t.rawData?.length ?? 0) >= 65536).map((t) => t.name).sort(), ['w1', 'w2', 'w3', 'w4', 'w5']);
  await withModelFile(bytes, async (path) => {
    const rng = new Rng(7);
    const ref = await ort.InferenceSession.create(bytes);
    const input = (h: number, w: number) => Float32Array.from({ length: 64 * h * w }, () => rng.range(-2, 2));
    for (const kernels of ['scalar', 'x86'] as const) {
      const fromPath = await InferenceSession.create(path, { kernels, threads: 1 });
      const fromBytes = await InferenceSession.create(bytes.slice(), { kernels, threads: 1 });
      // two shapes: the second compile reads the weights left in the file again
      for (const [h, w] of [[10, 10], [7, 13]]) {
        const x = input(h, w);
        const r = await ref.run({ x: new ort.Tensor('float32', x, [1, 64, h, w]) });
        const ra = await fromPath.run({ x: new Tensor('float32', x, [1, 64, h, w]) });
        const rb = await fromBytes.run({ x: new Tensor('float32', x, [1, 64, h, w]) });
        for (const out of ['y', 'z']) {
          const want = r[out].data as Float32Array, a = ra[out].data as Float32Array, b = rb[out].data as Float32Array;
          assert.equal(Array.from(a), Array.from(b), `${kernels} ${h}x${w} ${out}: path and bytes differ`);
          let exact = 0;
          for (let i = 0; i < want.length; i++) {
            assert.ok(Math.abs(a[i] - want[i]) <= 0.1 + 1e-6, `${kernels} ${h}x${w} ${out}[${i}] = ${a[i]}, onnxruntime ${want[i]}`);
            if (a[i] === want[i]) exact++;
          }
          assert.ok(exact >= want.length / 2, `${kernels} ${h}x${w} ${out}: only ${exact}/${want.length} outputs equal onnxruntime's`);
        }
      }
      // the kernels under test ran (x86: Winograd, indirect, direct GEMM; scalar: im2col and direct)
      const ran = fromPath.profile().nodes.map((n) => n.variant).join(' ');
      if (kernels === 'x86') for (const v of ['qs8_wino2x2_3x3__simd128_dot16', 'qs8_igemm_4x8c2__simd128_dot16', 'direct+']) assert.ok(ran.includes(v), `${v} not in ${ran}`);
      else assert.ok(ran.includes('im2col+') && ran.includes('direct+'), ran);
      await fromPath.release();
      await fromBytes.release();
    }
    // the file changes under a session whose weights are still in it: the next compile says so
    await expectChangedFileReported(path, 'x86', { x: new Tensor('float32', input(8, 8), [1, 64, 8, 8]) }, { x: new Tensor('float32', input(6, 6), [1, 64, 6, 6]) });
  });
});

test.run();
