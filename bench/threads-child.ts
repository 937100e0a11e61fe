// Child process of bench/models.ts for the "best thread count" table: every runtime set to one thread count
// (Octet `threads`, onnxruntime-web `env.wasm.numThreads`, onnxruntime-node `intraOpNumThreads`, TF.js
// `setThreadsCount`: each fixes it once per process, hence one child per count), then per model the runtimes run
// interleaved (one run of each per round, start rotating), warm-up excluded. Prints one JSON line:
//   {"threads": t, "results": [{"model", "engine", "medianMs", "n"} | {"model", "engine", "error"}]}
//   node [--experimental-wasm-relaxed-simd] --import tsx bench/threads-child.ts <threads> <models-json> <engine-ids> <rounds> <budget-s>
const [tArg, modelsJson, engineIds, roundsArg, budgetArg] = process.argv.slice(2);
const threads = Number(tArg);
const { engines, setThreads } = await import('./engines.js');
setThreads(threads);
const models = JSON.parse(modelsJson) as import('./engines.js').ModelFiles[];
const ids = engineIds.split(',');
const octetPaths = ids.filter((id) => id.startsWith('octet-int8-')).map((id) => id.replace('octet-int8-', ''));
const list = engines(octetPaths).filter((e) => ids.includes(e.id));
const rounds = Number(roundsArg), budgetMs = Number(budgetArg) * 1000;
const results: { model: string; engine: string; medianMs?: number; n?: number; error?: string }[] = [];
for (const m of models) {
  const x = new Float32Array(m.inputDims.reduce((a, b) => a * b, 1)).map((_, i) => 0.5 + 0.5 * Math.sin(i * 0.37));
  const runners: { id: string; run: (x: Float32Array) => Promise<Float32Array>; release: () => Promise<void>; t: number[] }[] = [];
  for (const e of list) {
    if ((e.file === 'tfjs' && !m.tfjs) || (e.file !== 'tfjs' && !m[e.file])) continue;
    try {
      const r = await e.create(m);
      await r.run(x);
      await r.run(x);
      runners.push({ id: e.id, run: r.run, release: r.release, t: [] });
    } catch (err) {
      results.push({ model: m.id, engine: e.id, error: String((err as Error).message ?? err).split('\n')[0].slice(0, 160) });
    }
  }
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < runners.length; k++) {
      const u = runners[(k + r) % runners.length];
      const s = performance.now();
      await u.run(x);
      u.t.push(performance.now() - s);
    }
    if (r >= 2 && performance.now() - t0 > budgetMs) break;
  }
  for (const u of runners) {
    const s = [...u.t].sort((a, b) => a - b);
    const med = s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    results.push({ model: m.id, engine: u.id, medianMs: med, n: s.length });
    await u.release();
  }
}
console.log(JSON.stringify({ threads, results }));
process.exit(0);
