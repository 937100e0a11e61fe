// Calibration inputs from files: PNG (pngjs) and JPEG (jpeg-js) images resized (bilinear) and normalised
// ((x * scale - mean) / std per channel) into NCHW or NHWC float32; NumPy .npy arrays; JSON tensors.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';
import type { Feeds, TensorLike } from './executor.js';

export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array; // RGBA, row-major
}

export function decodeImage(bytes: Uint8Array, name = 'image'): RgbaImage {
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  try {
    if (isPng) {
      const p = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: p.width, height: p.height, data: new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength) };
    }
    if (isJpeg) {
      const j = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      return { width: j.width, height: j.height, data: j.data as Uint8Array };
    }
  } catch (e) {
    throw new Error(`${name}: cannot decode image (${(e as Error).message})`);
  }
  throw new Error(`${name}: not a PNG or JPEG file`);
}

export interface PreprocessOptions {
  width: number;
  height: number;
  layout?: 'nchw' | 'nhwc';
  /** 1 (grayscale, ITU-R 601 luma) or 3 (RGB). */
  channels?: 1 | 3;
  /** Multiplier applied to the 0..255 pixel before mean/std (default 1/255). */
  scale?: number;
  mean?: number[];
  std?: number[];
}

/** Bilinear resize (half-pixel centres, as ONNX Resize 'half_pixel') of one RGBA image into normalised floats. */
export function preprocessImage(img: RgbaImage, o: PreprocessOptions): TensorLike {
  const C = o.channels ?? 3;
  const { width: W, height: H } = o;
  const scale = o.scale ?? 1 / 255;
  const mean = o.mean ?? new Array(C).fill(0);
  const std = o.std ?? new Array(C).fill(1);
  if (mean.length !== C || std.length !== C) throw new Error(`preprocess: mean and std need ${C} values`);
  if (std.some((s) => s === 0)) throw new Error('preprocess: std must not be 0');
  const out = new Float32Array(C * H * W);
  const sx = img.width / W;
  const sy = img.height / H;
  const px = (x: number, y: number, c: number) => img.data[(y * img.width + x) * 4 + c];
  for (let y = 0; y < H; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), img.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, img.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < W; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), img.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, img.width - 1);
      const wx = fx - x0;
      const rgb = [0, 1, 2].map(
        (c) => (px(x0, y0, c) * (1 - wx) + px(x1, y0, c) * wx) * (1 - wy) + (px(x0, y1, c) * (1 - wx) + px(x1, y1, c) * wx) * wy,
      );
      const vals = C === 1 ? [0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]] : rgb;
      for (let c = 0; c < C; c++) {
        const v = (vals[c] * scale - mean[c]) / std[c];
        if (o.layout === 'nhwc') out[(y * W + x) * C + c] = v;
        else out[c * H * W + y * W + x] = v;
      }
    }
  }
  return { data: out, dims: o.layout === 'nhwc' ? [1, H, W, C] : [1, C, H, W] };
}

/** NumPy .npy (version 1-3, little-endian f4/f8/i1/u1/i4/i8, C order) as a float32 tensor. */
export function parseNpy(bytes: Uint8Array, name = 'array.npy'): TensorLike {
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') throw new Error(`${name}: not a .npy file`);
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(hstart, hstart + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeStr = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeStr === undefined) throw new Error(`${name}: malformed .npy header`);
  if (fortran === 'True') throw new Error(`${name}: Fortran-order arrays are not supported`);
  const dims = shapeStr.split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  const sizes: Record<string, number> = { '<f4': 4, '<f8': 8, '|i1': 1, '|u1': 1, '<i4': 4, '<i8': 8 };
  const size = sizes[descr];
  if (!size) throw new Error(`${name}: dtype ${descr} is not supported (use float32)`);
  if (bytes.length - off < n * size) throw new Error(`${name}: file holds ${bytes.length - off} data bytes, shape [${dims}] needs ${n * size}`);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const p = off + i * size;
    data[i] =
      descr === '<f4' ? dv.getFloat32(p, true)
      : descr === '<f8' ? dv.getFloat64(p, true)
      : descr === '|i1' ? dv.getInt8(p)
      : descr === '|u1' ? dv.getUint8(p)
      : descr === '<i4' ? dv.getInt32(p, true)
      : Number(dv.getBigInt64(p, true));
  }
  return { data, dims };
}

function nestedToTensor(v: unknown, name: string): TensorLike {
  const dims: number[] = [];
  let cur = v;
  while (Array.isArray(cur)) {
    dims.push(cur.length);
    cur = cur[0];
  }
  const flat = (v as unknown[]).flat(Infinity) as number[];
  if (flat.some((x) => typeof x !== 'number')) throw new Error(`${name}: tensor values must be numbers`);
  if (flat.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`${name}: ragged nested array`);
  return { data: Float32Array.from(flat), dims };
}

