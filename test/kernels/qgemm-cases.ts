// Shared random-case machinery for the qs8 GEMM suites (qgemm.test.ts and its relaxed-SIMD child process):
// builds a random problem, runs one variant through the host API (prepareQGemm) and the oracle
// (assembly/reference/gemm.ts, ref_qgemm) in the same wasm instance, and compares bit for bit.
import { WasmKernels, BumpAllocator } from '../../src/runtime/wasm.js';
import { prepareQGemm, QGEMM_VARIANTS, type QOutput } from '../../src/kernels/qgemm.js';
import { fixedPointMultipliers, requantScales, outputRange, type QuantType, type RequantMode } from '../../src/kernels/requant.js';

export function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
}

export interface Case {
  m: number; k: number; n: number;
  aType: QuantType; za: number;
  wType: QuantType; zb: number[];
  out: 'int8' | 'uint8' | 'int32' | 'float32';
  mode: RequantMode;
  clamp?: { min?: number; max?: number };
  seed: number;
  /** Force all A and B values to the given extremes (overflow checks). */
  extreme?: boolean;
  /**
   * Model-like scales: every requantization multiplier in 1e-5..0.5, so the fixed-point mode runs the one-multiply
   * (FIXEDX) epilogue, with biases large enough to push accumulators past its clamp bounds.
   */
  modelScales?: boolean;
}

export function randomCase(r: () => number, seed: number, maxDim = 40): Case {
  const ri = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const aType: QuantType = pick(['int8', 'uint8']);
  const wType: QuantType = pick(['int8', 'int8', 'uint8']);
  const n = pick([1, 3, 8, 9, 16, 17, ri(1, maxDim)]);
  const [alo, ahi] = aType === 'int8' ? [-128, 127] : [0, 255];
  const [wlo, whi] = wType === 'int8' ? [-128, 127] : [0, 255];
  const zbMode = pick(['zero', 'tensor', 'channel']);
  const zb0 = wType === 'int8' ? 0 : 128;
  const zb = Array.from({ length: n }, () => (zbMode === 'zero' ? zb0 : zbMode === 'tensor' ? 0 : ri(wlo, whi)));
  if (zbMode === 'tensor') zb.fill(pick([wlo, whi, ri(wlo, whi)]));
  return {
    m: pick([1, 2, 3, 4, 5, 7, 8, 13, ri(1, maxDim)]),
    k: pick([1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, ri(1, 3 * maxDim)]),
    n, aType, za: pick([alo, ahi, ri(alo, ahi)]), wType, zb,
    out: pick(['int8', 'uint8', 'int8', 'uint8', 'int32', 'float32']),
    mode: pick(['fixed-point', 'float']),
    clamp: pick([undefined, { min: 0 }, { min: 0, max: 6 }, { min: -1, max: 1 }]),
    seed,
    modelScales: r() < 0.5,
  };
}

export interface Problem {
  a: Int8Array | Uint8Array;
  b: Int8Array | Uint8Array; // [K, N]
  bias: Int32Array | Float32Array;
  aScale: number;
  wScales: number[];
  output: QOutput;
}

export function makeProblem(c: Case): Problem {
  const r = rng(c.seed * 7919 + 17);
  const A = c.aType === 'int8' ? new Int8Array(c.m * c.k) : new Uint8Array(c.m * c.k);
  const B = c.wType === 'int8' ? new Int8Array(c.k * c.n) : new Uint8Array(c.k * c.n);
  for (let i = 0; i < A.length; i++) A[i] = c.extreme ? (c.aType === 'int8' ? (c.za > 0 ? -128 : 127) : c.za > 127 ? 0 : 255) : Math.floor(r() * 256);
  for (let i = 0; i < B.length; i++) B[i] = c.extreme ? (c.wType === 'int8' ? 127 : 255) : Math.floor(r() * 256);
  const aScale = 2 ** (-8 + r() * 6);
  // per-channel weight scales over 6 orders of magnitude, plus multipliers below 2^-31 and above 1
  let wScales = Array.from({ length: c.n }, (_, j) => (j % 7 === 3 ? 1e-9 * r() : j % 7 === 5 ? 40 + r() * 100 : 10 ** (-6 + r() * 6)));
  const outScale = 2 ** (-12 + r() * 8);
  // multipliers in 1e-5..0.5, or (odd seeds) in 1e-3..0.5: whole groups of 4 then stay unnormalized (e = 0, T = 2)
  if (c.modelScales) wScales = wScales.map(() => (10 ** (c.seed & 1 ? -3 + 2.7 * r() : -5 + 4.7 * r()) * outScale) / aScale);
  let bias: Int32Array | Float32Array;
  if (c.out === 'float32') bias = Float32Array.from({ length: c.n }, () => (r() - 0.5) * 10);
  else bias = Int32Array.from({ length: c.n }, () => Math.floor((r() - 0.5) * 2 ** (r() * (c.modelScales ? 26 : 20))));
  const output: QOutput = c.out === 'int32' || c.out === 'float32' ? { type: c.out } : { type: c.out, scale: outScale, zeroPoint: c.out === 'int8' ? Math.floor(r() * 256) - 128 : Math.floor(r() * 256), clamp: c.clamp };
  return { a: A, b: B, bias, aScale, wScales, output };
}

