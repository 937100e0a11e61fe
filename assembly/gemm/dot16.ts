// The dot16 micro-kernel body (x86 path, weight layout in ./simd128.ts), shared by the GEMM (./simd128.ts) and the
// indirect convolution (../conv/simd128.ts). Not re-exported by the build entries: @inline helpers only.
//
// Widened A (scratch): the 4 rows of a tile interleaved per k-pair, 16 bytes per pair p:
//   [r0k(2p) r0k(2p+1) | r1k(2p) r1k(2p+1) | r2k(2p) r2k(2p+1) | r3k(2p) r3k(2p+1)]  (int16)
// so the inner loop reads all four broadcasts from one pointer at immediate offsets 0, 4, 8, 12 (V8 folds them into
// the addressing: no address arithmetic per row), one pointer increment per k-pair. Row-major widened rows (one
// pointer per row) cost 4 address adds per pair: 7-12% slower on ResNet-18's 3x3 convolutions (bench/kernels-qconv-ab.ts).
// Writers: widen8x4 (8 k of 4 rows at once, a 4x4 transpose of int16 pairs) and store_a (one element).
import { epi_store4x8 } from './epilogue_simd';

/**
 * Column-chunk size (bytes of packed weights) of the dot16 kernels' cache blocking: a chunk stays in L2 while every
 * row quad of the call streams by, and each quad is widened once per chunk. 768 KiB instead of 256 KiB: 7-15%
 * faster on ResNet-18's 14x14 and 7x7 layers (K = 2304..4608: a 256 KiB chunk held only 3 column blocks, so a quad
 * was widened 22 times), same elsewhere (bench/kernels-qconv-ab.ts, README).
 */
export const DOT16_WCHUNK: i32 = 786432;

/** Stores widened A element k of tile row r (int16) into the interleaved scratch at s. */
@inline export function store_a(s: usize, r: i32, k: i32, v: i32): void {
  store<i16>(s + (<usize>(k >> 1) << 4) + (<usize>r << 2) + (<usize>(k & 1) << 1), <i16>v);
}

/**
 * Writes 8 consecutive k (starting at an even k) of the four tile rows, each given as 8 int16 (x0..x3), into the
 * interleaved scratch at d (= s + 8 * k): the 4 k-pairs of each row become the 4 lanes of 4 consecutive pairs.
 */
@inline export function widen8x4(d: usize, x0: v128, x1: v128, x2: v128, x3: v128): void {
  const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(x0, x1, 2, 6, 3, 7);
  const t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
  v128.store(d, i64x2.shuffle(t0, t1, 0, 2));
  v128.store(d, i64x2.shuffle(t0, t1, 1, 3), 16);
  v128.store(d, i64x2.shuffle(t2, t3, 0, 2), 32);
  v128.store(d, i64x2.shuffle(t2, t3, 1, 3), 48);
}

/**
 * The dot16 micro-kernel over 8-column blocks [cb, cbe) for one quad of rows already widened at `scratch`
 * (interleaved, kp k-pairs), writing output rows c0..c3.
 */
@inline export function dot16_blocks(
  cb: i32, cbe: i32, n: i32, kp: i32, w: usize, scratch: usize, c0: usize, c1: usize, c2: usize, c3: usize,
  kind: i32, table: usize, table2: usize, zp: i32, qmin: i32, qmax: i32,
): void {
  const bstride = 32 + kp * 32;
  const send = scratch + (<usize>kp << 4);
  for (let nb = cb; nb < cbe; nb++) {
    let wp = w + 16 + <usize>(nb * bstride);
    let acc00 = v128.load(wp), acc01 = v128.load(wp, 16);
    let acc10 = acc00, acc11 = acc01, acc20 = acc00, acc21 = acc01, acc30 = acc00, acc31 = acc01;
    wp += 32;
    for (let ap = scratch; ap < send; ap += 16) {
      const b0 = v128.load(wp), b1 = v128.load(wp, 16);
      let t = v128.load32_splat(ap);
      acc00 = i32x4.add(acc00, i32x4.dot_i16x8_s(t, b0)); acc01 = i32x4.add(acc01, i32x4.dot_i16x8_s(t, b1));
      t = v128.load32_splat(ap, 4);
      acc10 = i32x4.add(acc10, i32x4.dot_i16x8_s(t, b0)); acc11 = i32x4.add(acc11, i32x4.dot_i16x8_s(t, b1));
      t = v128.load32_splat(ap, 8);
      acc20 = i32x4.add(acc20, i32x4.dot_i16x8_s(t, b0)); acc21 = i32x4.add(acc21, i32x4.dot_i16x8_s(t, b1));
      t = v128.load32_splat(ap, 12);
      acc30 = i32x4.add(acc30, i32x4.dot_i16x8_s(t, b0)); acc31 = i32x4.add(acc31, i32x4.dot_i16x8_s(t, b1));
      wp += 32;
    }
    const n0 = nb << 3;
    const cols = n - n0 < 8 ? n - n0 : 8;
    epi_store4x8(acc00, acc01, acc10, acc11, acc20, acc21, acc30, acc31, n0, cols, c0, c1, c2, c3, kind, table, table2, zp, qmin, qmax);
  }
}

/**
 * dot16_blocks for a single row (the last row of a call whose row count is 4q + 1, e.g. the 49 pixels of a 7x7
 * output): 2 dot products per k-pair instead of 8 for three aliased rows. Reads lane 0 of the interleaved scratch.
 */
@inline export function dot16_blocks1(
  cb: i32, cbe: i32, n: i32, kp: i32, w: usize, scratch: usize, c0: usize,
  kind: i32, table: usize, table2: usize, zp: i32, qmin: i32, qmax: i32,
): void {
  const bstride = 32 + kp * 32;
  const send = scratch + (<usize>kp << 4);
  for (let nb = cb; nb < cbe; nb++) {
    let wp = w + 16 + <usize>(nb * bstride);
    let acc0 = v128.load(wp), acc1 = v128.load(wp, 16);
    wp += 32;
    for (let ap = scratch; ap < send; ap += 16) {
      const t = v128.load32_splat(ap);
      acc0 = i32x4.add(acc0, i32x4.dot_i16x8_s(t, v128.load(wp)));
      acc1 = i32x4.add(acc1, i32x4.dot_i16x8_s(t, v128.load(wp, 16)));
      wp += 32;
    }
    const n0 = nb << 3;
    const cols = n - n0 < 8 ? n - n0 : 8;
    // the 4-row epilogue with every row aliasing row 0 (same values written 4 times; one epilogue copy in the binary)
    epi_store4x8(acc0, acc1, acc0, acc1, acc0, acc1, acc0, acc1, n0, cols, c0, c0, c0, c0, kind, table, table2, zp, qmin, qmax);
  }
}
