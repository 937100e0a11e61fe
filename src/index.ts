// Public entry of the `octet` package.
export { choosePath, availablePaths, type KernelsOption, type PathChoice } from './runtime/select.js';
export { detectFeatures, type HostFeatures, type Arch } from './runtime/features.js';
export type { KernelPath } from './kernels/types.js';
