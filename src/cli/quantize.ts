// `octet quantize model.onnx -o model.int8.onnx --calib <folder> [options]`
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CliCommand } from './index.js';
import { sampleOptions, loadModelSamples, pickExecutor, progressBar } from './common.js';
import { quantizeModel, type QuantizeOptions } from '../quant/quantize.js';
import { mixedPrecision, quantizationReport, formatReport } from '../quant/report.js';
import type { CalibrationMethod } from '../quant/observers.js';

const usage = `usage: octet quantize <model.onnx> -o <out.onnx> [options]

  --calib <path>          folder (or file) of calibration samples: .png/.jpg images, .npy arrays, .json tensors
  --method <m>            minmax | moving-average | percentile | entropy | mse   (default minmax)
  --percentile <p>        percentile kept by --method percentile (default 99.999)
  --per-channel           per-output-channel weight scales (default)
  --per-tensor            one weight scale per tensor
  --format <f>            qdq | qoperator  (default qdq)
  --activations <t>       int8 | uint8     (default int8)
  --asymmetric-weights    weights with a zero point (default symmetric)
  --reduce-range          7-bit weights
  --exclude <a,b,...>     node names kept in FP32
  --dynamic               dynamic quantization (no calibration)
  --fp16                  FP16 weights (no calibration)
  --max-samples <n>       use at most n calibration samples
  --target-sqnr <dB>      mixed precision: keep the most sensitive layers in FP32 until every output reaches it
  --report <file.json>    write the per-layer SQNR report of the result (on up to 16 calibration samples)
  --executor <e>          octet | onnxruntime: what runs the FP32 model during calibration (default octet)
 images:
  --size <HxW>            resize to (default: the model's input shape)
  --layout <l>            nchw | nhwc (default: from the model's input shape)
  --grayscale             one channel
  --scale <s>             pixel multiplier before mean/std (default 1/255)
  --mean <r,g,b>          per-channel mean (after scaling), e.g. 0.485,0.456,0.406
  --std <r,g,b>           per-channel std, e.g. 0.229,0.224,0.225`;

export const command: CliCommand = {
  summary: 'quantize an FP32 ONNX model to INT8 (static QDQ/QOperator, dynamic) or FP16',
  usage,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        output: { type: 'string', short: 'o' },
        calib: { type: 'string' },
        method: { type: 'string' },
        percentile: { type: 'string' },
        'per-channel': { type: 'boolean' },
        'per-tensor': { type: 'boolean' },
        format: { type: 'string' },
        activations: { type: 'string' },
        'asymmetric-weights': { type: 'boolean' },
        'reduce-range': { type: 'boolean' },
        exclude: { type: 'string' },
        dynamic: { type: 'boolean' },
        fp16: { type: 'boolean' },
        'target-sqnr': { type: 'string' },
        report: { type: 'string' },
        ...sampleOptions,
      },
    });
    if (positionals.length !== 1) throw new Error(`expected one input model, got ${positionals.length}\n\n${usage}`);
    if (!values.output) throw new Error('missing -o <out.onnx>');
    const input = readFileSync(positionals[0]);
    const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    const opts: QuantizeOptions = {
      method: values.method as CalibrationMethod | undefined,
      percentile: values.percentile !== undefined ? Number(values.percentile) : undefined,
      perChannel: !values['per-tensor'],
      format: values.format as QuantizeOptions['format'],
      activations: values.activations as QuantizeOptions['activations'],
      symmetricWeights: !values['asymmetric-weights'],
      reduceRange: !!values['reduce-range'],
      exclude: values.exclude ? values.exclude.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
      dynamic: !!values.dynamic,
      fp16: !!values.fp16,
      onProgress: progressBar('octet'),
    };
    const staticMode = !opts.dynamic && !opts.fp16;
    let samples;
    if (staticMode || values.report) {
      if (!values.calib) throw new Error('--calib <folder> is required for static quantization (or use --dynamic / --fp16)');
      samples = loadModelSamples(values.calib, bytes, values);
      console.error(`octet: ${samples.length} calibration samples from ${values.calib}`);
    }
    if (staticMode || values.report) opts.executor = await pickExecutor(values.executor);
    opts.calibration = samples;
    let out: Uint8Array;
    let summary;
    if (values['target-sqnr'] !== undefined) {
      const target = Number(values['target-sqnr']);
      const r = await mixedPrecision(bytes, { ...opts, minOutputSqnr: target });
      out = r.model;
      summary = r.summary;
      console.log(`mixed precision: target ${target} dB ${r.met ? 'met' : 'NOT met'}; kept in FP32: ${r.keptFp32.join(', ') || 'none'}`);
      for (const s of r.steps) console.log(`  ${s.keptFp32.length} layers in FP32 -> output SQNR ${s.score.toFixed(2)} dB`);
    } else {
      const r = await quantizeModel(bytes, opts);
      out = r.model;
      summary = r.summary;
    }
    writeFileSync(values.output, out);
    const ops = Object.entries(summary.quantizedOps).map(([k, v]) => `${k} x${v}`).join(', ');
    console.log(`wrote ${values.output}: ${summary.mode}${summary.format ? ` ${summary.format}` : ''}${summary.method ? `, ${summary.method}` : ''}, ${(summary.bytesIn / 1024).toFixed(1)} KiB -> ${(summary.bytesOut / 1024).toFixed(1)} KiB`);
    if (ops) console.log(`quantized: ${ops}`);
    if (summary.foldedBatchNorms.length) console.log(`folded ${summary.foldedBatchNorms.length} BatchNormalization into Conv`);
    const kept = summary.keptFp32.filter((k) => k.reason !== 'input not quantized');
    if (kept.length) {
      const byOp = new Map<string, string[]>();
      for (const k of kept) byOp.set(`${k.op} (${k.reason})`, [...(byOp.get(`${k.op} (${k.reason})`) ?? []), k.name]);
      console.log('left in FP32:');
      for (const [k, names] of byOp) console.log(`  ${k}: ${names.slice(0, 6).join(', ')}${names.length > 6 ? `, ... (${names.length})` : ''}`);
    }
    if (values.report && samples) {
      const rep = await quantizationReport(bytes, out, samples.slice(0, 16), { executor: opts.executor });
      writeFileSync(values.report, JSON.stringify(rep, null, 2));
      console.log(formatReport(rep, 10));
      console.log(`report written to ${values.report}`);
    }
    return 0;
  },
};
