// Plain TypeScript versions of the training kernels (NCHW, float32, row-major).
// They define the semantics of every entry of TrainKernels (src/train/kernels.ts) and serve as the oracle in
// tests; training itself runs the wasm versions when the build has them.
import type { TrainKernels, ConvGeom } from './kernels.js';

function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = src[r * cols + c];
  return out;
}

export const tsKernels: TrainKernels = {
  name: 'ts',

  sgemm(transA, transB, M, N, K, A, B, C, beta) {
    const a = transA ? transpose(A.subarray(0, K * M), K, M) : A; // a: [M, K]
    const b = transB ? transpose(B.subarray(0, N * K), N, K) : B; // b: [K, N]
    if (beta === 0) C.fill(0, 0, M * N);
    else if (beta !== 1) for (let i = 0; i < M * N; i++) C[i] *= beta;
    for (let i = 0; i < M; i++) {
      const ci = i * N;
      for (let k = 0; k < K; k++) {
        const av = a[i * K + k];
        if (av === 0) continue;
        const bk = k * N;
        for (let j = 0; j < N; j++) C[ci + j] += av * b[bk + j];
      }
    }
  },

  im2col(x, g, c0, cg, col) {
    const { N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW } = g;
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
                for (let ow = 0; ow < OW; ow++) col[o + ow] = 0;
                continue;
              }
              for (let ow = 0; ow < OW; ow++) {
                const iw = ow * sw - pw + kj * dw;
                col[o + ow] = iw >= 0 && iw < W ? x[plane + ih * W + iw] : 0;
              }
            }
          }
        }
      }
    }
  },

  col2im(col, g, c0, cg, dx) {
    const { N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW } = g;
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
              for (let ow = 0; ow < OW; ow++) {
                const iw = ow * sw - pw + kj * dw;
                if (iw >= 0 && iw < W) dx[plane + ih * W + iw] += col[o + ow];
              }
            }
          }
        }
      }
    }
  },

  dwconvForward(x, w, g, y) {
    const { N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW } = g;
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const xp = (n * C + c) * H * W;
        const yp = (n * C + c) * OH * OW;
        const wp = c * kh * kw;
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            let acc = 0;
            for (let ki = 0; ki < kh; ki++) {
              const ih = oh * sh - ph + ki * dh;
              if (ih < 0 || ih >= H) continue;
              for (let kj = 0; kj < kw; kj++) {
                const iw = ow * sw - pw + kj * dw;
                if (iw < 0 || iw >= W) continue;
                acc += x[xp + ih * W + iw] * w[wp + ki * kw + kj];
              }
            }
            y[yp + oh * OW + ow] = acc;
          }
        }
      }
    }
  },

  dwconvBackwardData(dy, w, g, dx) {
    const { N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW } = g;
    dx.fill(0, 0, N * C * H * W);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const xp = (n * C + c) * H * W;
        const yp = (n * C + c) * OH * OW;
        const wp = c * kh * kw;
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            const gv = dy[yp + oh * OW + ow];
            for (let ki = 0; ki < kh; ki++) {
              const ih = oh * sh - ph + ki * dh;
              if (ih < 0 || ih >= H) continue;
              for (let kj = 0; kj < kw; kj++) {
                const iw = ow * sw - pw + kj * dw;
                if (iw < 0 || iw >= W) continue;
                dx[xp + ih * W + iw] += gv * w[wp + ki * kw + kj];
              }
            }
          }
        }
      }
    }
  },

  dwconvBackwardFilter(x, dy, g, dwt) {
    const { N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW } = g;
    dwt.fill(0, 0, C * kh * kw);
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const xp = (n * C + c) * H * W;
        const yp = (n * C + c) * OH * OW;
        const wp = c * kh * kw;
        for (let ki = 0; ki < kh; ki++) {
          for (let kj = 0; kj < kw; kj++) {
            let acc = 0;
            for (let oh = 0; oh < OH; oh++) {
              const ih = oh * sh - ph + ki * dh;
              if (ih < 0 || ih >= H) continue;
              for (let ow = 0; ow < OW; ow++) {
                const iw = ow * sw - pw + kj * dw;
                if (iw < 0 || iw >= W) continue;
                acc += x[xp + ih * W + iw] * dy[yp + oh * OW + ow];
              }
            }
            dwt[wp + ki * kw + kj] += acc;
          }
        }
      }
    }
  },

  maxpoolForward(x, planes, g, y, idx) {
    const { H, W, kh, kw, sh, sw, ph, pw, OH, OW } = g;
    for (let p = 0; p < planes; p++) {
      const xp = p * H * W;
      const yp = p * OH * OW;
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let best = -Infinity;
          let bi = -1;
          for (let ki = 0; ki < kh; ki++) {
            const ih = oh * sh - ph + ki;
            if (ih < 0 || ih >= H) continue;
            for (let kj = 0; kj < kw; kj++) {
              const iw = ow * sw - pw + kj;
              if (iw < 0 || iw >= W) continue;
              const v = x[xp + ih * W + iw];
              if (v > best || bi < 0) {
                best = v;
                bi = xp + ih * W + iw;
              }
            }
          }
          y[yp + oh * OW + ow] = best;
          idx[yp + oh * OW + ow] = bi;
        }
      }
    }
  },

  maxpoolBackward(dy, idx, count, dx) {
    for (let i = 0; i < count; i++) dx[idx[i]] += dy[i];
  },

  avgpoolForward(x, planes, g, y) {
    const { H, W, kh, kw, sh, sw, ph, pw, OH, OW } = g;
    for (let p = 0; p < planes; p++) {
      const xp = p * H * W;
      const yp = p * OH * OW;
      for (let oh = 0; oh < OH; oh++) {
        const h0 = Math.max(0, oh * sh - ph), h1 = Math.min(H, oh * sh - ph + kh);
        for (let ow = 0; ow < OW; ow++) {
          const w0 = Math.max(0, ow * sw - pw), w1 = Math.min(W, ow * sw - pw + kw);
          let acc = 0;
          for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) acc += x[xp + ih * W + iw];
          y[yp + oh * OW + ow] = acc / ((h1 - h0) * (w1 - w0));
        }
      }
    }
  },

  avgpoolBackward(dy, planes, g, dx) {
    const { H, W, kh, kw, sh, sw, ph, pw, OH, OW } = g;
    for (let p = 0; p < planes; p++) {
      const xp = p * H * W;
      const yp = p * OH * OW;
      for (let oh = 0; oh < OH; oh++) {
        const h0 = Math.max(0, oh * sh - ph), h1 = Math.min(H, oh * sh - ph + kh);
        for (let ow = 0; ow < OW; ow++) {
          const w0 = Math.max(0, ow * sw - pw), w1 = Math.min(W, ow * sw - pw + kw);
          const gv = dy[yp + oh * OW + ow] / ((h1 - h0) * (w1 - w0));
          for (let ih = h0; ih < h1; ih++) for (let iw = w0; iw < w1; iw++) dx[xp + ih * W + iw] += gv;
        }
      }
    }
  },
};

export type { ConvGeom };
