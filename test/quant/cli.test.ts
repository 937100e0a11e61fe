// The CLI (quantize, compare) end to end on a folder of PNG/JPEG images, .npy and .json samples; image
// preprocessing against onnxruntime's Resize (linear, half_pixel); .npy and JSON parsing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';
import * as ort from 'onnxruntime-node';
import { main } from '../../src/cli/index.js';
import { decodeImage, parseJsonSamples, parseNpy, preprocessImage, loadSamples } from '../../src/quant/inputs.js';
import { DT, encodeModel, floatTensor, makeAttr, makeNode, valueInfo } from '../../src/quant/model.js';
import { rng, smallCnn, runOrt, sqnr } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'octet-cli-'));
const r = rng(17);

function png(w: number, h: number): Buffer {
  const p = new pngjs.PNG({ width: w, height: h });
  for (let i = 0; i < w * h * 4; i++) p.data[i] = i % 4 === 3 ? 255 : Math.floor(r() * 256);
  return pngjs.PNG.sync.write(p);
}

function npy(dims: number[], data: Float32Array): Uint8Array {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims.join(', ')}${dims.length === 1 ? ',' : ''}), }`;
  while ((10 + header.length + 1) % 64) header += ' ';
  header += '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header), 10);
  out.set(new Uint8Array(data.buffer), 10 + header.length);
  return out;
}

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const lo = console.log;
  const le = console.error;
  const w = process.stderr.write.bind(process.stderr);
  let out = '';
  let err = '';
  console.log = (...a: unknown[]) => (out += a.join(' ') + '\n');
  console.error = (...a: unknown[]) => (err += a.join(' ') + '\n');
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await fn(), out, err };
  } finally {
    console.log = lo;
    console.error = le;
    process.stderr.write = w;
  }
}

test('image preprocessing matches onnxruntime Resize (linear, half_pixel) and mean/std', async () => {
  const img = decodeImage(png(7, 5));
  for (const [H, W] of [[8, 6], [3, 4]]) {
    const mean = [0.4, 0.5, 0.6];
    const std = [0.2, 0.25, 0.3];
    const t = preprocessImage(img, { width: W, height: H, mean, std });
    assert.equal(t.dims, [1, 3, H, W]);
    // Reference: the raw image as NCHW float, resized by onnxruntime, normalised here.
    const raw = new Float32Array(3 * 5 * 7);
    for (let c = 0; c < 3; c++) for (let y = 0; y < 5; y++) for (let x = 0; x < 7; x++) raw[c * 35 + y * 7 + x] = img.data[(y * 7 + x) * 4 + c];
    const sizes = new BigInt64Array([1n, 3n, BigInt(H), BigInt(W)]);
    const m = encodeModel({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'resize',
        node: [makeNode('Resize', ['x', '', '', 'sizes'], ['y'], 'r', [makeAttr('mode', 'linear'), makeAttr('coordinate_transformation_mode', 'half_pixel')])],
        initializer: [{ name: 'sizes', dataType: DT.INT64, dims: [4], rawData: new Uint8Array(sizes.buffer) }],
        input: [valueInfo('x', DT.FLOAT, [1, 3, 5, 7])],
        output: [valueInfo('y', DT.FLOAT)],
      },
    });
    const s = await ort.InferenceSession.create(m);
    const y = (await s.run({ x: new ort.Tensor('float32', raw, [1, 3, 5, 7]) })).y.data as Float32Array;
    for (let i = 0; i < y.length; i++) {
      const c = Math.floor(i / (H * W));
      const want = (y[i] / 255 - mean[c]) / std[c];
      assert.ok(Math.abs((t.data as Float32Array)[i] - want) < 1e-4, `pixel ${i}: ${t.data[i]} vs ${want}`);
    }
  }
  const g = preprocessImage(img, { width: 7, height: 5, channels: 1, layout: 'nhwc', scale: 1 });
  assert.equal(g.dims, [1, 5, 7, 1]);
  assert.ok(Math.abs((g.data as Float32Array)[0] - (0.299 * img.data[0] + 0.587 * img.data[1] + 0.114 * img.data[2])) < 1e-3);
  // JPEG through jpeg-js.
  const j = jpeg.encode({ width: 9, height: 6, data: Buffer.alloc(9 * 6 * 4, 128) }, 90);
  const d = decodeImage(new Uint8Array(j.data));
  assert.equal([d.width, d.height], [9, 6]);
  assert.ok(Math.abs(d.data[0] - 128) <= 2);
  assert.throws(() => decodeImage(new Uint8Array([1, 2, 3, 4]), 'x.png'), /x.png: not a PNG or JPEG/);
});

test('.npy and JSON samples', () => {
  const a = Float32Array.from({ length: 6 }, (_, i) => i - 2.5);
  const t = parseNpy(npy([2, 3], a));
  assert.equal(t.dims, [2, 3]);
  assert.equal(Array.from(t.data as Float32Array), Array.from(a));
  assert.throws(() => parseNpy(new Uint8Array(20), 'bad.npy'), /bad.npy: not a .npy file/);
  const f = parseJsonSamples(JSON.stringify({ data: [1, 2, 3, 4], dims: [1, 4] }), ['x']);
  assert.equal(f[0].x.dims, [1, 4]);
  const n = parseJsonSamples(JSON.stringify([{ x: [[1, 2]] }, { x: [[3, 4]] }]), ['x']);
  assert.is(n.length, 2);
  assert.equal(Array.from(n[1].x.data as Float32Array), [3, 4]);
  assert.throws(() => parseJsonSamples('{', ['x'], 'f.json'), /f.json: invalid JSON/);
});

test('octet quantize and octet compare on a folder of images, .npy and .json', async () => {
  const model = smallCnn({ residual: true, size: 16 });
  const mp = join(dir, 'model.onnx');
  writeFileSync(mp, model);
  const calib = join(dir, 'calib');
  mkdirSync(calib);
  for (let i = 0; i < 6; i++) writeFileSync(join(calib, `img${i}.png`), png(20 + i, 18));
  writeFileSync(join(calib, 'img6.jpg'), jpeg.encode({ width: 16, height: 16, data: png(16, 16) && Buffer.from(Array.from({ length: 16 * 16 * 4 }, () => Math.floor(r() * 256))) }, 90).data);
  writeFileSync(join(calib, 'x.npy'), npy([3, 16, 16], Float32Array.from({ length: 768 }, () => r())));
  writeFileSync(join(calib, 'x.json'), JSON.stringify({ input: { dims: [1, 3, 16, 16], data: Array.from({ length: 768 }, () => r()) } }));
  const samples = loadSamples(calib, { inputNames: ['input'], inputShape: [1, 3, 16, 16] });
  assert.is(samples.length, 9);
  const out = join(dir, 'model.int8.onnx');
  const q = await capture(() => main(['quantize', mp, '-o', out, '--calib', calib, '--method', 'entropy', '--per-channel', '--executor', 'onnxruntime', '--mean', '0.5,0.5,0.5', '--std', '0.25,0.25,0.25', '--report', join(dir, 'report.json')]));
  assert.is(q.code, 0, q.err);
  assert.match(q.out, /wrote .*model.int8.onnx: static qdq, entropy/);
  assert.match(q.out, /quantized: Conv x\d+/);
  assert.match(q.err, /calibrate/);
  assert.ok(existsSync(join(dir, 'report.json')));
  const qb = new Uint8Array(readFileSync(out));
  const s = sqnr((await runOrt(model, samples[0])).output.data as Float32Array, (await runOrt(qb, samples[0])).output.data as Float32Array);
  assert.ok(s > 20, `SQNR ${s}`);
  const c = await capture(() => main(['compare', mp, out, '--samples', calib, '--executor', 'onnxruntime', '--json', join(dir, 'cmp.json'), '--mean', '0.5,0.5,0.5', '--std', '0.25,0.25,0.25']));
  assert.is(c.code, 0, c.err);
  assert.match(c.out, /tensor\s+node\s+op\s+SQNR dB\s+cosine/);
  const rep = JSON.parse(readFileSync(join(dir, 'cmp.json'), 'utf8'));
  assert.ok(rep.layers.length > 5);
  for (let i = 1; i < rep.layers.length; i++) assert.ok(rep.layers[i - 1].sqnr <= rep.layers[i].sqnr, 'worst first');
  for (const [flag, re] of [['--dynamic', /dynamic/], ['--fp16', /fp16/]] as const) {
    const d = await capture(() => main(['quantize', mp, '-o', join(dir, 'm2.onnx'), flag]));
    assert.is(d.code, 0, d.err);
    assert.match(d.out, re);
    await ort.InferenceSession.create(join(dir, 'm2.onnx'));
  }
  const bad = await capture(() => main(['quantize', mp, '-o', join(dir, 'x.onnx'), '--calib', join(dir, 'nothing'), '--executor', 'onnxruntime']));
  assert.is(bad.code, 1);
  assert.match(bad.err, /'.*nothing' does not exist/);
  for (const [opt, val, re] of [
    ['--layout', 'hwcn', /--layout: expected 'nchw' or 'nhwc', got 'hwcn'/],
    ['--max-samples', '0', /--max-samples: expected a positive number, got '0'/],
    ['--scale', 'big', /--scale: expected a number, got 'big'/],
    ['--size', '3by4', /--size: expected HxW or N, got '3by4'/],
  ] as const) {
    const e = await capture(() => main(['compare', mp, out, '--samples', calib, '--executor', 'onnxruntime', opt, val]));
    assert.is(e.code, 1, `${opt} ${val}`);
    assert.match(e.err, re);
  }
  const unk = await capture(() => main(['frobnicate']));
  assert.is(unk.code, 2);
  const help = await capture(() => main(['--help']));
  assert.match(help.out, /quantize\s+quantize an FP32 ONNX model/);
});

void floatTensor;
test.run();
