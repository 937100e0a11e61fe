// Pieces shared by the resize kernels of every build (imported, never re-exported by an entry).

/** Bilinear blend of channels [c0, C) of one output pixel, scalar, in the oracle's float32 operation order
 *  (assembly/reference/resize.ts); integer outputs truncated and saturated as onnxruntime's cast does. */
@inline export function bilinearChannels<T>(q00: usize, q01: usize, q10: usize, q11: usize, p11: f32, p21: f32, p12: f32, p22: f32, yp: usize, c0: i32, C: i32): void {
  const es = <usize>sizeof<T>();
  for (let c = c0; c < C; c++) {
    const ce = <usize>c * es;
    let v: f32 = p11 * <f32>load<T>(q00 + ce) + p21 * <f32>load<T>(q01 + ce);
    v = v + p12 * <f32>load<T>(q10 + ce);
    v = v + p22 * <f32>load<T>(q11 + ce);
    if (isFloat<T>()) store<f32>(yp + ce, v);
    else {
      let q = <i32>Mathf.trunc(v);
      const lo = isSigned<T>() ? -128 : 0, hi = isSigned<T>() ? 127 : 255;
      q = q < lo ? lo : q > hi ? hi : q;
      store<u8>(yp + ce, <u8>q);
    }
  }
}
