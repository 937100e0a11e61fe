// Whole-model A/B in one process, timed in process CPU time (user + system) as well as wall time: Octet sessions
// on one model, run interleaved (A B C A B C ...), each configuration optionally on the wasm builds of another
// directory, so that a kernel change is compared against the build before it, and INT8 against FP32, in the same
// run. CPU time is less disturbed than wall time on a shared machine (other processes' time is not counted; what
// remains is their cache and SMT interference, which hits every configuration alike).
//   node --experimental-wasm-relaxed-simd --import tsx bench/model-ab.ts [--model resnet18] [--form qdq-ort-s8]
//        [--configs fp32,x86:float,x86:float@/tmp/base-build] [--rounds 11]
// A config is `fp32` or `<path>:<requantization>` (as in bench/profile.ts), with `@<dir>` = load the builds
// (octet-<level>.wasm) from <dir> instead of build/wasm, and `+NAME=value` = an environment variable set while the
// session is created (e.g. `x86:float+OCTET_WINOGRAD=off`). Ratios are against the first config.
import { loadavg, cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { InferenceSession, Tensor } from '../src/index.js';
import { zooModelPath, zooNet, randomInputs, type ArchName, type Form } from '../src/zoo/index.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'resnet18' },
    form: { type: 'string', default: 'qdq-ort-s8' },
    configs: { type: 'string', default: 'fp32,x86:float' },
    rounds: { type: 'string', default: '11' },
  },
});
const arch = values.model as ArchName;
const rounds = Number(values.rounds);
const x = randomInputs(await zooNet(arch), 1, 7);
const load0 = loadavg().map((v) => v.toFixed(2)).join(' ');
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; };

interface Cfg { id: string; s: InferenceSession; cpu: number[]; wall: number[] }
const list: Cfg[] = [];
for (const id of values.configs!.split(',')) {
  const [main, ...envs] = id.split('+');
  const [spec, dir] = main.split('@');
  const saved = envs.map((e) => { const [k, v] = e.split('='); const old = process.env[k]; process.env[k] = v; return [k, old] as const; });
  const [path, requant] = spec === 'fp32' ? ['auto', undefined] : spec.split(':');
  const file = await zooModelPath(arch, spec === 'fp32' ? 'fp32' : (values.form as Form));
  const wasm = dir ? pathToFileURL(dir.endsWith('/') ? dir : `${dir}/`).href : undefined;
  const s = await InferenceSession.create(file, { kernels: path as never, requantization: requant as never, threads: 1, ...(wasm ? { wasm } : {}) });
  for (const [k, v] of saved) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  list.push({ id: `${id} [${s.kernelPath}]`, s, cpu: [], wall: [] });
}
const feed = { input: new Tensor('float32', x, [1, 3, 224, 224]) };
for (const c of list) { await c.s.run(feed); await c.s.run(feed); }
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < list.length; k++) {
    const c = list[(k + r) % list.length];
    const t = performance.now(), u = cpu();
    await c.s.run(feed);
    c.cpu.push(cpu() - u);
    c.wall.push(performance.now() - t);
  }
}
const med = (a: number[]): number => { const s = [...a].sort((p, q) => p - q); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
console.log(`bench/model-ab.ts --model ${arch} --form ${values.form} · ${cpus()[0]?.model} x${cpus().length}, Node ${process.version} · ${rounds} interleaved rounds · load average ${load0} -> ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
const [bc, bw] = [med(list[0].cpu), med(list[0].wall)];
for (const c of list) {
  console.log(`  ${c.id.padEnd(40)} CPU median ${med(c.cpu).toFixed(2).padStart(7)} ms (${(med(c.cpu) / bc).toFixed(3)}x), min ${Math.min(...c.cpu).toFixed(2).padStart(7)} ms (${(Math.min(...c.cpu) / Math.min(...list[0].cpu)).toFixed(3)}x) · wall median ${med(c.wall).toFixed(2).padStart(7)} ms (${(med(c.wall) / bw).toFixed(3)}x)`);
}
for (const c of list) await c.s.release();
process.exit(0);
