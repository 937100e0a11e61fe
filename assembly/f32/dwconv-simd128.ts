// FP32 depthwise convolution (channel multiplier 1), NHWC, simd128 build. dwconv-gen-relaxed.ts is generated from this
// file by scripts/gen-f32-gemm.mjs (madd -> f32x4.relaxed_madd, __simd128 -> __relaxed): edit this one.
// Packed weights (src/kernels/f32.ts packF32DwWeights): Cp = roundup(C, 4) floats of bias, then KH*KW taps of Cp
// floats (tap t = kh*KW + kw). `zero` points to >= C zero floats (host scratch) standing in for padding taps.
// Sums bias, then the taps in (kh, kw) order per channel, like f32_dwconv__scalar.

@inline function madd(a: v128, b: v128, c: v128): v128 {
  return f32x4.add(c, f32x4.mul(a, b));
}

@inline function clamp4(v: v128, lo: v128, hi: v128): v128 {
  return f32x4.pmin(f32x4.pmax(v, lo), hi);
}

@inline function tapPtr(x: usize, n: i32, H: i32, W: i32, ih: i32, iw: i32, cb: usize, zero: usize): usize {
  return ih < 0 || ih >= H || iw < 0 || iw >= W ? zero : x + (<usize>((n * H + ih) * W + iw)) * cb;
}

/** 3x3 taps, any stride/dilation/padding: nine row pointers in registers, 8 then 4 channels per step. */
export function f32_dwconv_3x3__simd128(
  x: usize, H: i32, W: i32, C: i32, SH: i32, SW: i32, DH: i32, DW: i32, padT: i32, padL: i32,
  OH: i32, OW: i32, w: usize, y: usize, lo: f32, hi: f32, p_begin: i32, p_end: i32, zero: usize,
): void {
  const Cp = (C + 3) & ~3;
  const ts = (<usize>Cp) << 2;
  const cb = (<usize>C) << 2;
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  for (let p = p_begin; p < p_end; p++) {
    const ow = p % OW;
    const t = p / OW;
    const oh = t % OH;
    const n = t / OH;
    const ih = oh * SH - padT;
    const iw = ow * SW - padL;
    let i0 = tapPtr(x, n, H, W, ih, iw, cb, zero);
    let i1 = tapPtr(x, n, H, W, ih, iw + DW, cb, zero);
    let i2 = tapPtr(x, n, H, W, ih, iw + 2 * DW, cb, zero);
    let i3 = tapPtr(x, n, H, W, ih + DH, iw, cb, zero);
    let i4 = tapPtr(x, n, H, W, ih + DH, iw + DW, cb, zero);
    let i5 = tapPtr(x, n, H, W, ih + DH, iw + 2 * DW, cb, zero);
    let i6 = tapPtr(x, n, H, W, ih + 2 * DH, iw, cb, zero);
    let i7 = tapPtr(x, n, H, W, ih + 2 * DH, iw + DW, cb, zero);
    let i8 = tapPtr(x, n, H, W, ih + 2 * DH, iw + 2 * DW, cb, zero);
    let out = y + <usize>p * cb;
    let wp = w;
    let c = C;
    for (; c >= 8; c -= 8) {
      let a0 = v128.load(wp);
      let a1 = v128.load(wp, 16);
      a0 = madd(v128.load(i0), v128.load(wp + ts), a0); a1 = madd(v128.load(i0, 16), v128.load(wp + ts, 16), a1);
      a0 = madd(v128.load(i1), v128.load(wp + 2 * ts), a0); a1 = madd(v128.load(i1, 16), v128.load(wp + 2 * ts, 16), a1);
      a0 = madd(v128.load(i2), v128.load(wp + 3 * ts), a0); a1 = madd(v128.load(i2, 16), v128.load(wp + 3 * ts, 16), a1);
      a0 = madd(v128.load(i3), v128.load(wp + 4 * ts), a0); a1 = madd(v128.load(i3, 16), v128.load(wp + 4 * ts, 16), a1);
      a0 = madd(v128.load(i4), v128.load(wp + 5 * ts), a0); a1 = madd(v128.load(i4, 16), v128.load(wp + 5 * ts, 16), a1);
      a0 = madd(v128.load(i5), v128.load(wp + 6 * ts), a0); a1 = madd(v128.load(i5, 16), v128.load(wp + 6 * ts, 16), a1);
      a0 = madd(v128.load(i6), v128.load(wp + 7 * ts), a0); a1 = madd(v128.load(i6, 16), v128.load(wp + 7 * ts, 16), a1);
      a0 = madd(v128.load(i7), v128.load(wp + 8 * ts), a0); a1 = madd(v128.load(i7, 16), v128.load(wp + 8 * ts, 16), a1);
      a0 = madd(v128.load(i8), v128.load(wp + 9 * ts), a0); a1 = madd(v128.load(i8, 16), v128.load(wp + 9 * ts, 16), a1);
      v128.store(out, clamp4(a0, vlo, vhi));
      v128.store(out, clamp4(a1, vlo, vhi), 16);
      out += 32; wp += 32;
      i0 += 32; i1 += 32; i2 += 32; i3 += 32; i4 += 32; i5 += 32; i6 += 32; i7 += 32; i8 += 32;
    }
    for (; c > 0; c -= 4) {
      let a0 = v128.load(wp);
      a0 = madd(load4(i0, c), v128.load(wp + ts), a0);
      a0 = madd(load4(i1, c), v128.load(wp + 2 * ts), a0);
      a0 = madd(load4(i2, c), v128.load(wp + 3 * ts), a0);
      a0 = madd(load4(i3, c), v128.load(wp + 4 * ts), a0);
      a0 = madd(load4(i4, c), v128.load(wp + 5 * ts), a0);
      a0 = madd(load4(i5, c), v128.load(wp + 6 * ts), a0);
      a0 = madd(load4(i6, c), v128.load(wp + 7 * ts), a0);
      a0 = madd(load4(i7, c), v128.load(wp + 8 * ts), a0);
      a0 = madd(load4(i8, c), v128.load(wp + 9 * ts), a0);
      store4(out, clamp4(a0, vlo, vhi), c);
      out += 16; wp += 16;
      i0 += 16; i1 += 16; i2 += 16; i3 += 16; i4 += 16; i5 += 16; i6 += 16; i7 += 16; i8 += 16;
    }
  }
}

