// FP32 training kernels (scalar build; every build carries them). Layout NCHW, float32, row-major, matching the
// training engine's TrainKernels contract (src/train/kernels.ts, whose TypeScript versions in
// src/train/kernels-ts.ts are the oracle in test/kernels/f32-train.test.ts). Pointers are byte offsets.
// Geometry arguments follow that contract: kh, kw, sh, sw, ph, pw (top/left pad), dh, dw, OH, OW.

@inline function f(p: usize, i: i32): f32 {
  return load<f32>(p + ((<usize>i) << 2));
}
@inline function sf(p: usize, i: i32, v: f32): void {
  store<f32>(p + ((<usize>i) << 2), v);
}

/** col[(ci*kh + ki)*kw + kj][n*OH*OW + oh*OW + ow] = x[n][c0 + ci][ih][iw] (0 in padding), ci < cg. */
export function f32_train_im2col_nchw(
  x: usize, N: i32, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32,
  OH: i32, OW: i32, c0: i32, cg: i32, col: usize,
): void {
  const P = OH * OW;
  const cols = N * P;
  for (let ci = 0; ci < cg; ci++) {
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        const row = ((ci * kh + ki) * kw + kj) * cols;
        for (let n = 0; n < N; n++) {
          const plane = (n * C + c0 + ci) * H * W;
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * sh - ph + ki * dh;
            const o = row + n * P + oh * OW;
            if (ih < 0 || ih >= H) {
              memory.fill(col + ((<usize>o) << 2), 0, (<usize>OW) << 2);
              continue;
            }
            const xr = plane + ih * W;
            let iw = kj * dw - pw;
            if (sw == 1 && iw >= 0 && iw + OW <= W) {
              memory.copy(col + ((<usize>o) << 2), x + ((<usize>(xr + iw)) << 2), (<usize>OW) << 2);
              continue;
            }
            for (let ow = 0; ow < OW; ow++) {
              sf(col, o + ow, iw >= 0 && iw < W ? f(x, xr + iw) : 0);
              iw += sw;
            }
          }
        }
      }
    }
  }
}

/** Adjoint of f32_train_im2col_nchw: dx += scatter(col). */
export function f32_train_col2im_nchw(
  col: usize, N: i32, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, dh: i32, dw: i32,
  OH: i32, OW: i32, c0: i32, cg: i32, dx: usize,
): void {
  const P = OH * OW;
  const cols = N * P;
  for (let ci = 0; ci < cg; ci++) {
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        const row = ((ci * kh + ki) * kw + kj) * cols;
        for (let n = 0; n < N; n++) {
          const plane = (n * C + c0 + ci) * H * W;
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * sh - ph + ki * dh;
            if (ih < 0 || ih >= H) continue;
            const o = row + n * P + oh * OW;
            const xr = plane + ih * W;
            let iw = kj * dw - pw;
            for (let ow = 0; ow < OW; ow++) {
              if (iw >= 0 && iw < W) sf(dx, xr + iw, f(dx, xr + iw) + f(col, o + ow));
              iw += sw;
            }
          }
        }
      }
    }
  }
}

/** Depthwise forward, w [C][kh][kw], no bias: y[n][c] = sum taps x * w. */
export function f32_train_dwconv_fwd(
  x: usize, w: usize, N: i32, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
  dh: i32, dw: i32, OH: i32, OW: i32, y: usize,
): void {
  for (let nc = 0; nc < N * C; nc++) {
    const c = nc % C;
    const xp = nc * H * W, yp = nc * OH * OW, wp = c * kh * kw;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let acc: f32 = 0;
        for (let ki = 0; ki < kh; ki++) {
          const ih = oh * sh - ph + ki * dh;
          if (ih < 0 || ih >= H) continue;
          for (let kj = 0; kj < kw; kj++) {
            const iw = ow * sw - pw + kj * dw;
            if (iw < 0 || iw >= W) continue;
            acc += f(x, xp + ih * W + iw) * f(w, wp + ki * kw + kj);
          }
        }
        sf(y, yp + oh * OW + ow, acc);
      }
    }
  }
}

