// onnxruntime-compatible float32 kernels (the `qdqFusion: 'ort'` session option): the float Conv and
// GlobalAveragePool that onnxruntime's CPU provider runs on x86-64 for QDQ nodes it leaves unfused, computed in the
// same order and with the same roundings as its MLAS library (single-threaded, intraOpNumThreads = 1), so that the
// following QuantizeLinear sees bit-identical values. Host code, slow (no SIMD): a compatibility path, not the fast one.
//
// What MLAS does (onnxruntime/core/mlas/lib/convolve.cpp, sgemm.cpp, pooling.cpp, x86_64/SgemmKernel*.S):
//  - Conv (MlasConvPrepare, per group: K = Cin/g * kh * kw, N = OH * OW output pixels, M = filters per group):
//      stride 1, no pad, K == Cin/g (pointwise)  -> one SGEMM(M, N, K) on the input;
//      M > N                                      -> im2col of the whole image, one SGEMM(M, N, K);
//      else                                       -> im2col in slices: the conv picks (StrideN, StrideK) from (N, K)
//                                                    as SGEMM does, and runs one SGEMM per (n, k) slice, the k slices
//                                                    accumulating into the output (beta 1 after the first).
//    im2col orders K as (channel, ky, kx), padding taps are zeros.
//  - SGEMM(M, N, K, beta): M == 1 takes the AVX "M1" kernel: K in groups of 4, ((p0 + p1) + p2) + p3 with each
//    product rounded (vmulps / vaddps), the group added to C (zero for the first group when beta = 0), then a group
//    of 2 and a single one likewise. Otherwise K is cut in blocks of StrideK (StrideN = StrideK = 128; N >= K: halve
//    StrideK and double StrideN while StrideK / 2 >= K; N < K: halve StrideN and double StrideK while StrideN > 16
//    and StrideN / 2 >= N); a block is a fused multiply-add chain from zero over its k in order (AVX-512F / FMA3
//    kernels: one accumulator per output element), added to C (C = block when the first block of beta = 0).
//  - bias: C + b[m] after the GEMMs (MlasActivation, identity).
//  - GlobalAveragePool (MlasPoolGlobalKernel): four lanes summed over the first floor(HW / 4) * 4 values (lane j takes
//    j, j + 4, ...), reduced as (l0 + l2) + (l1 + l3), then the remaining values added one by one, then / HW.
const STRIDE = 128;

/** float32 fused multiply-add a * b + c rounded once, for float32 a, b, c (a * b is exact in float64). */
export function fmaf(a: number, b: number, c: number): number {
  return fmaChain(a * b, c);
}

/** SGEMM's K block length for an N x K panel (sgemm.cpp, MlasSgemmOperation with TransA = NoTrans). */
export function sgemmStrideK(N: number, K: number): number {
  let sn = STRIDE, sk = STRIDE;
  if (N >= K) {
    while (sk / 2 >= K) { sn *= 2; sk /= 2; }
  } else {
    while (sn > 16 && sn / 2 >= N) { sk *= 2; sn /= 2; }
  }
  return sk;
}

/** The conv's own (StrideN, StrideK) slicing (convolve.cpp, MlasConvOperation): same rule as SGEMM's. */
function convStrides(N: number, K: number): [number, number] {
  let sn = STRIDE, sk = STRIDE;
  if (N >= K) {
    while (sk / 2 >= K) { sn *= 2; sk /= 2; }
  } else {
    while (sn > 16 && sn / 2 >= N) { sk *= 2; sn /= 2; }
  }
  return [sn, sk];
}

/**
 * C[m, n] (+)= sum_k A[m, k] * B[n, k] over k in [k0, k0 + kc), as MLAS's SGEMM does for that panel.
 * A: [M, K] row-major (lda = K); Bt: [N, K] (im2col transposed: the K values of one output pixel contiguous).
 * zero: the panel starts the output (beta = 0).
 */
