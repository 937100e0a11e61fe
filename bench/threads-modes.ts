// How a 2-thread run is scheduled: `npx tsx bench/threads-modes.ts [model] [rounds]` (model: mobilenetv2 | resnet18,
// INT8 QDQ ort-style s8). Three sessions interleaved round by round in one process: 1 thread; 2 threads with the
// whole run as one pool job (default: ThreadPool.planJob); 2 threads with the steps dispatched one by one (the
// fallback for plans with a step workers cannot replay; forced here by clearing the session's job, bench only).
// Wall time, median; outputs checked equal. Prints the load average: on a busy machine the ratios mean little.
import os from 'node:os';
import { InferenceSession } from '../src/api/session.js';
import { Tensor } from '../src/api/tensor.js';
import { zooModel } from '../src/zoo/index.js';

const arch = (process.argv[2] ?? 'mobilenetv2') as 'mobilenetv2' | 'resnet18';
const rounds = Number(process.argv[3] ?? 21);
const bytes = await zooModel(arch, 'qdq-ort-s8');
const s1 = await InferenceSession.create(bytes, { threads: 1 });
const job = await InferenceSession.create(bytes, { threads: 2 });
const nodes = await InferenceSession.create(bytes, { threads: 2 });
const dims = s1.inputMetadata[0].shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
const n = dims.reduce((a, b) => a * b, 1);
const feeds = { [s1.inputNames[0]]: new Tensor('float32', Float32Array.from({ length: n }, (_, i) => Math.sin(i)), dims) };
const want = await s1.run(feeds);
await job.run(feeds);
await nodes.run(feeds);
(nodes as any).job = { plan: (nodes as any).plan, job: null }; // bench only: dispatch this session's steps one by one
const same = (o: Record<string, Tensor>) => Object.keys(want).every((k) => Buffer.compare(Buffer.from((o[k].data as any).buffer), Buffer.from((want[k].data as any).buffer)) === 0);
const equal = same(await job.run(feeds)) && same(await nodes.run(feeds));
const times: number[][] = [[], [], []];
for (let r = 0; r < rounds; r++) {
  for (const [i, s] of [s1, job, nodes].entries()) {
    const t0 = performance.now();
    await s.run(feeds);
    times[i].push(performance.now() - t0);
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const [t1, tj, tn] = times.map(med);
console.log(`command: npx tsx bench/threads-modes.ts ${arch} ${rounds}; ${os.cpus().length} x ${os.cpus()[0]?.model}, Node ${process.versions.node}, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log(`${arch} INT8: 1 thread ${t1.toFixed(2)} ms | 2 threads, one job per run ${tj.toFixed(2)} ms (${(t1 / tj).toFixed(2)}x) | 2 threads, node by node ${tn.toFixed(2)} ms (${(t1 / tn).toFixed(2)}x) | outputs equal: ${equal ? 'yes' : 'NO'}`);
await Promise.all([s1.release(), job.release(), nodes.release()]);
process.exit(0);
