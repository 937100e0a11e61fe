// Entry of the `relaxed` build: everything in simd128 plus kernels using relaxed-SIMD instructions
// (i32x4.relaxed_dot_i8x16_i7x16_add_s, f32x4.relaxed_madd), written to be bit-exact on every engine.
export * from './simd128';
export * from './common/relaxed-probe';
export * from './requant/relaxed';
export * from './gemm/relaxed';
export * from './conv/relaxed';
export * from './dwconv/relaxed';
export * from './pool/relaxed';
export * from './eltwise/relaxed';
export * from './f32/relaxed';
export * from './resize/relaxed';
