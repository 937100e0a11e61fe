// FP32 CNN kernels, simd128 build: pooling, global average pooling, element-wise binary ops, activations, softmax.
// Same contracts as the __scalar versions in cnn-scalar.ts (NHWC, byte offsets, element counts); channels are
// processed 4 at a time with a scalar-free tail (partial loads/stores), so any C works.

@inline function load4(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  if (n == 3) return f32x4.replace_lane(v128.load64_zero(p), 2, load<f32>(p, 8));
  if (n == 2) return v128.load64_zero(p);
  return v128.load32_zero(p);
}

@inline function store4(p: usize, v: v128, n: i32): void {
  if (n >= 4) v128.store(p, v);
  else {
    if (n & 2) {
      v128.store64_lane(p, v, 0);
      v = v128.shuffle<f32>(v, v, 2, 3, 2, 3);
      p += 8;
    }
    if (n & 1) v128.store32_lane(p, v, 0);
  }
}

@inline function clamp4(v: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmin(f32x4.pmax(v, lo), hi);
}

/** Pooling (kind 0 max, 1 average excluding pads, 2 including), output pixels [p_begin, p_end). */
export function f32_pool__simd128(
  kind: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32,
  padT: i32, padL: i32, padB: i32, padR: i32, x: usize, y: usize, p_begin: i32, p_end: i32,
): void {
  const cb = (<usize>C) << 2;
  const init = f32x4.splat(kind == 0 ? -Infinity : 0);
  for (let p = p_begin; p < p_end; p++) {
    const ow = p % OW;
    const t = p / OW;
    const oh = t % OH;
    const n = t / OH;
    const out = y + <usize>p * cb;
    let cnt = 0;
    let cntPad = 0;
    for (let kh = 0; kh < KH; kh++) {
      const ih = oh * SH - padT + kh * DH;
      for (let kw = 0; kw < KW; kw++) {
        const iw = ow * SW - padL + kw * DW;
        if (ih >= -padT && ih < H + padB && iw >= -padL && iw < W + padR) cntPad++;
        if (ih >= 0 && ih < H && iw >= 0 && iw < W) cnt++;
      }
    }
    for (let c0 = 0; c0 < C; c0 += 8) {
      const rem = C - c0;
      let a0 = init;
      let a1 = init;
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * SH - padT + kh * DH;
        if (ih < 0 || ih >= H) continue;
        for (let kw = 0; kw < KW; kw++) {
          const iw = ow * SW - padL + kw * DW;
          if (iw < 0 || iw >= W) continue;
          const xp = x + (<usize>((n * H + ih) * W + iw)) * cb + ((<usize>c0) << 2);
          const v0 = load4(xp, rem);
          const v1 = rem > 4 ? load4(xp + 16, rem - 4) : init;
          if (kind == 0) {
            a0 = f32x4.pmax(v0, a0);
            a1 = f32x4.pmax(v1, a1);
          } else {
            a0 = f32x4.add(a0, v0);
            a1 = f32x4.add(a1, v1);
          }
        }
      }
      if (kind != 0) {
        const d = kind == 1 ? cnt : cntPad;
        const s = f32x4.splat(d > 0 ? <f32>d : Infinity);
        a0 = f32x4.div(a0, s);
        a1 = f32x4.div(a1, s);
      }
      const o = out + ((<usize>c0) << 2);
      store4(o, a0, rem);
      if (rem > 4) store4(o + 16, a1, rem - 4);
    }
  }
}

/** Global average pooling for channels [c_begin, c_end) (host passes multiples of 4 except at C). */
export function f32_gavgpool__simd128(N: i32, HW: i32, C: i32, x: usize, y: usize, c_begin: i32, c_end: i32): void {
  const inv = f32x4.splat(<f32>1 / (HW as f32));
  const cb = (<usize>C) << 2;
  for (let n = 0; n < N; n++) {
    for (let c = c_begin; c < c_end; c += 4) {
      const rem = c_end - c;
      let s = f32x4.splat(0);
      let p = x + ((<usize>(n * HW * C + c)) << 2);
      for (let i = 0; i < HW; i++) {
        s = f32x4.add(s, load4(p, rem));
        p += cb;
      }
      store4(y + ((<usize>(n * C + c)) << 2), f32x4.mul(s, inv), rem);
    }
  }
}

