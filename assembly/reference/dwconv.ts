// Naive scalar oracle of INT8 depthwise convolution (NHWC activations, never optimized), written from the
// QLinearConv definition with group == input channels: output channel oc = ic * mult + j reads input channel ic;
// acc = bias[oc] + sum_{ky,kx} (x[iy, ix, ic] - zx) * (w[oc, ky, kx] - zw[oc]), taps outside the input contribute 0
// (padding with the input zero point); then requantization per output channel (assembly/reference/requant.ts):
// mode 0 fixed-point with (q[oc], shift[oc]), mode 1 float with scale[oc]; + zy, clamp [qmin, qmax].
// Weights in ONNX order [Cout][KH][KW] as int8 (wsigned 1) or uint8, their zero points and the bias as int32.
import { ref_requant_fixed, ref_requant_float } from './requant';

export function ref_q8_dwconv(
  x: usize, w: usize, wzp: usize, wsigned: i32, bias: usize, y: usize,
  N: i32, H: i32, W: i32, Cin: i32, mult: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32,
  zx: i32, zy: i32, qmin: i32, qmax: i32, mode: i32, rqq: usize, rqshift: usize, rqscale: usize, signed: i32,
): void {
  const Cout = Cin * mult;
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let oc = 0; oc < Cout; oc++) {
          const ic = oc / mult;
          let acc = load<i32>(bias + (<usize>oc << 2));
          const zw = load<i32>(wzp + (<usize>oc << 2));
          for (let ky = 0; ky < KH; ky++)
            for (let kx = 0; kx < KW; kx++) {
              const iy = oy * SH - PT + ky * DH;
              const ix = ox * SW - PL + kx * DW;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              const xp = x + <usize>(((n * H + iy) * W + ix) * Cin + ic);
              const xv = signed ? <i32>load<i8>(xp) : <i32>load<u8>(xp);
              const wp = w + <usize>((oc * KH + ky) * KW + kx);
              const wv = wsigned ? <i32>load<i8>(wp) : <i32>load<u8>(wp);
              acc += (xv - zx) * (wv - zw);
            }
          const o = mode
            ? ref_requant_float(acc, load<f32>(rqscale + (<usize>oc << 2)), zy, qmin, qmax)
            : ref_requant_fixed(acc, load<i32>(rqq + (<usize>oc << 2)), load<i32>(rqshift + (<usize>oc << 2)), zy, qmin, qmax);
          store<u8>(y + <usize>(((n * OH + oy) * OW + ox) * Cout + oc), <u8>o);
        }
}
