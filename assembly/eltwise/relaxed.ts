// eltwise kernels that need the relaxed feature level (see assembly/relaxed.ts).
//
// x8_lut__relaxed_pshufb: the 256-entry table with i8x16.relaxed_swizzle where the engine lowers it to x86 pshufb
// (index with the top bit set -> 0, else table[index & 15]); the host selects it only on x86-like engines (the
// `relaxed` path with arch 'x86', src/runtime/features.ts), as XNNPACK picks its wasm pshufb LUT, and
// test/kernels/eltwise.test.ts checks it on every byte against the scalar kernel. One pshufb per 16-byte
// sub-table instead of V8's two-instruction strict swizzle: the out-of-range lanes are not zeroed but cancelled.
// Step k (0..15) looks up index i_k: i_0 = x, i_k = x - 16k (wrapping) for k <= 8, then i_k = i_(k-1) - 16 with
// signed saturation (stuck at -128: top bit set, contributes 0). Lane x with high nibble h gets T_h[x & 15] from step
// h plus pshufb's wrapped lookups T'_k[x & 15] from the other steps whose index has the top bit clear; the tables
// T'_k are XOR differences chosen so that all of those cancel (built per call from the 256 bytes, 31 v128 ops):
//   T'_0 = T_0, T'_k = T_(k-1) ^ T_k (k = 1..7), T'_k = T_(k-1) ^ T_k ^ T'_(k-8) (k = 8..15).
// Same argument list as x8_lut__scalar (assembly/eltwise/scalar.ts).

@inline function tab(t: usize, k: i32): v128 {
  return v128.load(t + (<usize>k << 4));
}

export function x8_lut__relaxed_pshufb(x: usize, y: usize, cols: i32, xstride: i32, ystride: i32, table: usize, r0: i32, r1: i32): void {
  const t0 = tab(table, 0);
  const t1 = v128.xor(tab(table, 0), tab(table, 1));
  const t2 = v128.xor(tab(table, 1), tab(table, 2));
  const t3 = v128.xor(tab(table, 2), tab(table, 3));
  const t4 = v128.xor(tab(table, 3), tab(table, 4));
  const t5 = v128.xor(tab(table, 4), tab(table, 5));
  const t6 = v128.xor(tab(table, 5), tab(table, 6));
  const t7 = v128.xor(tab(table, 6), tab(table, 7));
  const t8 = v128.xor(v128.xor(tab(table, 7), tab(table, 8)), t0);
  const t9 = v128.xor(v128.xor(tab(table, 8), tab(table, 9)), t1);
  const t10 = v128.xor(v128.xor(tab(table, 9), tab(table, 10)), t2);
  const t11 = v128.xor(v128.xor(tab(table, 10), tab(table, 11)), t3);
  const t12 = v128.xor(v128.xor(tab(table, 11), tab(table, 12)), t4);
  const t13 = v128.xor(v128.xor(tab(table, 12), tab(table, 13)), t5);
  const t14 = v128.xor(v128.xor(tab(table, 13), tab(table, 14)), t6);
  const t15 = v128.xor(v128.xor(tab(table, 14), tab(table, 15)), t7);
  const v16 = i8x16.splat(16);
  for (let r = r0; r < r1; r++) {
    const xp = x + <usize>r * xstride, yp = y + <usize>r * ystride;
    let c = 0;
    for (; c + 32 <= cols; c += 32) {
      let v = v128.load(xp + c), w = v128.load(xp + c, 16);
      let o = i8x16.relaxed_swizzle(t0, v), p = i8x16.relaxed_swizzle(t0, w);
      v = i8x16.sub(v, v16); w = i8x16.sub(w, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t1, v)); p = v128.xor(p, i8x16.relaxed_swizzle(t1, w));
      v = i8x16.sub(v, v16); w = i8x16.sub(w, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t2, v)); p = v128.xor(p, i8x16.relaxed_swizzle(t2, w));
      v = i8x16.sub(v, v16); w = i8x16.sub(w, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t3, v)); p = v128.xor(p, i8x16.relaxed_swizzle(t3, w));
      v = i8x16.sub(v, v16); w = i8x16.sub(w, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t4, v)); p = v128.xor(p, i8x16.relaxed_swizzle(t4, w));
      v = i8x16.sub(v, v16); w = i8x16.sub(w, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t5, v)); p = v128.xor(p, i8x16.relaxed_swizzle(t5, w));
      v = i8x16.sub(v, v16); w = i8x16.sub(w, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t6, v)); p = v128.xor(p, i8x16.relaxed_swizzle(t6, w));
      v = i8x16.sub(v, v16); w = i8x16.sub(w, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t7, v)); p = v128.xor(p, i8x16.relaxed_swizzle(t7, w));
      v = i8x16.sub(v, v16); w = i8x16.sub(w, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t8, v)); p = v128.xor(p, i8x16.relaxed_swizzle(t8, w));
      v = i8x16.sub_sat_s(v, v16); w = i8x16.sub_sat_s(w, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t9, v)); p = v128.xor(p, i8x16.relaxed_swizzle(t9, w));
      v = i8x16.sub_sat_s(v, v16); w = i8x16.sub_sat_s(w, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t10, v)); p = v128.xor(p, i8x16.relaxed_swizzle(t10, w));
      v = i8x16.sub_sat_s(v, v16); w = i8x16.sub_sat_s(w, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t11, v)); p = v128.xor(p, i8x16.relaxed_swizzle(t11, w));
      v = i8x16.sub_sat_s(v, v16); w = i8x16.sub_sat_s(w, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t12, v)); p = v128.xor(p, i8x16.relaxed_swizzle(t12, w));
      v = i8x16.sub_sat_s(v, v16); w = i8x16.sub_sat_s(w, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t13, v)); p = v128.xor(p, i8x16.relaxed_swizzle(t13, w));
      v = i8x16.sub_sat_s(v, v16); w = i8x16.sub_sat_s(w, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t14, v)); p = v128.xor(p, i8x16.relaxed_swizzle(t14, w));
      v = i8x16.sub_sat_s(v, v16); w = i8x16.sub_sat_s(w, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t15, v)); p = v128.xor(p, i8x16.relaxed_swizzle(t15, w));
      v128.store(yp + c, o);
      v128.store(yp + c, p, 16);
    }
    for (; c + 16 <= cols; c += 16) {
      let v = v128.load(xp + c);
      let o = i8x16.relaxed_swizzle(t0, v);
      v = i8x16.sub(v, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t1, v));
      v = i8x16.sub(v, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t2, v));
      v = i8x16.sub(v, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t3, v));
      v = i8x16.sub(v, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t4, v));
      v = i8x16.sub(v, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t5, v));
      v = i8x16.sub(v, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t6, v));
      v = i8x16.sub(v, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t7, v));
      v = i8x16.sub(v, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t8, v));
      v = i8x16.sub_sat_s(v, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t9, v));
      v = i8x16.sub_sat_s(v, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t10, v));
      v = i8x16.sub_sat_s(v, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t11, v));
      v = i8x16.sub_sat_s(v, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t12, v));
      v = i8x16.sub_sat_s(v, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t13, v));
      v = i8x16.sub_sat_s(v, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t14, v));
      v = i8x16.sub_sat_s(v, v16); o = v128.xor(o, i8x16.relaxed_swizzle(t15, v));
      v128.store(yp + c, o);
    }
    for (; c < cols; c++) store<u8>(yp + c, load<u8>(table + <usize>load<u8>(xp + c)));
  }
}
