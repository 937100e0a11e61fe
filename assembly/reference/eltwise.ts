// Naive scalar oracles of the INT8 element-wise family. Never optimized. Semantics (kernels in assembly/eltwise/
// must match bit for bit; all float math in float32, no fused multiply-add):
// - add:  onnxruntime's x86 (AVX2 + FMA) QLinearAdd: y = sat8(cvt(fma(xo, ro, fma(xi, ri, fixed)))), each fma a
//         float32 fused multiply-add (rounded once), xo / xi the raw bytes of the outer / inner operand, r = f32(s / sy),
//         fixed = f32(zy - fma(ro, zo, f32(ri * zi))) (made on the host), cvt = round half to even with NaN and
//         |v| >= 2^31 giving INT32_MIN; sat8 = saturation to the 8-bit range. outerIsBig: the full-size input is the
//         outer operand (else the broadcast one). Then y = min(max(y, lo), hi): the output clamp (the type's range, or
//         a Relu / Clip after the add, fused when the host proved it equal to the clamp table).
// - mul:  y = sat(rne(f32((a - za) * (b - zb)) * r) + zy), r = f32(sa * sb / sy) (QLinearMul).
// - broadcasting: y[r, c] = op(a[r*C + c], b[(r / rdiv) * bstride + c * bcs]) for r < rows, c < C
//   (same shape: rdiv 1, bstride C, bcs 1; per-channel vector: rdiv = rows, bstride 0; scalar: bcs 0, bstride 0;
//   SE-block [N,H,W,C] x [N,1,1,C]: rdiv = H*W, bstride = C).
// - lut:  y = table[u8(x)] (256 bytes, built on the host: requantize, concat, sigmoid, tanh, hard-sigmoid, ...).
// - quantize:   y = sat(rne(x / s) + zp) in float32 (ONNX QuantizeLinear); NaN is unspecified.
// - dequantize: y = f32(x - zp) * s (ONNX DequantizeLinear).
//   Per-axis layout: rows x cols; perCol = 1: parameter index = col; perCol = 0: index = row % period.
// - resize nearest: y[n, oy, ox, :] = x[n, ymap[oy], xmap[ox], :] (maps computed on the host from the ONNX
//   coordinate_transformation_mode and nearest_mode).

@inline function ld8(p: usize, signed: i32): i32 {
  return signed ? <i32>load<i8>(p) : <i32>load<u8>(p);
}

function satF(v: f32, zp: i32, signed: i32): i32 {
  const lo = signed ? -128 : 0;
  const hi = signed ? 127 : 255;
  if (v != v) return zp < lo ? lo : zp > hi ? hi : zp;
  if (v > 1e6) return hi;
  if (v < -1e6) return lo;
  const r = <i32>nearest<f32>(v) + zp;
  return r < lo ? lo : r > hi ? hi : r;
}

/** f32 of x * r + t rounded once (x integer, |x| < 2^9): the exact value is s + err (TwoSum in f64); pick between
 *  c = f32(s) and its neighbour towards s by comparing with their midpoint (exact in f64), ties to even. */
function ref_fma32(x: i32, r: f32, t: f32): f32 {
  const p = <f64>x * <f64>r;
  const s = p + <f64>t;
  const z = s - p;
  const err = (p - (s - z)) + (<f64>t - z);
  const c = <f32>s;
  const e1 = s - <f64>c;
  const dirErr = e1 != 0 ? e1 : err;
  if (dirErr == 0) return c;
  // neighbour of c in the direction of dirErr
  const cb = reinterpret<i32>(c);
  const up = (dirErr > 0) == (c >= 0);
  const n = reinterpret<f32>(c == 0 ? (dirErr > 0 ? 1 : 0x80000001) : up ? cb + 1 : cb - 1);
  const mid = (<f64>c + <f64>n) * 0.5;
  const d = s - mid; // exact (Sterbenz)
  const side = d != 0 ? d : err; // > 0: beyond mid away from c (in dirErr's sense), = 0: a tie
  const beyond = dirErr > 0 ? side > 0 : side < 0;
  if (side == 0) return (cb & 1) == 0 ? c : n;
  return beyond ? n : c;
}

/** onnxruntime's cvtps_epi32 (NaN, |v| >= 2^31 -> INT32_MIN) then saturating packs to 8 bits. */
function ref_cvt8(v: f32, signed: i32): i32 {
  let r: i32 = i32.MIN_VALUE;
  if (v >= -2147483648.0 && v < 2147483648.0) r = <i32>nearest<f32>(v);
  const lo = signed ? -128 : 0;
  const hi = signed ? 127 : 255;
  return r < lo ? lo : r > hi ? hi : r;
}