/** Depthwise input gradient (overwrites dx). */
export function f32_train_dwconv_bwd_data(
  dy: usize, w: usize, N: i32, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
  dh: i32, dw: i32, OH: i32, OW: i32, dx: usize,
): void {
  memory.fill(dx, 0, (<usize>(N * C * H * W)) << 2);
  for (let nc = 0; nc < N * C; nc++) {
    const c = nc % C;
    const xp = nc * H * W, yp = nc * OH * OW, wp = c * kh * kw;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const g = f(dy, yp + oh * OW + ow);
        for (let ki = 0; ki < kh; ki++) {
          const ih = oh * sh - ph + ki * dh;
          if (ih < 0 || ih >= H) continue;
          for (let kj = 0; kj < kw; kj++) {
            const iw = ow * sw - pw + kj * dw;
            if (iw < 0 || iw >= W) continue;
            const i = xp + ih * W + iw;
            sf(dx, i, f(dx, i) + g * f(w, wp + ki * kw + kj));
          }
        }
      }
    }
  }
}

/** Depthwise filter gradient (overwrites dw [C][kh][kw]). */
export function f32_train_dwconv_bwd_filter(
  x: usize, dy: usize, N: i32, C: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32,
  dh: i32, dw: i32, OH: i32, OW: i32, dwt: usize,
): void {
  memory.fill(dwt, 0, (<usize>(C * kh * kw)) << 2);
  for (let nc = 0; nc < N * C; nc++) {
    const c = nc % C;
    const xp = nc * H * W, yp = nc * OH * OW, wp = c * kh * kw;
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        let acc: f32 = 0;
        for (let oh = 0; oh < OH; oh++) {
          const ih = oh * sh - ph + ki * dh;
          if (ih < 0 || ih >= H) continue;
          for (let ow = 0; ow < OW; ow++) {
            const iw = ow * sw - pw + kj * dw;
            if (iw < 0 || iw >= W) continue;
            acc += f(x, xp + ih * W + iw) * f(dy, yp + oh * OW + ow);
          }
        }
        sf(dwt, wp + ki * kw + kj, f(dwt, wp + ki * kw + kj) + acc);
      }
    }
  }
}

/** Max pooling over `planes` HxW planes; idx (i32) gets the flat input index of each maximum (first wins). */
export function f32_train_maxpool_fwd(
  x: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, OH: i32, OW: i32,
  y: usize, idx: usize,
): void {
  for (let p = 0; p < planes; p++) {
    const xp = p * H * W, yp = p * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let best: f32 = -Infinity;
        let bi = -1;
        for (let ki = 0; ki < kh; ki++) {
          const ih = oh * sh - ph + ki;
          if (ih < 0 || ih >= H) continue;
          for (let kj = 0; kj < kw; kj++) {
            const iw = ow * sw - pw + kj;
            if (iw < 0 || iw >= W) continue;
            const v = f(x, xp + ih * W + iw);
            if (v > best || bi < 0) {
              best = v;
              bi = xp + ih * W + iw;
            }
          }
        }
        sf(y, yp + oh * OW + ow, best);
        store<i32>(idx + ((<usize>(yp + oh * OW + ow)) << 2), bi);
      }
    }
  }
}

/** dx[idx[i]] += dy[i] for i < count. */
export function f32_train_maxpool_bwd(dy: usize, idx: usize, count: i32, dx: usize): void {
  for (let i = 0; i < count; i++) {
    const j = load<i32>(idx + ((<usize>i) << 2));
    if (j >= 0) sf(dx, j, f(dx, j) + f(dy, i));
  }
}

/** Average pooling, padding excluded from the count. */
export function f32_train_avgpool_fwd(
  x: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, OH: i32, OW: i32, y: usize,
): void {
  for (let p = 0; p < planes; p++) {
    const xp = p * H * W, yp = p * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = max(0, oh * sh - ph), h1 = min(H, oh * sh - ph + kh);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = max(0, ow * sw - pw), w1 = min(W, ow * sw - pw + kw);
        let acc: f32 = 0;
        for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) acc += f(x, xp + ih * W + iw);
        const cnt = (h1 - h0) * (w1 - w0);
        sf(y, yp + oh * OW + ow, cnt > 0 ? acc / <f32>cnt : 0);
      }
    }
  }
}

/** Adjoint of f32_train_avgpool_fwd, accumulated into dx. */
export function f32_train_avgpool_bwd(
  dy: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32, OH: i32, OW: i32, dx: usize,
): void {
  for (let p = 0; p < planes; p++) {
    const xp = p * H * W, yp = p * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = max(0, oh * sh - ph), h1 = min(H, oh * sh - ph + kh);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = max(0, ow * sw - pw), w1 = min(W, ow * sw - pw + kw);
        const cnt = (h1 - h0) * (w1 - w0);
        if (cnt <= 0) continue;
        const g = f(dy, yp + oh * OW + ow) / <f32>cnt;
        for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) sf(dx, xp + ih * W + iw, f(dx, xp + ih * W + iw) + g);
      }
    }
  }
}