function sgemmPanel(A: Float32Array, Bt: Float32Array, C: Float32Array, M: number, K: number, n0: number, nc: number,
  k0: number, kc: number, N: number, zero: boolean): void {
  if (M === 1) {
    // AVX M1 kernel: groups of 4 products (rounded) summed left to right, then added to C
    for (let n = n0; n < n0 + nc; n++) {
      const b = n * K;
      let c = zero ? 0 : C[n], first = zero;
      let k = k0;
      const end = k0 + kc;
      for (; k + 4 <= end; k += 4) {
        let t = Math.fround(Math.fround(A[k] * Bt[b + k]) + Math.fround(A[k + 1] * Bt[b + k + 1]));
        t = Math.fround(t + Math.fround(A[k + 2] * Bt[b + k + 2]));
        t = Math.fround(t + Math.fround(A[k + 3] * Bt[b + k + 3]));
        c = first ? t : Math.fround(t + c);
        first = false;
      }
      if (end - k >= 2) {
        const t = Math.fround(Math.fround(A[k] * Bt[b + k]) + Math.fround(A[k + 1] * Bt[b + k + 1]));
        c = first ? t : Math.fround(t + c);
        first = false;
        k += 2;
      }
      if (end - k >= 1) {
        const t = Math.fround(A[k] * Bt[b + k]);
        c = first ? t : Math.fround(t + c);
      }
      C[n] = c;
    }
    return;
  }
  if (N === 1) {
    // one output pixel (ldb = ldc = 1): the AVX "M1 transpose-B" kernel with A and B swapped; per filter row 8 lanes
    // (lane j sums the rounded products of k = j mod 8 in order), reduced as the row's block of 4, 2 or 1 does
    const full4 = M - (M % 4), has2 = (M % 4) >= 2;
    const l = new Float64Array(8);
    for (let m = 0; m < M; m++) {
      const a = m * K;
      l.fill(0);
      for (let k = k0; k < k0 + kc; k++) {
        const j = (k - k0) & 7;
        l[j] = Math.fround(l[j] + Math.fround(A[a + k] * Bt[k]));
      }
      const f = Math.fround;
      let t: number;
      if (m < full4) t = f(f(f(f(l[0] + l[1]) + l[2]) + l[3]) + f(f(f(l[4] + l[5]) + l[6]) + l[7]));
      else if (has2 && m < full4 + 2) t = f(f(f(l[0] + l[2]) + f(l[4] + l[6])) + f(f(l[1] + l[3]) + f(l[5] + l[7])));
      else t = f(f(f(l[0] + l[1]) + f(l[2] + l[3])) + f(f(l[4] + l[5]) + f(l[6] + l[7])));
      C[m] = zero ? t : f(t + C[m]);
    }
    return;
  }
  const sk = sgemmStrideK(nc, kc);
  // output pixel outer (its K values stay in L1); four filters at a time: four independent FMA chains
  for (let n = n0; n < n0 + nc; n++) {
    const b = n * K;
    let m = 0;
    for (; m + 4 <= M; m += 4) {
      const a0 = m * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
      let c0 = zero ? 0 : C[m * N + n], c1 = zero ? 0 : C[(m + 1) * N + n];
      let c2 = zero ? 0 : C[(m + 2) * N + n], c3 = zero ? 0 : C[(m + 3) * N + n];
      for (let kb = k0; kb < k0 + kc; kb += sk) {
        const ke = Math.min(kb + sk, k0 + kc);
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let k = kb; k < ke; k++) {
          const v = Bt[b + k];
          s0 = fmaChain(A[a0 + k] * v, s0);
          s1 = fmaChain(A[a1 + k] * v, s1);
          s2 = fmaChain(A[a2 + k] * v, s2);
          s3 = fmaChain(A[a3 + k] * v, s3);
        }
        if (zero && kb === k0) { c0 = s0; c1 = s1; c2 = s2; c3 = s3; }
        else { c0 = Math.fround(s0 + c0); c1 = Math.fround(s1 + c1); c2 = Math.fround(s2 + c2); c3 = Math.fround(s3 + c3); }
      }
      C[m * N + n] = c0; C[(m + 1) * N + n] = c1; C[(m + 2) * N + n] = c2; C[(m + 3) * N + n] = c3;
    }
    for (; m < M; m++) {
      const a = m * K;
      let c = zero ? 0 : C[m * N + n];
      for (let kb = k0; kb < k0 + kc; kb += sk) {
        const ke = Math.min(kb + sk, k0 + kc);
        let acc = 0;
        for (let k = kb; k < ke; k++) acc = fmaChain(A[a + k] * Bt[b + k], acc);
        c = zero && kb === k0 ? acc : Math.fround(acc + c);
      }
      C[m * N + n] = c;
    }
  }
}

