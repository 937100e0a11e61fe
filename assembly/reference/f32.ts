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

/**
 * 2-D convolution, NHWC in and out, weights OIHW as ONNX stores them (O = Cout, I = C / groups), optional
 * bias (0 = none), output clamped to [lo, hi]. Output (oh, ow) reads input (oh*SH - padT + kh*DH, ow*SW - padL + kw*DW);
 * positions outside the input contribute 0. Depthwise is groups == C. Sums bias, then (c, kh, kw) in that order.
 */
export function f32_ref_conv2d(
  N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, Cout: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, DH: i32, DW: i32, padT: i32, padL: i32, groups: i32,
  x: usize, w: usize, bias: usize, y: usize, lo: f32, hi: f32,
): void {
  const cg = C / groups;
  const og = Cout / groups;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let o = 0; o < Cout; o++) {
          const g = o / og;
          let acc: f32 = bias ? load<f32>(bias + ((o as usize) << 2)) : 0;
          for (let ci = 0; ci < cg; ci++) {
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * SH - padT + kh * DH;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * SW - padL + kw * DW;
                if (iw < 0 || iw >= W) continue;
                const xv = load<f32>(x + (((((n * H + ih) * W + iw) * C + g * cg + ci) as usize) << 2));
                const wv = load<f32>(w + (((((o * cg + ci) * KH + kh) * KW + kw) as usize) << 2));
                acc += xv * wv;
              }
            }
          }
          store<f32>(y + (((((n * OH + oh) * OW + ow) * Cout + o) as usize) << 2), clampf(acc, lo, hi));
        }
      }
    }
  }
}

/**
 * Pooling, NHWC (ONNX MaxPool / AveragePool semantics). kind 0 = max, 1 = average excluding padding,
 * 2 = average including padding (count_include_pad = 1). The window of (oh, ow) starts at oh*SH - padT and
 * takes KH taps DH apart. For average with padding counted, taps inside [-padT, H + padB) count (so windows
 * that ceil_mode lets run past the bottom/right padding are not averaged over the overhang).
 * A max window with no input tap gives -inf.
 */
export function f32_ref_pool(
  kind: i32, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, DH: i32, DW: i32, padT: i32, padL: i32, padB: i32, padR: i32, x: usize, y: usize,
): void {
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let c = 0; c < C; c++) {
          let acc: f32 = kind == 0 ? -Infinity : 0;
          let cnt = 0;
          let cntPad = 0;
          for (let kh = 0; kh < KH; kh++) {
            const ih = oh * SH - padT + kh * DH;
            for (let kw = 0; kw < KW; kw++) {
              const iw = ow * SW - padL + kw * DW;
              if (ih >= -padT && ih < H + padB && iw >= -padL && iw < W + padR) cntPad++;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              const v = load<f32>(x + (((((n * H + ih) * W + iw) * C + c) as usize) << 2));
              if (kind == 0) acc = v > acc ? v : acc;
              else acc += v;
              cnt++;
            }
          }
          if (kind == 1) acc = cnt > 0 ? acc / (cnt as f32) : 0;
          if (kind == 2) acc = cntPad > 0 ? acc / (cntPad as f32) : 0;
          store<f32>(y + (((((n * OH + oh) * OW + ow) * C + c) as usize) << 2), acc);
        }
      }
    }
  }
}

/**
 * Element-wise out[i] = clamp(a op b, lo, hi) for i < n; op 0 add, 1 sub, 2 mul, 3 div.
 * mode 0: b same shape; 1: b per channel (b[i % C]); 2: b scalar; 3: a per channel; 4: a scalar.
 */
export function f32_ref_binary(op: i32, mode: i32, a: usize, b: usize, out: usize, n: i32, C: i32, lo: f32, hi: f32): void {
  for (let i = 0; i < n; i++) {
    const ia = mode == 3 ? i % C : mode == 4 ? 0 : i;
    const ib = mode == 1 ? i % C : mode == 2 ? 0 : mode >= 3 ? i : i;
    const x = load<f32>(a + ((ia as usize) << 2));
    const z = load<f32>(b + ((ib as usize) << 2));
    let v: f32 = op == 0 ? x + z : op == 1 ? x - z : op == 2 ? x * z : x / z;
    store<f32>(out + ((i as usize) << 2), clampf(v, lo, hi));
  }
}

/**
 * Activations, out[i] = f(x[i]): kind 0 relu, 1 clip(p0, p1) (relu6 = clip(0, 6)), 2 leaky relu (slope p0),
 * 3 sigmoid, 4 hard-sigmoid max(0, min(1, p0*x + p1)) (ONNX defaults p0 = 0.2, p1 = 0.5), 5 hard-swish
 * x * max(0, min(1, x/6 + 1/2)), 6 tanh, 7 sqrt, 8 square (Pow with exponent 2). Computed in float64 and rounded: the oracle is the exact function.
 */
