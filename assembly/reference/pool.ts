// Naive scalar oracles of the INT8 pooling family (NHWC, int8 or uint8 per the `signed` flag). Never optimized.
// Semantics (documented once here, the kernels in assembly/pool/ must match bit for bit):
// - max pool: max over the window taps that fall inside the input (padding is ignored, as in ONNX MaxPool);
//   a window with no valid tap (possible with ceil_mode) yields the type's minimum.
// - average pool: acc = sum over valid taps of (x - zx) (padding contributes 0 = the real value 0),
//   d = number of valid taps, or with count_include_pad the number of taps inside the padded extent
//   [-pad_begin, H + pad_end) per axis (ceil_mode windows may run past it); y = sat(rne(f32(acc) * scale[d]) + zy)
//   where scale[d] = f32(sx / f32(sy * d)) comes from a host table (as onnxruntime's QLinearAveragePool would
//   give if it summed integers); d = 0 gives zy.
// - global average pool: acc = sum(x) - HW*zx, y = sat(rne(f32(acc) * scale) + zy), scale = f32(sx / f32(sy * HW))
//   (onnxruntime MLAS QLinearGlobalAveragePool, SSE2/wasm path: mlas/lib/qlgavgpool.cpp).

@inline function ld8(p: usize, signed: i32): i32 {
  return signed ? <i32>load<i8>(p) : <i32>load<u8>(p);
}

@inline function satq(v: i32, signed: i32): i32 {
  const lo = signed ? -128 : 0;
  const hi = signed ? 127 : 255;
  return v < lo ? lo : v > hi ? hi : v;
}

function refRequantF(acc: i32, scale: f32, zy: i32, signed: i32): i32 {
  const r = <i32>nearest<f32>(<f32>acc * scale);
  // clamp in float first so huge values cannot wrap the i32 conversion
  const v = <f32>acc * scale;
  if (v > 1e6) return satq(1 << 20, signed);
  if (v < -1e6) return satq(-(1 << 20), signed);
  return satq(r + zy, signed);
}

export function ref_q8_maxpool(
  x: usize, y: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, signed: i32,
): void {
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let c = 0; c < C; c++) {
          let m = signed ? -128 : 0;
          for (let ky = 0; ky < KH; ky++)
            for (let kx = 0; kx < KW; kx++) {
              const iy = oy * SH - PT + ky * DH;
              const ix = ox * SW - PL + kx * DW;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              const v = ld8(x + <usize>(((n * H + iy) * W + ix) * C + c), signed);
              if (v > m) m = v;
            }
          store<u8>(y + <usize>(((n * OH + oy) * OW + ox) * C + c), <u8>m);
        }
}

export function ref_q8_avgpool(
  x: usize, y: usize, N: i32, H: i32, W: i32, C: i32, OH: i32, OW: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, DH: i32, DW: i32, PT: i32, PL: i32, PB: i32, PR: i32,
  countIncludePad: i32, zx: i32, zy: i32, scales: usize, signed: i32,
): void {
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let c = 0; c < C; c++) {
          let acc = 0;
          let valid = 0;
          let inPad = 0;
          for (let ky = 0; ky < KH; ky++)
            for (let kx = 0; kx < KW; kx++) {
              const iy = oy * SH - PT + ky * DH;
              const ix = ox * SW - PL + kx * DW;
              if (iy >= -PT && iy < H + PB && ix >= -PL && ix < W + PR) inPad++;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              acc += ld8(x + <usize>(((n * H + iy) * W + ix) * C + c), signed) - zx;
              valid++;
            }
          const d = countIncludePad ? inPad : valid;
          const out = d == 0 ? satq(zy, signed) : refRequantF(acc, load<f32>(scales + (<usize>d << 2)), zy, signed);
          store<u8>(y + <usize>(((n * OH + oy) * OW + ox) * C + c), <u8>out);
        }
}

export function ref_q8_gavgpool(x: usize, y: usize, N: i32, HW: i32, C: i32, zx: i32, zy: i32, scale: f32, signed: i32): void {
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      let acc = 0;
      for (let p = 0; p < HW; p++) acc += ld8(x + <usize>((n * HW + p) * C + c), signed);
      acc -= HW * zx;
      store<u8>(y + <usize>(n * C + c), <u8>refRequantF(acc, scale, zy, signed));
    }
}
