// The browser demo, two parts:
//  - draw a digit (or drop an image): the shipped MNIST CNN runs in FP32 and in INT8 (QAT) through Octet;
//  - a reference CNN (MobileNetV2-224 from src/zoo, seeded random weights, made at build time by models.ts) runs in
//    FP32 and in INT8 (made by Octet's quantizer) on a procedural scene or a dropped/chosen picture.
// The page shows predictions, latencies, the speed-up, model sizes, INT8-vs-FP32 agreement, the engine in use and
// the work each thread did (session.threadStats()). window.octetDemo exposes the state to the browser test
// (test/browser/demo.test.ts).
import { InferenceSession, Tensor, detectFeatures, type KernelsOption, type ThreadStats } from '../../src/index.js';
import { preprocessDigit, preprocessImage } from './preprocess.js';
import { scene } from './scene.js';

const MODELS = [
  { key: 'fp32', label: 'FP32', url: new URL('../../models/mnist-cnn.fp32.onnx', import.meta.url) },
  { key: 'int8', label: 'INT8 (QAT)', url: new URL('../../models/mnist-cnn.int8-qat.onnx', import.meta.url) },
] as const;

type Key = (typeof MODELS)[number]['key'];
interface Result { prediction: number; confidence: number; latencyMs: number; probs: number[] }
interface CnnResult { top5: { cls: number; p: number }[]; latencyMs: number }
interface CnnState {
  ready: boolean;
  error?: string;
  info?: { arch: string; params: number; classes: number; int8: { recipe: string } };
  sizes: Partial<Record<Key, number>>;
  results: Partial<Record<Key, CnnResult>>;
  /** INT8 against FP32 on the last image: same top-1, shared top-5 classes, cosine of the logits. */
  agreement?: { top1: boolean; top5Overlap: number; cosine: number };
  /** What the last image was. */
  source?: string;
  runs: number;
}
interface DemoState {
  ready: boolean;
  error?: string;
  env?: Record<string, string | number | boolean>;
  sizes: Partial<Record<Key, number>>;
  results: Partial<Record<Key, Result>>;
  runs: number;
  cnn: CnnState;
}

const state: DemoState = { ready: false, sizes: {}, results: {}, runs: 0, cnn: { ready: false, sizes: {}, results: {}, runs: 0 } };
const sessions: Partial<Record<Key, InferenceSession>> = {};
const cnnSessions: Partial<Record<Key, InferenceSession>> = {};
/** Work counters of every session: which threads ran chunks of split nodes (see InferenceSession.threadStats). */
function threadStats(): Record<string, ThreadStats> {
  const out: Record<string, ThreadStats> = {};
  for (const [k, s] of Object.entries(sessions)) out[`mnist-${k}`] = s!.threadStats();
  for (const [k, s] of Object.entries(cnnSessions)) out[`cnn-${k}`] = s!.threadStats();
  return out;
}
(window as any).octetDemo = { state, classify, classifyScene, threadStats };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = (s: string): void => void ($('status').textContent = s);