/**
 * Batch norm, training mode, NCHW with HW = H*W: per channel c, mean and biased variance over (n, hw);
 * y = gamma * (x - mean) * invstd + beta, invstd = 1 / sqrt(var + eps). Writes mean[C], invstd[C] (for the
 * backward pass) and the unbiased variance to var_out[C] (for running statistics; 0 if only one value).
 */
export function f32_train_bn_fwd(
  x: usize, N: i32, C: i32, HW: i32, gamma: usize, beta: usize, eps: f32, y: usize, mean: usize, invstd: usize, var_out: usize,
): void {
  const cnt = N * HW;
  for (let c = 0; c < C; c++) {
    let s: f64 = 0;
    for (let n = 0; n < N; n++) {
      const b = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) s += <f64>f(x, b + i);
    }
    const m = s / <f64>cnt;
    let v: f64 = 0;
    for (let n = 0; n < N; n++) {
      const b = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) {
        const d = <f64>f(x, b + i) - m;
        v += d * d;
      }
    }
    const is = <f32>(1 / Math.sqrt(v / <f64>cnt + <f64>eps));
    const mf = <f32>m;
    sf(mean, c, mf);
    sf(invstd, c, is);
    sf(var_out, c, cnt > 1 ? <f32>(v / <f64>(cnt - 1)) : 0);
    const g = f(gamma, c) * is, bb = f(beta, c);
    for (let n = 0; n < N; n++) {
      const b = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) sf(y, b + i, (f(x, b + i) - mf) * g + bb);
    }
  }
}

/**
 * Batch norm backward (training mode): with xhat = (x - mean) * invstd,
 * dbeta = sum dy, dgamma = sum dy * xhat, dx = gamma * invstd / m * (m * dy - dbeta - xhat * dgamma).
 * Overwrites dx, dgamma, dbeta.
 */
export function f32_train_bn_bwd(
  x: usize, dy: usize, N: i32, C: i32, HW: i32, gamma: usize, mean: usize, invstd: usize, dx: usize, dgamma: usize, dbeta: usize,
): void {
  const cnt = N * HW;
  for (let c = 0; c < C; c++) {
    const m = f(mean, c), is = f(invstd, c);
    let sb: f64 = 0, sg: f64 = 0;
    for (let n = 0; n < N; n++) {
      const b = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) {
        const g = <f64>f(dy, b + i);
        sb += g;
        sg += g * <f64>((f(x, b + i) - m) * is);
      }
    }
    sf(dbeta, c, <f32>sb);
    sf(dgamma, c, <f32>sg);
    const k = f(gamma, c) * is / <f32>cnt;
    const fb = <f32>sb, fg = <f32>sg;
    for (let n = 0; n < N; n++) {
      const b = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) {
        const xh = (f(x, b + i) - m) * is;
        sf(dx, b + i, k * (<f32>cnt * f(dy, b + i) - fb - xh * fg));
      }
    }
  }
}

/** ReLU / ReLU6 backward: dx = dy where lo < x < hi (hi = +inf for ReLU, 6 for ReLU6), else 0. */
export function f32_train_relu_bwd(x: usize, dy: usize, dx: usize, n: i32, hi: f32): void {
  for (let i = 0; i < n; i++) {
    const v = f(x, i);
    sf(dx, i, v > 0 && v < hi ? f(dy, i) : 0);
  }
}

/** Bias gradient, NCHW: db[c] = sum over n, hw of dy (overwrites db). HW = 1 for a fully connected layer. */
export function f32_train_bias_grad(dy: usize, N: i32, C: i32, HW: i32, db: usize): void {
  for (let c = 0; c < C; c++) {
    let s: f32 = 0;
    for (let n = 0; n < N; n++) {
      const b = (n * C + c) * HW;
      for (let i = 0; i < HW; i++) s += f(dy, b + i);
    }
    sf(db, c, s);
  }
}

/**
 * Softmax cross-entropy over N rows of K logits with integer labels (i32): returns the mean loss and writes
 * dlogits = (softmax - onehot) / N (the gradient of the mean loss). Computed with the max subtracted.
 */
export function f32_train_softmax_ce(logits: usize, labels: usize, N: i32, K: i32, dlogits: usize): f32 {
  let loss: f64 = 0;
  for (let n = 0; n < N; n++) {
    const b = n * K;
    let mx: f32 = -Infinity;
    for (let k = 0; k < K; k++) mx = max(mx, f(logits, b + k));
    let s: f64 = 0;
    for (let k = 0; k < K; k++) s += Math.exp(<f64>(f(logits, b + k) - mx));
    const lab = load<i32>(labels + ((<usize>n) << 2));
    loss += Math.log(s) - <f64>(f(logits, b + lab) - mx);
    const inv = 1 / s;
    for (let k = 0; k < K; k++) {
      const p = <f32>(Math.exp(<f64>(f(logits, b + k) - mx)) * inv);
      sf(dlogits, b + k, (p - (k == lab ? <f32>1 : <f32>0)) / <f32>N);
    }
  }
  return <f32>(loss / <f64>N);
}

