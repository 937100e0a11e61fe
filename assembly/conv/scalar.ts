// qs8 convolution helpers of every build: im2col (x86 / scalar / relaxed paths: im2col into scratch, then the
// qs8 GEMM with its fused epilogue; see src/kernels/qconv.ts).
// Input NHWC int8/uint8 [N, H, W, C]. Geometry record: ./params.ts.
import { CP_H, CP_W, CP_C, CP_KH, CP_KW, CP_SH, CP_SW, CP_PT, CP_PL, CP_DH, CP_DW, CP_CG, CP_OH, CP_OW, CP_ZA } from './params';

/** Copies n bytes (a run of taps): 8 at a time, the last 8 overlapping the previous ones (n >= 8); no access past n. */
@inline function copy_run(d: usize, src: usize, n: i32): void {
  if (n >= 8) {
    let i = 0;
    for (; i + 8 < n; i += 8) store<u64>(d + <usize>i, load<u64>(src + <usize>i));
    store<u64>(d + <usize>(n - 8), load<u64>(src + <usize>(n - 8)));
  } else {
    for (let i = 0; i < n; i++) store<u8>(d + <usize>i, load<u8>(src + <usize>i));
  }
}

/** Fills n bytes with the byte pattern of z8 (za repeated), as copy_run (no memory.fill call for a few bytes). */
@inline function fill_run(d: usize, z8: u64, n: i32): void {
  if (n >= 8) {
    let i = 0;
    for (; i + 8 < n; i += 8) store<u64>(d + <usize>i, z8);
    store<u64>(d + <usize>(n - 8), z8);
  } else {
    for (let i = 0; i < n; i++) store<u8>(d + <usize>i, <u8>z8);
  }
}

/**
 * im2col of output pixels [p0, p1) (pixel p = (img*OH + oy)*OW + ox) for group g into dst: one row of
 * kh*kw*cg bytes per pixel, ordered (ky, kx, ci); taps falling in the padding are filled with the input zero point.
 */
export function qs8_im2col(prm: usize, input: usize, p0: i32, p1: i32, g: i32, dst: usize): void {
  const h = load<i32>(prm, CP_H), w = load<i32>(prm, CP_W), c = load<i32>(prm, CP_C);
  const kh = load<i32>(prm, CP_KH), kw = load<i32>(prm, CP_KW);
  const sh = load<i32>(prm, CP_SH), sw = load<i32>(prm, CP_SW);
  const pt = load<i32>(prm, CP_PT), pl = load<i32>(prm, CP_PL);
  const dh = load<i32>(prm, CP_DH), dw = load<i32>(prm, CP_DW);
  const cg = load<i32>(prm, CP_CG), oh = load<i32>(prm, CP_OH), ow = load<i32>(prm, CP_OW);
  const za = <u8>load<i32>(prm, CP_ZA);
  const z8: u64 = <u64>za * 0x0101010101010101;
  const hw = oh * ow;
  const run = kw * cg;
  // a row of taps wholly inside the input is one contiguous run of kw * cg bytes in NHWC when dw = 1 and there is
  // one group (stems, C = 3: 21 bytes for a 7x7 kernel)
  const runs = dw == 1 && c == cg;
  let d = dst;
  // (img, oy, ox) of pixel p, advanced incrementally (no divisions per pixel: stems have 12544 pixels)
  let img = p0 / hw;
  let oy = (p0 - img * hw) / ow;
  let ox = p0 - img * hw - oy * ow;
  for (let p = p0; p < p1; p++) {
    const base = input + <usize>(img * h * w * c + g * cg);
    const iy0 = oy * sh - pt;
    const ix0 = ox * sw - pl;
    const inside = ix0 >= 0 && ix0 + (kw - 1) * dw < w;
    for (let ky = 0; ky < kh; ky++) {
      const iy = iy0 + ky * dh;
      if (iy < 0 || iy >= h) {
        if (cg < 16) fill_run(d, z8, run);
        else memory.fill(d, za, <usize>run);
        d += <usize>run;
        continue;
      }
      if (runs && inside) {
        copy_run(d, base + <usize>((iy * w + ix0) * c), run);
        d += <usize>run;
        continue;
      }
      if (cg < 16) {
        // few channels: byte loops beat a memory.copy call per tap
        for (let kx = 0; kx < kw; kx++) {
          const ix = ix0 + kx * dw;
          if (ix < 0 || ix >= w) {
            for (let i = 0; i < cg; i++) store<u8>(d + <usize>i, za);
          } else {
            const src = base + <usize>((iy * w + ix) * c);
            for (let i = 0; i < cg; i++) store<u8>(d + <usize>i, load<u8>(src + <usize>i));
          }
          d += <usize>cg;
        }
        continue;
      }
      for (let kx = 0; kx < kw; kx++) {
        const ix = ix0 + kx * dw;
        if (ix < 0 || ix >= w) memory.fill(d, za, <usize>cg);
        else memory.copy(d, base + <usize>((iy * w + ix) * c), <usize>cg);
        d += <usize>cg;
      }
    }
    if (++ox == ow) {
      ox = 0;
      if (++oy == oh) { oy = 0; img++; }
    }
  }
}

/**
 * ConvInteger / MatMulInteger with the input zero point known only at run time (DynamicQuantizeLinear): the GEMM
 * ran with za = 0 (padding read as 0), so y = sum_valid x * (w - zb); this subtracts za * S[class][o], where S is the
 * sum of (w - zb) over the taps inside the input for that output pixel (host-built, src/kernels/qconv.ts). Pixel
 * classes: cy[oy] * ncx + cx[ox] (border rows / columns see fewer taps). y int32 NHWC [.., OH, OW, OC], pixels
 * [p0, p1) of N*OH*OW, channels [o0, o1); za read from memory (int8 if zsigned, else uint8).
 */
export function x32_conv_zp_correct__scalar(y: usize, zp: usize, zsigned: i32, OH: i32, OW: i32, OC: i32, cy: usize, cx: usize, ncx: i32, table: usize, p0: i32, p1: i32, o0: i32, o1: i32): void {
  const za: i32 = zsigned ? <i32>load<i8>(zp) : <i32>load<u8>(zp);
  if (za == 0) return;
  const hw = OH * OW;
  for (let p = p0; p < p1; p++) {
    const r = p % hw;
    const oy = r / OW, ox = r - (r / OW) * OW;
    const t = table + ((<usize>(load<i32>(cy + (<usize>oy << 2)) * ncx + load<i32>(cx + (<usize>ox << 2))) * OC) << 2);
    const yp = y + ((<usize>p * OC) << 2);
    for (let o = o0; o < o1; o++) {
      const q = yp + (<usize>o << 2);
      store<i32>(q, load<i32>(q) - za * load<i32>(t + (<usize>o << 2)));
    }
  }
}