@inline function binop(op: i32, x: v128, z: v128): v128 {
  if (op == 0) return f32x4.add(x, z);
  if (op == 1) return f32x4.sub(x, z);
  if (op == 2) return f32x4.mul(x, z);
  return f32x4.div(x, z);
}

@inline function binLoop(op: i32, mode: i32, a: usize, b: usize, out: usize, rows: i32, C: i32, vlo: v128, vhi: v128): void {
  if (mode == 0 || mode == 2 || mode == 4) {
    const n = rows * C;
    const sa = mode == 4 ? f32x4.splat(load<f32>(a)) : f32x4.splat(0);
    const sb = mode == 2 ? f32x4.splat(load<f32>(b)) : f32x4.splat(0);
    for (let i = 0; i < n; i += 4) {
      const rem = n - i;
      const off = (<usize>i) << 2;
      const x = mode == 4 ? sa : load4(a + off, rem);
      const z = mode == 2 ? sb : load4(b + off, rem);
      store4(out + off, clamp4(binop(op, x, z), vlo, vhi), rem);
    }
  } else {
    for (let r = 0; r < rows; r++) {
      const roff = (<usize>r * C) << 2;
      for (let c = 0; c < C; c += 4) {
        const rem = C - c;
        const off = (<usize>c) << 2;
        const x = mode == 3 ? load4(a + off, rem) : load4(a + roff + off, rem);
        const z = mode == 1 ? load4(b + off, rem) : load4(b + roff + off, rem);
        store4(out + roff + off, clamp4(binop(op, x, z), vlo, vhi), rem);
      }
    }
  }
}

/** Element-wise binary op (contract of f32_binary__scalar). */
export function f32_binary__simd128(op: i32, mode: i32, a: usize, b: usize, out: usize, rows: i32, C: i32, lo: f32, hi: f32): void {
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  if (op == 0) {
    if (mode == 0) binLoop(0, 0, a, b, out, rows, C, vlo, vhi);
    else if (mode == 1) binLoop(0, 1, a, b, out, rows, C, vlo, vhi);
    else if (mode == 2) binLoop(0, 2, a, b, out, rows, C, vlo, vhi);
    else if (mode == 3) binLoop(0, 3, a, b, out, rows, C, vlo, vhi);
    else binLoop(0, 4, a, b, out, rows, C, vlo, vhi);
  } else if (op == 1) {
    if (mode == 0) binLoop(1, 0, a, b, out, rows, C, vlo, vhi);
    else if (mode == 1) binLoop(1, 1, a, b, out, rows, C, vlo, vhi);
    else if (mode == 2) binLoop(1, 2, a, b, out, rows, C, vlo, vhi);
    else if (mode == 3) binLoop(1, 3, a, b, out, rows, C, vlo, vhi);
    else binLoop(1, 4, a, b, out, rows, C, vlo, vhi);
  } else if (op == 2) {
    if (mode == 0) binLoop(2, 0, a, b, out, rows, C, vlo, vhi);
    else if (mode == 1) binLoop(2, 1, a, b, out, rows, C, vlo, vhi);
    else if (mode == 2) binLoop(2, 2, a, b, out, rows, C, vlo, vhi);
    else if (mode == 3) binLoop(2, 3, a, b, out, rows, C, vlo, vhi);
    else binLoop(2, 4, a, b, out, rows, C, vlo, vhi);
  } else {
    if (mode == 0) binLoop(3, 0, a, b, out, rows, C, vlo, vhi);
    else if (mode == 1) binLoop(3, 1, a, b, out, rows, C, vlo, vhi);
    else if (mode == 2) binLoop(3, 2, a, b, out, rows, C, vlo, vhi);
    else if (mode == 3) binLoop(3, 3, a, b, out, rows, C, vlo, vhi);
    else binLoop(3, 4, a, b, out, rows, C, vlo, vhi);
  }
}

