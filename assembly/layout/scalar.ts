// Layout conversions at the graph boundaries (portable scalar build; every build contains them): the channel axis
// of [N, C, S] moved last ([N, S, C], NCHW -> NHWC) or back, for 1-byte and 4-byte elements. Walked in tiles of
// 8 channels x 64 positions so both sides stay in cache. Oracle: the host transpose in src/ops/layout.ts.
// f(src, dst, n, c, s, to_cl, s_begin, s_end): to_cl != 0 reads [N, C, S] and writes [N, S, C]; else the reverse;
// only spatial positions [s_begin, s_end) of every image (a work range: disjoint ranges write disjoint bytes).

const TS: i32 = 64;
const TC: i32 = 8;

@inline function swap_cs<T>(src: usize, dst: usize, n: i32, c: i32, s: i32, to_cl: i32, s_begin: i32, s_end: i32): void {
  const es = <usize>sizeof<T>();
  const plane = <usize>c * <usize>s * es;
  for (let b = 0; b < n; b++) {
    for (let s0 = s_begin; s0 < s_end; s0 += TS) {
      const s1 = s0 + TS < s_end ? s0 + TS : s_end;
      for (let c0 = 0; c0 < c; c0 += TC) {
        const c1 = c0 + TC < c ? c0 + TC : c;
        for (let ch = c0; ch < c1; ch++) {
          // element (ch, pos) of [C, S] is at ch*s + pos; of [S, C] at pos*c + ch
          let p = <usize>(ch * s + s0) * es;
          let q = <usize>(s0 * c + ch) * es;
          const qs = <usize>c * es;
          for (let pos = s0; pos < s1; pos++) {
            if (to_cl) store<T>(dst + q, load<T>(src + p));
            else store<T>(dst + p, load<T>(src + q));
            p += es;
            q += qs;
          }
        }
      }
    }
    src += plane;
    dst += plane;
  }
}

export function x8_swap_cs__scalar(src: usize, dst: usize, n: i32, c: i32, s: i32, to_cl: i32, s_begin: i32, s_end: i32): void {
  swap_cs<u8>(src, dst, n, c, s, to_cl, s_begin, s_end);
}

export function x32_swap_cs__scalar(src: usize, dst: usize, n: i32, c: i32, s: i32, to_cl: i32, s_begin: i32, s_end: i32): void {
  swap_cs<u32>(src, dst, n, c, s, to_cl, s_begin, s_end);
}
