// f32 kernels of the scalar feature level (see assembly/scalar.ts). One file per kernel group.
export * from './gemm-scalar';
export * from './cnn-scalar';
export * from './train-scalar';
