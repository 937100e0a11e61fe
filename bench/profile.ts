// Where the time goes, per node and per op type: Octet sessions on one model, run interleaved in one process (A B C
// A B C ...), per-step medians from session.profile(), the INT8 configurations side by side with FP32 (issue 7).
//   node --experimental-wasm-relaxed-simd --import tsx bench/profile.ts [--model mobilenetv2] [--form qdq-ort-s8]
//        [--configs fp32,x86:fixed-point,x86:float,relaxed:fixed-point] [--rounds 15] [--top 12]
// A config is `fp32` (the FP32 model, kernels 'auto') or `<path>:<requantization>[:two-multiply|:dw-pixel]` on the
// INT8 file (dw-pixel: the INT8 depthwise kernels as before the rows form, OCTET_DW_FORM=pixel in src/kernels/dwconv.ts),
// optionally `@<dir>`: the wasm builds from <dir> (as in bench/model-ab.ts; e.g. a build of the previous commit).
// Prints the load average next to the figures: on a shared machine compare the ratios, not the absolute times.
import { loadavg, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { InferenceSession, Tensor } from '../src/index.js';
import { zooModelPath, zooNet, randomInputs, type ArchName, type Form } from '../src/zoo/index.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'mobilenetv2' },
    form: { type: 'string', default: 'qdq-ort-s8' },
    configs: { type: 'string', default: 'fp32,x86:fixed-point,x86:float' },
    rounds: { type: 'string', default: '15' },
    top: { type: 'string', default: '12' },
  },
});
const arch = values.model as ArchName;
const rounds = Number(values.rounds);
const configs = values.configs!.split(',');
const x = randomInputs(await zooNet(arch), 1, 7);
const load0 = loadavg().map((v) => v.toFixed(2)).join(' ');

interface Cfg { id: string; s: InferenceSession; steps: { name: string; op: string; variant: string; macs?: number; ms: number[] }[]; total: number[] }
const list: Cfg[] = [];
for (const id of configs) {
  const [spec, dir] = id.split('@');
  const [path, requant, form] = spec === 'fp32' ? ['auto', undefined, undefined] : spec.split(':');
  const file = await zooModelPath(arch, spec === 'fp32' ? 'fp32' : (values.form as Form));
  const wasm = dir ? pathToFileURL(dir.endsWith('/') ? dir : `${dir}/`).href : undefined;
  if (form === 'dw-pixel') process.env.OCTET_DW_FORM = 'pixel';
  else if (form) process.env.OCTET_FIXED_FORM = form; // e.g. x86:fixed-point:two-multiply (src/kernels/qgemm.ts)
  const s = await InferenceSession.create(file, { kernels: path as never, requantization: requant as never, threads: 1, ...(wasm ? { wasm } : {}) });
  delete process.env.OCTET_FIXED_FORM;
  delete process.env.OCTET_DW_FORM;
  list.push({ id: `${id} [${s.kernelPath}]`, s, steps: [], total: [] });
}
const feed = { input: new Tensor('float32', x, [1, 3, 224, 224]) };
for (const c of list) { await c.s.run(feed); await c.s.run(feed); }
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < list.length; k++) {
    const c = list[(k + r) % list.length];
    const t = performance.now();
    await c.s.run(feed);
    c.total.push(performance.now() - t);
    const nodes = c.s.profile().nodes;
    if (!c.steps.length) {
      const plan = (c.s as unknown as { plan: { steps: { kernel: { cost?: number } }[] } }).plan;
      c.steps = nodes.map((n, i) => ({ name: n.name, op: n.op, variant: n.variant, macs: plan?.steps[i]?.kernel.cost, ms: [] }));
    }
    nodes.forEach((n, i) => c.steps[i].ms.push(n.ms));
  }
}
const med = (a: number[]): number => { const s = [...a].sort((p, q) => p - q); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
console.log(`bench/profile.ts --model ${arch} --form ${values.form} · ${cpus()[0]?.model}, Node ${process.version} · ${rounds} interleaved rounds · load average ${load0} -> ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
const base = med(list[0].total);
for (const c of list) console.log(`  ${c.id.padEnd(34)} median ${med(c.total).toFixed(2)} ms  (${(med(c.total) / base).toFixed(3)}x of ${list[0].id})`);
for (const c of list) {
  const byOp = new Map<string, { ms: number; n: number; macs: number }>();
  for (const st of c.steps) {
    const k = `${st.op} [${st.variant}]`;
    const e = byOp.get(k) ?? { ms: 0, n: 0, macs: 0 };
    e.ms += med(st.ms); e.n++; e.macs += st.macs ?? 0;
    byOp.set(k, e);
  }
  const sum = c.steps.reduce((a, st) => a + med(st.ms), 0);
  console.log(`\n${c.id}: sum of step medians ${sum.toFixed(2)} ms`);
  for (const [k, e] of [...byOp].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`  ${e.ms.toFixed(2).padStart(7)} ms ${(100 * e.ms / sum).toFixed(1).padStart(5)}%  x${String(e.n).padEnd(3)} ${e.macs ? `${(e.macs / e.ms / 1e6).toFixed(1).padStart(5)} G/s ` : '          '}${k}`);
  }
  console.log(`  slowest steps:`);
  for (const st of [...c.steps].sort((a, b) => med(b.ms) - med(a.ms)).slice(0, Number(values.top))) {
    console.log(`  ${med(st.ms).toFixed(3).padStart(8)} ms ${st.macs ? `${(st.macs / 1e6).toFixed(1).padStart(6)} M ${(st.macs / med(st.ms) / 1e6).toFixed(1).padStart(5)} G/s` : ''} ${st.name} ${st.op} [${st.variant}]`);
  }
}
for (const c of list) await c.s.release();
process.exit(0);