/**
 * 3x3 taps, output rows [r_begin, r_end) of N*OH: per row and block of 4 channels, the nine weight vectors stay in
 * registers while the kernel walks the interior pixels (windows fully inside the row: no checks); border pixels go
 * through f32_dwconv_3x3__simd128. Rows in the top/bottom padding read `zero` (>= W*C zero floats).
 */
export function f32_dwconv_3x3_rows__simd128(
  x: usize, H: i32, W: i32, C: i32, SH: i32, SW: i32, DH: i32, DW: i32, padT: i32, padL: i32,
  OH: i32, OW: i32, w: usize, y: usize, lo: f32, hi: f32, r_begin: i32, r_end: i32, zero: usize,
): void {
  const Cp = (C + 3) & ~3;
  const ts = (<usize>Cp) << 2;
  const cb = (<usize>C) << 2;
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  const d1 = <usize>DW * cb;
  const d2 = d1 + d1;
  const step = <usize>SW * cb;
  // interior output columns: ow*SW - padL >= 0 and ow*SW - padL + 2*DW <= W - 1
  let owLo = (padL + SW - 1) / SW;
  let owHi = W - 1 - 2 * DW + padL >= 0 ? (W - 1 - 2 * DW + padL) / SW + 1 : 0;
  if (owLo > OW) owLo = OW;
  if (owHi > OW) owHi = OW;
  if (owHi < owLo) owHi = owLo;
  for (let r = r_begin; r < r_end; r++) {
    const oh = r % OH;
    const n = r / OH;
    const p0 = r * OW;
    if (owLo > 0) f32_dwconv_3x3__simd128(x, H, W, C, SH, SW, DH, DW, padT, padL, OH, OW, w, y, lo, hi, p0, p0 + owLo, zero);
    if (owHi < OW) f32_dwconv_3x3__simd128(x, H, W, C, SH, SW, DH, DW, padT, padL, OH, OW, w, y, lo, hi, p0 + owHi, p0 + OW, zero);
    if (owHi <= owLo) continue;
    const ih = oh * SH - padT;
    const iw0 = <usize>(owLo * SW - padL) * cb;
    const row0 = (ih >= 0 && ih < H ? x + (<usize>((n * H + ih) * W)) * cb : zero) + iw0;
    const row1 = (ih + DH >= 0 && ih + DH < H ? x + (<usize>((n * H + ih + DH) * W)) * cb : zero) + iw0;
    const row2 = (ih + 2 * DH >= 0 && ih + 2 * DH < H ? x + (<usize>((n * H + ih + 2 * DH) * W)) * cb : zero) + iw0;
    const outRow = y + (<usize>(p0 + owLo)) * cb;
    const count = owHi - owLo;
    for (let c0 = 0; c0 < C; c0 += 4) {
      const rem = C - c0;
      const co = (<usize>c0) << 2;
      const wp = w + co;
      const vb = v128.load(wp);
      const w0 = v128.load(wp + ts), w1 = v128.load(wp + 2 * ts), w2 = v128.load(wp + 3 * ts);
      const w3 = v128.load(wp + 4 * ts), w4 = v128.load(wp + 5 * ts), w5 = v128.load(wp + 6 * ts);
      const w6 = v128.load(wp + 7 * ts), w7 = v128.load(wp + 8 * ts), w8 = v128.load(wp + 9 * ts);
      let a = row0 + co, b = row1 + co, c = row2 + co;
      let o = outRow + co;
      if (rem >= 4) {
        for (let i = 0; i < count; i++) {
          let acc = madd(v128.load(a), w0, vb);
          acc = madd(v128.load(a + d1), w1, acc);
          acc = madd(v128.load(a + d2), w2, acc);
          acc = madd(v128.load(b), w3, acc);
          acc = madd(v128.load(b + d1), w4, acc);
          acc = madd(v128.load(b + d2), w5, acc);
          acc = madd(v128.load(c), w6, acc);
          acc = madd(v128.load(c + d1), w7, acc);
          acc = madd(v128.load(c + d2), w8, acc);
          v128.store(o, clamp4(acc, vlo, vhi));
          a += step; b += step; c += step; o += cb;
        }
      } else {
        for (let i = 0; i < count; i++) {
          let acc = madd(load4(a, rem), w0, vb);
          acc = madd(load4(a + d1, rem), w1, acc);
          acc = madd(load4(a + d2, rem), w2, acc);
          acc = madd(load4(b, rem), w3, acc);
          acc = madd(load4(b + d1, rem), w4, acc);
          acc = madd(load4(b + d2, rem), w5, acc);
          acc = madd(load4(c, rem), w6, acc);
          acc = madd(load4(c + d1, rem), w7, acc);
          acc = madd(load4(c + d2, rem), w8, acc);
          store4(o, clamp4(acc, vlo, vhi), rem);
          a += step; b += step; c += step; o += cb;
        }
      }
    }
  }
}

