// Relaxed-SIMD probes (relaxed build only). They make sure the relaxed build always contains relaxed
// instructions (so WebAssembly.validate on it answers "does this engine have relaxed SIMD"), and let the
// host observe how the engine lowers the relaxed dot (XNNPACK probes the same semantics at start-up).

/** i32x4.relaxed_dot_i8x16_i7x16_add_s on splatted bytes a, b (16 products summed 4 per lane) + c; returns lane 0. */
export function probe_relaxed_dot(a: i32, b: i32, c: i32): i32 {
  const r = i32x4.relaxed_dot_i8x16_i7x16_add_s(i8x16.splat(<i8>a), i8x16.splat(<i8>b), i32x4.splat(c));
  return i32x4.extract_lane(r, 0);
}

/** f32x4.relaxed_madd(a, b, c) lane 0: fused (one rounding) or not, depending on the engine. */
export function probe_relaxed_madd(a: f32, b: f32, c: f32): f32 {
  return f32x4.extract_lane(f32x4.relaxed_madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0);
}
