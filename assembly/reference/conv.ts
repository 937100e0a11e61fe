// qs8 convolution oracle, written from the ONNX QLinearConv / ConvInteger definition (NCHW maths over NHWC
// storage): y[img, oy, ox, o] = epilogue(bias[o] + sum_{ci, ky, kx} (x[img, iy, ix, g*cg + ci] - za) *
// (W[o, ci, ky, kx] - zb[o])), iy = oy*sh - pad_top + ky*dh (taps outside the input contribute x = za, i.e. 0),
// g = o / (OC / groups). Weights OIHW [OC, cg, KH, KW]. Epilogues as in ./gemm.ts (kind 0 fixed, 1 float,
// 2 int32, 3 float32) through the requantization oracle.
// prm: int32[20] = n, h, w, c, oc, kh, kw, sh, sw, pt, pl, dh, dw, groups, oh, ow, a_unsigned, za, b_unsigned, kind.
import { ref_requant_fixed, ref_requant_float } from './requant';

export function ref_qconv2d(prm: usize, x: usize, wt: usize, zb: usize, bias: usize, y: usize,
  mult: usize, shift: usize, scale: usize, fbias: usize, zp: i32, qmin: i32, qmax: i32): void {
  const n = load<i32>(prm, 0), h = load<i32>(prm, 4), w = load<i32>(prm, 8), c = load<i32>(prm, 12);
  const oc = load<i32>(prm, 16), kh = load<i32>(prm, 20), kw = load<i32>(prm, 24);
  const sh = load<i32>(prm, 28), sw = load<i32>(prm, 32), pt = load<i32>(prm, 36), pl = load<i32>(prm, 40);
  const dh = load<i32>(prm, 44), dw = load<i32>(prm, 48), groups = load<i32>(prm, 52);
  const oh = load<i32>(prm, 56), ow = load<i32>(prm, 60);
  const au = load<i32>(prm, 64), za = load<i32>(prm, 68), bu = load<i32>(prm, 72), kind = load<i32>(prm, 76);
  const cg = c / groups, ocg = oc / groups;
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let o = 0; o < oc; o++) {
          const g = o / ocg;
          let acc: i32 = bias ? load<i32>(bias + (<usize>o << 2)) : 0;
          const zbo = load<i32>(zb + (<usize>o << 2));
          for (let ci = 0; ci < cg; ci++) {
            for (let ky = 0; ky < kh; ky++) {
              for (let kx = 0; kx < kw; kx++) {
                const iy = oy * sh - pt + ky * dh;
                const ix = ox * sw - pl + kx * dw;
                let xv = za;
                if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                  const xi = <usize>(((img * h + iy) * w + ix) * c + g * cg + ci);
                  xv = au ? <i32>load<u8>(x + xi) : <i32>load<i8>(x + xi);
                }
                const wi = <usize>(((o * cg + ci) * kh + ky) * kw + kx);
                const wv: i32 = bu ? <i32>load<u8>(wt + wi) : <i32>load<i8>(wt + wi);
                acc += (xv - za) * (wv - zbo);
              }
            }
          }
          const oi = <usize>(((img * oh + oy) * ow + ox) * oc + o);
          if (kind == 0) {
            store<u8>(y + oi, <u8>ref_requant_fixed(acc, load<i32>(mult + (<usize>o << 2)), load<i32>(shift + (<usize>o << 2)), zp, qmin, qmax));
          } else if (kind == 1) {
            store<u8>(y + oi, <u8>ref_requant_float(acc, load<f32>(scale + (<usize>o << 2)), zp, qmin, qmax));
          } else if (kind == 2) {
            store<i32>(y + (oi << 2), acc);
          } else {
            store<f32>(y + (oi << 2), <f32>acc * load<f32>(scale + (<usize>o << 2)) + load<f32>(fbias + (<usize>o << 2)));
          }
        }
      }
    }
  }
}
