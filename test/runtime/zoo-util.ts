// Shared by the zoo-model suites: run one reference model (src/zoo) in Octet and in onnxruntime-node on the same
// seeded input and compare.
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { InferenceSession, Tensor } from '../../src/index.js';
import { zooModel, type Form } from '../../src/zoo/index.js';

export async function compareWithOrt(arch: 'mobilenetv2' | 'resnet18' | 'mobilenetv3small', form: Form): Promise<void> {
  const bytes = await zooModel(arch, form);
  let s0 = 11;
  const r = () => (s0 = (Math.imul(s0, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const x = Float32Array.from({ length: 3 * 224 * 224 }, () => r() * 2 - 1);
  // int8 QDQ (onnxruntime quantizer and PyTorch styles): Octet folds what onnxruntime folds and computes its float
  // Convs in MLAS's order (qdqFusion 'ort'), reproducing onnxruntime run with one intra-op thread (see
  // qdq-ort-fusion.test.ts)
  const ortCompat = form === 'qdq-ort-s8' || form === 'qdq-pt-s8';
  const os = await ort.InferenceSession.create(bytes, ortCompat ? { intraOpNumThreads: 1 } : {});
  const want = Object.values(await os.run({ [os.inputNames[0]]: new ort.Tensor('float32', x, [1, 3, 224, 224]) }))[0].data as Float32Array;
  const s = await InferenceSession.create(bytes, { requantization: 'float', ...(ortCompat ? { qdqFusion: 'ort' as const, ortThreads: 1 } : {}) });
  const got = Object.values(await s.run({ [s.inputNames[0]]: new Tensor('float32', x, [1, 3, 224, 224]) }))[0].data as Float32Array;
  const hostOps = [...new Set(s.profile().nodes.filter((n) => n.variant === 'host').map((n) => n.op))];
  await s.release();
  let diff = 0, maxd = 0, dot = 0, na = 0, nb = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (d > (form === 'fp32' ? 1e-4 * Math.abs(want[i]) + 1e-5 : 0)) diff++;
    maxd = Math.max(maxd, d);
    dot += got[i] * want[i]; na += got[i] ** 2; nb += want[i] ** 2;
  }
  const cos = dot / Math.sqrt(na * nb || 1);
  console.log(`${arch} ${form}: ${diff}/${want.length} outputs differ (max ${maxd.toExponential(2)}, cosine ${cos.toFixed(6)}); host ops: ${hostOps.join(', ') || 'none'}`);
  assert.is(diff, 0, `${arch} ${form}: ${diff} outputs differ (max ${maxd})`);
}
