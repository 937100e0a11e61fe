// INT8 element-wise kernels, portable scalar (every build); semantics in assembly/reference/eltwise.ts.
// add (onnxruntime's fused formula, ./qadd.ts, then the output clamp) / mul: rows r in [r0, r1) of a rows x C output; b broadcast as (r / rdiv) * bstride + c * bcs.
// lut (x8: the same for int8 and uint8): rows x cols with strides (concat into a channel slice, requantize, activations).
// quantize / dequantize: rows x cols, parameters per column (perCol) or per row % period (per-tensor: period 1).
// resize nearest: output rows r in [r0, r1) of N*OH, C bytes per pixel copied from the mapped source pixel.
import { qf_out, qmin_of, qmax_of, ld8, dynquantParams } from './qfloat';
import { fma_q8, qadd_out } from './qadd';

@inline function addS<T>(a: usize, b: usize, y: usize, C: i32, rdiv: i32, bstride: i32, bcs: i32, prm: usize, r0: i32, r1: i32): void {
  // prm: f32 r_big, f32 r_small, f32 fixed, i32 outer_is_big (which input is the outer fma's operand), i32 exact
  // (the host proved every f64 sum exact: plain f64 arithmetic is then the fused result), i32 lo, i32 hi (output clamp:
  // the type's range, or a fused Relu / Clip); the rest of the 64-byte block is the SIMD kernel's (./simd128.ts)
  const rBig = load<f32>(prm), rSmall = load<f32>(prm, 4), fixed = load<f32>(prm, 8), outerBig = load<i32>(prm, 12);
  const exact = load<i32>(prm, 16), lo = load<i32>(prm, 20), hi = load<i32>(prm, 24);
  const ro = outerBig ? rBig : rSmall, ri = outerBig ? rSmall : rBig;
  for (let r = r0; r < r1; r++) {
    const ap = a + <usize>r * C, yp = y + <usize>r * C;
    const bp = b + <usize>((r / rdiv) * bstride);
    for (let c = 0; c < C; c++) {
      const xb = ld8<T>(ap + c), xs = ld8<T>(bp + <usize>(c * bcs));
      const xo = outerBig ? xb : xs, xi = outerBig ? xs : xb;
      const v = exact
        ? <f32>(<f64>xo * <f64>ro + <f64>(<f32>(<f64>xi * <f64>ri + <f64>fixed)))
        : fma_q8(xo, ro, fma_q8(xi, ri, fixed));
      const q = qadd_out<T>(v);
      store<u8>(yp + c, <u8>(q < lo ? lo : q > hi ? hi : q));
    }
  }
}

@inline function mulS<T>(a: usize, b: usize, y: usize, C: i32, rdiv: i32, bstride: i32, bcs: i32, prm: usize, r0: i32, r1: i32): void {
  const ratio = load<f32>(prm);
  const za = load<i32>(prm, 8), zb = load<i32>(prm, 12), zy = load<i32>(prm, 16);
  const lo = <f32>(qmin_of<T>() - zy), hi = <f32>(qmax_of<T>() - zy);
  for (let r = r0; r < r1; r++) {
    const ap = a + <usize>r * C, yp = y + <usize>r * C;
    const bp = b + <usize>((r / rdiv) * bstride);
    for (let c = 0; c < C; c++) {
      const v: f32 = <f32>((ld8<T>(ap + c) - za) * (ld8<T>(bp + <usize>(c * bcs)) - zb)) * ratio;
      store<u8>(yp + c, <u8>qf_out(v, lo, hi, zy));
    }
  }
}

@inline function quantizeS<T>(x: usize, y: usize, cols: i32, scales: usize, zps: usize, perCol: i32, period: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const xp = x + (<usize>r * cols << 2), yp = y + <usize>r * cols;
    for (let c = 0; c < cols; c++) {
      const k = <usize>(perCol ? c : r % period) << 2;
      const zp = load<i32>(zps + k);
      const v = load<f32>(xp + (<usize>c << 2)) / load<f32>(scales + k);
      store<u8>(yp + c, <u8>qf_out(v, <f32>(qmin_of<T>() - zp), <f32>(qmax_of<T>() - zp), zp));
    }
  }
}

@inline function dequantizeS<T>(x: usize, y: usize, cols: i32, scales: usize, zps: usize, perCol: i32, period: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const xp = x + <usize>r * cols, yp = y + (<usize>r * cols << 2);
    for (let c = 0; c < cols; c++) {
      const k = <usize>(perCol ? c : r % period) << 2;
      store<f32>(yp + (<usize>c << 2), <f32>(ld8<T>(xp + c) - load<i32>(zps + k)) * load<f32>(scales + k));
    }
  }
}

