// The relaxed path convolves with im2col + the relaxed GEMM (assembly/conv/scalar.ts, assembly/gemm/relaxed.ts).
