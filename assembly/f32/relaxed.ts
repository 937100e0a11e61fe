// f32 kernels of the relaxed feature level (see assembly/relaxed.ts): f32x4.relaxed_madd (fused on FMA hosts).
export * from './gemm-gen-relaxed'; // 4x8/6x8 tiles and the sgemm driver (scripts/gen-f32-gemm.mjs)
export * from './dwconv-gen-relaxed'; // generated from dwconv-simd128.ts (scripts/gen-f32-gemm.mjs)
