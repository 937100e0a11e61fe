// FP32 CNN kernels, scalar build (also the portable fallbacks every build carries): im2col / col2im (NHWC),
// depthwise convolution, pooling, global average pooling, element-wise binary ops, activations, softmax,
// FP16 <-> FP32 conversion. All tensors NHWC, row-major; pointers are byte offsets, counts in elements.
//
// Packed depthwise weights (built by src/kernels/f32.ts packF32DwWeights): Cp = roundup(C, 4) floats of bias,
// then KH*KW taps of Cp floats each (tap t = kh*KW + kw), padding zero.

/**
 * im2col, NHWC: rows p in [p_begin, p_end) of the N*OH*OW x (KH*KW*cg) matrix (columns ordered kh, kw, c) of the
 * input channels [c_off, c_off + cg) of x (N x H x W x C), written densely to dst (row p at (p - p_begin)).
 * Out-of-image taps are 0.
 */
export function f32_im2col_nhwc(
  x: usize, H: i32, W: i32, C: i32, c_off: i32, cg: i32, KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32,
  padT: i32, padL: i32, OH: i32, OW: i32, p_begin: i32, p_end: i32, dst: usize,
): void {
  const rowBytes = (<usize>cg) << 2;
  for (let p = p_begin; p < p_end; p++) {
    const ow = p % OW;
    const t = p / OW;
    const oh = t % OH;
    const n = t / OH;
    const ih0 = oh * SH - padT;
    const iw0 = ow * SW - padL;
    const img = x + (((<usize>n * H * W) * C + c_off) << 2);
    for (let kh = 0; kh < KH; kh++) {
      const ih = ih0 + kh * DH;
      for (let kw = 0; kw < KW; kw++) {
        const iw = iw0 + kw * DW;
        if (ih < 0 || ih >= H || iw < 0 || iw >= W) memory.fill(dst, 0, rowBytes);
        else copyFloats(dst, img + ((<usize>(ih * W + iw) * C) << 2), cg);
        dst += rowBytes;
      }
    }
  }
}

@inline function copyFloats(dst: usize, src: usize, n: i32): void {
  if (n >= 16) memory.copy(dst, src, (<usize>n) << 2);
  else for (let i = 0; i < n; i++) store<f32>(dst + ((<usize>i) << 2), load<f32>(src + ((<usize>i) << 2)));
}

/**
 * col2im, NHWC (adjoint of f32_im2col_nhwc over all rows): dx[n, ih, iw, c_off + c] += col[p, (kh, kw, c)]
 * for every in-image tap. dx is not cleared (accumulates). Used for the input gradient of a convolution.
 */
export function f32_col2im_nhwc(
  col: usize, N: i32, H: i32, W: i32, C: i32, c_off: i32, cg: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  DH: i32, DW: i32, padT: i32, padL: i32, OH: i32, OW: i32, dx: usize,
): void {
  let src = col;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * SH - padT + kh * DH;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * SW - padL + kw * DW;
            if (ih >= 0 && ih < H && iw >= 0 && iw < W) {
              const d = dx + (((<usize>((n * H + ih) * W + iw)) * C + c_off) << 2);
              for (let c = 0; c < cg; c++) {
                const q = d + ((<usize>c) << 2);
                store<f32>(q, load<f32>(q) + load<f32>(src + ((<usize>c) << 2)));
              }
            }
            src += (<usize>cg) << 2;
          }
        }
      }
    }
  }
}

/**
 * Depthwise convolution (channel multiplier 1), NHWC, packed weights (see header), output pixels
 * p in [p_begin, p_end) of N*OH*OW, clamped to [lo, hi]. Sums bias then taps in (kh, kw) order.
 */