function softmax(x: Float32Array): number[] {
  const m = Math.max(...x);
  const e = Array.from(x, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

// Page options: ?kernels=scalar|x86|arm|relaxed forces a code path (default: detected), ?threads=N a thread count.
const params = new URLSearchParams(location.search);
const kernels = (params.get('kernels') ?? 'auto') as KernelsOption;

async function init(): Promise<void> {
  const features = await detectFeatures();
  const isolated = !!(globalThis as any).crossOriginIsolated;
  const threads = Number(params.get('threads')) || (isolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1);
  for (const m of MODELS) {
    const bytes = new Uint8Array(await (await fetch(m.url)).arrayBuffer());
    state.sizes[m.key] = bytes.byteLength;
    sessions[m.key] = await InferenceSession.create(bytes, { threads, kernels });
  }
  const s = sessions.int8!;
  const path = s.kernelPath;
  state.env = {
    build: path === 'scalar' ? 'scalar' : path === 'relaxed' ? 'relaxed-simd' : 'simd128',
    path,
    arch: features.arch,
    threads: s.threads,
    crossOriginIsolated: isolated,
    simd128: features.simd128,
    relaxedSimd: features.relaxedSimd,
    cores: navigator.hardwareConcurrency || 1,
  };
  $('env').innerHTML = Object.entries(state.env)
    .map(([k, v]) => `<tr><td>${k}</td><td data-env="${k}">${v}</td></tr>`)
    .join('');
  state.ready = true;
  status('ready: draw a digit');
}

// ---- the reference CNN ----
const CNN_SIDE = 224;
const CNN_MODELS = [
  { key: 'fp32', label: 'FP32' },
  { key: 'int8', label: 'INT8 (Octet PTQ)' },
] as const;
let sceneSeed = 3;

async function initCnn(): Promise<void> {
  const threads = state.env?.threads as number;
  // models.ts wrote these next to index.html (Vite's public dir): separate files, not part of the JS bundle.
  const base = new URL('models/', document.baseURI);
  state.cnn.info = await (await fetch(new URL('cnn.json', base))).json();
  for (const m of CNN_MODELS) {
    const res = await fetch(new URL(`mobilenetv2.${m.key}.onnx`, base));
    if (!res.ok) throw new Error(`cannot fetch the ${m.label} reference CNN: HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    state.cnn.sizes[m.key] = bytes.byteLength;
    cnnSessions[m.key] = await InferenceSession.create(bytes, { threads, kernels });
  }
  state.cnn.ready = true;
  $('cnn-title').textContent = `${state.cnn.info!.arch}, ${(state.cnn.info!.params / 1e6).toFixed(2)} M parameters`;
  await classifyScene(sceneSeed);
}

function topK(x: Float32Array, k: number): { cls: number; p: number }[] {
  const p = softmax(x);
  return Array.from(p.keys()).sort((a, b) => p[b] - p[a]).slice(0, k).map((cls) => ({ cls, p: p[cls] }));
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

/** Runs FP32 and INT8 on the photo canvas; `repeat` interleaved runs of each give the median latencies. */
async function classifyPhoto(source: string, repeat = 5): Promise<CnnState> {
  const photo = $<HTMLCanvasElement>('photo');
  const img = photo.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, CNN_SIDE, CNN_SIDE);
  const input = new Tensor('float32', preprocessImage(img.data, CNN_SIDE), [1, 3, CNN_SIDE, CNN_SIDE]);
  const logits: Partial<Record<Key, Float32Array>> = {};
  const times: Record<Key, number[]> = { fp32: [], int8: [] };
  for (let i = -1; i < repeat; i++) {
    for (const m of CNN_MODELS) {
      const s = cnnSessions[m.key]!;
      const t0 = performance.now();
      const out = await s.run({ [s.inputNames[0]]: input });
      if (i >= 0) times[m.key].push(performance.now() - t0); // i = -1: warm-up
      logits[m.key] = out[s.outputNames[0]].data as Float32Array;
    }
  }
  for (const m of CNN_MODELS) {
    const t = times[m.key].sort((a, b) => a - b);
    state.cnn.results[m.key] = { top5: topK(logits[m.key]!, 5), latencyMs: t[t.length >> 1] };
  }
  const f = state.cnn.results.fp32!.top5.map((x) => x.cls), q = state.cnn.results.int8!.top5.map((x) => x.cls);
  state.cnn.agreement = { top1: f[0] === q[0], top5Overlap: f.filter((c) => q.includes(c)).length, cosine: cosine(logits.fp32!, logits.int8!) };
  state.cnn.source = source;
  state.cnn.runs++;
  renderCnn();
  return state.cnn;
}

/** Draws procedural scene `seed` (scene.ts) and classifies it. */
function classifyScene(seed: number, repeat?: number): Promise<CnnState> {
  sceneSeed = seed;
  const photo = $<HTMLCanvasElement>('photo');
  const ctx = photo.getContext('2d', { willReadFrequently: true })!;
  ctx.putImageData(new ImageData(scene(seed, CNN_SIDE), CNN_SIDE, CNN_SIDE), 0, 0);
  return runCnn(() => classifyPhoto(`procedural scene #${seed}`, repeat));
}

/** Draws a picture into the photo canvas, centre-cropped to fill it, and classifies it. */
async function classifyPicture(file: File): Promise<void> {
  const bitmap = await createImageBitmap(file);
  const s = Math.min(bitmap.width, bitmap.height);
  const ctx = $<HTMLCanvasElement>('photo').getContext('2d', { willReadFrequently: true })!;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, (bitmap.width - s) / 2, (bitmap.height - s) / 2, s, s, 0, 0, CNN_SIDE, CNN_SIDE);
  await runCnn(() => classifyPhoto(file.name));
}

let cnnQueue: Promise<unknown> = Promise.resolve();
function runCnn(job: () => Promise<CnnState>): Promise<CnnState> {
  if (!state.cnn.ready) return Promise.reject(new Error('the reference CNN is not loaded yet'));
  $('cnn-status').textContent = 'running…';
  const p = cnnQueue.then(job);
  cnnQueue = p.then(
    () => ($('cnn-status').textContent = `ran ${state.cnn.runs} image(s)`),
    (e) => ($('cnn-status').textContent = `error: ${e?.message ?? e}`),
  );
  return p;
}

function renderCnn(): void {
  const c = state.cnn;
  $('cnn-results').querySelector('tbody')!.innerHTML = CNN_MODELS.map((m) => {
    const r = c.results[m.key];
    if (!r) return '';
    const top = r.top5.map((t) => `#${t.cls} <small>${(100 * t.p).toFixed(1)}%</small>`).join(', ');
    return `<tr data-cnn="${m.key}"><td>${m.label}</td><td class="top5">${top}</td><td>${r.latencyMs.toFixed(1)} ms</td><td>${((c.sizes[m.key] ?? 0) / 1e6).toFixed(1)} MB</td></tr>`;
  }).join('');
  const f = c.results.fp32, q = c.results.int8, a = c.agreement;
  if (f && q) $('cnn-speedup').textContent = `INT8 is ${(f.latencyMs / q.latencyMs).toFixed(2)}x the speed of FP32, ${((c.sizes.fp32 ?? 0) / (c.sizes.int8 ?? 1)).toFixed(1)}x smaller`;
  if (a) {
    $('cnn-agree').innerHTML = `INT8 vs FP32 on ${c.source}: top-1 <b>${a.top1 ? 'same' : 'differs'}</b>, top-5 overlap <b>${a.top5Overlap}/5</b>, cosine of the logits <b>${a.cosine.toFixed(4)}</b>`;
  }
  renderThreads();
}

function renderThreads(): void {
  const s = cnnSessions.int8;
  if (!s) return;
  const last = s.profile().threads, total = s.threadStats();
  const rows = total.chunks.map((c, t) =>
    `<tr data-thread="${t}"><td>${t === 0 ? '0 (page)' : `${t} (worker)`}</td><td>${last.chunks[t] ?? 0}</td><td>${c}</td></tr>`);
  $('threads').innerHTML = rows.join('');
  $('threads-note').textContent = total.threads > 1
    ? `INT8 CNN, last run: ${last.parallelNodes} nodes split over ${total.threads} threads, ${last.serialNodes} small nodes run whole on the page's thread`
    : `one thread: ${s.threadsNote ?? 'threads: 1'}`;
}

/** Runs both models on a 28x28 grey image in [0, 1]; `repeat` runs give a median latency. */
async function classify(pixels: Float32Array | number[], repeat = 15): Promise<DemoState['results']> {
  const input = new Float32Array(pixels);
  for (const m of MODELS) {
    const s = sessions[m.key]!;
    const feeds = { [s.inputNames[0]]: new Tensor('float32', input, [1, 1, 28, 28]) };
    let out = await s.run(feeds); // warm-up (and the result)
    const times: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const t0 = performance.now();
      out = await s.run(feeds);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const logits = out[s.outputNames[0]].data as Float32Array;
    const probs = softmax(logits);
    const prediction = probs.indexOf(Math.max(...probs));
    state.results[m.key] = { prediction, confidence: probs[prediction], latencyMs: times[times.length >> 1], probs };
  }
  state.runs++;
  render();
  return state.results;
}

function render(): void {
  const rows = MODELS.map((m) => {
    const r = state.results[m.key];
    const kb = ((state.sizes[m.key] ?? 0) / 1024).toFixed(1);
    return r
      ? `<tr data-model="${m.key}"><td>${m.label}</td><td class="pred">${r.prediction}</td><td>${(100 * r.confidence).toFixed(1)}%</td><td>${(r.latencyMs * 1000).toFixed(0)} µs</td><td>${kb} KB</td></tr>`
      : '';
  });
  $('results').querySelector('tbody')!.innerHTML = rows.join('');
  const f = state.results.fp32, q = state.results.int8;
  if (f && q) $('speedup').textContent = `INT8 is ${(f.latencyMs / q.latencyMs).toFixed(2)}x the speed of FP32, ${((state.sizes.fp32 ?? 0) / (state.sizes.int8 ?? 1)).toFixed(1)}x smaller`;
}

// ---- drawing ----
const pad = $<HTMLCanvasElement>('pad');
const ctx = pad.getContext('2d', { willReadFrequently: true })!;
function clearPad(): void {
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, pad.width, pad.height);
}
clearPad();
let drawing = false;
let last: [number, number] | null = null;
function point(e: PointerEvent): [number, number] {
  const r = pad.getBoundingClientRect();
  return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
}
pad.addEventListener('pointerdown', (e) => {
  drawing = true;
  last = point(e);
  pad.setPointerCapture(e.pointerId);
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing || !last) return;
  const p = point(e);
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = 20;
  ctx.lineCap = 'round';
  ctx.beginPath();
  ctx.moveTo(last[0], last[1]);
  ctx.lineTo(p[0], p[1]);
  ctx.stroke();
  last = p;
});
const finish = () => {
  if (!drawing) return;
  drawing = false;
  last = null;
  void runOnCanvas(pad, false);
};
pad.addEventListener('pointerup', finish);
pad.addEventListener('pointerleave', finish);
$('clear').addEventListener('click', () => {
  clearPad();
  state.results = {};
  render();
  $('speedup').textContent = '';
});

let queue: Promise<unknown> = Promise.resolve();

async function runOnCanvas(src: HTMLCanvasElement, mayInvert: boolean): Promise<void> {
  if (!state.ready) return;
  const img = src.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, src.width, src.height);
  const pixels = preprocessDigit(img.data, img.width, img.height, mayInvert);
  if (!pixels) return status('nothing drawn yet');
  const small = $<HTMLCanvasElement>('small').getContext('2d')!;
  const view = small.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(pixels[i] * 255);
    view.data.set([v, v, v, 255], 4 * i);
  }
  small.putImageData(view, 0, 0);
  status('running…');
  // Classifications run one after another, in the order the strokes ended.
  queue = queue.then(() => classify(pixels)).then(() => status(`ran ${state.runs} time(s)`), (e) => status(`error: ${e?.message ?? e}`));
  await queue;
}

