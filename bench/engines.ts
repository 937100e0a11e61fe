// The runtimes the model benchmark compares, behind one small interface: create a runner for a model, run it on
// an NCHW float32 input, release. Used by bench/models.ts (in-process, interleaved) and bench/cold.ts (fresh child
// process for cold start and memory). Every runtime runs one thread unless setThreads() says otherwise.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Is <root>/dist (the compiled package) at least as new as every file under <root>/src? Then cold starts import it. */
export function distFresh(root: string): boolean {
  const entry = join(root, 'dist', 'index.js');
  if (!existsSync(entry)) return false;
  const built = statSync(entry).mtimeMs;
  const newest = (dir: string): number => readdirSync(dir, { withFileTypes: true })
    .reduce((t, d) => Math.max(t, d.isDirectory() ? newest(join(dir, d.name)) : statSync(join(dir, d.name)).mtimeMs), 0);
  return newest(join(root, 'src')) <= built;
}

export interface ModelFiles {
  id: string;
  label: string;
  fp32: string;
  /** QDQ, int8 activations */
  int8?: string;
  /** QDQ, uint8 activations */
  uint8?: string;
  /** TF.js spec path prefix (bench/tfjs-net.ts), when the architecture has a TF.js rebuild. */
  tfjs?: string;
  inputName: string;
  inputDims: number[];
  outputName: string;
}

export interface Runner {
  run(x: Float32Array): Promise<Float32Array>;
  release(): Promise<void>;
  /** What actually ran (e.g. Octet's kernel path). */
  detail?: string;
  /** Where the time went in the last run (Octet: session.profile()), slowest first. */
  profile?(): { name: string; op: string; variant: string; ms: number }[];
}

export interface Engine {
  id: string;
  label: string;
  precision: 'FP32' | 'INT8';
  /** Which model file it runs. */
  file: 'fp32' | 'int8' | 'uint8' | 'tfjs';
  /** Module whose import starts the cold-start clock (for the record). */
  create(m: ModelFiles): Promise<Runner>;
  /** Native reference, not a wasm runtime. */
  native?: boolean;
}

const require = createRequire(import.meta.url);

/** Threads per runtime for this process (onnxruntime-web fixes its thread count at its first session). */
let THREADS = 1;
export function setThreads(n: number): void { THREADS = n; }

function fileOf(m: ModelFiles, file: Engine['file']): string {
  const p = file === 'tfjs' ? m.tfjs : m[file];
  if (!p) throw new Error(`no ${file} file for ${m.id}`);
  return p;
}

// onnxruntime-web (wasm, SIMD, one thread) ------------------------------------------------------------------------
async function ortWeb(m: ModelFiles, file: Engine['file']): Promise<Runner> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = THREADS;
  ort.env.wasm.simd = true;
  ort.env.logLevel = 'error';
  const s = await ort.InferenceSession.create(readFileSync(fileOf(m, file)), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return {
    run: async (x) => (await s.run({ [m.inputName]: new ort.Tensor('float32', x, m.inputDims) }))[m.outputName].data as Float32Array,
    release: () => s.release(),
  };
}