/**
 * exp(x) for x <= 0 (callers only need that range): n = round(x log2 e), r = x - n ln2 (two-part ln2,
 * Cody-Waite), Taylor degree 6 on |r| <= ln2/2 (truncation < 1.3e-7 relative), times 2^n built in the
 * exponent bits. x < -87 gives 0.
 */
@inline function exp4neg(x: v128): v128 {
  const tiny = f32x4.lt(x, f32x4.splat(-87));
  const xc = f32x4.max(x, f32x4.splat(-87));
  const n = f32x4.nearest(f32x4.mul(xc, f32x4.splat(1.44269504)));
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(<f32>(1.0 / 720));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 120)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 24)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 6)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return v128.andnot(f32x4.mul(p, scale), tiny);
}

@inline function unary4(kind: i32, v: v128, p0: v128, p1: v128): v128 {
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  if (kind == 0) return f32x4.pmax(v, zero);
  if (kind == 1) return clamp4(v, p0, p1);
  if (kind == 2) return v128.bitselect(v, f32x4.mul(v, p0), f32x4.ge(v, zero));
  if (kind == 3) {
    const z = exp4neg(f32x4.neg(f32x4.abs(v)));
    const s = f32x4.div(one, f32x4.add(one, z));
    return v128.bitselect(s, f32x4.mul(z, s), f32x4.ge(v, zero));
  }
  if (kind == 4) return clamp4(f32x4.add(f32x4.mul(v, p0), p1), zero, one);
  if (kind == 5) return f32x4.mul(v, clamp4(f32x4.add(f32x4.mul(v, f32x4.splat(<f32>(1.0 / 6.0))), f32x4.splat(0.5)), zero, one));
  if (kind == 7) return f32x4.sqrt(v);
  if (kind == 8) return f32x4.mul(v, v);
  // tanh: odd Taylor series for |x| < 0.55, (1 - e) / (1 + e) with e = exp(-2|x|) beyond; sign restored.
  const a = f32x4.abs(v);
  const x2 = f32x4.mul(a, a);
  let q = f32x4.splat(<f32>(-929569.0 / 638512875));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(<f32>(21844.0 / 6081075)));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(<f32>(-1382.0 / 155925)));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(<f32>(62.0 / 2835)));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(<f32>(-17.0 / 315)));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(<f32>(2.0 / 15)));
  q = f32x4.add(f32x4.mul(q, x2), f32x4.splat(<f32>(-1.0 / 3)));
  q = f32x4.add(f32x4.mul(q, x2), one);
  const small = f32x4.mul(a, q);
  const e = exp4neg(f32x4.mul(a, f32x4.splat(-2)));
  const big = f32x4.div(f32x4.sub(one, e), f32x4.add(one, e));
  const r = v128.bitselect(small, big, f32x4.lt(a, f32x4.splat(0.55)));
  return v128.or(r, v128.and(v, f32x4.splat(-0.0)));
}

@inline function unaryLoop(kind: i32, x: usize, out: usize, n: i32, p0: v128, p1: v128): void {
  for (let i = 0; i < n; i += 4) {
    const rem = n - i;
    const off = (<usize>i) << 2;
    store4(out + off, unary4(kind, load4(x + off, rem), p0, p1), rem);
  }
}

