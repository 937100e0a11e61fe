// Model benchmarks (issue 7): Octet against onnxruntime-web, TF.js (wasm) and onnxruntime-node, one thread, on
// the reference architectures (src/zoo) and the shipped MNIST CNN (models/*.onnx, when present).
//   npm run bench [-- --models mobilenetv2,resnet18 --engines ort-web-fp32,octet-fp32 --rounds 15 --budget 60
//                     --no-cold --quick --threads N --int8-from quant|zoo --fresh --max-threads N --no-thread-scan]
// Same process, same input, interleaved runs (one run of each engine per round, start rotating), warm-up excluded;
// reports median, interquartile spread and a correctness check against onnxruntime-node FP32. Then, in fresh child
// processes: each runtime's best thread count (one child per count 1..min(cores, 4), bench/threads-child.ts), cold
// start (runtime import -> first result) and peak RSS growth; and the wasm bytes each runtime ships.
// Writes bench/results/<date>-<host>.json and .svg (latency chart) and prints a markdown table (README).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import onnxProto from 'onnx-proto';
import { distFresh, engines as allEngines, setThreads, type Engine, type ModelFiles, type Runner } from './engines.js';
import { saveTfjsSpec } from './tfjs-net.js';
import { ROOT, GENERATED_DIR, ZOO_VERSION, zooModelPath, zooNet, randomInputs, buildArch, type ArchName } from '../src/zoo/index.js';
import { renderSvg } from './chart.js';

const { values } = parseArgs({
  options: {
    models: { type: 'string' },
    engines: { type: 'string' },
    rounds: { type: 'string', default: '15' },
    'min-rounds': { type: 'string', default: '5' },
    budget: { type: 'string', default: '90' },
    warmup: { type: 'string', default: '2' },
    'no-cold': { type: 'boolean' },
    quick: { type: 'boolean' },
    out: { type: 'string' },
    'int8-from': { type: 'string', default: 'quant' },
    threads: { type: 'string', default: '1' },
    'max-threads': { type: 'string' },
    'no-thread-scan': { type: 'boolean' },
    fresh: { type: 'boolean' },
  },
});
const quick = values.quick ?? false;
const threads = Number(values.threads);
if (!(Number.isInteger(threads) && threads >= 1)) throw new Error(`--threads must be an integer >= 1, got ${values.threads}`);
setThreads(threads);
process.env.OCTET_BENCH_THREADS = String(threads);
const maxRounds = quick ? 3 : Number(values.rounds);
const minRounds = quick ? 2 : Number(values['min-rounds']);
const budgetMs = Number(values.budget) * 1000;
const warmup = quick ? 1 : Number(values.warmup);
const require = createRequire(import.meta.url);
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;

// ---------------------------------------------------------------------------------------------------------------
// machine and code paths

let octetPaths: string[] = [];
let octetNote = '';
try {
  const { availablePaths } = await import('../src/runtime/select.js');
  octetPaths = await availablePaths();
} catch (e) {
  octetNote = `Octet not loadable: ${String(e).split('\n')[0]}`;
}
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const machine = {
  host: hostname(), cpu, cores: cpus().length, memGB: Math.round(totalmem() / 2 ** 30), node: process.version,
  loadavgStart: loadavg().map((v) => Number(v.toFixed(2))),
  relaxedSimdFlag: process.execArgv.includes('--experimental-wasm-relaxed-simd'),
  octetPaths,
};

// ---------------------------------------------------------------------------------------------------------------
// models

function describe(path: string): { inputName: string; inputDims: number[]; outputName: string } {
  const m = onnxProto.onnx.ModelProto.decode(readFileSync(path));
  const g = m.graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name));
  const inp = (g.input ?? []).find((i) => !inits.has(i.name!))!;
  const dims = (inp.type!.tensorType!.shape!.dim ?? []).map((d) => (d.dimValue != null && Number(d.dimValue) > 0 ? Number(d.dimValue) : 1));
  return { inputName: inp.name!, inputDims: dims, outputName: g.output![0].name! };
}

const ZOO: { arch: ArchName; label: string }[] = [
  { arch: 'mobilenetv2', label: 'MobileNetV2-224' },
  { arch: 'resnet18', label: 'ResNet-18-224' },
  { arch: 'mobilenetv3small', label: 'MobileNetV3-small-224' },
];

const int8Notes: string[] = [];

/**
 * INT8 QDQ file for a zoo model: by default made by Octet's own quantizer (src/quant: min/max over 16 random
 * inputs, per-channel symmetric int8 weights, QDQ), cached in models/.generated/; `--int8-from zoo` (or a quantizer
 * failure) uses the zoo's onnxruntime-style QDQ instead.
 */