export function f32_ref_unary(kind: i32, x: usize, out: usize, n: i32, p0: f32, p1: f32): void {
  for (let i = 0; i < n; i++) {
    const v = <f64>load<f32>(x + ((i as usize) << 2));
    let r: f64 = 0;
    if (kind == 0) r = v > 0 ? v : 0;
    else if (kind == 1) r = v < p0 ? p0 : v > p1 ? p1 : v;
    else if (kind == 2) r = v >= 0 ? v : v * p0;
    else if (kind == 3) r = 1 / (1 + Math.exp(-v));
    else if (kind == 4) r = Math.max(0, Math.min(1, <f64>p0 * v + <f64>p1));
    else if (kind == 5) r = v * Math.max(0, Math.min(1, v / 6 + 0.5));
    else if (kind == 7) r = Math.sqrt(v);
    else if (kind == 8) r = v * v;
    else r = Math.tanh(v);
    store<f32>(out + ((i as usize) << 2), <f32>r);
  }
}

/** Softmax over the last axis: rows x C, out = exp(x - max) / sum (float64 inside). */
export function f32_ref_softmax(rows: i32, C: i32, x: usize, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const base = (<usize>r * <usize>C) << 2;
    let mx: f64 = -Infinity;
    for (let c = 0; c < C; c++) mx = Math.max(mx, <f64>load<f32>(x + base + ((c as usize) << 2)));
    let s: f64 = 0;
    for (let c = 0; c < C; c++) s += Math.exp(<f64>load<f32>(x + base + ((c as usize) << 2)) - mx);
    for (let c = 0; c < C; c++) {
      store<f32>(out + base + ((c as usize) << 2), <f32>(Math.exp(<f64>load<f32>(x + base + ((c as usize) << 2)) - mx) / s));
    }
  }
}

/**
 * ConvTranspose (ONNX, 2-D, NHWC activations): y[n, oy, ox, g*ocg + o] = b[g*ocg + o] + sum over c in group g, iy, ix,
 * ky, kx with oy = iy*SH - PT + ky*DH, ox = ix*SW - PL + kx*DW of x[n, iy, ix, c] * w[c, o, ky, kx], then clamped to
 * [lo, hi]. Weights [C][OC/groups][KH][KW] as ONNX gives them; bias may be 0 (none). Scatter form, float64.
 */
export function f32_ref_conv_transpose(
  N: i32, H: i32, W: i32, C: i32, OC: i32, KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32,
  OH: i32, OW: i32, groups: i32, x: usize, w: usize, b: usize, y: usize, lo: f32, hi: f32, acc: usize,
): void {
  // acc: N*OH*OW*OC float64 scratch
  const total = N * OH * OW * OC;
  for (let i = 0; i < total; i++) store<f64>(acc + (<usize>i << 3), b ? <f64>load<f32>(b + (<usize>(i % OC) << 2)) : 0);
  const cg = C / groups, ocg = OC / groups;
  for (let n = 0; n < N; n++)
    for (let iy = 0; iy < H; iy++)
      for (let ix = 0; ix < W; ix++)
        for (let c = 0; c < C; c++) {
          const xv = <f64>load<f32>(x + (<usize>(((n * H + iy) * W + ix) * C + c) << 2));
          const g = c / cg;
          for (let o = 0; o < ocg; o++)
            for (let ky = 0; ky < KH; ky++) {
              const oy = iy * SH - PT + ky * DH;
              if (oy < 0 || oy >= OH) continue;
              for (let kx = 0; kx < KW; kx++) {
                const ox = ix * SW - PL + kx * DW;
                if (ox < 0 || ox >= OW) continue;
                const wv = <f64>load<f32>(w + (<usize>(((c * ocg + o) * KH + ky) * KW + kx) << 2));
                const at = acc + (<usize>(((n * OH + oy) * OW + ox) * OC + g * ocg + o) << 3);
                store<f64>(at, load<f64>(at) + xv * wv);
              }
            }
        }
  for (let i = 0; i < total; i++) {
    const v = <f32>load<f64>(acc + (<usize>i << 3));
    store<f32>(y + (<usize>i << 2), v < lo ? lo : v > hi ? hi : v);
  }
}

/** Cast int32 -> float32: the nearest float32 (ties to even), through float64 (exact for int32) then rounding. */
export function f32_ref_from_i32(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), <f32><f64>load<i32>(x + (<usize>i << 2)));
}