/** Runs variant `name` and the oracle; returns a mismatch description or '' when bit-identical. */
export function checkCase(wasm: WasmKernels, name: string, c: Case): string {
  const p = makeProblem(c);
  const alloc = new BumpAllocator(wasm);
  const prep = prepareQGemm({
    name: 'test', m: c.m, k: c.k, n: c.n, aType: c.aType, aScale: p.aScale, aZeroPoint: c.za,
    weights: { data: p.b, type: c.wType, layout: 'kn', zeroPoints: c.zb, scales: p.wScales },
    bias: p.bias, output: p.output, requant: c.mode, path: 'scalar', variant: name,
  });
  const es = c.out === 'int32' || c.out === 'float32' ? 4 : 1;
  const pa = alloc.put(p.a);
  const pw = alloc.put(prep.constants, 16);
  const outBytes = c.m * c.n * es;
  // guard bytes around the output catch writes outside it
  const pc = alloc.alloc(outBytes + 64) + 32;
  const pr = alloc.alloc(outBytes + 64) + 32;
  const ps = alloc.alloc(prep.scratchBytes + 16);
  wasm.u8(pc - 32, outBytes + 64).fill(0xa5);
  // split the rows into two work ranges, as a worker pool would
  const mid = Math.floor(prep.workItems / 2);
  prep.run(wasm, { inputs: [pa], outputs: [pc], constants: pw, scratch: ps }, 0, mid);
  prep.run(wasm, { inputs: [pa], outputs: [pc], constants: pw, scratch: ps }, mid, prep.workItems);
  // oracle
  const n = c.n;
  const kind = c.out === 'int32' ? 2 : c.out === 'float32' ? 3 : c.mode === 'float' ? 1 : 0;
  const reals = c.out === 'int8' || c.out === 'uint8' ? requantScales(c.mode, p.aScale, p.wScales, (p.output as any).scale) : new Float64Array(n);
  const mult = new Int32Array(n), shift = new Int32Array(n), scale = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    if (kind === 0) ({ multiplier: mult[j], shift: shift[j] } = fixedPointMultipliers(reals)[j]);
    scale[j] = kind === 3 ? Math.fround(Math.fround(p.aScale) * Math.fround(p.wScales[j])) : reals[j];
  }
  const { qmin, qmax } = kind <= 1 ? outputRange(c.out as QuantType, (p.output as any).zeroPoint, (p.output as any).scale, c.clamp) : { qmin: 0, qmax: 0 };
  const zp = kind <= 1 ? (p.output as any).zeroPoint : 0;
  const pb = alloc.put(p.b);
  const pzb = alloc.put(Int32Array.from(c.zb));
  const pbias = kind === 3 ? 0 : alloc.put(p.bias);
  const pfb = alloc.put(kind === 3 ? p.bias : new Float32Array(n));
  wasm.exports.ref_qgemm(c.m, n, c.k, pa, c.aType === 'uint8' ? 1 : 0, c.za, pb, c.wType === 'uint8' ? 1 : 0, pzb, pbias, pr, kind,
    alloc.put(mult), alloc.put(shift), alloc.put(scale), pfb, zp, qmin, qmax);
  const got = wasm.u8(pc - 32, outBytes + 64);
  for (let i = 0; i < 32; i++) if (got[i] !== 0xa5 || got[outBytes + 32 + i] !== 0xa5) return `${name} wrote outside the output (${JSON.stringify(c)})`;
  const g = wasm.u8(pc, outBytes), w = wasm.u8(pr, outBytes);
  for (let i = 0; i < outBytes; i++) {
    if (g[i] !== w[i]) {
      const idx = Math.floor(i / es);
      return `${name} (${prep.variant}) differs at row ${Math.floor(idx / n)} col ${idx % n}: case ${JSON.stringify(c)}`;
    }
  }
  return '';
}

export function variantsOf(level: 'scalar' | 'simd128' | 'relaxed'): string[] {
  const rank = { scalar: 0, simd128: 1, relaxed: 2 };
  return QGEMM_VARIANTS.filter((v) => rank[v.build] <= rank[level]).map((v) => v.name);
}

/** Runs `count` random cases (and the fixed edge cases) on every variant of the instance's build. */
export function runSuite(wasm: WasmKernels, count: number, seed: number): string[] {
  const fails: string[] = [];
  const r = rng(seed);
  const cases: Case[] = [];
  const base = { aType: 'int8' as QuantType, za: 0, wType: 'int8' as QuantType, out: 'int8' as const, mode: 'fixed-point' as RequantMode };
  cases.push({ ...base, m: 1, k: 1, n: 1, zb: [0], seed: 1 });
  cases.push({ ...base, m: 9, k: 1, n: 17, zb: Array(17).fill(0), za: -128, seed: 2 });
  cases.push({ ...base, m: 4, k: 1, n: 8, zb: Array(8).fill(0), za: 127, aType: 'int8', out: 'uint8', seed: 3 });
  // K = 16384 at the extremes: |acc| ~ 2^30, int32 must not overflow
  cases.push({ ...base, m: 5, k: 16384, n: 9, aType: 'uint8', za: 255, wType: 'uint8', zb: Array(9).fill(0), out: 'int32', seed: 4, extreme: true });
  cases.push({ ...base, m: 5, k: 16384, n: 9, aType: 'int8', za: 127, wType: 'int8', zb: Array(9).fill(-128), out: 'int32', seed: 5, extreme: true });
  for (let i = 0; i < count; i++) cases.push(randomCase(r, seed * 1000 + i));
  for (const name of variantsOf(wasm.level)) {
    for (const c of cases) {
      const f = checkCase(wasm, name, c);
      if (f) { fails.push(f); break; }
    }
  }
  return fails;
}