export function qs8_add__scalar(a: usize, b: usize, y: usize, C: i32, rdiv: i32, bstride: i32, bcs: i32, prm: usize, r0: i32, r1: i32): void {
  addS<i8>(a, b, y, C, rdiv, bstride, bcs, prm, r0, r1);
}
export function qu8_add__scalar(a: usize, b: usize, y: usize, C: i32, rdiv: i32, bstride: i32, bcs: i32, prm: usize, r0: i32, r1: i32): void {
  addS<u8>(a, b, y, C, rdiv, bstride, bcs, prm, r0, r1);
}
export function qs8_mul__scalar(a: usize, b: usize, y: usize, C: i32, rdiv: i32, bstride: i32, bcs: i32, prm: usize, r0: i32, r1: i32): void {
  mulS<i8>(a, b, y, C, rdiv, bstride, bcs, prm, r0, r1);
}
export function qu8_mul__scalar(a: usize, b: usize, y: usize, C: i32, rdiv: i32, bstride: i32, bcs: i32, prm: usize, r0: i32, r1: i32): void {
  mulS<u8>(a, b, y, C, rdiv, bstride, bcs, prm, r0, r1);
}
export function qs8_quantize__scalar(x: usize, y: usize, cols: i32, scales: usize, zps: usize, perCol: i32, period: i32, r0: i32, r1: i32): void {
  quantizeS<i8>(x, y, cols, scales, zps, perCol, period, r0, r1);
}
export function qu8_quantize__scalar(x: usize, y: usize, cols: i32, scales: usize, zps: usize, perCol: i32, period: i32, r0: i32, r1: i32): void {
  quantizeS<u8>(x, y, cols, scales, zps, perCol, period, r0, r1);
}
export function qs8_dequantize__scalar(x: usize, y: usize, cols: i32, scales: usize, zps: usize, perCol: i32, period: i32, r0: i32, r1: i32): void {
  dequantizeS<i8>(x, y, cols, scales, zps, perCol, period, r0, r1);
}
export function qu8_dequantize__scalar(x: usize, y: usize, cols: i32, scales: usize, zps: usize, perCol: i32, period: i32, r0: i32, r1: i32): void {
  dequantizeS<u8>(x, y, cols, scales, zps, perCol, period, r0, r1);
}

export function x8_lut__scalar(x: usize, y: usize, cols: i32, xstride: i32, ystride: i32, table: usize, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const xp = x + <usize>r * xstride, yp = y + <usize>r * ystride;
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const v = load<u32>(xp + c);
      const o = <u32>load<u8>(table + (v & 0xff)) | (<u32>load<u8>(table + ((v >>> 8) & 0xff)) << 8) |
        (<u32>load<u8>(table + ((v >>> 16) & 0xff)) << 16) | (<u32>load<u8>(table + (v >>> 24)) << 24);
      store<u32>(yp + c, o);
    }
    for (; c < cols; c++) store<u8>(yp + c, load<u8>(table + <usize>load<u8>(xp + c)));
  }
}

/** Strided byte copy (concat of equal-quantization inputs): rows x cols. */
export function x8_copy__scalar(x: usize, y: usize, cols: i32, xstride: i32, ystride: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) memory.copy(y + <usize>r * ystride, x + <usize>r * xstride, <usize>cols);
}

export function x8_resize_nearest__scalar(x: usize, y: usize, IH: i32, IW: i32, C: i32, OH: i32, OW: i32, ymap: usize, xmap: usize, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const n = r / OH;
    const oy = r - n * OH;
    const src = x + <usize>(n * IH + load<i32>(ymap + (<usize>oy << 2))) * IW * C;
    let yp = y + <usize>r * OW * C;
    for (let ox = 0; ox < OW; ox++) {
      const sp = src + <usize>load<i32>(xmap + (<usize>ox << 2)) * C;
      let c = 0;
      for (; c + 8 <= C; c += 8) store<u64>(yp + c, load<u64>(sp + c));
      for (; c < C; c++) store<u8>(yp + c, load<u8>(sp + c));
      yp += C;
    }
  }
}

/** DynamicQuantizeLinear over n float32 values (semantics: ref_f32_dynquant_u8 in assembly/reference/eltwise.ts). */
export function f32_dynquant_u8__scalar(x: usize, n: i32, y: usize, scale_out: usize, zp_out: usize): void {
  let mn: f32 = 0, mx: f32 = 0;
  for (let i = 0; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
  }
  const zp = dynquantParams(mn, mx, scale_out, zp_out);
  const scale = load<f32>(scale_out);
  if (scale == 0) {
    memory.fill(y, <u8>zp, <usize>n);
    return;
  }
  const nz: i32 = -zp, pz: i32 = 255 - zp;
  const lo = <f32>nz, hi = <f32>pz;
  for (let i = 0; i < n; i++) {
    const f = min(max(nearest<f32>(load<f32>(x + (<usize>i << 2)) / scale), lo), hi);
    store<u8>(y + <usize>i, <u8>(<i32>f + zp));
  }
}
