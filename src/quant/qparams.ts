// Quantization parameters: integer ranges, scale/zero-point from a real range (real 0.0 always exactly
// representable), per-tensor and per-channel weight quantization, int32 bias with scale S_in * S_w.
// Rounding is half-to-even, the rounding of ONNX QuantizeLinear.

export type QType = 'int8' | 'uint8';

export interface QParams {
  scale: number; // float32 value
  zeroPoint: number;
  type: QType;
}

/** Integer range of a type: full, symmetric (int8 drops -128 so that +-127 mirror), and reduced (7-bit). */
export function qRange(type: QType, opts: { symmetric?: boolean; reduceRange?: boolean } = {}): [number, number] {
  if (type === 'int8') {
    if (opts.reduceRange) return opts.symmetric ? [-63, 63] : [-64, 63];
    return opts.symmetric ? [-127, 127] : [-128, 127];
  }
  if (opts.reduceRange) return [0, 127];
  return opts.symmetric ? [0, 254] : [0, 255];
}

export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const fr = Math.fround;

/**
 * Scale and zero point for the real range [rmin, rmax] over the integers [qmin, qmax]. The range is first widened
 * to contain 0, so that the zero point is an integer and real 0.0 maps exactly to it. Symmetric: the range becomes
 * [-a, a] with a = max(|rmin|, |rmax|), and the zero point is the middle of [qmin, qmax].
 */
export function computeQParams(
  rmin: number,
  rmax: number,
  type: QType,
  opts: { symmetric?: boolean; reduceRange?: boolean } = {},
): QParams {
  if (!Number.isFinite(rmin) || !Number.isFinite(rmax)) throw new Error(`qparams: range [${rmin}, ${rmax}] is not finite`);
  if (rmin > rmax) throw new Error(`qparams: range [${rmin}, ${rmax}] is empty`);
  const [qmin, qmax] = qRange(type, opts);
  rmin = Math.min(rmin, 0);
  rmax = Math.max(rmax, 0);
  if (opts.symmetric) {
    const a = Math.max(-rmin, rmax);
    const zp = Math.round((qmin + qmax) / 2);
    const scale = a === 0 ? 1 : fr(a / ((qmax - qmin) / 2));
    return { scale, zeroPoint: zp, type };
  }
  if (rmax === rmin) return { scale: 1, zeroPoint: Math.min(Math.max(0, qmin), qmax), type };
  const scale = fr((rmax - rmin) / (qmax - qmin));
  let zp = roundHalfEven(qmin - rmin / scale);
  zp = Math.min(Math.max(zp, qmin), qmax);
  return { scale, zeroPoint: zp, type };
}

export function quantizeValue(x: number, scale: number, zp: number, qmin: number, qmax: number): number {
  const q = roundHalfEven(x / scale) + zp;
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

export interface QuantizedWeight {
  data: Int8Array | Uint8Array;
  scales: Float32Array; // one per channel (length 1 when per-tensor)
  zeroPoints: Int32Array;
  axis: number; // -1 when per-tensor
  type: QType;
}

/**
 * Quantize a weight tensor. Per-channel: one scale per slice along `axis`. Symmetric weights use zero point 0
 * (int8) or 128 (uint8); asymmetric ones take the slice's min/max.
 */
export function quantizeWeight(
  w: Float32Array,
  dims: readonly number[],
  opts: { type?: QType; perChannel?: boolean; axis?: number; symmetric?: boolean; reduceRange?: boolean } = {},
): QuantizedWeight {
  const type = opts.type ?? 'int8';
  const symmetric = opts.symmetric ?? true;
  const perChannel = !!opts.perChannel && dims.length > 0;
  const axis = perChannel ? ((opts.axis ?? 0) + dims.length) % dims.length : -1;
  const channels = perChannel ? dims[axis] : 1;
  const inner = perChannel ? dims.slice(axis + 1).reduce((a, b) => a * b, 1) : w.length;
  const [qmin, qmax] = qRange(type, { symmetric, reduceRange: opts.reduceRange });
  const mins = new Float64Array(channels).fill(Infinity);
  const maxs = new Float64Array(channels).fill(-Infinity);
  for (let i = 0; i < w.length; i++) {
    const v = w[i];
    if (!Number.isFinite(v)) throw new Error(`weight element ${i} is ${v}`);
    const c = perChannel ? Math.floor(i / inner) % channels : 0;
    if (v < mins[c]) mins[c] = v;
    if (v > maxs[c]) maxs[c] = v;
  }
  const scales = new Float32Array(channels);
  const zps = new Int32Array(channels);
  for (let c = 0; c < channels; c++) {
    const lo = mins[c] === Infinity ? 0 : mins[c];
    const hi = maxs[c] === -Infinity ? 0 : maxs[c];
    const p = computeQParams(lo, hi, type, { symmetric, reduceRange: opts.reduceRange });
    scales[c] = p.scale;
    zps[c] = p.zeroPoint;
  }
  const data = type === 'int8' ? new Int8Array(w.length) : new Uint8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const c = perChannel ? Math.floor(i / inner) % channels : 0;
    data[i] = quantizeValue(w[i], scales[c], zps[c], qmin, qmax);
  }
  return { data, scales, zeroPoints: zps, axis, type };
}

/** Bias as int32 with scale inputScale * weightScale[c] (float32 product), the convention of QLinearConv. */
export function quantizeBias(b: Float32Array, inputScale: number, weightScales: Float32Array): { data: Int32Array; scales: Float32Array } {
  const data = new Int32Array(b.length);
  const scales = new Float32Array(b.length);
  for (let c = 0; c < b.length; c++) {
    const s = fr(inputScale * weightScales[weightScales.length === 1 ? 0 : c]);
    scales[c] = s;
    const q = s === 0 ? 0 : roundHalfEven(b[c] / s);
    data[c] = Math.max(-2147483648, Math.min(2147483647, q));
  }
  return { data, scales };
}

export function dequantize(q: ArrayLike<number>, scale: number, zp: number): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = (q[i] - zp) * scale;
  return out;
}