function jsonTensor(v: unknown, name: string): TensorLike {
  if (Array.isArray(v)) return nestedToTensor(v, name);
  if (v && typeof v === 'object' && 'data' in v) {
    const o = v as { data: unknown; dims?: number[]; shape?: number[] };
    const t = nestedToTensor(o.data, name);
    const dims = o.dims ?? o.shape ?? t.dims;
    if (dims.reduce((a, b) => a * b, 1) !== t.data.length) throw new Error(`${name}: dims [${dims}] do not match ${t.data.length} values`);
    return { data: t.data, dims };
  }
  throw new Error(`${name}: expected a nested array, { data, dims }, or { inputName: ... }`);
}

/** A JSON file: one tensor (nested array or { data, dims }), feeds ({ input: tensor }), or an array of feeds. */
export function parseJsonSamples(text: string, inputNames: string[], name = 'file.json'): Feeds[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${name}: invalid JSON (${(e as Error).message})`);
  }
  const asFeeds = (x: unknown, k: string): Feeds => {
    if (x && typeof x === 'object' && !Array.isArray(x) && !('data' in x)) {
      const f: Feeds = {};
      for (const [key, val] of Object.entries(x as Record<string, unknown>)) f[key] = jsonTensor(val, `${k}.${key}`);
      return f;
    }
    if (inputNames.length !== 1) throw new Error(`${k}: the model has ${inputNames.length} inputs; give { inputName: tensor }`);
    return { [inputNames[0]]: jsonTensor(x, k) };
  };
  if (Array.isArray(v) && v.length && v[0] && typeof v[0] === 'object' && !Array.isArray(v[0])) return v.map((x, i) => asFeeds(x, `${name}[${i}]`));
  return [asFeeds(v, name)];
}

export interface SampleSourceOptions extends Partial<PreprocessOptions> {
  inputNames: string[];
  /** Model input shape, used to infer the image size and layout when not given. */
  inputShape?: number[];
  maxSamples?: number;
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);

/** Image preprocessing options inferred from a model input shape [1, C, H, W] or [1, H, W, C]. */
export function imageOptionsFromShape(shape: number[] | undefined, o: Partial<PreprocessOptions>): PreprocessOptions {
  let layout = o.layout;
  let C = o.channels;
  let H = o.height;
  let W = o.width;
  if (shape && shape.length === 4) {
    const nchw = layout ? layout === 'nchw' : shape[1] === 1 || shape[1] === 3;
    layout ??= nchw ? 'nchw' : 'nhwc';
    const [c, h, w] = nchw ? [shape[1], shape[2], shape[3]] : [shape[3], shape[1], shape[2]];
    C ??= c === 1 ? 1 : 3;
    if (h > 0) H ??= h;
    if (w > 0) W ??= w;
  }
  if (!H || !W) throw new Error('images: the model input has no static height/width; pass --size HxW');
  return { ...o, layout: layout ?? 'nchw', channels: C ?? 3, width: W, height: H };
}

/** Every sample found in a folder (or a single file): images, .npy (one input each), .json. Sorted by name. */
export function loadSamples(path: string, o: SampleSourceOptions): Feeds[] {
  let files: string[];
  try {
    files = statSync(path).isDirectory() ? readdirSync(path).sort().map((f) => join(path, f)) : [path];
  } catch {
    throw new Error(`calibration data: '${path}' does not exist`);
  }
  const out: Feeds[] = [];
  let imgOpts: PreprocessOptions | undefined;
  for (const f of files) {
    if (o.maxSamples && out.length >= o.maxSamples) break;
    const ext = extname(f).toLowerCase();
    if (IMAGE_EXT.has(ext)) {
      if (o.inputNames.length !== 1) throw new Error(`${f}: images can feed only single-input models`);
      imgOpts ??= imageOptionsFromShape(o.inputShape, o);
      const t = preprocessImage(decodeImage(readFileSync(f), f), imgOpts);
      out.push({ [o.inputNames[0]]: t });
    } else if (ext === '.npy') {
      if (o.inputNames.length !== 1) throw new Error(`${f}: .npy files can feed only single-input models`);
      const t = parseNpy(readFileSync(f), f);
      if (o.inputShape && t.dims.length === o.inputShape.length - 1) t.dims = [1, ...t.dims];
      out.push({ [o.inputNames[0]]: t });
    } else if (ext === '.json') out.push(...parseJsonSamples(readFileSync(f, 'utf8'), o.inputNames, f));
  }
  if (o.maxSamples) out.length = Math.min(out.length, o.maxSamples);
  if (!out.length) throw new Error(`calibration data: no .png, .jpg, .npy or .json files in '${path}'`);
  return out;
}
