// Public entry of the `octet` package.
export { choosePath, availablePaths, type KernelsOption, type PathChoice } from './runtime/select.js';
export { detectFeatures, type HostFeatures, type Arch } from './runtime/features.js';
export type { KernelPath } from './kernels/types.js';
export type { WasmSource } from './runtime/wasm.js';
export { quantize, quantizeModel, type QuantizeOptions, type QuantizeResult, type QuantizeSummary } from './quant/quantize.js';
export {
  quantizationReport,
  formatReport,
  mixedPrecision,
  type QuantizationReport,
  type LayerStat,
  type MixedPrecisionOptions,
  type MixedPrecisionResult,
} from './quant/report.js';
export { sessionExecutor, type Executor, type ModelRunner, type TensorLike, type Feeds } from './quant/executor.js';
export type { CalibrationMethod } from './quant/observers.js';
export { InferenceSession, type SessionOptions, type ValueMetadata, type SessionProfile, type ThreadStats, type SessionMemory, type ProfileEntry } from './api/session.js';
export { Tensor, type TensorType, type TensorData } from './api/tensor.js';
export { supportedOps } from './ops/index.js';
