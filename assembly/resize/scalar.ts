// Resize kernels, portable (every build). NHWC, work range = output rows r in [r0, r1) of N*OH.
// Tables and semantics: assembly/reference/resize.ts (ytab / xtab 16-byte entries {i32 i0, i32 i1, f32 w0, f32 w1}).
// Nearest resize is x8_resize_nearest (assembly/eltwise): it copies C bytes per pixel, so float32 uses C*4.

import { bilinearChannels } from './common';

@inline function bilinearRow<T>(x: usize, y: usize, IH: i32, IW: i32, C: i32, OH: i32, OW: i32, ytab: usize, xtab: usize, r: i32): void {
  const n = r / OH;
  const oy = r - n * OH;
  const yt = ytab + (<usize>oy << 4);
  const es = <usize>sizeof<T>();
  const row0 = x + <usize>(n * IH + load<i32>(yt)) * IW * C * es;
  const row1 = x + <usize>(n * IH + load<i32>(yt, 4)) * IW * C * es;
  const wy0 = load<f32>(yt, 8), wy1 = load<f32>(yt, 12);
  let yp = y + <usize>r * OW * C * es;
  for (let ox = 0; ox < OW; ox++) {
    const xt = xtab + (<usize>ox << 4);
    const o0 = <usize>load<i32>(xt) * C * es, o1 = <usize>load<i32>(xt, 4) * C * es;
    const wx0 = load<f32>(xt, 8), wx1 = load<f32>(xt, 12);
    const p11: f32 = wx0 * wy0, p21: f32 = wx1 * wy0, p12: f32 = wx0 * wy1, p22: f32 = wx1 * wy1;
    bilinearChannels<T>(row0 + o0, row0 + o1, row1 + o0, row1 + o1, p11, p21, p12, p22, yp, 0, C);
    yp += <usize>C * es;
  }
}

export function f32_resize_bilinear__scalar(x: usize, y: usize, IH: i32, IW: i32, C: i32, OH: i32, OW: i32, ytab: usize, xtab: usize, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) bilinearRow<f32>(x, y, IH, IW, C, OH, OW, ytab, xtab, r);
}
export function qs8_resize_bilinear__scalar(x: usize, y: usize, IH: i32, IW: i32, C: i32, OH: i32, OW: i32, ytab: usize, xtab: usize, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) bilinearRow<i8>(x, y, IH, IW, C, OH, OW, ytab, xtab, r);
}
export function qu8_resize_bilinear__scalar(x: usize, y: usize, IH: i32, IW: i32, C: i32, OH: i32, OW: i32, ytab: usize, xtab: usize, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) bilinearRow<u8>(x, y, IH, IW, C, OH, OW, ytab, xtab, r);
}
