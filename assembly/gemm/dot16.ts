// The dot16 micro-kernel body (x86 path, layout in ./simd128.ts), shared by the GEMM (./simd128.ts) and the
// indirect convolution (../conv/simd128.ts). Not re-exported by the build entries: @inline helpers only.
import { epi_store4x8 } from './epilogue_simd';

/**
 * The dot16 micro-kernel over 8-column blocks [cb, cbe) for one quad of rows already widened at `scratch` (4 rows
 * of kp k-pairs, kp * 4 bytes apart), writing output rows c0..c3 (shared with the indirect kernel, ../conv/simd128.ts).
 */
@inline export function dot16_blocks(
  cb: i32, cbe: i32, n: i32, kp: i32, w: usize, scratch: usize, c0: usize, c1: usize, c2: usize, c3: usize,
  kind: i32, table: usize, table2: usize, zp: i32, qmin: i32, qmax: i32,
): void {
  const kp2 = <usize>(kp << 2);
  const bstride = 32 + kp * 32;
  const s0 = scratch, s1 = scratch + kp2, s2 = scratch + 2 * kp2, s3 = scratch + 3 * kp2;
  const end = <usize>(kp << 2);
  for (let nb = cb; nb < cbe; nb++) {
    let wp = w + 16 + <usize>(nb * bstride);
    let acc00 = v128.load(wp), acc01 = v128.load(wp, 16);
    let acc10 = acc00, acc11 = acc01, acc20 = acc00, acc21 = acc01, acc30 = acc00, acc31 = acc01;
    wp += 32;
    for (let o: usize = 0; o < end; o += 4) {
      const b0 = v128.load(wp), b1 = v128.load(wp, 16);
      let t = v128.load32_splat(s0 + o);
      acc00 = i32x4.add(acc00, i32x4.dot_i16x8_s(t, b0)); acc01 = i32x4.add(acc01, i32x4.dot_i16x8_s(t, b1));
      t = v128.load32_splat(s1 + o);
      acc10 = i32x4.add(acc10, i32x4.dot_i16x8_s(t, b0)); acc11 = i32x4.add(acc11, i32x4.dot_i16x8_s(t, b1));
      t = v128.load32_splat(s2 + o);
      acc20 = i32x4.add(acc20, i32x4.dot_i16x8_s(t, b0)); acc21 = i32x4.add(acc21, i32x4.dot_i16x8_s(t, b1));
      t = v128.load32_splat(s3 + o);
      acc30 = i32x4.add(acc30, i32x4.dot_i16x8_s(t, b0)); acc31 = i32x4.add(acc31, i32x4.dot_i16x8_s(t, b1));
      wp += 32;
    }
    const n0 = nb << 3;
    const cols = n - n0 < 8 ? n - n0 : 8;
    epi_store4x8(acc00, acc01, acc10, acc11, acc20, acc21, acc30, acc31, n0, cols, c0, c1, c2, c3, kind, table, table2, zp, qmin, qmax);
  }
}