async function int8File(arch: ArchName, act: 'int8' | 'uint8'): Promise<string> {
  const zooForm = act === 'int8' ? 'qdq-ort-s8' : 'qdq-ort-u8';
  if (values['int8-from'] === 'zoo') return zooModelPath(arch, zooForm);
  const path = join(GENERATED_DIR, `${arch}.v${ZOO_VERSION}.octet-quant-${act === 'int8' ? 's8' : 'u8'}.onnx`);
  if (existsSync(path) && !values.fresh) return path;
  try {
    const ort = await import('onnxruntime-node');
    const { quantize } = await import('../src/quant/quantize.js');
    const { sessionExecutor } = await import('../src/quant/executor.js');
    const net = await zooNet(arch);
    const n = 16, size = 3 * 224 * 224;
    const x = randomInputs(net, n, 555);
    const calibration = Array.from({ length: n }, (_, i) => ({ input: { data: x.slice(i * size, (i + 1) * size), dims: [1, 3, 224, 224] } }));
    const bytes = await quantize(readFileSync(await zooModelPath(arch, 'fp32')), {
      calibration, method: 'minmax', perChannel: true, activations: act, weights: 'int8', format: 'qdq', executor: sessionExecutor(ort as never),
    });
    writeFileSync(path, bytes);
    return path;
  } catch (e) {
    int8Notes.push(`${arch} ${act}: Octet's quantizer failed (${String(e).split('\n')[0].slice(0, 120)}); used the zoo's onnxruntime-style QDQ`);
    return zooModelPath(arch, zooForm);
  }
}

async function zooFiles(arch: ArchName, label: string): Promise<ModelFiles> {
  const tfjs = join(GENERATED_DIR, `${arch}.v${ZOO_VERSION}.tfjs`);
  if (!existsSync(`${tfjs}.json`)) saveTfjsSpec(tfjs, await zooNet(arch));
  return {
    id: arch, label, fp32: await zooModelPath(arch, 'fp32'), int8: await int8File(arch, 'int8'),
    uint8: await int8File(arch, 'uint8'), tfjs, inputName: 'input', inputDims: [1, 3, 224, 224], outputName: 'logits',
  };
}

/** The MNIST CNN the train helper ships in models/ (FP32, and an INT8 QDQ file next to it when there is one). */
function mnistFiles(): ModelFiles | null {
  const dir = join(ROOT, 'models');
  if (!existsSync(dir)) return null;
  const onnx = readdirSync(dir).filter((f) => f.endsWith('.onnx') && /mnist/i.test(f));
  const fp32 = onnx.find((f) => /fp32|float/i.test(f)) ?? onnx.find((f) => !/int8|uint8|qdq|quant|u8|s8/i.test(f));
  if (!fp32) return null;
  const int8 = onnx.find((f) => f !== fp32 && /int8|qdq|s8/i.test(f) && !/uint8|u8/i.test(f));
  const uint8 = onnx.find((f) => f !== fp32 && /uint8|u8/i.test(f));
  const d = describe(join(dir, fp32));
  return {
    id: 'mnist', label: `MNIST CNN (${fp32})`, fp32: join(dir, fp32), int8: int8 && join(dir, int8), uint8: uint8 && join(dir, uint8), ...d,
  };
}

const wanted = values.models?.split(',');
const models: ModelFiles[] = [];
for (const z of ZOO) if (!wanted || wanted.includes(z.arch)) models.push(await zooFiles(z.arch, z.label));
const mn = !wanted || wanted.includes('mnist') ? mnistFiles() : null;
if (mn) models.push(mn);
const modelNote = mn ? '' : 'MNIST CNN: no models/*mnist*.onnx yet (the train helper ships it), skipped.';

let engineList = allEngines(octetPaths);
if (values.engines) {
  const ids = values.engines.split(',');
  engineList = engineList.filter((e) => ids.includes(e.id));
}

// ---------------------------------------------------------------------------------------------------------------
// latency, interleaved

interface Row {
  model: string; modelLabel: string; engine: string; engineLabel: string; precision: string; native: boolean;
  status: 'ok' | 'skipped'; note?: string; detail?: string;
  n?: number; medianMs?: number; p25Ms?: number; p75Ms?: number; minMs?: number; spreadPct?: number;
  check?: string;
  /** false when the output disagrees with the reference (FP32: rel err > 1e-3; INT8: SQNR more than 3 dB below
   *  onnxruntime-node's on the same INT8 file, or below 10 dB without it): its time then meets no target. */
  valid?: boolean;
  sqnr?: number;
  /** Octet: time per op type in the last run (ms), and the slowest nodes. */
  profileByOp?: Record<string, number>;
  slowestNodes?: { name: string; op: string; variant: string; ms: number }[];
}

