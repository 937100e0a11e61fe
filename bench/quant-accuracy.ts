// PTQ accuracy per calibration method: output SQNR and top-1 agreement of the quantized model with its FP32
// original, on held-out inputs, for the MNIST CNN (models/) and the zoo's MobileNetV2 / ResNet-18.
//   npx tsx bench/quant-accuracy.ts [mnist|mobilenetv2|resnet18|mobilenetv3small ...] [--calib N] [--eval N]
//        [--format qdq|qoperator] [--executor octet|onnxruntime] [--per-tensor]
// Quantized models are evaluated with onnxruntime-node (independent check) and, when --executor octet, also
// with Octet's runtime. Prints a markdown table.
import { readFileSync, existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import { quantizeModel } from '../src/quant/quantize.js';
import { sessionExecutor, type Executor, type Feeds, type TensorLike } from '../src/quant/executor.js';
import { decodeModel, GraphIndex, shapeOf } from '../src/quant/model.js';
import type { CalibrationMethod } from '../src/quant/observers.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    calib: { type: 'string', default: '32' },
    eval: { type: 'string', default: '100' },
    format: { type: 'string', default: 'qdq' },
    executor: { type: 'string', default: 'onnxruntime' },
    'per-tensor': { type: 'boolean' },
    methods: { type: 'string', default: 'minmax,moving-average,percentile,entropy,mse' },
  },
});
const ortExec = sessionExecutor(ort as never);
let calibExec: Executor = ortExec;
let octetExec: Executor | undefined;
if (values.executor === 'octet') {
  const { defaultExecutor } = await import('../src/quant/executor.js');
  octetExec = await defaultExecutor();
  calibExec = octetExec;
}

interface Bench { name: string; fp32: Uint8Array; calib: Feeds[]; evalSet: Feeds[] }

function feedsFrom(model: Uint8Array, batch: Float32Array, n: number): Feeds[] {
  const m = decodeModel(model);
  const idx = new GraphIndex(m.graph!);
  const inp = m.graph!.input!.find((i) => !idx.inits.has(i.name ?? ''))!;
  const shape = shapeOf(inp)!.map((d, i) => (d < 0 && i === 0 ? 1 : d));
  const per = batch.length / n;
  return Array.from({ length: n }, (_, i) => ({ [inp.name!]: { data: batch.slice(i * per, (i + 1) * per), dims: shape } as TensorLike }));
}

async function load(name: string, nc: number, ne: number): Promise<Bench> {
  if (name === 'mnist' || name.endsWith('.onnx')) {
    const path = name.endsWith('.onnx') ? name : 'models/mnist-cnn.fp32.onnx';
    if (!existsSync(path)) throw new Error(`${path} not found (npm run train)`);
    const fp32 = new Uint8Array(readFileSync(path));
    // MNIST digits, the project's split (src/data/mnist.ts): calibration from the 8,000, evaluation on the 2,000 held out.
    const { loadMnist } = (await import('../src/data/mnist.js' as string)) as {
      loadMnist(): { train: { images: Float32Array }; eval: { images: Float32Array } };
    };
    const split = loadMnist();
    const px = 28 * 28;
    return {
      name: path.split("/").pop()!.replace(".fp32.onnx", ""),
      fp32,
      calib: feedsFrom(fp32, split.train.images.slice(0, nc * px), nc),
      evalSet: feedsFrom(fp32, split.eval.images.slice(0, ne * px), ne),
    };
  }
  const zoo = (await import(process.env.OCTET_ZOO ?? '../src/zoo/index.js')) as {
    zooModel(a: string, f: string): Promise<Uint8Array>;
    zooNet(a: string): Promise<unknown>;
    randomInputs(net: unknown, n: number, seed: number): Float32Array;
  };
  const fp32 = await zooModel(zoo, name);
  const net = await zoo.zooNet(name);
  return { name, fp32, calib: feedsFrom(fp32, zoo.randomInputs(net, nc, 7001), nc), evalSet: feedsFrom(fp32, zoo.randomInputs(net, ne, 9001), ne) };
}

async function zooModel(zoo: { zooModel(a: string, f: string): Promise<Uint8Array> }, name: string): Promise<Uint8Array> {
  return zoo.zooModel(name, 'fp32');
}

async function outputs(exec: Executor, model: Uint8Array, feeds: Feeds[]): Promise<Float32Array[]> {
  const r = await exec(model);
  const out: Float32Array[] = [];
  for (const f of feeds) {
    const o = await r.run(f);
    out.push(Object.values(o)[0].data as Float32Array);
  }
  await r.release?.();
  return out;
}

function compare(ref: Float32Array[], got: Float32Array[]): { sqnr: number; top1: number } {
  let s = 0;
  let e = 0;
  let agree = 0;
  const argmax = (a: Float32Array) => a.reduce((bi, v, i, arr) => (v > arr[bi] ? i : bi), 0);
  for (let k = 0; k < ref.length; k++) {
    for (let i = 0; i < ref[k].length; i++) {
      s += ref[k][i] ** 2;
      e += (ref[k][i] - got[k][i]) ** 2;
    }
    if (argmax(ref[k]) === argmax(got[k])) agree++;
  }
  return { sqnr: 10 * Math.log10(s / e), top1: (100 * agree) / ref.length };
}

const models = positionals.length ? positionals : ['mnist', 'mobilenetv2', 'resnet18'];
const nc = Number(values.calib);
const ne = Number(values.eval);
console.log(`# PTQ accuracy vs FP32: ${values.format}, ${values['per-tensor'] ? 'per-tensor' : 'per-channel'} int8 weights, int8 activations; ${nc} calibration / ${ne} held-out inputs; calibration run by ${values.executor}`);
console.log(`# ${cpus()[0]?.model ?? 'cpu'} x${cpus().length}, Node ${process.version}; command: npx tsx bench/quant-accuracy.ts ${process.argv.slice(2).join(' ')}`);
console.log('| model | method | output SQNR (dB) | top-1 agreement | quantize time |' + (octetExec ? " Octet vs onnxruntime on the INT8 model |" : ""));
console.log('|---|---|---|---|---|' + (octetExec ? '---|' : ''));
for (const name of models) {
  const b = await load(name, nc, ne);
  const ref = await outputs(ortExec, b.fp32, b.evalSet);
  for (const method of values.methods!.split(',') as CalibrationMethod[]) {
    const t0 = Date.now();
    const q = await quantizeModel(b.fp32, { calibration: b.calib, method, format: values.format as 'qdq', perChannel: !values['per-tensor'], executor: calibExec });
    const dt = (Date.now() - t0) / 1000;
    const got = await outputs(ortExec, q.model, b.evalSet);
    const c = compare(ref, got);
    let octetCol = '';
    if (octetExec) {
      const mine = await outputs(octetExec, q.model, b.evalSet);
      let maxd = 0;
      for (let k = 0; k < mine.length; k++) for (let i = 0; i < mine[k].length; i++) maxd = Math.max(maxd, Math.abs(mine[k][i] - got[k][i]));
      octetCol = ` ${maxd === 0 ? "identical" : `max abs diff ${maxd.toExponential(2)}`} |`;
    }
    console.log(`| ${b.name} | ${method} | ${c.sqnr.toFixed(2)} | ${c.top1.toFixed(1)}% | ${dt.toFixed(1)} s |${octetCol}`);
  }
}
