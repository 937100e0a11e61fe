// dwconv kernels that need the simd128 feature level (see assembly/simd128.ts). Filled in by the dwconv family.