function quantile(sorted: number[], q: number): number {
  const p = (sorted.length - 1) * q;
  const lo = Math.floor(p), hi = Math.ceil(p);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (p - lo);
}

function inputFor(m: ModelFiles): Float32Array {
  if (ZOO.some((z) => z.arch === m.id)) return randomInputs(buildArchShapesOnly(m.id as ArchName), 1, 7);
  const n = m.inputDims.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => 0.5 + 0.5 * Math.sin(i * 0.37));
}
function buildArchShapesOnly(arch: ArchName): ReturnType<typeof buildArch> {
  return { name: arch, input: 'input', output: '', shapes: { input: [3, 224, 224] }, layers: [], classes: 1000 };
}

function checkOutput(e: Engine, y: Float32Array, ref: Float32Array): { text: string; relErr?: number; sqnr?: number } {
  let maxRef = 0, maxDiff = 0, err = 0, sig = 0;
  let a = 0, b = 0;
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(y[i])) return { text: 'non-finite output', relErr: Infinity, sqnr: -Infinity };
    maxRef = Math.max(maxRef, Math.abs(ref[i]));
    maxDiff = Math.max(maxDiff, Math.abs(y[i] - ref[i]));
    err += (y[i] - ref[i]) ** 2;
    sig += ref[i] ** 2;
    if (y[i] > y[a]) a = i;
    if (ref[i] > ref[b]) b = i;
  }
  if (e.precision === 'FP32') {
    const relErr = maxDiff / (maxRef || 1);
    return { text: `max rel err ${relErr.toExponential(1)}`, relErr };
  }
  const sqnr = 10 * Math.log10(sig / err);
  return { text: `SQNR ${sqnr.toFixed(1)} dB, top-1 ${a === b ? '=' : '!='}`, sqnr };
}

const rows: Row[] = [];
const t00 = performance.now();
for (const m of models) {
  console.error(`\n[bench] ${m.label}`);
  const x = inputFor(m);
  const runners: { e: Engine; r: Runner; times: number[] }[] = [];
  let ref: Float32Array | null = null;
  for (const e of engineList) {
    const base: Row = { model: m.id, modelLabel: m.label, engine: e.id, engineLabel: e.label, precision: e.precision, native: !!e.native, status: 'skipped' };
    if ((e.file === 'tfjs' && !m.tfjs) || (e.file !== 'tfjs' && !m[e.file])) {
      rows.push({ ...base, note: `no ${e.file === 'tfjs' ? 'TF.js rebuild' : `${e.file} file`} for this model` });
      continue;
    }
    try {
      const r = await e.create(m);
      const y = await r.run(x); // first run: also the correctness check
      runners.push({ e, r, times: [] });
      rows.push({ ...base, status: 'ok', detail: r.detail });
      if (e.id === 'ort-node-fp32') ref = y;
      (runners[runners.length - 1] as { first?: Float32Array }).first = y;
      console.error(`[bench]   ${e.label}: ready`);
    } catch (err) {
      const msg = String((err as Error).message ?? err).split('\n')[0].slice(0, 160);
      rows.push({ ...base, note: msg });
      console.error(`[bench]   ${e.label}: skipped (${msg})`);
    }
  }
  if (!ref) {
    const ort = await import('onnxruntime-node');
    const s = await ort.InferenceSession.create(m.fp32, { intraOpNumThreads: 1, logSeverityLevel: 3 });
    ref = (await s.run({ [m.inputName]: new ort.Tensor('float32', x, m.inputDims) }))[m.outputName].data as Float32Array;
    await s.release();
  }
  for (const u of runners) {
    const row = rows.find((r) => r.model === m.id && r.engine === u.e.id)!;
    const c = checkOutput(u.e, (u as { first?: Float32Array }).first!, ref);
    row.check = c.text;
    row.sqnr = c.sqnr;
    row.valid = u.e.precision === 'FP32' ? c.relErr! <= 1e-3 : true;
  }
  for (const row of rows.filter((r) => r.model === m.id && r.status === 'ok' && r.precision === 'INT8')) {
    const e = engineList.find((x) => x.id === row.engine)!;
    const native = rows.find((r) => r.model === m.id && r.engine === 'ort-node-int8' && r.status === 'ok');
    row.valid = native?.sqnr !== undefined ? row.sqnr! >= native.sqnr - 3 : row.sqnr! >= 10;
    if (!row.valid) row.check += ' -- WRONG OUTPUT';
  }
  for (let w = 1; w < warmup; w++) for (const u of runners) await u.r.run(x);
  const started = performance.now();
  for (let round = 0; round < maxRounds; round++) {
    for (let k = 0; k < runners.length; k++) {
      const u = runners[(k + round) % runners.length];
      const t = performance.now();
      await u.r.run(x);
      u.times.push(performance.now() - t);
    }
    if (round + 1 >= minRounds && performance.now() - started > budgetMs) break;
  }
  for (const u of runners) {
    const row = rows.find((r) => r.model === m.id && r.engine === u.e.id)!;
    const s = [...u.times].sort((a, b) => a - b);
    Object.assign(row, {
      n: s.length, medianMs: quantile(s, 0.5), p25Ms: quantile(s, 0.25), p75Ms: quantile(s, 0.75), minMs: s[0],
      spreadPct: (100 * (quantile(s, 0.75) - quantile(s, 0.25))) / quantile(s, 0.5),
    });
    if (u.r.profile) {
      const nodes = u.r.profile();
      const byOp: Record<string, number> = {};
      for (const n of nodes) {
        const k = `${n.op} [${n.variant}]`;
        byOp[k] = (byOp[k] ?? 0) + n.ms;
      }
      row.profileByOp = Object.fromEntries(Object.entries(byOp).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Number(v.toFixed(2))]));
      row.slowestNodes = nodes.slice(0, 5).map((n) => ({ ...n, ms: Number(n.ms.toFixed(2)) }));
    }
    await u.r.release();
  }
}
const latencySeconds = (performance.now() - t00) / 1000;

