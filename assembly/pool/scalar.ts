// INT8 pooling kernels, portable scalar (every build). NHWC, int8 (qs8_) or uint8 (qu8_); semantics in
// assembly/reference/pool.ts. Work range: output rows r in [r0, r1) of N*OH (n = r / OH, oy = r % OH), except the
// global pool whose range is channels [c0, c1) of one image.
import { qf_out, qmin_of, qmax_of, ld8 } from '../eltwise/qfloat';

/** Number of k in [0, K) with 0 <= i0 + k*d < lim, starting at kb (first valid k). Returns packed (kb | ke << 16). */
@inline export function tapRange(i0: i32, d: i32, K: i32, lim: i32): i32 {
  const kb = i0 < 0 ? (-i0 + d - 1) / d : 0;
  let ke = lim - i0 <= 0 ? 0 : (lim - i0 + d - 1) / d;
  if (ke > K) ke = K;
  return kb | (max(ke, kb) << 16);
}

@inline function maxpoolS<T>(
  x: usize, y: usize, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, r0: i32, r1: i32,
): void {
  for (let r = r0; r < r1; r++) {
    const n = r / OH;
    const oy = r - n * OH;
    const iy0 = oy * SH - PT;
    const ry = tapRange(iy0, DH, KH, H);
    const kyb = ry & 0xffff, kye = ry >>> 16;
    const xn = x + <usize>n * H * W * C;
    let yp = y + <usize>r * OW * C;
    for (let ox = 0; ox < OW; ox++) {
      const ix0 = ox * SW - PL;
      const rx = tapRange(ix0, DW, KW, W);
      const kxb = rx & 0xffff, kxe = rx >>> 16;
      for (let c = 0; c < C; c++) {
        let m = qmin_of<T>();
        for (let ky = kyb; ky < kye; ky++) {
          const row = xn + <usize>((iy0 + ky * DH) * W) * C + c;
          for (let kx = kxb; kx < kxe; kx++) {
            const v = ld8<T>(row + <usize>(ix0 + kx * DW) * C);
            m = v > m ? v : m;
          }
        }
        store<u8>(yp + c, <u8>m);
      }
      yp += C;
    }
  }
}

@inline function avgpoolS<T>(
  x: usize, y: usize, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, PB: i32, PR: i32, cip: i32,
  zx: i32, zy: i32, scales: usize, r0: i32, r1: i32,
): void {
  const lo = <f32>(qmin_of<T>() - zy), hi = <f32>(qmax_of<T>() - zy);
  for (let r = r0; r < r1; r++) {
    const n = r / OH;
    const oy = r - n * OH;
    const iy0 = oy * SH - PT;
    const ry = tapRange(iy0, DH, KH, H);
    const kyb = ry & 0xffff, kye = ry >>> 16;
    const kyp = tapRange(iy0, DH, KH, H + PB) >>> 16;
    const xn = x + <usize>n * H * W * C;
    let yp = y + <usize>r * OW * C;
    for (let ox = 0; ox < OW; ox++) {
      const ix0 = ox * SW - PL;
      const rx = tapRange(ix0, DW, KW, W);
      const kxb = rx & 0xffff, kxe = rx >>> 16;
      const valid = (kye - kyb) * (kxe - kxb);
      const d = cip ? kyp * (tapRange(ix0, DW, KW, W + PR) >>> 16) : valid;
      const scale = load<f32>(scales + (<usize>d << 2));
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let ky = kyb; ky < kye; ky++) {
          const row = xn + <usize>((iy0 + ky * DH) * W) * C + c;
          for (let kx = kxb; kx < kxe; kx++) acc += ld8<T>(row + <usize>(ix0 + kx * DW) * C);
        }
        acc -= valid * zx;
        const out = d == 0 ? (zy < qmin_of<T>() ? qmin_of<T>() : zy > qmax_of<T>() ? qmax_of<T>() : zy) : qf_out(<f32>acc * scale, lo, hi, zy);
        store<u8>(yp + c, <u8>out);
      }
      yp += C;
    }
  }
}

@inline function gavgpoolS<T>(x: usize, y: usize, HW: i32, C: i32, zx: i32, zy: i32, scale: f32, c0: i32, c1: i32): void {
  const lo = <f32>(qmin_of<T>() - zy), hi = <f32>(qmax_of<T>() - zy);
  for (let c = c0; c < c1; c++) {
    let acc = 0;
    let p = x + <usize>c;
    for (let i = 0; i < HW; i++) {
      acc += ld8<T>(p);
      p += <usize>C;
    }
    acc -= HW * zx;
    store<u8>(y + <usize>c, <u8>qf_out(<f32>acc * scale, lo, hi, zy));
  }
}

export function qs8_maxpool__scalar(x: usize, y: usize, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, r0: i32, r1: i32): void {
  maxpoolS<i8>(x, y, H, W, C, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, r0, r1);
}
export function qu8_maxpool__scalar(x: usize, y: usize, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, r0: i32, r1: i32): void {
  maxpoolS<u8>(x, y, H, W, C, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, r0, r1);
}
export function qs8_avgpool__scalar(x: usize, y: usize, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, PB: i32, PR: i32, cip: i32, zx: i32, zy: i32, scales: usize, r0: i32, r1: i32): void {
  avgpoolS<i8>(x, y, H, W, C, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, cip, zx, zy, scales, r0, r1);
}
export function qu8_avgpool__scalar(x: usize, y: usize, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, PB: i32, PR: i32, cip: i32, zx: i32, zy: i32, scales: usize, r0: i32, r1: i32): void {
  avgpoolS<u8>(x, y, H, W, C, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, cip, zx, zy, scales, r0, r1);
}
export function qs8_gavgpool__scalar(x: usize, y: usize, HW: i32, C: i32, zx: i32, zy: i32, scale: f32, c0: i32, c1: i32): void {
  gavgpoolS<i8>(x, y, HW, C, zx, zy, scale, c0, c1);
}
export function qu8_gavgpool__scalar(x: usize, y: usize, HW: i32, C: i32, zx: i32, zy: i32, scale: f32, c0: i32, c1: i32): void {
  gavgpoolS<u8>(x, y, HW, C, zx, zy, scale, c0, c1);
}
