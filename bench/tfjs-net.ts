// The reference architectures rebuilt in TensorFlow.js layers (NHWC) from the same weights as the ONNX files, for
// the TF.js wasm (XNNPACK) row of the model benchmarks. BatchNorm is folded into the conv weights, as the ONNX
// runtimes do it themselves at load. The net is saved as a small "tfjs spec" (JSON + one Float32 blob) so a fresh
// child process can load it the way an app loads a TF.js model (for cold start and memory figures).
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { foldedConv, type Net } from '../src/zoo/index.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type TfLayers = typeof import('@tensorflow/tfjs-layers');

export type SpecLayer =
  | { op: 'conv'; x: string; y: string; k: number; stride: number; pad: number; cin: number; cout: number; depthwise: boolean; act: string; w: number; b: number }
  | { op: 'dense'; x: string; y: string; k: number; n: number; act: string; w: number; b: number }
  | { op: 'add' | 'mul'; a: string; b: string; y: string; act: string }
  | { op: 'hardswish' | 'hardsigmoid' | 'gap' | 'flatten'; x: string; y: string }
  | { op: 'maxpool'; x: string; y: string; k: number; stride: number; pad: number };

export interface TfjsSpec { input: string; output: string; shape: number[]; layers: SpecLayer[] }

/** Folded weights in TF layouts: conv HWIO, depthwise HWC1, dense [K, N]. */
export function tfjsSpec(net: Net): { spec: TfjsSpec; data: Float32Array } {
  const chunks: Float32Array[] = [];
  let off = 0;
  const put = (a: Float32Array): number => { chunks.push(a); const o = off; off += a.length; return o; };
  const layers: SpecLayer[] = [];
  for (const l of net.layers) {
    if (l.op === 'conv') {
      const { w, b } = foldedConv(l);
      const [m, cg, k] = l.shape;
      const cin = cg * l.group;
      const depthwise = l.group > 1;
      if (depthwise && (l.group !== cin || m !== cin)) throw new Error(`tfjs rebuild: grouped conv ${l.name} is not depthwise`);
      const t = new Float32Array(w.length);
      for (let o = 0; o < m; o++) for (let c = 0; c < cg; c++) for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) {
        const v = w[((o * cg + c) * k + y) * k + x];
        if (depthwise) t[(y * k + x) * m + o] = v; // [k, k, C, 1]
        else t[((y * k + x) * cin + c) * m + o] = v; // [k, k, Cin, Cout]
      }
      layers.push({ op: 'conv', x: l.x, y: l.y, k, stride: l.stride, pad: l.pad, cin, cout: m, depthwise, act: l.act, w: put(t), b: put(b) });
    } else if (l.op === 'gemm') {
      const [n, k] = l.shape;
      const t = new Float32Array(n * k);
      for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) t[j * n + i] = l.w[i * k + j];
      layers.push({ op: 'dense', x: l.x, y: l.y, k, n, act: l.act, w: put(t), b: put(new Float32Array(l.b)) });
    } else if (l.op === 'add' || l.op === 'mul') {
      layers.push({ op: l.op, a: l.a, b: l.b, y: l.y, act: l.op === 'add' ? l.act : 'none' });
    } else if (l.op === 'maxpool') {
      layers.push({ op: 'maxpool', x: l.x, y: l.y, k: l.k, stride: l.stride, pad: l.pad });
    } else {
      layers.push({ op: l.op, x: l.x, y: l.y });
    }
  }
  const data = new Float32Array(off);
  let o = 0;
  for (const c of chunks) { data.set(c, o); o += c.length; }
  return { spec: { input: net.input, output: net.output, shape: net.shapes[net.input], layers }, data };
}

