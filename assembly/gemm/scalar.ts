// qs8 GEMM, portable scalar kernel (scalar build; also the reference-speed baseline).
// Calling convention and epilogues: ./epilogue.ts. Packed weights: the `dot16` layout (see ./simd128.ts):
//   16-byte header, then per block of 8 columns: int32 init[8], then ceil(k/2) k-pairs of 16 int16:
//   [c0k0 c0k1 c1k0 c1k1 c2k0 c2k1 c3k0 c3k1 | c4k0 c4k1 ... c7k1], weights already minus their zero point.
import { epi_scalar } from './epilogue';


export function qs8_gemm_1x8c2__scalar(
  rows: i32, n: i32, k: i32, a: usize, a_stride: i32, a_unsigned: i32, w: usize,
  c: usize, c_stride: i32, kind: i32, table: usize, table2: usize, zp: i32, qmin: i32, qmax: i32, scratch: usize,
): void {
  const kp = (k + 1) >> 1;
  const bstride = <usize>(32 + kp * 32);
  for (let m = 0; m < rows; m++) {
    const ap = a + <usize>(m * a_stride);
    const cp = c + <usize>(m * c_stride);
    let wb = w + 16;
    for (let n0 = 0; n0 < n; n0 += 8) {
      let a0 = load<i32>(wb), a1 = load<i32>(wb, 4), a2 = load<i32>(wb, 8), a3 = load<i32>(wb, 12);
      let a4 = load<i32>(wb, 16), a5 = load<i32>(wb, 20), a6 = load<i32>(wb, 24), a7 = load<i32>(wb, 28);
      let wp = wb + 32;
      for (let kk = 0; kk < k; kk += 2) {
        let x0: i32, x1: i32;
        if (a_unsigned) {
          x0 = <i32>load<u8>(ap + <usize>kk);
          x1 = kk + 1 < k ? <i32>load<u8>(ap + <usize>kk + 1) : 0;
        } else {
          x0 = <i32>load<i8>(ap + <usize>kk);
          x1 = kk + 1 < k ? <i32>load<i8>(ap + <usize>kk + 1) : 0;
        }
        a0 += x0 * <i32>load<i16>(wp, 0) + x1 * <i32>load<i16>(wp, 2);
        a1 += x0 * <i32>load<i16>(wp, 4) + x1 * <i32>load<i16>(wp, 6);
        a2 += x0 * <i32>load<i16>(wp, 8) + x1 * <i32>load<i16>(wp, 10);
        a3 += x0 * <i32>load<i16>(wp, 12) + x1 * <i32>load<i16>(wp, 14);
        a4 += x0 * <i32>load<i16>(wp, 16) + x1 * <i32>load<i16>(wp, 18);
        a5 += x0 * <i32>load<i16>(wp, 20) + x1 * <i32>load<i16>(wp, 22);
        a6 += x0 * <i32>load<i16>(wp, 24) + x1 * <i32>load<i16>(wp, 26);
        a7 += x0 * <i32>load<i16>(wp, 28) + x1 * <i32>load<i16>(wp, 30);
        wp += 32;
      }
      const cols = n - n0 < 8 ? n - n0 : 8;
      epi_scalar(a0, n0, cp, kind, table, table2, zp, qmin, qmax);
      if (cols > 1) epi_scalar(a1, n0 + 1, cp, kind, table, table2, zp, qmin, qmax);
      if (cols > 2) epi_scalar(a2, n0 + 2, cp, kind, table, table2, zp, qmin, qmax);
      if (cols > 3) epi_scalar(a3, n0 + 3, cp, kind, table, table2, zp, qmin, qmax);
      if (cols > 4) epi_scalar(a4, n0 + 4, cp, kind, table, table2, zp, qmin, qmax);
      if (cols > 5) epi_scalar(a5, n0 + 5, cp, kind, table, table2, zp, qmin, qmax);
      if (cols > 6) epi_scalar(a6, n0 + 6, cp, kind, table, table2, zp, qmin, qmax);
      if (cols > 7) epi_scalar(a7, n0 + 7, cp, kind, table, table2, zp, qmin, qmax);
      wb += bstride;
    }
  }
}
