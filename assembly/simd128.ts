// Entry of the `simd128` build: everything in the scalar build plus the SIMD128 kernels
// (both the x86-like dot16 path and the ARM-like extmul path live here; the host picks one).
export * from './scalar';
export * from './requant/simd128';
export * from './gemm/simd128';
export * from './conv/simd128';
export * from './dwconv/simd128';
export * from './pool/simd128';
export * from './eltwise/simd128';
export * from './f32/simd128';
export * from './resize/simd128';
