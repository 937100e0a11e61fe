// f32 kernels of the simd128 feature level (see assembly/simd128.ts). One file per kernel group.
export * from './gemm-gen-simd128';
export * from './dwconv-simd128';
export * from './cnn-simd128';