export function saveTfjsSpec(path: string, net: Net): void {
  const { spec, data } = tfjsSpec(net);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.json`, JSON.stringify(spec));
  writeFileSync(`${path}.bin`, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

export function loadTfjsSpec(path: string): { spec: TfjsSpec; data: Float32Array } {
  if (!existsSync(`${path}.json`)) throw new Error(`${path}.json not found`);
  const bin = readFileSync(`${path}.bin`);
  const data = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  return { spec: JSON.parse(readFileSync(`${path}.json`, 'utf8')) as TfjsSpec, data };
}

/** Build the tf.LayersModel (NHWC input [1, H, W, C]) from a spec. */
export function buildTfjsModel(tf: Tf, tfl: TfLayers, spec: TfjsSpec, data: Float32Array): import('@tensorflow/tfjs-layers').LayersModel {
  type SymT = import('@tensorflow/tfjs-layers').SymbolicTensor;
  // hard-swish / hard-sigmoid as PyTorch and ONNX define them (TF.js's built-in hardSigmoid is 0.2x + 0.5).
  class HardAct extends tfl.layers.Layer {
    static className = 'OctetHardAct';
    constructor(readonly kind: 'hardswish' | 'hardsigmoid', config?: object) { super(config ?? {}); }
    override computeOutputShape(s: number[]): number[] { return s; }
    override call(inputs: import('@tensorflow/tfjs-core').Tensor | import('@tensorflow/tfjs-core').Tensor[]): import('@tensorflow/tfjs-core').Tensor {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.tidy(() => {
        const hs = tf.div(tf.relu6(tf.add(x, 3)), 6);
        return this.kind === 'hardswish' ? tf.mul(x, hs) : hs;
      });
    }
    override getClassName(): string { return HardAct.className; }
  }
  const slice = (o: number, shape: number[]): import('@tensorflow/tfjs-core').Tensor => tf.tensor(data.slice(o, o + shape.reduce((a, b) => a * b, 1)), shape);
  const [c, h, w] = spec.shape;
  const input = tfl.input({ shape: [h, w, c] });
  const v: Record<string, SymT> = { [spec.input]: input };
  // per-value: is it a pooled [1, 1, C] map (from gap) or flat [F]
  const actName = (a: string): 'linear' | 'relu' | 'relu6' => (a === 'relu' ? 'relu' : a === 'relu6' ? 'relu6' : 'linear');
  const pad = (x: SymT, p: number): SymT => (p > 0 ? tfl.layers.zeroPadding2d({ padding: [[p, p], [p, p]] }).apply(x) as SymT : x);
  for (const l of spec.layers) {
    switch (l.op) {
      case 'conv': {
        const same = l.stride === 1 && l.pad === (l.k - 1) / 2;
        const x = same ? v[l.x] : pad(v[l.x], l.pad);
        const padding = same ? 'same' : 'valid';
        const layer = l.depthwise
          ? tfl.layers.depthwiseConv2d({ kernelSize: l.k, strides: l.stride, padding, depthMultiplier: 1, useBias: true, activation: actName(l.act) })
          : tfl.layers.conv2d({ filters: l.cout, kernelSize: l.k, strides: l.stride, padding, useBias: true, activation: actName(l.act) });
        v[l.y] = layer.apply(x) as SymT;
        const kShape = l.depthwise ? [l.k, l.k, l.cin, 1] : [l.k, l.k, l.cin, l.cout];
        layer.setWeights([slice(l.w, kShape), slice(l.b, [l.cout])]);
        break;
      }
      case 'dense': {
        const layer = tfl.layers.dense({ units: l.n, useBias: true, activation: actName(l.act) });
        v[l.y] = layer.apply(v[l.x]) as SymT;
        layer.setWeights([slice(l.w, [l.k, l.n]), slice(l.b, [l.n])]);
        break;
      }
      case 'add': {
        let y = tfl.layers.add().apply([v[l.a], v[l.b]]) as SymT;
        if (l.act !== 'none') y = tfl.layers.activation({ activation: actName(l.act) }).apply(y) as SymT;
        v[l.y] = y;
        break;
      }
      case 'mul': v[l.y] = tfl.layers.multiply().apply([v[l.a], v[l.b]]) as SymT; break;
      case 'hardswish': case 'hardsigmoid': v[l.y] = new HardAct(l.op).apply(v[l.x]) as SymT; break;
      case 'gap': {
        const ch = v[l.x].shape[3] as number;
        const g = tfl.layers.globalAveragePooling2d({}).apply(v[l.x]) as SymT;
        v[l.y] = tfl.layers.reshape({ targetShape: [1, 1, ch] }).apply(g) as SymT;
        break;
      }
      case 'flatten': v[l.y] = tfl.layers.flatten().apply(v[l.x]) as SymT; break;
      case 'maxpool':
        // zero padding is exact here: the pooled input comes out of a ReLU (>= 0)
        v[l.y] = tfl.layers.maxPooling2d({ poolSize: l.k, strides: l.stride, padding: 'valid' }).apply(pad(v[l.x], l.pad)) as SymT;
        break;
    }
  }
  return tfl.model({ inputs: input, outputs: v[spec.output] });
}

/** NCHW [1, C, H, W] -> NHWC data. */
export function toNhwc(x: Float32Array, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) out[i * c + ch] = x[ch * h * w + i];
  return out;
}
