// Naive scalar oracles of the FP32 family (assembly/f32/). Never optimized: plain loops, written from the
// definitions (BLAS sgemm, ONNX Conv / MaxPool / AveragePool / Softmax, ...). Tests compare every fast
// variant against these. Tensors are dense row-major; activations NHWC; weights as documented per function.
// All pointers are byte offsets; strides are in elements.

/**
 * C[m,n] = alpha * sum_k op(A)[m,k] * op(B)[k,n] + beta * C[m,n]  (BLAS sgemm, row-major).
 * op(A)[m,k] = transA ? A[k*lda + m] : A[m*lda + k]; op(B)[k,n] = transB ? B[n*ldb + k] : B[k*ldb + n].
 * beta == 0 does not read C (so NaN/garbage in C is overwritten, as in BLAS).
 */
export function f32_ref_sgemm(
  transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32,
  A: usize, lda: i32, B: usize, ldb: i32, beta: f32, C: usize, ldc: i32,
): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc: f32 = 0;
      for (let k = 0; k < K; k++) {
        const a = load<f32>(A + (((transA ? k * lda + m : m * lda + k) as usize) << 2));
        const b = load<f32>(B + (((transB ? n * ldb + k : k * ldb + n) as usize) << 2));
        acc += a * b;
      }
      const p = C + (((m * ldc + n) as usize) << 2);
      let v = alpha * acc;
      if (beta != 0) v += beta * load<f32>(p);
      store<f32>(p, v);
    }
  }
}

/**
 * Inference GEMM: C[m,n] = clamp(bias[n] + sum_k A[m*lda + k] * W[k*N + n], lo, hi).
 * W is K x N row-major (unpacked); bias may be 0 (null) for none. Accumulates bias first, then k = 0..K-1.
 */
export function f32_ref_gemm(
  M: i32, N: i32, K: i32, A: usize, lda: i32, W: usize, bias: usize, C: usize, ldc: i32, lo: f32, hi: f32,
): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc: f32 = bias ? load<f32>(bias + ((n as usize) << 2)) : 0;
      for (let k = 0; k < K; k++) {
        acc += load<f32>(A + (((m * lda + k) as usize) << 2)) * load<f32>(W + (((k * N + n) as usize) << 2));
      }
      store<f32>(C + (((m * ldc + n) as usize) << 2), clampf(acc, lo, hi));
    }
  }
}

@inline function clampf(v: f32, lo: f32, hi: f32): f32 {
  return v < lo ? lo : v > hi ? hi : v;
}