/** Activations (kinds as f32_ref_unary) over n elements. */
export function f32_unary__simd128(kind: i32, x: usize, out: usize, n: i32, p0: f32, p1: f32): void {
  const v0 = f32x4.splat(p0);
  const v1 = f32x4.splat(p1);
  if (kind == 0) unaryLoop(0, x, out, n, v0, v1);
  else if (kind == 1) unaryLoop(1, x, out, n, v0, v1);
  else if (kind == 2) unaryLoop(2, x, out, n, v0, v1);
  else if (kind == 3) unaryLoop(3, x, out, n, v0, v1);
  else if (kind == 4) unaryLoop(4, x, out, n, v0, v1);
  else if (kind == 5) unaryLoop(5, x, out, n, v0, v1);
  else if (kind == 7) unaryLoop(7, x, out, n, v0, v1);
  else if (kind == 8) unaryLoop(8, x, out, n, v0, v1);
  else unaryLoop(6, x, out, n, v0, v1);
}

/** Softmax over the last axis, rows [r_begin, r_end) of rows x C. */
export function f32_softmax__simd128(C: i32, x: usize, out: usize, r_begin: i32, r_end: i32): void {
  for (let r = r_begin; r < r_end; r++) {
    const xi = x + ((<usize>r * C) << 2);
    const yo = out + ((<usize>r * C) << 2);
    let vm = f32x4.splat(-Infinity);
    for (let c = 0; c < C; c += 4) {
      const rem = C - c;
      let v = load4(xi + ((<usize>c) << 2), rem);
      if (rem < 4) v = v128.bitselect(v, f32x4.splat(-Infinity), laneMask(rem));
      vm = f32x4.pmax(v, vm);
    }
    const m = max(max(f32x4.extract_lane(vm, 0), f32x4.extract_lane(vm, 1)), max(f32x4.extract_lane(vm, 2), f32x4.extract_lane(vm, 3)));
    const mv = f32x4.splat(m);
    let vs = f32x4.splat(0);
    for (let c = 0; c < C; c += 4) {
      const rem = C - c;
      let e = exp4neg(f32x4.sub(load4(xi + ((<usize>c) << 2), rem), mv));
      if (rem < 4) e = v128.and(e, laneMask(rem));
      store4(yo + ((<usize>c) << 2), e, rem);
      vs = f32x4.add(vs, e);
    }
    const s = f32x4.extract_lane(vs, 0) + f32x4.extract_lane(vs, 1) + f32x4.extract_lane(vs, 2) + f32x4.extract_lane(vs, 3);
    const inv = f32x4.splat(<f32>1 / s);
    for (let c = 0; c < C; c += 4) {
      const rem = C - c;
      const p = yo + ((<usize>c) << 2);
      store4(p, f32x4.mul(load4(p, rem), inv), rem);
    }
  }
}

/** All-ones in lanes [0, n), zero above. */
@inline function laneMask(n: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(n));
}

/** f32_col2im_nhwc__scalar (cnn-scalar.ts) with 4 channels per step (same summation order: bit-identical). */
export function f32_col2im_nhwc__simd128(
  col: usize, iy0: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32,
  OW: i32, ocg: i32, OC: i32, bias: usize, y: usize, oy0: i32, oy1: i32, lo: f32, hi: f32,
): void {
  const nc = KH * KW * ocg;
  const vlo = f32x4.splat(lo), vhi = f32x4.splat(hi);
  for (let oy = oy0; oy < oy1; oy++) {
    for (let ox = 0; ox < OW; ox++) {
      const yp = y + ((<usize>(oy * OW + ox) * OC) << 2);
      for (let oc = 0; oc < ocg; oc += 4) {
        const rem = ocg - oc;
        let s = load4(bias + (<usize>oc << 2), rem);
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
            s = f32x4.add(s, load4(col + ((<usize>((iy - iy0) * W + ix) * nc + (ky * KW + kx) * ocg + oc) << 2), rem));
          }
        }
        store4(yp + (<usize>oc << 2), clamp4(s, vlo, vhi), rem);
      }
    }
  }
}

/** Cast int32 -> float32 (f32x4.convert_i32x4_s: round to nearest even, as the scalar version), n values. */
export function f32_from_i32__simd128(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4.convert_i32x4_s(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), <f32>load<i32>(x + (<usize>i << 2)));
}