export function ref_q8_add(
  a: usize, b: usize, y: usize, rows: i32, C: i32, rdiv: i32, bstride: i32, bcs: i32,
  rBig: f32, rSmall: f32, fixed: f32, outerIsBig: i32, signed: i32, lo: i32, hi: i32,
): void {
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < C; c++) {
      const xb = ld8(a + <usize>(r * C + c), signed);
      const xs = ld8(b + <usize>((r / rdiv) * bstride + c * bcs), signed);
      const v = outerIsBig ? ref_fma32(xb, rBig, ref_fma32(xs, rSmall, fixed)) : ref_fma32(xs, rSmall, ref_fma32(xb, rBig, fixed));
      const q = ref_cvt8(v, signed);
      store<u8>(y + <usize>(r * C + c), <u8>(q < lo ? lo : q > hi ? hi : q));
    }
}

export function ref_q8_mul(
  a: usize, b: usize, y: usize, rows: i32, C: i32, rdiv: i32, bstride: i32, bcs: i32,
  za: i32, zb: i32, zy: i32, ratio: f32, signed: i32,
): void {
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < C; c++) {
      const av = ld8(a + <usize>(r * C + c), signed);
      const bv = ld8(b + <usize>((r / rdiv) * bstride + c * bcs), signed);
      const v: f32 = <f32>((av - za) * (bv - zb)) * ratio;
      store<u8>(y + <usize>(r * C + c), <u8>satF(v, zy, signed));
    }
}

export function ref_x8_lut(x: usize, y: usize, rows: i32, cols: i32, xstride: i32, ystride: i32, table: usize): void {
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++)
      store<u8>(y + <usize>(r * ystride + c), load<u8>(table + <usize>load<u8>(x + <usize>(r * xstride + c))));
}

export function ref_q8_quantize(
  x: usize, y: usize, rows: i32, cols: i32, scales: usize, zps: usize, perCol: i32, period: i32, signed: i32,
): void {
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const k = perCol ? c : r % period;
      const v = load<f32>(x + (<usize>(r * cols + c) << 2)) / load<f32>(scales + (<usize>k << 2));
      store<u8>(y + <usize>(r * cols + c), <u8>satF(v, load<i32>(zps + (<usize>k << 2)), signed));
    }
}

export function ref_q8_dequantize(
  x: usize, y: usize, rows: i32, cols: i32, scales: usize, zps: usize, perCol: i32, period: i32, signed: i32,
): void {
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const k = perCol ? c : r % period;
      const v = <f32>(ld8(x + <usize>(r * cols + c), signed) - load<i32>(zps + (<usize>k << 2))) * load<f32>(scales + (<usize>k << 2));
      store<f32>(y + (<usize>(r * cols + c) << 2), v);
    }
}

export function ref_x8_resize_nearest(
  x: usize, y: usize, N: i32, IH: i32, IW: i32, C: i32, OH: i32, OW: i32, ymap: usize, xmap: usize,
): void {
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        const iy = load<i32>(ymap + (<usize>oy << 2));
        const ix = load<i32>(xmap + (<usize>ox << 2));
        for (let c = 0; c < C; c++)
          store<u8>(y + <usize>(((n * OH + oy) * OW + ox) * C + c), load<u8>(x + <usize>(((n * IH + iy) * IW + ix) * C + c)));
      }
}

/**
 * DynamicQuantizeLinear (ONNX): over n float32 values, x_min = min(0, min x), x_max = max(0, max x),
 * scale = (x_max - x_min) / 255, zp = sat_u8(rne(0 - x_min / scale)), y = sat_u8(rne(x / scale) + zp), all float32
 * (scale 0: zp = 0 and y = 0). Writes y (n bytes), scale (f32) and zp (u8).
 */
export function ref_f32_dynquant_u8(x: usize, n: i32, y: usize, scale_out: usize, zp_out: usize): void {
  let mn: f32 = 0, mx: f32 = 0;
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  const scale: f32 = (mx - mn) / <f32>255;
  let zp: i32 = 0;
  if (scale != 0) {
    const z = nearest<f32>(<f32>0 - mn / scale);
    zp = z < 0 ? 0 : z > 255 ? 255 : <i32>z;
  }
  store<f32>(scale_out, scale);
  store<u8>(zp_out, <u8>zp);
  for (let i = 0; i < n; i++) {
    let q: i32 = zp;
    if (scale != 0) {
      const f = nearest<f32>(load<f32>(x + (<usize>i << 2)) / scale) + <f32>zp;
      q = f < 0 ? 0 : f > 255 ? 255 : <i32>f;
    }
    store<u8>(y + <usize>i, <u8>q);
  }
}