/**
 * SGD with momentum (PyTorch semantics): g' = g + wd * w; v = momentum * v + g'; w -= lr * (nesterov ? g' + momentum * v : v).
 */
export function f32_train_sgd(w: usize, g: usize, v: usize, n: i32, lr: f32, momentum: f32, wd: f32, nesterov: i32): void {
  for (let i = 0; i < n; i++) {
    const gi = f(g, i) + wd * f(w, i);
    const vi = momentum * f(v, i) + gi;
    sf(v, i, vi);
    sf(w, i, f(w, i) - lr * (nesterov ? gi + momentum * vi : vi));
  }
}

/**
 * Adam (PyTorch semantics, step t >= 1; decoupled = 1 gives AdamW): m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * w -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps). L2 weight decay (decoupled = 0) adds wd*w to g;
 * AdamW multiplies w by (1 - lr*wd) first.
 */
export function f32_train_adam(
  w: usize, g: usize, m: usize, v: usize, n: i32, lr: f32, b1: f32, b2: f32, eps: f32, wd: f32, t: i32, decoupled: i32,
): void {
  const c1 = <f32>(1 - Math.pow(<f64>b1, <f64>t));
  const c2 = <f32>(1 - Math.pow(<f64>b2, <f64>t));
  for (let i = 0; i < n; i++) {
    let wi = f(w, i);
    let gi = f(g, i);
    if (decoupled) wi *= 1 - lr * wd;
    else gi += wd * wi;
    const mi = b1 * f(m, i) + (1 - b1) * gi;
    const vi = b2 * f(v, i) + (1 - b2) * gi * gi;
    sf(m, i, mi);
    sf(v, i, vi);
    sf(w, i, wi - lr * (mi / c1) / (Mathf.sqrt(vi / c2) + eps));
  }
}

@inline function rne(x: f32): f32 {
  return nearest<f32>(x); // round half to even (wasm f32.nearest)
}

/**
 * Fake quantization forward: y = (clamp(round(x / s) + z, qmin, qmax) - z) * s, per tensor (C = 1) or per
 * channel (channel of element i is (i / inner) % C; scales[C], zero points zps[C] as f32).
 * mask (u8, may be 0) gets 1 where round(x/s) + z is inside [qmin, qmax] (the clipped-STE pass region).
 */
export function f32_train_fakequant_fwd(
  x: usize, y: usize, mask: usize, n: i32, C: i32, inner: i32, scales: usize, zps: usize, qmin: f32, qmax: f32,
): void {
  for (let i = 0; i < n; i++) {
    const c = C == 1 ? 0 : (i / inner) % C;
    const s = f(scales, c), z = f(zps, c);
    const q = rne(f(x, i) / s) + z;
    const inside = q >= qmin && q <= qmax;
    sf(y, i, (min(max(q, qmin), qmax) - z) * s);
    if (mask) store<u8>(mask + <usize>i, inside ? 1 : 0);
  }
}

/**
 * Fake quantization backward: dx = dy where inside (clipped STE), else 0. If dscale != 0, also accumulates the
 * LSQ gradient of the scale per channel: dscale[c] += grad_scale * dy * (inside ? round(x/s) - x/s :
 * (q < qmin ? qmin - z : qmax - z)). The caller picks grad_scale (LSQ: 1 / sqrt(numel * qmax)).
 */
export function f32_train_fakequant_bwd(
  x: usize, dy: usize, dx: usize, n: i32, C: i32, inner: i32, scales: usize, zps: usize, qmin: f32, qmax: f32,
  dscale: usize, grad_scale: f32,
): void {
  for (let i = 0; i < n; i++) {
    const c = C == 1 ? 0 : (i / inner) % C;
    const s = f(scales, c), z = f(zps, c);
    const xs = f(x, i) / s;
    const r = rne(xs);
    const q = r + z;
    const g = f(dy, i);
    const inside = q >= qmin && q <= qmax;
    sf(dx, i, inside ? g : 0);
    if (dscale) {
      const d: f32 = inside ? r - xs : q < qmin ? qmin - z : qmax - z;
      sf(dscale, c, f(dscale, c) + grad_scale * g * d);
    }
  }
}