// ---- reference CNN controls ----
$('another').addEventListener('click', () => void classifyScene(sceneSeed + 1).catch(() => {}));
$<HTMLInputElement>('pick').addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file) void classifyPicture(file).catch((err) => ($('cnn-status').textContent = `error: ${err?.message ?? err}`));
});
const photoDrop = $('photo-drop');
photoDrop.addEventListener('dragover', (e) => {
  e.preventDefault();
  photoDrop.classList.add('over');
});
photoDrop.addEventListener('dragleave', () => photoDrop.classList.remove('over'));
photoDrop.addEventListener('drop', (e) => {
  e.preventDefault();
  photoDrop.classList.remove('over');
  const file = e.dataTransfer?.files[0];
  if (file) void classifyPicture(file).catch((err) => ($('cnn-status').textContent = `error: ${err?.message ?? err}`));
});

// ---- image drop ----
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', async (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const file = e.dataTransfer?.files[0];
  if (!file) return;
  const bitmap = await createImageBitmap(file);
  const c = document.createElement('canvas');
  c.width = bitmap.width;
  c.height = bitmap.height;
  c.getContext('2d')!.drawImage(bitmap, 0, 0);
  await runOnCanvas(c, true);
});

init()
  .catch((e) => {
    state.error = String(e?.stack ?? e);
    status(`error: ${e?.message ?? e}`);
    console.error(e);
  })
  .then(() => (state.ready ? initCnn() : undefined))
  .catch((e) => {
    state.cnn.error = String(e?.stack ?? e);
    $('cnn-status').textContent = `error: ${e?.message ?? e}`;
    console.error(e);
  });
