// Regression: QDQ depthwise and pointwise convolutions in both requantization modes against onnxruntime-node.
// A benchmark run once saw Octet's INT8 MobileNets go wrong from the first depthwise layer in fixed-point mode;
// this pins the single-layer behaviour: 'float' is bit-identical to onnxruntime, 'fixed-point' within 1 step.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/onnx/writer.js';
import { Rng } from '../../src/zoo/rng.js';

const XS = 0.02, YS = 0.05;

function model(rng: Rng, kind: 'dw' | 'pw', C: number, stride: number): Uint8Array {
  const g = new GraphBuilder({ opset: 17 });
  const H = 8;
  g.input('x', 'float32', [1, C, H, H]);
  const q = g.node('QuantizeLinear', ['x', g.initializer('xs', 'float32', [XS], []), g.initializer('xz', 'int8', [-3], [])], 1)[0];
  const dq = g.node('DequantizeLinear', [q, 'xs', 'xz'], 1)[0];
  const k = kind === 'dw' ? 3 : 1, cg = kind === 'dw' ? 1 : C;
  const w = Int8Array.from({ length: C * cg * k * k }, () => Math.round(rng.range(-127, 127)));
  const ws = Float32Array.from({ length: C }, () => rng.range(0.001, 0.01));
  const wdq = g.node('DequantizeLinear', [g.initializer('w', 'int8', w, [C, cg, k, k]), g.initializer('ws', 'float32', ws, [C]), g.initializer('wz', 'int8', new Int8Array(C), [C])], 1, { axis: 0 })[0];
  const b = Int32Array.from({ length: C }, () => Math.round(rng.range(-500, 500)));
  const bdq = g.node('DequantizeLinear', [g.initializer('b', 'int32', b, [C]), g.initializer('bs', 'float32', ws.map((v) => v * XS), [C]), g.initializer('bz', 'int32', new Int32Array(C), [C])], 1, { axis: 0 })[0];
  const y = g.node('Conv', [dq, wdq, bdq], 1, { kernel_shape: [k, k], strides: [stride, stride], pads: k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0], group: kind === 'dw' ? C : 1 })[0];
  const yq = g.node('QuantizeLinear', [y, g.initializer('ys', 'float32', [YS], []), g.initializer('yz', 'int8', [5], [])], 1)[0];
  g.node('DequantizeLinear', [yq, 'ys', 'yz'], ['y']);
  g.output('y', 'float32');
  return g.toBytes();
}

for (const [kind, C, stride] of [['dw', 16, 1], ['dw', 32, 2], ['dw', 24, 1], ['pw', 16, 1]] as const) {
  test(`QDQ ${kind === 'dw' ? 'depthwise 3x3' : 'pointwise 1x1'} C=${C} stride ${stride}: float identical, fixed-point within 1 step of onnxruntime`, async () => {
    const rng = new Rng(3 + C + stride);
    const bytes = model(rng, kind, C, stride);
    const x = Float32Array.from({ length: C * 64 }, () => rng.range(-2, 2));
    const ref = (await (await ort.InferenceSession.create(bytes)).run({ x: new ort.Tensor('float32', x, [1, C, 8, 8]) })).y.data as Float32Array;
    for (const mode of ['float', 'fixed-point'] as const) {
      for (const kernels of ['scalar', 'x86', 'arm'] as const) {
        const s = await InferenceSession.create(bytes, { requantization: mode, kernels, threads: 1 });
        const got = (await s.run({ x: new Tensor('float32', x, [1, C, 8, 8]) })).y.data as Float32Array;
        const variants = s.profile().nodes.map((n) => n.variant).join(',');
        if (kind === 'dw') assert.match(variants, /dwconv/, `depthwise should run on a dwconv kernel (${variants})`);
        let off = 0, worst = 0;
        for (let i = 0; i < ref.length; i++) {
          const steps = Math.round(Math.abs(got[i] - ref[i]) / YS);
          worst = Math.max(worst, steps);
          if (steps) off++;
        }
        if (mode === 'float') assert.is(worst, 0, `${mode} ${kernels}: ${off} outputs differ from onnxruntime`);
        else {
          assert.ok(worst <= 1, `${mode} ${kernels}: an output is ${worst} steps from onnxruntime`);
          assert.ok(off <= Math.ceil(ref.length * 0.02), `${mode} ${kernels}: ${off}/${ref.length} outputs differ by a step`);
        }
      }
    }
  });
}

test.run();
