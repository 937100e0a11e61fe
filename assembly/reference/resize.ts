// Oracle of the resize family (bilinear over NHWC; nearest is x8_resize_nearest in ./eltwise.ts). Never optimized.
// Tables built on the host from the ONNX Resize coordinate rules as onnxruntime evaluates them (float32;
// src/kernels/resize.ts, linearTaps):
//   ytab: OH entries of 16 bytes {i32 y1, i32 y2, f32 wy1, f32 wy2}; xtab: OW entries {i32 x1, i32 x2, f32 wx1, f32 wx2}
// (source indices clamped; w1 weighs index 1, w2 index 2). Per output element, in float32, in onnxruntime's
// order (its CPU UpsampleBilinear):
//   v = ((wx1*wy1) * x[y1,x1] + (wx2*wy1) * x[y1,x2]) + (wx1*wy2) * x[y2,x1] + (wx2*wy2) * x[y2,x2]   (left to right)
// float32 output: v. int8 / uint8 output: v truncated toward zero (C's float -> integer cast, as onnxruntime and
// the ONNX reference's astype do), clamped to the type's range.

@inline function ldv(x: usize, i: usize, kind: i32): f32 {
  if (kind == 0) return load<f32>(x + (i << 2));
  if (kind == 1) return <f32>load<i8>(x + i);
  return <f32>load<u8>(x + i);
}

/** kind: 0 = float32, 1 = int8, 2 = uint8. */
export function ref_resize_bilinear(
  kind: i32, x: usize, y: usize, N: i32, IH: i32, IW: i32, C: i32, OH: i32, OW: i32, ytab: usize, xtab: usize,
): void {
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++) {
      const yt = ytab + (<usize>oy << 4);
      const y0 = load<i32>(yt), y1 = load<i32>(yt, 4);
      const wy0 = load<f32>(yt, 8), wy1 = load<f32>(yt, 12);
      for (let ox = 0; ox < OW; ox++) {
        const xt = xtab + (<usize>ox << 4);
        const x0 = load<i32>(xt), x1 = load<i32>(xt, 4);
        const wx0 = load<f32>(xt, 8), wx1 = load<f32>(xt, 12);
        const p11: f32 = wx0 * wy0, p21: f32 = wx1 * wy0, p12: f32 = wx0 * wy1, p22: f32 = wx1 * wy1;
        for (let c = 0; c < C; c++) {
          const a = ldv(x, <usize>(((n * IH + y0) * IW + x0) * C + c), kind);
          const b = ldv(x, <usize>(((n * IH + y0) * IW + x1) * C + c), kind);
          const d = ldv(x, <usize>(((n * IH + y1) * IW + x0) * C + c), kind);
          const e = ldv(x, <usize>(((n * IH + y1) * IW + x1) * C + c), kind);
          let v: f32 = p11 * a + p21 * b;
          v = v + p12 * d;
          v = v + p22 * e;
          const o = <usize>(((n * OH + oy) * OW + ox) * C + c);
          if (kind == 0) store<f32>(y + (o << 2), v);
          else {
            let q = <i32>Mathf.trunc(v);
            const lo = kind == 1 ? -128 : 0, hi = kind == 1 ? 127 : 255;
            q = q < lo ? lo : q > hi ? hi : q;
            store<u8>(y + o, <u8>q);
          }
        }
      }
    }
}