export function f32_dwconv__scalar(
  x: usize, H: i32, W: i32, C: i32, KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, padT: i32, padL: i32,
  OH: i32, OW: i32, w: usize, y: usize, lo: f32, hi: f32, p_begin: i32, p_end: i32,
): void {
  const Cp = (C + 3) & ~3;
  const cb = (<usize>C) << 2;
  for (let p = p_begin; p < p_end; p++) {
    const ow = p % OW;
    const t = p / OW;
    const oh = t % OH;
    const n = t / OH;
    const out = y + <usize>p * cb;
    for (let c = 0; c < C; c++) store<f32>(out + ((<usize>c) << 2), load<f32>(w + ((<usize>c) << 2)));
    for (let kh = 0; kh < KH; kh++) {
      const ih = oh * SH - padT + kh * DH;
      if (ih < 0 || ih >= H) continue;
      for (let kw = 0; kw < KW; kw++) {
        const iw = ow * SW - padL + kw * DW;
        if (iw < 0 || iw >= W) continue;
        const xp = x + (<usize>((n * H + ih) * W + iw)) * cb;
        const wp = w + ((<usize>((1 + kh * KW + kw) * Cp)) << 2);
        for (let c = 0; c < C; c++) {
          const o = out + ((<usize>c) << 2);
          store<f32>(o, load<f32>(o) + load<f32>(xp + ((<usize>c) << 2)) * load<f32>(wp + ((<usize>c) << 2)));
        }
      }
    }
    for (let c = 0; c < C; c++) {
      const o = out + ((<usize>c) << 2);
      const v = load<f32>(o);
      store<f32>(o, v < lo ? lo : v > hi ? hi : v);
    }
  }
}

/**
 * Pooling (see f32_ref_pool for the semantics; kind 0 max, 1 average excluding pads, 2 including pads),
 * output pixels p in [p_begin, p_end) of N*OH*OW.
 */
export function f32_pool__scalar(
  kind: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32,
  padT: i32, padL: i32, padB: i32, padR: i32, x: usize, y: usize, p_begin: i32, p_end: i32,
): void {
  const cb = (<usize>C) << 2;
  for (let p = p_begin; p < p_end; p++) {
    const ow = p % OW;
    const t = p / OW;
    const oh = t % OH;
    const n = t / OH;
    const out = y + <usize>p * cb;
    const init: f32 = kind == 0 ? -Infinity : 0;
    for (let c = 0; c < C; c++) store<f32>(out + ((<usize>c) << 2), init);
    let cnt = 0;
    let cntPad = 0;
    for (let kh = 0; kh < KH; kh++) {
      const ih = oh * SH - padT + kh * DH;
      for (let kw = 0; kw < KW; kw++) {
        const iw = ow * SW - padL + kw * DW;
        if (ih >= -padT && ih < H + padB && iw >= -padL && iw < W + padR) cntPad++;
        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
        cnt++;
        const xp = x + (<usize>((n * H + ih) * W + iw)) * cb;
        for (let c = 0; c < C; c++) {
          const o = out + ((<usize>c) << 2);
          const v = load<f32>(xp + ((<usize>c) << 2));
          const a = load<f32>(o);
          store<f32>(o, kind == 0 ? (v > a ? v : a) : a + v);
        }
      }
    }
    if (kind != 0) {
      const d = kind == 1 ? cnt : cntPad;
      for (let c = 0; c < C; c++) {
        const o = out + ((<usize>c) << 2);
        store<f32>(o, d > 0 ? load<f32>(o) / (d as f32) : 0);
      }
    }
  }
}

/** Global average pooling: y[n, c] = mean over HW of x[n, :, c], for channels [c_begin, c_end), all N. */
export function f32_gavgpool__scalar(N: i32, HW: i32, C: i32, x: usize, y: usize, c_begin: i32, c_end: i32): void {
  const inv: f32 = 1 / (HW as f32);
  for (let n = 0; n < N; n++) {
    for (let c = c_begin; c < c_end; c++) {
      let s: f32 = 0;
      let p = x + ((<usize>(n * HW * C + c)) << 2);
      for (let i = 0; i < HW; i++) {
        s += load<f32>(p);
        p += (<usize>C) << 2;
      }
      store<f32>(y + ((<usize>(n * C + c)) << 2), s * inv);
    }
  }
}

/**
 * Element-wise binary op over `rows` rows of C elements: out = clamp(a op b, lo, hi) (op 0 add, 1 sub, 2 mul,
 * 3 div). mode 0: a, b, out all rows x C; 1: b is C values (per channel); 2: b is one value; 3: a per channel;
 * 4: a one value. The host passes a/b/out already offset to the first row of its range.
 */
