// Entry of the `scalar` build: no SIMD. Exports the reference oracles and every family's portable kernels.
// Each family keeps its kernels in assembly/<family>/{scalar,simd128,relaxed}.ts; the builds are cumulative:
// scalar ⊂ simd128 ⊂ relaxed. scripts/build-wasm.mjs compiles each entry with its feature flags.
export * from './common/memory';
export * from './reference/index';
export * from './requant/scalar';
export * from './gemm/scalar';
export * from './conv/scalar';
export * from './dwconv/scalar';
export * from './pool/scalar';
export * from './eltwise/scalar';
export * from './f32/scalar';
export * from './resize/scalar';
export * from './layout/scalar';
