// `octet compare fp32.onnx int8.onnx --samples <folder>`: per quantized layer SQNR and cosine, worst first.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CliCommand } from './index.js';
import { sampleOptions, loadModelSamples, pickExecutor, progressBar } from './common.js';
import { quantizationReport, formatReport } from '../quant/report.js';

const usage = `usage: octet compare <fp32.onnx> <quantized.onnx> --samples <path> [options]

  --samples <path>        folder (or file) of inputs: .png/.jpg images, .npy arrays, .json tensors
  --max-samples <n>       use at most n samples (default 32)
  --json <file>           write the full report as JSON
  --top <n>               print the n worst layers (default all)
  --executor <e>          octet | onnxruntime (default octet)
  --size, --layout, --grayscale, --scale, --mean, --std   image options, as for 'octet quantize'`;

function readBytes(p: string): Uint8Array {
  const b = readFileSync(p);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export const command: CliCommand = {
  summary: 'per-layer SQNR / cosine similarity of a quantized model against its FP32 original',
  usage,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        samples: { type: 'string' },
        json: { type: 'string' },
        top: { type: 'string' },
        ...sampleOptions,
      },
    });
    if (positionals.length !== 2) throw new Error(`expected two models (FP32 and quantized)\n\n${usage}`);
    if (!values.samples) throw new Error('missing --samples <path>');
    const fp32 = readBytes(positionals[0]);
    const q = readBytes(positionals[1]);
    const samples = loadModelSamples(values.samples, fp32, values, 32);
    const rep = await quantizationReport(fp32, q, samples, { executor: await pickExecutor(values.executor), onProgress: progressBar('octet') });
    console.log(formatReport(rep, values.top !== undefined ? Number(values.top) : Infinity));
    if (values.json) {
      writeFileSync(values.json, JSON.stringify(rep, null, 2));
      console.log(`report written to ${values.json}`);
    }
    return 0;
  },
};