/**
 * fmaf(x, y, acc) given the exact product p = x * y (float64): one step of a fused multiply-add chain.
 * (src/kernels/qcommon.ts fma32 computes the same by round-to-odd; this midpoint form is cheaper per step, and the
 * two stay separate so the QLinearAdd tests keep a host formula independent of the wasm oracle's midpoint method.)
 */
function fmaChain(p: number, acc: number): number {
  const s = p + acc;
  const r = Math.fround(s);
  if (r === s) return r;
  // Rounding the float64 sum s to float32 is right unless s sits exactly half way between two float32 values
  // (r and t = r + 2 (s - r)) while s itself was rounded: then the TwoSum error says which side the exact sum is.
  const h = s - r, t = r + 2 * h;
  if (Math.fround(t) !== t) return r;
  const bb = s - p, err = (p - (s - bb)) + (acc - bb);
  return err !== 0 && (err > 0) === (h > 0) ? t : r;
}

export interface OrtConvGeom {
  C: number; H: number; W: number; M: number; group: number;
  kh: number; kw: number; sh: number; sw: number; dh: number; dw: number;
  pt: number; pl: number; pb: number; pr: number; oh: number; ow: number;
}

const THREAD_COMPLEXITY = 64 * 1024, MAX_THREADS = 16, THREAD_ALIGN = 16;

/** MLAS's thread count for a GEMM-sized job of M * N * K multiply-adds with `threads` pool threads. */
function targetThreads(M: number, N: number, K: number, threads: number): number {
  const cx = M * N * K;
  const t = cx < THREAD_COMPLEXITY * MAX_THREADS ? Math.floor(cx / THREAD_COMPLEXITY) + 1 : MAX_THREADS;
  return Math.min(t, threads);
}

/** MlasPartitionWork: [start, count) of `total` for thread `id` of `count`. */
function partition(id: number, count: number, total: number): [number, number] {
  const per = Math.floor(total / count), extra = total % count;
  return id < extra ? [(per + 1) * id, per + 1] : [per * id + extra, per];
}

/**
 * MlasGemm(M, N, K) split over threads (sgemm.cpp, MlasGemmBatch / MlasSgemmThreaded): N > M cuts N in 16-column
 * blocks, else M in rows; each part is one SGEMM, whose K blocks depend on its own N.
 */
function gemmThreaded(A: Float32Array, Bt: Float32Array, C: Float32Array, M: number, N: number, K: number, threads: number): void {
  let per = targetThreads(M, N, K, threads);
  if (N > M) {
    const blocked = Math.ceil(N / THREAD_ALIGN);
    per = Math.min(per, blocked);
    for (let t = 0; t < per; t++) {
      const [s, c] = partition(t, per, blocked);
      const n0 = s * THREAD_ALIGN, nc = Math.min(N - n0, c * THREAD_ALIGN);
      if (nc > 0) sgemmPanel(A, Bt, C, M, K, n0, nc, 0, K, N, true);
    }
  } else {
    per = Math.min(per, M);
    for (let t = 0; t < per; t++) {
      const [s, c] = partition(t, per, M);
      if (c > 0) sgemmPanel(A.subarray(s * K), Bt, C.subarray(s * N), c, K, 0, N, 0, K, N, true);
    }
  }
}

