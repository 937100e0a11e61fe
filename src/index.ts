// Public entry of the `octet` package.
export { choosePath, availablePaths, type KernelsOption, type PathChoice } from './runtime/select.js';
export { detectFeatures, type HostFeatures, type Arch } from './runtime/features.js';
export type { KernelPath } from './kernels/types.js';
export type { WasmSource } from './runtime/wasm.js';
// The quantizer (src/quant, a dozen modules) loads on first use: importing the package for inference stays light
// (cold start, bench/cold-phases.ts). Same signatures as in src/quant.
import type * as Quantize from './quant/quantize.js';
import type * as Report from './quant/report.js';
export type { QuantizeOptions, QuantizeResult, QuantizeSummary } from './quant/quantize.js';
export type { QuantizationReport, LayerStat, MixedPrecisionOptions, MixedPrecisionResult } from './quant/report.js';
export { formatReport } from './quant/format.js';
/** Quantizes an FP32 ONNX model (src/quant/quantize.ts). */
export async function quantize(...args: Parameters<typeof Quantize.quantize>): ReturnType<typeof Quantize.quantize> {
  return (await import('./quant/quantize.js')).quantize(...args);
}
/** quantize() with its summary (src/quant/quantize.ts). */
export async function quantizeModel(...args: Parameters<typeof Quantize.quantizeModel>): ReturnType<typeof Quantize.quantizeModel> {
  return (await import('./quant/quantize.js')).quantizeModel(...args);
}
/** Per-layer error of a quantized model against its FP32 original (src/quant/report.ts). */
export async function quantizationReport(...args: Parameters<typeof Report.quantizationReport>): ReturnType<typeof Report.quantizationReport> {
  return (await import('./quant/report.js')).quantizationReport(...args);
}
/** Keeps the most sensitive layers in FP32 until the outputs meet a bound (src/quant/report.ts). */
export async function mixedPrecision(...args: Parameters<typeof Report.mixedPrecision>): ReturnType<typeof Report.mixedPrecision> {
  return (await import('./quant/report.js')).mixedPrecision(...args);
}
export { sessionExecutor, type Executor, type ModelRunner, type TensorLike, type Feeds } from './quant/executor.js';
export type { CalibrationMethod } from './quant/observers.js';
export { InferenceSession, type SessionOptions, type ValueMetadata, type SessionProfile, type ThreadStats, type SessionMemory, type ProfileEntry } from './api/session.js';
export { Tensor, type TensorType, type TensorData } from './api/tensor.js';
export { supportedOps } from './ops/index.js';