// onnxruntime-node (native, one thread) ---------------------------------------------------------------------------
async function ortNode(m: ModelFiles, file: Engine['file']): Promise<Runner> {
  const ort = await import('onnxruntime-node');
  const s = await ort.InferenceSession.create(fileOf(m, file), { intraOpNumThreads: THREADS, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential', logSeverityLevel: 3 });
  return {
    run: async (x) => (await s.run({ [m.inputName]: new ort.Tensor('float32', x, m.inputDims) }))[m.outputName].data as Float32Array,
    release: () => s.release(),
  };
}

// TensorFlow.js, wasm backend (XNNPACK), tfjs-layers model from the same weights ----------------------------------
async function tfjsWasm(m: ModelFiles): Promise<Runner> {
  const tf = await import('@tensorflow/tfjs-core');
  const tfl = await import('@tensorflow/tfjs-layers');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (tf.getBackend() !== 'wasm') {
    const dir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/');
    wasm.setWasmPaths(dir);
    wasm.setThreadsCount(THREADS);
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: wasm backend failed to initialise');
    await tf.ready();
  }
  const { loadTfjsSpec, buildTfjsModel, toNhwc } = await import('./tfjs-net.js');
  const { spec, data } = loadTfjsSpec(fileOf(m, 'tfjs'));
  const model = buildTfjsModel(tf, tfl, spec, data);
  const [, c, h, w] = m.inputDims;
  return {
    run: async (x) => {
      const t = tf.tensor(toNhwc(x, c, h, w), [1, h, w, c]);
      const y = model.predict(t) as import('@tensorflow/tfjs-core').Tensor;
      const out = (await y.data()) as Float32Array;
      t.dispose();
      y.dispose();
      return out;
    },
    release: async () => { model.dispose(); },
    detail: 'wasm',
  };
}

// Octet --------------------------------------------------------------------------------------------------------------
async function octet(m: ModelFiles, file: Engine['file'], kernels: string): Promise<Runner> {
  // OCTET_BENCH_DIST=1 (cold-start children, when dist/ is built and fresh): the compiled package, as an app imports
  // it, so the cold start does not include tsx transpiling src/ (onnxruntime and TF.js are compiled JS too).
  const api: typeof import('../src/index.js') = process.env.OCTET_BENCH_DIST === '1' ? await import('../dist/index.js' as string) : await import('../src/index.js');
  const s = await api.InferenceSession.create(fileOf(m, file), { kernels: kernels as never, threads: THREADS });
  return {
    run: async (x) => (await s.run({ [m.inputName]: new api.Tensor('float32', x, m.inputDims) }))[m.outputName].data as Float32Array,
    release: async () => s.release(),
    detail: s.kernelPath,
    profile: () => [...s.profile().nodes].sort((a, b) => b.ms - a.ms),
  };
}

export const OCTET_PATHS = ['scalar', 'x86', 'arm', 'relaxed'] as const;

export function engines(octetPaths: readonly string[]): Engine[] {
  const list: Engine[] = [
    { id: 'ort-web-fp32', label: 'onnxruntime-web FP32', precision: 'FP32', file: 'fp32', create: (m) => ortWeb(m, 'fp32') },
    { id: 'ort-web-int8', label: 'onnxruntime-web INT8', precision: 'INT8', file: 'int8', create: (m) => ortWeb(m, 'int8') },
    { id: 'ort-web-uint8', label: 'onnxruntime-web INT8 (u8 act.)', precision: 'INT8', file: 'uint8', create: (m) => ortWeb(m, 'uint8') },
    { id: 'tfjs-wasm-fp32', label: 'TF.js wasm FP32', precision: 'FP32', file: 'tfjs', create: (m) => tfjsWasm(m) },
    { id: 'octet-fp32', label: 'Octet FP32', precision: 'FP32', file: 'fp32', create: (m) => octet(m, 'fp32', 'auto') },
    ...octetPaths.map((p): Engine => ({ id: `octet-int8-${p}`, label: `Octet INT8 ${p}`, precision: 'INT8', file: 'int8', create: (m) => octet(m, 'int8', p) })),
    { id: 'octet-uint8', label: 'Octet INT8 (u8 act.)', precision: 'INT8', file: 'uint8', create: (m) => octet(m, 'uint8', 'auto') },
    { id: 'ort-node-fp32', label: 'onnxruntime-node FP32 (native)', precision: 'FP32', file: 'fp32', native: true, create: (m) => ortNode(m, 'fp32') },
    { id: 'ort-node-int8', label: 'onnxruntime-node INT8 (native)', precision: 'INT8', file: 'int8', native: true, create: (m) => ortNode(m, 'int8') },
  ];
  return list;
}
