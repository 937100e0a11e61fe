// Naive scalar oracles, one file per family, exported by every build. Never optimized.
export * from './requant';
export * from './f32';
export * from './gemm';
export * from './pool';
export * from './eltwise';
export * from './dwconv';
export * from './conv';
export * from './resize';