// ---------------------------------------------------------------------------------------------------------------
// best thread count per runtime: one child process per thread count (bench/threads-child.ts), same engines

interface ThreadScan { model: string; engine: string; byThreads: Record<number, number>; best?: number; errors: Record<number, string> }
const threadScan: ThreadScan[] = [];
const maxThreads = Math.max(1, Math.min(Number(values['max-threads'] ?? Math.min(cpus().length, 4)), 16));
const scanCounts = Array.from({ length: maxThreads }, (_, i) => i + 1);
let threadScanNote = '';
if (values['no-thread-scan'] || threads !== 1) threadScanNote = 'skipped (--no-thread-scan, or --threads given)';
else if (maxThreads < 2) threadScanNote = `skipped: ${cpus().length} core(s)`;
else if (models.length) {
  const autoPath = octetPaths.includes('relaxed') ? 'relaxed' : octetPaths.includes('x86') ? 'x86' : octetPaths.includes('arm') ? 'arm' : 'scalar';
  const ids = engineList.map((e) => e.id).filter((id) => (!id.startsWith('octet-int8-') || id === `octet-int8-${autoPath}`) && id !== 'ort-web-uint8' && id !== 'octet-uint8')
    .filter((id) => rows.some((r) => r.engine === id && r.status === 'ok'));
  const scanRounds = quick ? 3 : Math.max(5, Math.min(9, maxRounds));
  const scanBudget = quick ? 10 : Math.max(10, Math.round(budgetMs / 1000 / 3));
  // counts in alternating order (1 2 .. T, then T .. 1) so slow drifts in the background load hit every count alike
  const order = [...scanCounts, ...[...scanCounts].reverse()];
  const samples = new Map<string, Map<number, number[]>>();
  for (const t of order) {
    const args = [...process.execArgv.filter((a) => a.startsWith('--experimental')), '--import', 'tsx', join(ROOT, 'bench', 'threads-child.ts'),
      String(t), JSON.stringify(models), ids.join(','), String(scanRounds), String(scanBudget)];
    const res = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 20 * 60 * 1000, env: { ...process.env, OCTET_THREADS: String(t) } });
    const line = (res.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
    let parsed: { results: { model: string; engine: string; medianMs?: number; error?: string }[] } | undefined;
    try { parsed = JSON.parse(line ?? ''); } catch { threadScanNote = `a child failed (${t} threads): ${(res.stderr ?? '').split('\n').find((l) => /Error/.test(l))?.slice(0, 160) ?? `exit ${res.status}`}`; }
    for (const r of parsed?.results ?? []) {
      const k = `${r.model}\u0000${r.engine}`;
      let e = threadScan.find((x) => x.model === r.model && x.engine === r.engine);
      if (!e) threadScan.push((e = { model: r.model, engine: r.engine, byThreads: {}, errors: {} }));
      if (r.error) { e.errors[t] = r.error; continue; }
      if (!samples.has(k)) samples.set(k, new Map());
      const m = samples.get(k)!;
      m.set(t, [...(m.get(t) ?? []), r.medianMs!]);
    }
    console.error(`[bench] threads=${t}: ${parsed ? `${parsed.results.length} results` : 'failed'}`);
  }
  for (const e of threadScan) {
    const m = samples.get(`${e.model}\u0000${e.engine}`);
    if (!m) continue;
    for (const [t, v] of m) e.byThreads[t] = Math.min(...v); // best of the two passes: the one less disturbed
    const ts = Object.keys(e.byThreads).map(Number);
    e.best = ts.reduce((a, b) => (e.byThreads[b] < e.byThreads[a] ? b : a), ts[0]);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Octet's 2-thread scaling on the INT8 reference models (issue 8), measured as bench/threads.ts does it (warmed-up
// sessions, blocks of runs interleaved, ratios paired round by round, the host's capacity beside it), in a child

interface Scaling { model: string; form: string; ms1: number; ms2: number; speedup: number; capacity: number; p10: number; p90: number; equal: boolean; early: number; error?: string }
let scaling: Scaling[] = [];
let scalingNote = '';
const scalingModels = ['resnet18:qdq-ort-s8', 'mobilenetv2:qdq-ort-s8'];
if (threadScanNote) scalingNote = threadScanNote;
else if (models.length) {
  const args = [...process.execArgv.filter((a) => a.startsWith('--experimental')), '--import', 'tsx', join(ROOT, 'bench', 'threads.ts'),
    '--models-only', '--no-requests', '--json', '--models', scalingModels.join(','), ...(quick ? ['--quick'] : [])];
  const res = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 20 * 60 * 1000 });
  const line = (res.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{"threadScaling"')).pop();
  try { scaling = JSON.parse(line ?? '').threadScaling; } catch { scalingNote = `bench/threads.ts failed: ${(res.stderr ?? '').split('\n').find((l) => /Error/.test(l))?.slice(0, 160) ?? `exit ${res.status}`}`; }
  console.error(`[bench] thread scaling: ${scaling.length} models`);
}

// ---------------------------------------------------------------------------------------------------------------
// cold start and peak RSS growth, fresh child processes

interface Cold { model: string; engine: string; ok: boolean; firstResultMs?: number; createMs?: number; peakRssGrowthMB?: number; error?: string }
const cold: Cold[] = [];
let baselineRssMB = 0;
const coldFromDist = distFresh(ROOT);
function child(engineId: string, m: ModelFiles): { ok: boolean; firstResultMs?: number; createMs?: number; peakRssGrowthBytes?: number; error?: string } {
  const args = [...process.execArgv.filter((a) => a.startsWith('--experimental')), '--import', 'tsx', join(ROOT, 'bench', 'cold.ts'), engineId, JSON.stringify(m), '3'];
  const res = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 10 * 60 * 1000, env: { ...process.env, OCTET_BENCH_DIST: coldFromDist ? '1' : '0' } });
  const line = (res.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{')).pop();
  try {
    return JSON.parse(line ?? '');
  } catch {
    return { ok: false, error: (res.stderr ?? '').split('\n').find((l) => /Error/.test(l))?.slice(0, 160) ?? `exit ${res.status}` };
  }
}
if (!values['no-cold'] && models.length) {
  const autoPath = octetPaths.includes('relaxed') ? 'relaxed' : octetPaths.includes('x86') ? 'x86' : octetPaths.includes('arm') ? 'arm' : 'scalar';
  const coldEngines = engineList.filter((e) => !e.id.startsWith('octet-int8-') || e.id === `octet-int8-${autoPath}`).filter((e) => e.id !== 'ort-web-uint8' && e.id !== 'octet-uint8');
  baselineRssMB = (child('baseline', models[0]).peakRssGrowthBytes ?? 0) / 2 ** 20;
  for (const m of models) {
    for (const e of coldEngines) {
      if (!rows.some((r) => r.model === m.id && r.engine === e.id && r.status === 'ok')) continue;
      const j = child(e.id, m);
      cold.push({ model: m.id, engine: e.id, ok: j.ok, firstResultMs: j.firstResultMs, createMs: j.createMs, peakRssGrowthMB: j.peakRssGrowthBytes !== undefined ? j.peakRssGrowthBytes / 2 ** 20 - baselineRssMB : undefined, error: j.error });
      console.error(`[bench] cold ${m.id} ${e.id}: ${JSON.stringify(cold[cold.length - 1])}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// wasm bytes shipped

function sizes(path: string): { file: string; raw: number; gzip: number } {
  const b = readFileSync(path);
  return { file: path.replace(`${ROOT}/`, '').replace(/^.*node_modules\//, ''), raw: b.length, gzip: gzipSync(b, { level: 9 }).length };
}
const wasm: { runtime: string; note: string; files: { file: string; raw: number; gzip: number }[] }[] = [];
try {
  const dir = join(dirname(require.resolve('onnxruntime-web')), '..');
  const distDir = existsSync(join(dir, 'dist')) ? join(dir, 'dist') : dir;
  wasm.push({ runtime: 'onnxruntime-web', note: 'ort-wasm-simd-threaded.wasm: the build its wasm backend loads (the jsep/jspi/asyncify builds are for WebGPU)', files: [sizes(join(distDir, 'ort-wasm-simd-threaded.wasm'))] });
} catch (e) { wasm.push({ runtime: 'onnxruntime-web', note: String(e), files: [] }); }
try {
  const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  wasm.push({ runtime: 'TF.js wasm', note: 'tfjs-backend-wasm-simd.wasm (used here); the package also ships plain and threaded-SIMD builds', files: [sizes(join(dir, 'tfjs-backend-wasm-simd.wasm'))] });
} catch (e) { wasm.push({ runtime: 'TF.js wasm', note: String(e), files: [] }); }
{
  const dir = join(ROOT, 'build', 'wasm');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.wasm') && !f.includes('-mt')).sort().map((f) => sizes(join(dir, f))) : [];
  wasm.push({ runtime: 'Octet', note: 'one of these is loaded (picked by feature probe); -mt builds are for worker threads', files });
}

// ---------------------------------------------------------------------------------------------------------------
// output

const fmt = (v: number | undefined): string => (v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const date = new Date().toISOString().slice(0, 10);
const host = hostname().replace(/[^A-Za-z0-9_-]/g, '').slice(0, 24) || 'host';
const lines: string[] = [];
lines.push(`Command: \`${command}\` · ${cpu}, ${machine.cores} cores, Node ${process.version}, ${threads === 1 ? 'one thread' : `${threads} threads per runtime`}, ${date}; load average at start ${machine.loadavgStart.join(' / ')}`);
lines.push('');
const modelIds = models.map((m) => m.id);
const okEngines = engineList.filter((e) => rows.some((r) => r.engine === e.id && r.status === 'ok'));
lines.push(`| runtime | ${models.map((m) => m.label.replace(/ \(.*\)$/, '')).join(' | ')} |`);
lines.push(`|---|${models.map(() => '---:').join('|')}|`);
for (const e of okEngines) {
  const cells = modelIds.map((id) => {
    const r = rows.find((x) => x.model === id && x.engine === e.id);
    return r?.status === 'ok' ? `${fmt(r.medianMs)} ±${Math.round(r.spreadPct ?? 0)}%${r.valid === false ? ' (wrong output)' : ''}` : 'n/a';
  });
  lines.push(`| ${e.label} | ${cells.join(' | ')} |`);
}
lines.push('');
lines.push('Median ms per inference (± interquartile range as % of the median). "(wrong output)": the output failed the check below (INT8: SQNR vs FP32 more than 3 dB under onnxruntime-node INT8 on the same file); such a time meets no target. Checks against onnxruntime-node FP32 on the same input:');
lines.push('');
for (const r of rows.filter((x) => x.status === 'ok')) lines.push(`- ${r.modelLabel}, ${r.engineLabel}${r.detail ? ` [${r.detail}]` : ''}: ${r.check} (n=${r.n})`);
const skipped = rows.filter((x) => x.status === 'skipped');
if (skipped.length) {
  lines.push('');
  lines.push('Skipped:');
  const seen = new Set<string>();
  for (const r of skipped) {
    const k = `${r.engine}:${r.note}`;
    if (seen.has(k)) continue;
    seen.add(k);
    const on = skipped.filter((s) => s.engine === r.engine && s.note === r.note).map((s) => s.modelLabel.replace(/ \(.*\)$/, ''));
    lines.push(`- ${r.engineLabel} on ${on.join(', ')}: ${r.note}`);
  }
}
if (modelNote) lines.push(`- ${modelNote}`);
for (const n of int8Notes) lines.push(`- ${n}`);
if (octetNote) lines.push(`- ${octetNote}`);
// issue 7 targets (one thread, same run)
{
  const med = (model: string, engine: string): number | undefined => rows.find((r) => r.model === model && r.engine === engine && r.status === 'ok' && r.valid !== false)?.medianMs;
  const bestInt8 = (model: string): { ms: number; path: string } | undefined => {
    const c = rows.filter((r) => r.model === model && r.status === 'ok' && r.valid !== false && r.engine.startsWith('octet-int8-')).sort((a, b) => a.medianMs! - b.medianMs!)[0];
    return c ? { ms: c.medianMs!, path: c.engine.replace('octet-int8-', '') } : undefined;
  };
  const t: string[] = [];
  const ratio = (what: string, a: number | undefined, b: number | undefined, max: number): void => {
    if (a === undefined || b === undefined) { t.push(`- ${what}: not measured (runtime skipped, or its output was wrong)`); return; }
    const r = a / b;
    t.push(`- ${what}: ${r < 0.1 ? r.toFixed(4) : r.toFixed(2)}x (target <= ${Number(max.toFixed(2))}x) ${r <= max ? 'met' : 'MISSED'}`);
  };
  const mb = bestInt8('mobilenetv2'), rb = bestInt8('resnet18');
  ratio(`MobileNetV2 Octet INT8 (${mb?.path ?? "no valid path"}) / onnxruntime-web INT8`, mb?.ms, med('mobilenetv2', 'ort-web-int8'), 0.5);
  ratio(`MobileNetV2 Octet INT8 (${mb?.path ?? "no valid path"}) / onnxruntime-web FP32`, mb?.ms, med('mobilenetv2', 'ort-web-fp32'), 0.6);
  ratio(`ResNet-18 Octet INT8 (${rb?.path ?? "no valid path"}) / onnxruntime-web INT8`, rb?.ms, med('resnet18', 'ort-web-int8'), 0.75);
  ratio(`ResNet-18 Octet INT8 / Octet FP32`, rb?.ms, med('resnet18', 'octet-fp32'), 0.5);
  ratio(`MobileNetV2 Octet INT8 / Octet FP32`, mb?.ms, med('mobilenetv2', 'octet-fp32'), 0.6);
  for (const m of models) ratio(`${m.label.replace(/ \(.*\)$/, '')} Octet FP32 / onnxruntime-web FP32`, med(m.id, 'octet-fp32'), med(m.id, 'ort-web-fp32'), 1);
  const ow = wasm.find((w) => w.runtime === 'onnxruntime-web')?.files[0];
  const oc = wasm.find((w) => w.runtime === 'Octet')?.files ?? [];
  if (ow && oc.length) {
    const big = oc.reduce((a, b) => (b.gzip > a.gzip ? b : a));
    ratio(`wasm shipped, Octet's largest build (${basename(big.file)}) / onnxruntime-web, gzip`, big.gzip, ow.gzip, 0.05);
  }
  const coldOf = (model: string, engine: string): number | undefined => cold.find((c) => c.model === model && c.engine === engine && c.ok)?.firstResultMs;
  const octetColdInt8 = cold.find((c) => c.model === 'mobilenetv2' && c.engine.startsWith('octet-int8-') && c.ok)?.firstResultMs;
  if (cold.length) {
    ratio('cold start to first MobileNetV2 result, Octet INT8 / onnxruntime-web INT8', octetColdInt8, coldOf('mobilenetv2', 'ort-web-int8'), 1 / 3);
    ratio('cold start to first MobileNetV2 result, Octet FP32 / onnxruntime-web FP32', coldOf('mobilenetv2', 'octet-fp32'), coldOf('mobilenetv2', 'ort-web-fp32'), 1 / 3);
  }
  if (t.length) {
    lines.push('');
    lines.push('Targets (issue 7), from this run:');
    lines.push('');
    lines.push(...t);
  }
  const prof = rows.filter((r) => r.profileByOp && (r.engine === 'octet-fp32' || r.engine === `octet-int8-${bestInt8(r.model)?.path}`));
  if (prof.length) {
    lines.push('');
    lines.push('Where Octet spends its time (session.profile(), last run; top op types, ms):');
    lines.push('');
    for (const r of prof) {
      const top = Object.entries(r.profileByOp!).slice(0, 4).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
      lines.push(`- ${r.modelLabel.replace(/ \(.*\)$/, '')}, ${r.engineLabel}: ${top}`);
    }
  }
}
if (threadScan.length || threadScanNote) {
  lines.push('');
  lines.push(`Best thread count per runtime on this machine (${cpus().length} cores): fresh child process per count (Octet \`threads\`, onnxruntime-web \`numThreads\`, onnxruntime-node \`intraOpNumThreads\`, TF.js \`setThreadsCount\`), runtimes interleaved, median ms per count (best of two passes, counts in order 1..${maxThreads}..1); **bold** = best:`);
  lines.push('');
  if (threadScanNote) lines.push(`- ${threadScanNote}`);
  const te = [...new Set(threadScan.map((x) => x.engine))];
  if (te.length) {
    lines.push(`| runtime | ${models.map((m) => m.label.replace(/ \(.*\)$/, '')).join(' | ')} |`);
    lines.push(`|---|${models.map(() => '---|').join('')}`);
    for (const id of te) {
      const label = engineList.find((e) => e.id === id)?.label ?? id;
      const cells = modelIds.map((mid) => {
        const x = threadScan.find((y) => y.model === mid && y.engine === id);
        if (!x || x.best === undefined) return x && Object.keys(x.errors).length ? `failed (${Object.values(x.errors)[0].slice(0, 60)})` : '-';
        return scanCounts.filter((t) => x.byThreads[t] !== undefined).map((t) => (t === x.best ? `**${t}: ${fmt(x.byThreads[t])}**` : `${t}: ${fmt(x.byThreads[t])}`)).join(' · ');
      });
      lines.push(`| ${label} | ${cells.join(' | ')} |`);
    }
  }
}
if (scaling.length || scalingNote) {
  lines.push('');
  lines.push(`Octet INT8, 2 threads against 1 (issue 8; \`bench/threads.ts --models-only --models ${scalingModels.join(',')}\`, i.e. \`npm run bench:threads\`'s method): one process, a 1- and a 2-thread session each warmed up by ${quick ? 40 : 150} runs, then rounds of blocks of runs interleaved; ms = medians; speedup = median over rounds of the paired block ratio; capacity = two run() calls side by side on the 2-thread session, each whole on one thread (what the two cores give together at that moment: no split of one run can beat it):`);
  lines.push('');
  if (scalingNote) lines.push(`- ${scalingNote}`);
  if (scaling.length) {
    lines.push('| model | 1 thread ms | 2 threads ms | speedup | capacity | outputs equal |');
    lines.push('|---|---:|---:|---:|---:|---|');
    for (const r of scaling) {
      lines.push(r.error ? `| ${r.model} ${r.form} | failed: ${r.error.slice(0, 80)} | | | | |`
        : `| ${r.model} ${r.form} | ${fmt(r.ms1)} | ${fmt(r.ms2)} | ${r.speedup.toFixed(2)}x | ${r.capacity.toFixed(2)}x | ${r.equal ? 'yes' : 'NO'} |`);
    }
  }
}
if (cold.length) {
  lines.push('');
  lines.push(`Cold start (fresh process: import the runtime, create the session from the file, first result; Octet imported from ${coldFromDist ? 'dist/, the compiled package' : 'src/ through tsx, as dist/ is missing or older than src/ (npm run build)'}), ms · peak RSS growth over an idle child (${baselineRssMB.toFixed(0)} MB, subtracted), MB:`);
  lines.push('');
  const ce = [...new Set(cold.map((c) => c.engine))];
  lines.push(`| runtime | ${models.map((m) => m.label.replace(/ \(.*\)$/, '')).join(' | ')} |`);
  lines.push(`|---|${models.map(() => '---:').join('|')}|`);
  for (const id of ce) {
    const label = engineList.find((e) => e.id === id)!.label;
    const cells = modelIds.map((mid) => {
      const c = cold.find((x) => x.model === mid && x.engine === id);
      return !c ? '-' : c.ok ? `${fmt(c.firstResultMs)} ms · ${fmt(c.peakRssGrowthMB)} MB` : 'failed';
    });
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  }
}
lines.push('');
lines.push('Wasm shipped (raw / gzip -9):');
lines.push('');
for (const w of wasm) for (const f of w.files) lines.push(`- ${w.runtime}: \`${basename(f.file)}\` ${(f.raw / 1024).toFixed(0)} KiB / ${(f.gzip / 1024).toFixed(0)} KiB`);
const table = lines.join('\n');
console.log(`\n${table}\n`);

const outDir = values.out ?? join(ROOT, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const stem = join(outDir, `${date}-${host}${threads === 1 ? '' : `-t${threads}`}`);
let gitCommit = '';
try { gitCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
const result = {
  date: new Date().toISOString(), command, gitCommit, machine: { ...machine, loadavgEnd: loadavg().map((v) => Number(v.toFixed(2))) },
  config: { maxRounds, minRounds, budgetSeconds: budgetMs / 1000, warmup, threads, latencySeconds: Math.round(latencySeconds) },
  models: models.map((m) => ({ id: m.id, label: m.label, files: { fp32: rel(m.fp32), int8: rel(m.int8), uint8: rel(m.uint8) } })),
  latency: rows, threadScan: { counts: scanCounts, note: threadScanNote || undefined, results: threadScan },
  threadScaling: { models: scalingModels, note: scalingNote || undefined, results: scaling }, cold, baselineRssMB, wasm, markdown: table,
};
function rel(p?: string): string | undefined { return p?.replace(`${ROOT}/`, ''); }
writeFileSync(`${stem}.json`, JSON.stringify(result, null, 1));
writeFileSync(`${stem}.svg`, renderSvg(result.latency.filter((r) => r.status === 'ok'), models.map((m) => ({ id: m.id, label: m.label.replace(/ \(.*\)$/, '') })), `${cpu}, Node ${process.version}, ${threads} thread${threads > 1 ? 's' : ''}, ${date} (${command})`));
console.error(`[bench] wrote ${rel(stem)}.json and ${rel(stem)}.svg (${Math.round((performance.now() - t00) / 1000)} s)`);
