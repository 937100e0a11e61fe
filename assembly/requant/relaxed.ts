// Requantization needs no relaxed-SIMD instruction: the relaxed build uses the simd128 kernels (./simd128.ts).