export function f32_binary__scalar(op: i32, mode: i32, a: usize, b: usize, out: usize, rows: i32, C: i32, lo: f32, hi: f32): void {
  const n = rows * C;
  for (let i = 0; i < n; i++) {
    const ia = mode == 3 ? i % C : mode == 4 ? 0 : i;
    const ib = mode == 1 ? i % C : mode == 2 ? 0 : i;
    const x = load<f32>(a + ((<usize>ia) << 2));
    const z = load<f32>(b + ((<usize>ib) << 2));
    const v: f32 = op == 0 ? x + z : op == 1 ? x - z : op == 2 ? x * z : x / z;
    store<f32>(out + ((<usize>i) << 2), v < lo ? lo : v > hi ? hi : v);
  }
}

/** Activations (kinds as f32_ref_unary) over n elements, single precision math. */
export function f32_unary__scalar(kind: i32, x: usize, out: usize, n: i32, p0: f32, p1: f32): void {
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + ((<usize>i) << 2));
    let r: f32;
    if (kind == 0) r = v > 0 ? v : 0;
    else if (kind == 1) r = v < p0 ? p0 : v > p1 ? p1 : v;
    else if (kind == 2) r = v >= 0 ? v : v * p0;
    else if (kind == 3) r = sigmoidf(v);
    else if (kind == 4) r = min<f32>(1, max<f32>(0, p0 * v + p1));
    else if (kind == 5) r = v * min<f32>(1, max<f32>(0, v * (1.0 / 6.0) + 0.5));
    else if (kind == 7) r = Mathf.sqrt(v);
    else if (kind == 8) r = v * v;
    else r = tanhf(v);
    store<f32>(out + ((<usize>i) << 2), r);
  }
}

@inline function sigmoidf(v: f32): f32 {
  const z = Mathf.exp(-Mathf.abs(v));
  const s: f32 = 1 / (1 + z);
  return v >= 0 ? s : z * s;
}

@inline function tanhf(v: f32): f32 {
  const a = Mathf.abs(v);
  let r: f32;
  if (a < 0.55) {
    const x2 = a * a;
    r = a * (1 + x2 * (<f32>(-1.0 / 3) + x2 * (<f32>(2.0 / 15) + x2 * (<f32>(-17.0 / 315) + x2 * (<f32>(62.0 / 2835) +
      x2 * (<f32>(-1382.0 / 155925) + x2 * (<f32>(21844.0 / 6081075) + x2 * <f32>(-929569.0 / 638512875))))))));
  } else {
    const e = Mathf.exp(-2 * a);
    r = (1 - e) / (1 + e);
  }
  return v < 0 ? -r : r;
}

/** Softmax over the last axis for rows [r_begin, r_end) of a rows x C matrix. */
export function f32_softmax__scalar(C: i32, x: usize, out: usize, r_begin: i32, r_end: i32): void {
  for (let r = r_begin; r < r_end; r++) {
    const xi = x + ((<usize>r * C) << 2);
    const yo = out + ((<usize>r * C) << 2);
    let mx: f32 = -Infinity;
    for (let c = 0; c < C; c++) mx = max<f32>(mx, load<f32>(xi + ((<usize>c) << 2)));
    let s: f32 = 0;
    for (let c = 0; c < C; c++) {
      const e = Mathf.exp(load<f32>(xi + ((<usize>c) << 2)) - mx);
      store<f32>(yo + ((<usize>c) << 2), e);
      s += e;
    }
    const inv: f32 = 1 / s;
    for (let c = 0; c < C; c++) store<f32>(yo + ((<usize>c) << 2), load<f32>(yo + ((<usize>c) << 2)) * inv);
  }
}

