// The browser demo: draw a digit (or drop an image); the shipped MNIST CNN runs in FP32 and in INT8 (QAT)
// through Octet, and the page shows predictions, latencies, the speed-up, model sizes and the engine in use.
// window.octetDemo exposes the state to the browser test (test/browser/demo.test.ts).
import { InferenceSession, Tensor, detectFeatures } from '../../src/index.js';
import { preprocessDigit } from './preprocess.js';

const MODELS = [
  { key: 'fp32', label: 'FP32', url: new URL('../../models/mnist-cnn.fp32.onnx', import.meta.url) },
  { key: 'int8', label: 'INT8 (QAT)', url: new URL('../../models/mnist-cnn.int8-qat.onnx', import.meta.url) },
] as const;

type Key = (typeof MODELS)[number]['key'];
interface Result { prediction: number; confidence: number; latencyMs: number; probs: number[] }
interface DemoState {
  ready: boolean;
  error?: string;
  env?: Record<string, string | number | boolean>;
  sizes: Partial<Record<Key, number>>;
  results: Partial<Record<Key, Result>>;
  runs: number;
}

const state: DemoState = { ready: false, sizes: {}, results: {}, runs: 0 };
const sessions: Partial<Record<Key, InferenceSession>> = {};
(window as any).octetDemo = { state, classify };

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = (s: string) => ($('status').textContent = s);

function softmax(x: Float32Array): number[] {
  const m = Math.max(...x);
  const e = Array.from(x, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

async function init(): Promise<void> {
  const features = await detectFeatures();
  const isolated = !!(globalThis as any).crossOriginIsolated;
  const threads = isolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  for (const m of MODELS) {
    const bytes = new Uint8Array(await (await fetch(m.url)).arrayBuffer());
    state.sizes[m.key] = bytes.byteLength;
    sessions[m.key] = await InferenceSession.create(bytes, { threads });
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

init().catch((e) => {
  state.error = String(e?.stack ?? e);
  status(`error: ${e?.message ?? e}`);
  console.error(e);
});
