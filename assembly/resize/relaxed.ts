// resize kernels that need the relaxed feature level (see assembly/relaxed.ts): none; the relaxed build runs the simd128 ones.