/** IEEE half -> float for n values (exact: every half is a float). */
export function f32_from_f16(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const h = <u32>load<u16>(src + ((<usize>i) << 1));
    const sign = (h & 0x8000) << 16;
    const e = (h >> 10) & 0x1f;
    let m = h & 0x3ff;
    let bits: u32;
    if (e == 0x1f) bits = sign | 0x7f800000 | (m << 13);
    else if (e != 0) bits = sign | ((e + 112) << 23) | (m << 13);
    else if (m == 0) bits = sign;
    else {
      // subnormal half: normalise
      let ee: u32 = 113;
      while ((m & 0x400) == 0) {
        m <<= 1;
        ee--;
      }
      bits = sign | (ee << 23) | ((m & 0x3ff) << 13);
    }
    store<u32>(dst + ((<usize>i) << 2), bits);
  }
}

/** float -> IEEE half for n values, round to nearest even, overflow to inf, NaN kept NaN (quiet). */
export function f32_to_f16(src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const f = load<u32>(src + ((<usize>i) << 2));
    const sign = (f >> 16) & 0x8000;
    const e = <i32>((f >> 23) & 0xff);
    const m = f & 0x7fffff;
    let h: u32;
    if (e == 0xff) h = sign | 0x7c00 | (m ? 0x200 | (m >> 13) : 0);
    else {
      const he = e - 112;
      if (he >= 0x1f) h = sign | 0x7c00;
      else if (he <= 0) {
        if (he < -10) h = sign;
        else {
          const mm = m | 0x800000;
          const shift = <u32>(14 - he);
          let v = mm >> shift;
          const rem = mm & ((1 << shift) - 1);
          const half = <u32>1 << (shift - 1);
          if (rem > half || (rem == half && (v & 1))) v++;
          h = sign | v;
        }
      } else {
        let v = (<u32>he << 10) | (m >> 13);
        const rem = m & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (v & 1))) v++;
        h = sign | v;
      }
    }
    store<u16>(dst + ((<usize>i) << 1), <u16>h);
  }
}

/**
 * ConvTranspose col2im, gather form (NHWC): output rows [oy0, oy1) of one image, channels of one group.
 * col holds, for the input rows [iy0, iy0 + rows) of that image, the GEMM x[pixel, cg] * W[cg, (ky, kx, oc)]: row
 * ((iy - iy0) * W + ix), column (ky * KW + kx) * ocg + oc (dense, KH*KW*ocg floats per row). Output pixel (oy, ox)
 * sums, ky outer and kx inner, the taps with oy = iy*SH - PT + ky*DH (and the same for x) inside the input, onto
 * bias[oc], then clamps to [lo, hi]. y points at the image's first pixel, group channel offset applied; row stride
 * of an output pixel is OC floats. The host guarantees every contributing input row lies in [iy0, iy0 + rows).
 */
export function f32_col2im_nhwc__scalar(
  col: usize, iy0: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32,
  OW: i32, ocg: i32, OC: i32, bias: usize, y: usize, oy0: i32, oy1: i32, lo: f32, hi: f32,
): void {
  const nc = KH * KW * ocg;
  for (let oy = oy0; oy < oy1; oy++) {
    for (let ox = 0; ox < OW; ox++) {
      const yp = y + ((<usize>(oy * OW + ox) * OC) << 2);
      for (let oc = 0; oc < ocg; oc++) {
        let s = load<f32>(bias + (<usize>oc << 2));
        for (let ky = 0; ky < KH; ky++) {
          const ty = oy + PT - ky * DH;
          if (ty < 0 || ty % SH != 0) continue;
          const iy = ty / SH;
          if (iy >= H) continue;
          for (let kx = 0; kx < KW; kx++) {
            const tx = ox + PL - kx * DW;
            if (tx < 0 || tx % SW != 0) continue;
            const ix = tx / SW;
            if (ix >= W) continue;
            s += load<f32>(col + ((<usize>((iy - iy0) * W + ix) * nc + (ky * KW + kx) * ocg + oc) << 2));
          }
        }
        store<f32>(yp + (<usize>oc << 2), s < lo ? lo : s > hi ? hi : s);
      }
    }
  }
}

/** Cast int32 -> float32 (round to nearest even), n values. */
export function f32_from_i32__scalar(x: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), <f32>load<i32>(x + (<usize>i << 2)));
}