/** Any kernel size (5x5 included): per output pixel, accumulates in-image taps into the output row. */
export function f32_dwconv__simd128(
  x: usize, H: i32, W: i32, C: i32, KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, padT: i32, padL: i32,
  OH: i32, OW: i32, w: usize, y: usize, lo: f32, hi: f32, p_begin: i32, p_end: i32,
): void {
  const Cp = (C + 3) & ~3;
  const cb = (<usize>C) << 2;
  const vlo = f32x4.splat(lo);
  const vhi = f32x4.splat(hi);
  for (let p = p_begin; p < p_end; p++) {
    const ow = p % OW;
    const t = p / OW;
    const oh = t % OH;
    const n = t / OH;
    const out = y + <usize>p * cb;
    // 8 channels per pass with accumulators in registers, taps inside
    let c0 = 0;
    for (; c0 < C; c0 += 8) {
      const rem = C - c0;
      let a0 = v128.load(w + ((<usize>c0) << 2));
      let a1 = rem > 4 ? v128.load(w + ((<usize>c0) << 2), 16) : f32x4.splat(0);
      for (let kh = 0; kh < KH; kh++) {
        const ih = oh * SH - padT + kh * DH;
        if (ih < 0 || ih >= H) continue;
        for (let kw = 0; kw < KW; kw++) {
          const iw = ow * SW - padL + kw * DW;
          if (iw < 0 || iw >= W) continue;
          const xp = x + (<usize>((n * H + ih) * W + iw)) * cb + ((<usize>c0) << 2);
          const wp = w + ((<usize>((1 + kh * KW + kw) * Cp + c0)) << 2);
          if (rem >= 8) {
            a0 = madd(v128.load(xp), v128.load(wp), a0);
            a1 = madd(v128.load(xp, 16), v128.load(wp, 16), a1);
          } else {
            a0 = madd(load4(xp, rem), v128.load(wp), a0);
            if (rem > 4) a1 = madd(load4(xp + 16, rem - 4), v128.load(wp, 16), a1);
          }
        }
      }
      const o = out + ((<usize>c0) << 2);
      if (rem >= 8) {
        v128.store(o, clamp4(a0, vlo, vhi));
        v128.store(o, clamp4(a1, vlo, vhi), 16);
      } else {
        store4(o, clamp4(a0, vlo, vhi), rem);
        if (rem > 4) store4(o + 16, clamp4(a1, vlo, vhi), rem - 4);
      }
    }
  }
}

/** Loads min(n, 4) floats (rest zero). */
@inline function load4(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  if (n == 3) return f32x4.replace_lane(v128.load64_zero(p), 2, load<f32>(p, 8));
  if (n == 2) return v128.load64_zero(p);
  return v128.load32_zero(p);
}

/** Stores min(n, 4) floats. */
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
