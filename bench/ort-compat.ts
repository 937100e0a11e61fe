// Cost of qdqFusion 'ort' (onnxruntime-identical int8 QDQ): `npx tsx bench/ort-compat.ts [arch...]`.
// For each zoo model in int8 QDQ form (onnxruntime-quantizer style), one session per mode on the same input,
// threads 1, rounds alternating: the default mode (everything folded into the integer kernels) is the baseline,
// 'ort' runs onnxruntime's float Convs / GlobalAveragePools on the host in MLAS order (src/ops/ort-float.ts).
// Prints median run time per mode, the ratio, the host-step share of the 'ort' run (session.profile()) and whether
// 'ort' equals onnxruntime-node (intraOpNumThreads 1) on that input.
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import { InferenceSession, Tensor } from '../src/index.js';
import { zooModel } from '../src/zoo/index.js';

const ROUNDS = 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const archs = process.argv.slice(2).filter((a) => !a.startsWith('-'));
console.log(`npx tsx bench/ort-compat.ts ${archs.join(' ')} | ${os.cpus()[0]?.model} x${os.cpus().length}, Node ${process.version}, load ${os.loadavg()[0].toFixed(1)}`);
for (const arch of (archs.length ? archs : ['resnet18', 'mobilenetv2', 'mobilenetv3small']) as ('resnet18' | 'mobilenetv2' | 'mobilenetv3small')[]) {
  const bytes = await zooModel(arch, 'qdq-ort-s8');
  let s0 = 11;
  const r = () => (s0 = (Math.imul(s0, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const x = Float32Array.from({ length: 3 * 224 * 224 }, () => r() * 2 - 1);
  const sessions = {
    octet: await InferenceSession.create(bytes, { requantization: 'float', threads: 1 }),
    ort: await InferenceSession.create(bytes, { requantization: 'float', threads: 1, qdqFusion: 'ort' }),
  };
  const times: Record<string, number[]> = { octet: [], ort: [] };
  let hostMs = 0, out: Float32Array | null = null;
  for (let i = 0; i < ROUNDS; i++) {
    for (const mode of ['octet', 'ort'] as const) {
      const s = sessions[mode];
      const t = performance.now();
      const o = await s.run({ [s.inputNames[0]]: new Tensor('float32', x, [1, 3, 224, 224]) });
      times[mode].push(performance.now() - t);
      if (mode === 'ort') {
        hostMs = s.profile().nodes.filter((n) => n.variant === 'host').reduce((a, n) => a + n.ms, 0);
        out = Object.values(o)[0].data as Float32Array;
      }
    }
  }
  const os1 = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  const want = Object.values(await os1.run({ [os1.inputNames[0]]: new ort.Tensor('float32', x, [1, 3, 224, 224]) }))[0].data as Float32Array;
  let diff = 0;
  for (let i = 0; i < want.length; i++) if (want[i] !== out![i]) diff++;
  const [a, b] = [median(times.octet), median(times.ort)];
  console.log(`${arch} qdq-ort-s8: default ${a.toFixed(1)} ms, 'ort' ${b.toFixed(0)} ms (${(b / a).toFixed(0)}x; host steps ${hostMs.toFixed(0)} ms), 'ort' vs onnxruntime: ${diff}/${want.length} differ`);
  await sessions.octet.release();
  await sessions.ort.release();
  await os1.release();
}
