// Where a cold start goes (issue 7: "cold start to first MobileNetV2 result under 1/3 of onnxruntime-web's").
//   node --experimental-wasm-relaxed-simd --import tsx bench/cold-phases.ts [--model mobilenetv2] [--rounds 5]
//        [--precision int8,fp32] [--int8 <file.onnx>] [--before-root <other built checkout, with this file in bench/>]
// Every measurement is a fresh child process (this file with --child), the same way bench/cold.ts measures the
// cold start for `npm run bench`: the clock starts before the runtime's module is imported (tsx is loaded before,
// as in any app), then session creation from the file, then the first result. Octet and onnxruntime-web are created
// through the same bench/engines.ts functions as `npm run bench`, children alternating (Octet, ORT-web, Octet, ...)
// so both see the same machine load. Octet's session creation reports its phase boundaries through
// globalThis.__octetPhase (src/runtime/phases.ts); onnxruntime-web is timed as import / create / first run.
// Prints per-phase medians (wall ms, and main-thread CPU ms from /proc/thread-self/schedstat on Linux: less disturbed
// by other processes) and the ratio of median first-result times, Octet / onnxruntime-web.
// Octet is imported from dist/ when dist/ is at least as new as src/ (npm run build), else from src/ via tsx.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { distFresh } from './engines.js';

const { values } = parseArgs({
  options: {
    child: { type: 'boolean' },
    engine: { type: 'string' },
    files: { type: 'string' },
    model: { type: 'string', default: 'mobilenetv2' },
    rounds: { type: 'string', default: '5' },
    precision: { type: 'string', default: 'int8,fp32' },
    int8: { type: 'string' },
    /** Another checkout of Octet (built, with this file in its bench/): its cold start runs interleaved as 'octet-…@before'. */
    'before-root': { type: 'string' },
  },
});

if (values.child) {
  // ---- child: one cold start, one JSON line on stdout ------------------------------------------------------------
  // Main-thread CPU time (Linux: /proc/thread-self/schedstat, ns on CPU) next to the wall clock at every mark: on a
  // shared machine the wall clock includes waiting for a core, the thread's CPU time much less so.
  const { readFileSync } = await import('node:fs');
  const cpuNow = (): number => { try { return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6; } catch { return NaN; } };
  // Minor page faults of the process (/proc/self/stat field 10): first touches of fresh memory, which cost ~20 us each
  // on this machine (a sandboxed kernel), so the copies a phase makes show up here.
  const faultsNow = (): number => { try { return Number(readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ')[7]); } catch { return NaN; } };
  const faults: number[] = [];
  const marks: [string, number, number][] = [];
  const f0 = faultsNow();
  const c0 = cpuNow();
  const t0 = performance.now();
  (globalThis as any).__octetPhase = (name: string, ms: number) => { marks.push([name, ms, name.startsWith('~') ? NaN : cpuNow()]); faults.push(faultsNow() - f0); };
  const cpu0 = process.cpuUsage();
  const { engines, setThreads } = await import('./engines.js');
  setThreads(1);
  const m = JSON.parse(values.files!);
  const engine = engines(['relaxed', 'x86', 'arm', 'scalar']).find((e) => e.id === values.engine);
  if (!engine) throw new Error(`unknown engine ${values.engine}`);
  const x = new Float32Array(m.inputDims.reduce((a: number, b: number) => a * b, 1)).map((_, i) => Math.sin(i * 0.37));
  // onnxruntime-web: its import is the first thing engines.ortWeb awaits; mark it by importing it here first (the
  // module is then cached, so create() below measures only session creation).
  if (values.engine!.startsWith('ort-web')) {
    await import('onnxruntime-web');
    marks.push(['import', performance.now(), cpuNow()]); faults.push(faultsNow() - f0);
  } else {
    await import(process.env.OCTET_BENCH_DIST === '1' ? '../dist/index.js' : '../src/index.js' as string);
    marks.push(['import', performance.now(), cpuNow()]); faults.push(faultsNow() - f0);
  }
  const runner = await engine.create(m);
  marks.push(['create-end', performance.now(), cpuNow()]); faults.push(faultsNow() - f0);
  await runner.run(x);
  const tFirst = performance.now();
  marks.push(['first-run', tFirst, cpuNow()]); faults.push(faultsNow() - f0);
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ ok: true, detail: runner.detail, firstResultMs: tFirst - t0, cpuMs: (cpu.user + cpu.system) / 1000, marks: marks.map(([n, t, c], i) => [n, t - t0, c - c0, faults[i]]) }));
  await runner.release();
  process.exit(0);
}

// ---- parent ------------------------------------------------------------------------------------------------------
const ROOT = new URL('..', import.meta.url).pathname;
const { GENERATED_DIR, ZOO_VERSION, zooModelPath } = await import('../src/zoo/index.js');
const arch = values.model as 'mobilenetv2';
const rounds = Number(values.rounds);
let int8 = values.int8 ?? join(GENERATED_DIR, `${arch}.v${ZOO_VERSION}.octet-quant-s8.onnx`);
let int8Note = 'QDQ from Octet\'s quantizer, as `npm run bench`';
if (!existsSync(int8)) {
  int8 = await zooModelPath(arch, 'qdq-ort-s8');
  int8Note = `zoo qdq-ort-s8 (run \`npm run bench -- --models ${arch}\` once for the quantizer's file)`;
}
const files = { id: arch, label: arch, fp32: await zooModelPath(arch, 'fp32'), int8, inputName: 'input', inputDims: [1, 3, 224, 224], outputName: 'logits' };