/** MlasConvOperation over output pixels [n0, n0 + count): the conv's own (n, k) slices, one SGEMM each. */
function convSegment(A: Float32Array, Bt: Float32Array, C: Float32Array, M: number, N: number, K: number, n0: number, count: number): void {
  const [sn, sk] = convStrides(count, K);
  for (let n = n0; n < n0 + count; n += sn) {
    const nc = Math.min(sn, n0 + count - n);
    for (let k0 = 0; k0 < K; k0 += sk) sgemmPanel(A, Bt, C, M, K, n, nc, k0, Math.min(sk, K - k0), N, k0 === 0);
  }
}

/**
 * One image of a float32 Conv as onnxruntime's MLAS computes it with an intra-op pool of `threads` threads (the
 * thread count changes how some GEMMs cut K, hence the rounding). x: [C, H, W] (NCHW, one image),
 * w: [M, C/g, kh, kw], bias: [M] or undefined; returns [M, OH, OW].
 */
export function ortConv2d(x: Float32Array, w: Float32Array, bias: Float32Array | undefined, g: OrtConvGeom, threads = 1): Float32Array {
  const { C, H, W, M, group, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow } = g;
  const cg = C / group, mg = M / group, K = cg * kh * kw, N = oh * ow;
  const y = new Float32Array(M * N);
  const pointwise = sh === 1 && sw === 1 && pt === 0 && pl === 0 && pb === 0 && pr === 0 && K === cg;
  const Bt = new Float32Array(N * K);
  // MlasConvPrepare's thread segments for the sliced im2col path (one group)
  let segN = N;
  if (!pointwise && mg <= N && group === 1) {
    let t = targetThreads(mg, N, K, threads);
    let sn = Math.ceil(N / t);
    if (t > 1) {
      sn = Math.ceil(sn / THREAD_ALIGN) * THREAD_ALIGN;
      if (sn >= N) t = 1;
    }
    segN = t > 1 ? sn : N;
  }
  for (let gi = 0; gi < group; gi++) {
    // im2col, transposed: Bt[n, k], k = (c, ky, kx); written one output pixel at a time
    const xg = gi * cg * H * W;
    for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
      let o = (oy * ow + ox) * K;
      for (let c = 0; c < cg; c++) {
        const xc = xg + c * H * W;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh - pt + ky * dh;
          const rowOk = iy >= 0 && iy < H, xr = xc + iy * W;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw - pl + kx * dw;
            Bt[o++] = rowOk && ix >= 0 && ix < W ? x[xr + ix] : 0;
          }
        }
      }
    }
    const A = w.subarray(gi * mg * K, (gi + 1) * mg * K);
    const Cg = y.subarray(gi * mg * N, (gi + 1) * mg * N);
    if (pointwise && group > 1) sgemmPanel(A, Bt, Cg, mg, K, 0, N, 0, K, N, true); // one SGEMM per group
    else if (pointwise || mg > N) gemmThreaded(A, Bt, Cg, mg, N, K, threads); // GemmDirect / ExpandThenGemm
    else for (let n0 = 0; n0 < N; n0 += segN) convSegment(A, Bt, Cg, mg, N, K, n0, Math.min(segN, N - n0)); // ExpandThenGemmSegmented
    if (bias) for (let m = 0; m < mg; m++) {
      const b = bias[gi * mg + m], row = m * N;
      for (let n = 0; n < N; n++) Cg[row + n] = Math.fround(Cg[row + n] + b);
    }
  }
  return y;
}

/** Mean of n float32 values at v[off + i * step], as MLAS's global average pooling computes it. */
export function ortGlobalAvg(v: Float32Array | Float64Array, off: number, step: number, n: number): number {
  let l0 = 0, l1 = 0, l2 = 0, l3 = 0, i = 0;
  for (; i + 4 <= n; i += 4) {
    l0 = Math.fround(l0 + v[off + i * step]);
    l1 = Math.fround(l1 + v[off + (i + 1) * step]);
    l2 = Math.fround(l2 + v[off + (i + 2) * step]);
    l3 = Math.fround(l3 + v[off + (i + 3) * step]);
  }
  let s = Math.fround(Math.fround(l0 + l2) + Math.fround(l1 + l3));
  for (; i < n; i++) s = Math.fround(s + v[off + i * step]);
  return Math.fround(s / n);
}
