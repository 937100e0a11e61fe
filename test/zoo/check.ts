// Shared checks for the reference-architecture suites (one suite per architecture so they run in parallel).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { FORMS, zooModel, zooNet, randomInputs, type ArchName } from '../../src/zoo/index.js';
import { onnx } from '../../src/onnx/writer.js';

const N = 8;

function topk(a: Float32Array, k: number): number[] {
  return Array.from(a.keys()).sort((x, y) => a[y] - a[x]).slice(0, k);
}

function argmax(a: Float32Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

async function runForm(arch: ArchName, form: string, x: Float32Array, size: number): Promise<Float32Array[]> {
  const s = await ort.InferenceSession.create(await zooModel(arch, form as never), { logSeverityLevel: 3 });
  try {
    const outs: Float32Array[] = [];
    for (let i = 0; i < N; i++) {
      const r = await s.run({ input: new ort.Tensor('float32', x.slice(i * size, (i + 1) * size), [1, 3, 224, 224]) });
      assert.equal(r.logits.dims, [1, 1000], `${form}: logits shape`);
      outs.push(r.logits.data as Float32Array);
    }
    return outs;
  } finally {
    await s.release();
  }
}

export function opTypes(bytes: Uint8Array): Map<string, number> {
  const m = onnx.ModelProto.decode(bytes);
  const counts = new Map<string, number>();
  for (const n of m.graph!.node) {
    const k = n.domain ? `${n.domain}:${n.opType}` : n.opType!;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/** Registers the model tests of one architecture: every form runs; FP32 is not degenerate; INT8 agrees. */
export function modelSuite(arch: ArchName, torchvisionParams: number): void {
  test(`${arch}: parameter count equals torchvision's (conv + BN affine + classifier)`, async () => {
    const net = await zooNet(arch);
    let n = 0;
    for (const l of net.layers) {
      if (l.op === 'conv') n += l.w.length + (l.b ? l.b.length : 0) + (l.bn ? 2 * l.bn.gamma.length : 0);
      if (l.op === 'gemm') n += l.w.length + l.b.length;
    }
    assert.is(n, torchvisionParams);
  });

  test(`${arch}: every form runs in onnxruntime-node; FP32 depends on the input; quantized forms agree with FP32`, async () => {
    const net = await zooNet(arch);
    const size = 3 * 224 * 224;
    const x = randomInputs(net, N, 4242);
    const ref = await runForm(arch, 'fp32', x, size);
    for (const o of ref) for (const v of o) assert.ok(Number.isFinite(v), 'fp32 logits finite');
    // not degenerate: the logits of two inputs differ by a sizeable fraction of their spread, and several classes win
    let d = 0, v = 0;
    const mean = ref[0].reduce((a, b) => a + b, 0) / 1000;
    for (let j = 0; j < 1000; j++) { d += (ref[0][j] - ref[1][j]) ** 2; v += (ref[0][j] - mean) ** 2; }
    assert.ok(d > 0.05 * v, `fp32 logits barely depend on the input (${d} vs ${v})`);
    const top = ref.map(argmax);
    assert.ok(new Set(top).size >= N / 2, `fp32 top-1 over ${N} inputs: ${top.join(',')}`);
    for (const form of FORMS.filter((f) => f !== 'fp32')) {
      const out = await runForm(arch, form, x, size);
      let err = 0, sig = 0, agree = 0, inTop5 = 0;
      for (let i = 0; i < N; i++) {
        for (let j = 0; j < 1000; j++) {
          assert.ok(Number.isFinite(out[i][j]), `${form}: logits finite`);
          err += (out[i][j] - ref[i][j]) ** 2;
          sig += ref[i][j] ** 2;
        }
        if (argmax(out[i]) === top[i]) agree++;
        if (topk(ref[i], 5).includes(argmax(out[i]))) inTop5++;
      }
      const sqnr = 10 * Math.log10(sig / err);
      console.log(`  ${arch} ${form.padEnd(10)} top-1 = FP32 top-1 ${agree}/${N}, in FP32 top-5 ${inTop5}/${N}, logits SQNR ${sqnr.toFixed(1)} dB`);
      // Random 1000-class logits are near-ties (no confident class as in a trained net), so the check is that the
      // quantized top-1 is among FP32's top 5 on most inputs; the exact top-1 agreement is printed.
      assert.ok(inTop5 >= (3 * N) / 4, `${form}: top-1 in FP32 top-5 on only ${inTop5}/${N} inputs`);
      assert.ok(sqnr > 8, `${form}: logits SQNR ${sqnr.toFixed(1)} dB`);
    }
  });

  test(`${arch}: each form has the structure its name promises`, async () => {
    const fp = opTypes(await zooModel(arch, 'fp32'));
    assert.ok((fp.get('BatchNormalization') ?? 0) > 0 && !fp.has('QuantizeLinear'));
    const ort8 = opTypes(await zooModel(arch, 'qdq-ort-s8'));
    assert.ok(!ort8.has('Constant') && !ort8.has('Relu') && !ort8.has('Clip') && (ort8.get('DequantizeLinear') ?? 0) > (ort8.get('QuantizeLinear') ?? 0));
    const pt = opTypes(await zooModel(arch, 'qdq-pt-u8'));
    assert.ok((pt.get('Constant') ?? 0) > 0 && (pt.get('Cast') ?? 0) > 0 && pt.has('Shape') && pt.has('Reshape'));
    const m = onnx.ModelProto.decode(await zooModel(arch, 'qdq-pt-s8'));
    const perChannel = m.graph!.node.filter((n) => n.opType === 'DequantizeLinear' && n.attribute.some((a) => a.name === 'axis'));
    assert.ok(perChannel.length > 0, 'per-channel weight DequantizeLinear with axis');
    const qop = opTypes(await zooModel(arch, 'qop-u8'));
    for (const op of ['QLinearConv', 'QLinearMatMul', 'com.microsoft:QLinearAdd', 'com.microsoft:QLinearGlobalAveragePool']) assert.ok(qop.has(op), `qop has ${op}`);
    assert.ok(!qop.has('Conv') && !qop.has('BatchNormalization'));
  });
}