const fromDist = distFresh(ROOT);

interface ChildResult { ok: boolean; detail?: string; firstResultMs: number; cpuMs: number; marks: [string, number, number, number][]; error?: string }
function child(engineTag: string): ChildResult {
  const [engine, at] = engineTag.split('@');
  const root = at === 'before' ? values['before-root']! : ROOT;
  const args = [...process.execArgv.filter((a) => a.startsWith('--experimental')), '--import', 'tsx', join(root, 'bench', 'cold-phases.ts'),
    '--child', '--engine', engine, '--files', JSON.stringify(files)];
  const res = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 5 * 60 * 1000, env: { ...process.env, OCTET_BENCH_DIST: fromDist ? '1' : '0' } });
  const line = (res.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  try {
    return JSON.parse(line ?? '');
  } catch {
    return { ok: false, firstResultMs: NaN, cpuMs: NaN, marks: [], error: (res.stderr ?? '').split('\n').find((l) => /Error/.test(l))?.slice(0, 200) ?? `exit ${res.status}` };
  }
}

/** Phase durations from the marks, wall and main-thread CPU: each mark ends a phase that began at the previous mark;
 * '~' marks are events (the wasm build compiling in parallel) reported as the time since the start, not a phase. */
function phases(r: ChildResult): Map<string, [number, number, number]> {
  const out = new Map<string, [number, number, number]>();
  let prev = 0, prevC = 0, prevF = 0;
  for (const [name, t, c, f] of r.marks) {
    if (name.startsWith('~')) { out.set(`${name} (since start)`, [t, NaN, NaN]); continue; }
    const key = name === 'create' ? 'engine setup' : name;
    const o = out.get(key) ?? [0, 0, 0];
    out.set(key, [o[0] + t - prev, o[1] + c - prevC, o[2] + f - prevF]);
    prev = t;
    prevC = c;
    prevF = f;
  }
  const last = r.marks.filter((m) => !m[0].startsWith('~')).pop();
  out.set('= first result', [r.firstResultMs, last ? last[2] : NaN, last ? last[3] : NaN]);
  out.set('cpu ms, all threads', [NaN, r.cpuMs, NaN]);
  return out;
}

const median = (a: number[]) => { const s = a.filter(Number.isFinite).sort((x, y) => x - y); return s.length ? (s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN; };
const fmt = (x: number) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x.toFixed(1)) : '-');

const load0 = loadavg().map((x) => x.toFixed(2));
console.log(`cold-phases: ${arch}, ${rounds} rounds, fresh child per start, Octet from ${fromDist ? 'dist/' : 'src/ (tsx)'}; ${cpus()[0]?.model ?? ''} x${cpus().length}, Node ${process.version}`);
console.log(`INT8 file: ${int8Note}; load average at start ${load0.join(' / ')}`);
const summary: string[] = [];
for (const prec of values.precision!.split(',')) {
  const engines = prec === 'int8' ? ['octet-int8-relaxed', 'ort-web-int8'] : ['octet-fp32', 'ort-web-fp32'];
  if (values['before-root']) engines.push(`${engines[0]}@before`);
  const results = new Map<string, ChildResult[]>(engines.map((e) => [e, []]));
  for (let r = 0; r < rounds; r++) {
    for (const e of r % 2 ? [...engines].reverse() : engines) {
      const res = child(e);
      if (!res.ok) { console.error(`[cold-phases] ${e}: ${res.error}`); continue; }
      results.get(e)!.push(res);
    }
  }
  for (const e of engines) {
    const rs = results.get(e)!;
    const per = rs.map(phases);
    const keys = [...new Set(per.flatMap((p) => [...p.keys()]))];
    console.log(`\n${e} (${rs[0]?.detail ?? '-'}), median of ${rs.length}: wall ms [min..max] · main-thread CPU ms · page faults`);
    for (const k of keys) {
      const v = per.map((p) => p.get(k)?.[0] ?? NaN), c = per.map((p) => p.get(k)?.[1] ?? NaN), f = per.map((p) => p.get(k)?.[2] ?? NaN);
      const range = v.some(Number.isFinite) ? `[${fmt(Math.min(...v))}..${fmt(Math.max(...v))}]` : '';
      console.log(`  ${k.padEnd(28)} ${fmt(median(v)).padStart(7)} ${range.padEnd(16)} · ${fmt(median(c)).padStart(7)} · ${fmt(median(f)).padStart(6)}`);
    }
  }
  for (const oe of engines.filter((e) => e.startsWith('octet'))) {
    const [o, w] = [oe, engines[1]].map((e) => median(results.get(e)!.map((r) => r.firstResultMs)));
    const [oc, wc] = [oe, engines[1]].map((e) => median(results.get(e)!.map((r) => phases(r).get('= first result')![1])));
    summary.push(`${prec.toUpperCase()}${oe.includes('@') ? ' (before)' : ''}: Octet ${fmt(o)} ms / onnxruntime-web ${fmt(w)} ms = ${(o / w).toFixed(2)}x (target <= 0.33x); main-thread CPU ${fmt(oc)} / ${fmt(wc)} ms = ${(oc / wc).toFixed(2)}x`);
  }
}
console.log(`\ncold start to first ${arch} result (median first-result times):`);
for (const s of summary) console.log(`  ${s}`);
console.log(`load average at end ${loadavg().map((x) => x.toFixed(2)).join(' / ')}`);
