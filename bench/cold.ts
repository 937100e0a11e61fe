// Child process of bench/models.ts: cold start (runtime import -> session -> first result) and peak RSS growth for
// one engine and one model, in a fresh process. Prints one JSON line.
//   node --import tsx bench/cold.ts <engine-id> <model-files-json> [runs]
// The clock starts before the runtime's module is imported (tsx itself is loaded before, as in any app).
import { readFileSync } from 'node:fs';
const t0 = performance.now();
// Peak RSS of this process image: VmHWM from /proc (Linux). getrusage's maxRSS is no use in a spawned child: it
// keeps the parent's high-water mark across fork+exec. Elsewhere: the highest RSS sampled after each step.
let sampled = 0;
function peakRss(): number {
  sampled = Math.max(sampled, process.memoryUsage().rss);
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch { /* not Linux */ }
  return sampled;
}
const rss0 = process.memoryUsage().rss;
const [engineId, modelJson, runsArg] = process.argv.slice(2);
const { engines, setThreads } = await import('./engines.js');
setThreads(Number(process.env.OCTET_BENCH_THREADS ?? 1));
if (engineId === 'baseline') {
  // the same child doing nothing: its RSS growth (module loader, input buffer) is subtracted from the others
  const x = new Float32Array(JSON.parse(modelJson).inputDims.reduce((a: number, b: number) => a * b, 1));
  console.log(JSON.stringify({ ok: true, createMs: 0, firstResultMs: performance.now() - t0 + x.length * 0, peakRssGrowthBytes: peakRss() - rss0 }));
  process.exit(0);
}
const engine = engines([engineId.replace(/^octet-int8-/, '')]).find((e) => e.id === engineId);
if (!engine) throw new Error(`unknown engine ${engineId}`);
const model = JSON.parse(modelJson);
const x = new Float32Array(model.inputDims.reduce((a: number, b: number) => a * b, 1)).map((_, i) => Math.sin(i * 0.37));
try {
  const runner = await engine.create(model);
  const tCreate = performance.now();
  peakRss();
  await runner.run(x);
  const tFirst = performance.now();
  peakRss();
  for (let i = 0; i < Number(runsArg ?? 3); i++) { await runner.run(x); peakRss(); }
  const maxRss = peakRss();
  console.log(JSON.stringify({ ok: true, createMs: tCreate - t0, firstResultMs: tFirst - t0, peakRssGrowthBytes: maxRss - rss0 }));
  await runner.release();
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: String((e as Error).message ?? e).split('\n')[0].slice(0, 200) }));
}
process.exit(0);
