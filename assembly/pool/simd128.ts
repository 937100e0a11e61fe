// INT8 pooling kernels, SIMD128 (simd128 and relaxed builds; the same code serves the x86 and ARM paths: pooling
// needs only i8x16.max and widening adds, which both lower well). NHWC; semantics in assembly/reference/pool.ts.
// Channels go 16 (max) or 8 (average) per v128; the channel tail is scalar so no load runs past a tensor.
import { qf_out, qmin_of, qmax_of, ld8 } from '../eltwise/qfloat';
import { qfv_out, narrow8, ld8x8 } from '../eltwise/qfloat_simd';
import { tapRange } from './scalar';

@inline function maxpoolV<T>(
  x: usize, y: usize, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, r0: i32, r1: i32,
): void {
  const vmin = i8x16.splat(<i8>qmin_of<T>());
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
      let c = 0;
      for (; c + 16 <= C; c += 16) {
        let m = vmin;
        for (let ky = kyb; ky < kye; ky++) {
          const row = xn + <usize>((iy0 + ky * DH) * W) * C + c;
          for (let kx = kxb; kx < kxe; kx++) {
            const v = v128.load(row + <usize>(ix0 + kx * DW) * C);
            m = isSigned<T>() ? i8x16.max_s(m, v) : i8x16.max_u(m, v);
          }
        }
        v128.store(yp + c, m);
      }
      for (; c < C; c++) {
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

@inline function avgpoolV<T>(
  x: usize, y: usize, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, PB: i32, PR: i32, cip: i32,
  zx: i32, zy: i32, scales: usize, r0: i32, r1: i32,
): void {
  const lo = <f32>(qmin_of<T>() - zy), hi = <f32>(qmax_of<T>() - zy);
  const vlo = f32x4.splat(lo), vhi = f32x4.splat(hi), vmz = i32x4.splat(0x4b400000 - zy);
  const zyc = zy < qmin_of<T>() ? qmin_of<T>() : zy > qmax_of<T>() ? qmax_of<T>() : zy;
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
      const vscale = f32x4.splat(scale);
      const vbias = i32x4.splat(-valid * zx);
      let c = 0;
      for (; c + 8 <= C; c += 8) {
        let a0 = vbias, a1 = vbias;
        for (let ky = kyb; ky < kye; ky++) {
          const row = xn + <usize>((iy0 + ky * DH) * W) * C + c;
          for (let kx = kxb; kx < kxe; kx++) {
            const v = ld8x8<T>(row + <usize>(ix0 + kx * DW) * C);
            a0 = i32x4.add(a0, i32x4.extend_low_i16x8_s(v));
            a1 = i32x4.add(a1, i32x4.extend_high_i16x8_s(v));
          }
        }
        let o: v128;
        if (d == 0) {
          o = i8x16.splat(<i8>zyc);
        } else {
          const q0 = qfv_out(f32x4.mul(f32x4.convert_i32x4_s(a0), vscale), vlo, vhi, vmz);
          const q1 = qfv_out(f32x4.mul(f32x4.convert_i32x4_s(a1), vscale), vlo, vhi, vmz);
          o = narrow8<T>(q0, q1);
        }
        v128.store64_lane(yp + c, o, 0);
      }
      for (; c < C; c++) {
        let acc = 0;
        for (let ky = kyb; ky < kye; ky++) {
          const row = xn + <usize>((iy0 + ky * DH) * W) * C + c;
          for (let kx = kxb; kx < kxe; kx++) acc += ld8<T>(row + <usize>(ix0 + kx * DW) * C);
        }
        acc -= valid * zx;
        store<u8>(yp + c, <u8>(d == 0 ? zyc : qf_out(<f32>acc * scale, lo, hi, zy)));
      }
      yp += C;
    }
  }
}

@inline function gavgpoolV<T>(x: usize, y: usize, HW: i32, C: i32, zx: i32, zy: i32, scale: f32, c0: i32, c1: i32): void {
  const lo = <f32>(qmin_of<T>() - zy), hi = <f32>(qmax_of<T>() - zy);
  const vlo = f32x4.splat(lo), vhi = f32x4.splat(hi), vmz = i32x4.splat(0x4b400000 - zy);
  const vscale = f32x4.splat(scale);
  const vbias = i32x4.splat(-HW * zx);
  let c = c0;
  for (; c + 8 <= c1; c += 8) {
    let a0 = vbias, a1 = vbias;
    let p = x + <usize>c;
    let i = 0;
    // pairs of pixels summed in int16 first (|2 * 255| fits), then widened
    for (; i + 2 <= HW; i += 2) {
      const v = i16x8.add(ld8x8<T>(p), ld8x8<T>(p + <usize>C));
      a0 = i32x4.add(a0, i32x4.extend_low_i16x8_s(v));
      a1 = i32x4.add(a1, i32x4.extend_high_i16x8_s(v));
      p += <usize>(2 * C);
    }
    if (i < HW) {
      const v = ld8x8<T>(p);
      a0 = i32x4.add(a0, i32x4.extend_low_i16x8_s(v));
      a1 = i32x4.add(a1, i32x4.extend_high_i16x8_s(v));
    }
    const q0 = qfv_out(f32x4.mul(f32x4.convert_i32x4_s(a0), vscale), vlo, vhi, vmz);
    const q1 = qfv_out(f32x4.mul(f32x4.convert_i32x4_s(a1), vscale), vlo, vhi, vmz);
    v128.store64_lane(y + <usize>c, narrow8<T>(q0, q1), 0);
  }
  for (; c < c1; c++) {
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

export function qs8_maxpool__simd128(x: usize, y: usize, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, r0: i32, r1: i32): void {
  maxpoolV<i8>(x, y, H, W, C, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, r0, r1);
}
export function qu8_maxpool__simd128(x: usize, y: usize, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, r0: i32, r1: i32): void {
  maxpoolV<u8>(x, y, H, W, C, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, r0, r1);
}
export function qs8_avgpool__simd128(x: usize, y: usize, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, PB: i32, PR: i32, cip: i32, zx: i32, zy: i32, scales: usize, r0: i32, r1: i32): void {
  avgpoolV<i8>(x, y, H, W, C, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, cip, zx, zy, scales, r0, r1);
}
export function qu8_avgpool__simd128(x: usize, y: usize, H: i32, W: i32, C: i32, OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, PB: i32, PR: i32, cip: i32, zx: i32, zy: i32, scales: usize, r0: i32, r1: i32): void {
  avgpoolV<u8>(x, y, H, W, C, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL, PB, PR, cip, zx, zy, scales, r0, r1);
}
export function qs8_gavgpool__simd128(x: usize, y: usize, HW: i32, C: i32, zx: i32, zy: i32, scale: f32, c0: i32, c1: i32): void {
  gavgpoolV<i8>(x, y, HW, C, zx, zy, scale, c0, c1);
}
export function qu8_gavgpool__simd128(x: usize, y: usize, HW: i32, C: i32, zx: i32, zy: i32, scale: f32, c0: i32, c1: i32): void {
  gavgpoolV<u8>(x, y, HW, C, zx, zy, scale, c0, c1);
}
