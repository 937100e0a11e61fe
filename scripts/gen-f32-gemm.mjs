// Generates the FP32 GEMM micro-kernels (assembly/f32/gemm-gen-*.ts) for every tile MRx8 and ISA.
// Also the sgemm drivers of those builds (from the scalar one) and assembly/f32/dwconv-gen-relaxed.ts (the simd128
// depthwise kernels with a fused multiply-add).
// The outputs are git-ignored: scripts/build-wasm.mjs (npm run build, npm install) runs this before compiling.
// Packed B layout (shared by every tile and ISA, produced by src/kernels/f32.ts packF32GemmWeights and by
// f32_gemm_pack_b in wasm): ceil(N/8) panels, each [bias[8]] then [k = 0..K-1][8 columns], columns past N = 0.
// Accumulation order is the reference's: start from the bias, add k = 0..K-1 in order, so the simd128 kernel
// matches the scalar oracle bit for bit; relaxed uses fused multiply-add (rounds once per step).
import { readFileSync, writeFileSync } from 'node:fs';

function simdKernel(mr, isa) {
  const name = `f32_gemm_${mr}x8__${isa}`;
  const R = [...Array(mr).keys()];
  const madd = (a, b, c) => (isa === 'relaxed' ? `f32x4.relaxed_madd(${a}, ${b}, ${c})` : `f32x4.add(${c}, f32x4.mul(${a}, ${b}))`);
  let s = '';
  s += `/** ${mr}x8 tile, ${isa === 'relaxed' ? 'f32x4.relaxed_madd' : 'f32x4 mul + add'}: rows [0, mr) (mr <= ${mr}) of C, all nc columns. */\n`;
  s += `export function ${name}(\n  mr: i32, nc: i32, kc: i32, a: usize, a_rs: usize, a_cs: usize, w: usize,\n  c: usize, c_rs: usize, alpha: f32, beta: f32, lo: f32, hi: f32,\n): void {\n`;
  s += `  let a0 = a;\n  let c0 = c;\n`;
  for (let r = 1; r < mr; r++) {
    s += `  let a${r} = a${r - 1} + a_rs;\n  if (mr <= ${r}) a${r} = a${r - 1};\n  const c${r} = c${r - 1} + c_rs;\n`.replace(`const c${r}`, `let c${r}`);
  }
  s += `  const vlo = f32x4.splat(lo);\n  const vhi = f32x4.splat(hi);\n  const valpha = f32x4.splat(alpha);\n  const vbeta = f32x4.splat(beta);\n`;
  s += `  const scale = alpha != 1;\n  const accum = beta != 0;\n  let n = nc;\n  let cc = <usize>0;\n`;
  s += `  while (n > 0) {\n`;
  s += `    let v0x0 = v128.load(w);\n    let v0x1 = v128.load(w, 16);\n`;
  for (let r = 1; r < mr; r++) s += `    let v${r}x0 = v0x0;\n    let v${r}x1 = v0x1;\n`;
  s += `    w += 32;\n`;
  for (const r of R) s += `    let p${r} = a${r};\n`;
  s += `    for (let k = kc; k > 0; k--) {\n      const b0 = v128.load(w);\n      const b1 = v128.load(w, 16);\n      w += 32;\n`;
  for (const r of R) {
    s += `      const va${r} = v128.load32_splat(p${r});\n      p${r} += a_cs;\n`;
    s += `      v${r}x0 = ${madd(`va${r}`, 'b0', `v${r}x0`)};\n      v${r}x1 = ${madd(`va${r}`, 'b1', `v${r}x1`)};\n`;
  }
  s += `    }\n`;
  s += `    if (scale) {\n`;
  for (const r of R) s += `      v${r}x0 = f32x4.mul(v${r}x0, valpha);\n      v${r}x1 = f32x4.mul(v${r}x1, valpha);\n`;
  s += `    }\n`;
  s += `    if (n >= 8) {\n`;
  s += `      if (accum) {\n`;
  for (const r of R) {
    const g = r === 0 ? '' : `if (mr > ${r}) `;
    s += `        ${g}{ v${r}x0 = f32x4.add(v${r}x0, f32x4.mul(vbeta, v128.load(c${r} + cc))); v${r}x1 = f32x4.add(v${r}x1, f32x4.mul(vbeta, v128.load(c${r} + cc, 16))); }\n`;
  }
  s += `      }\n`;
  for (const r of R) {
    const g = r === 0 ? '' : `if (mr > ${r}) `;
    s += `      ${g}{ v128.store(c${r} + cc, clamp4(v${r}x0, vlo, vhi)); v128.store(c${r} + cc, clamp4(v${r}x1, vlo, vhi), 16); }\n`;
  }
  s += `      cc += 32;\n      n -= 8;\n    } else {\n`;
  for (const r of R) {
    const g = r === 0 ? '' : `if (mr > ${r}) `;
    s += `      ${g}storeTail(c${r} + cc, v${r}x0, v${r}x1, n, accum, vbeta, vlo, vhi);\n`;
  }
  s += `      n = 0;\n    }\n  }\n}\n\n`;
  // row driver
  s += `/** Rows [m_begin, m_end) of C with the ${mr}x8 tile (work range for the worker pool). */\n`;
  s += `export function f32_gemm_rows_${mr}x8__${isa}(\n  m_begin: i32, m_end: i32, nc: i32, kc: i32, a: usize, a_rs: usize, a_cs: usize, w: usize,\n  c: usize, c_rs: usize, alpha: f32, beta: f32, lo: f32, hi: f32,\n): void {\n`;
  s += `  for (let m = m_begin; m < m_end; m += ${mr}) {\n    const mr = min(${mr}, m_end - m);\n`;
  s += `    ${name}(mr, nc, kc, a + <usize>m * a_rs, a_rs, a_cs, w, c + <usize>m * c_rs, c_rs, alpha, beta, lo, hi);\n  }\n}\n\n`;
  return s;
}

const helpers = `@inline function clamp4(v: v128, lo: v128, hi: v128): v128 {
  // pmax(v, lo) = v < lo ? lo : v and pmin(v, hi) = hi < v ? hi : v: single minps/maxps on x64, and NaN stays NaN.
  return f32x4.pmin(f32x4.pmax(v, lo), hi);
}

/** Loads n (0..4) floats, zero-filling the rest. */
@inline function loadPartial(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  if (n == 3) return f32x4.replace_lane(v128.load64_zero(p), 2, load<f32>(p, 8));
  if (n == 2) return v128.load64_zero(p);
  if (n == 1) return v128.load32_zero(p);
  return f32x4.splat(0);
}

/** Stores the first n (1..7) of the 8 columns (v0 | v1) of one row, with beta*C and clamp. */
function storeTail(p: usize, v0: v128, v1: v128, n: i32, accum: bool, vbeta: v128, lo: v128, hi: v128): void {
  if (accum) {
    v0 = f32x4.add(v0, f32x4.mul(vbeta, loadPartial(p, n)));
    v1 = f32x4.add(v1, f32x4.mul(vbeta, loadPartial(p + 16, n - 4)));
  }
  v0 = clamp4(v0, lo, hi);
  v1 = clamp4(v1, lo, hi);
  if (n & 4) {
    v128.store(p, v0);
    v0 = v1;
    p += 16;
  }
  if (n & 2) {
    v128.store64_lane(p, v0, 0);
    v0 = v128.shuffle<f32>(v0, v0, 2, 3, 2, 3);
    p += 8;
  }
  if (n & 1) v128.store32_lane(p, v0, 0);
}

`;

// The BLAS-style sgemm drivers of the SIMD builds are the scalar one (assembly/f32/gemm-scalar.ts, same
// blocking and packing) with the 4x8 tile of their ISA in place of the 1x8 scalar tile.
const scalarGemm = readFileSync(new URL('../assembly/f32/gemm-scalar.ts', import.meta.url), 'utf8');
const scalarDriver = scalarGemm.match(/export function f32_sgemm__scalar\([\s\S]*?\n\}\n/);
if (!scalarDriver) throw new Error('gen-f32-gemm: f32_sgemm__scalar not found in assembly/f32/gemm-scalar.ts');
function sgemmDriver(isa) {
  const body = scalarDriver[0].replaceAll('f32_gemm_rows_1x8__scalar', `f32_gemm_rows_4x8__${isa}`).replace('f32_sgemm__scalar', `f32_sgemm__${isa}`);
  if (!body.includes(`f32_gemm_rows_4x8__${isa}(`)) throw new Error('gen-f32-gemm: the scalar sgemm driver no longer calls f32_gemm_rows_1x8__scalar');
  return `/** sgemm (see f32_sgemm__scalar: same blocking) with the 4x8 ${isa} tile. */\n${body}`;
}

for (const isa of ['simd128', 'relaxed']) {
  let s = `// GENERATED by scripts/gen-f32-gemm.mjs: do not edit. FP32 GEMM micro-kernels, ${isa} build.\n`;
  s += `// C[m, n] = clamp(alpha * (bias[n] + sum_k A[m, k] * B[k, n]) + beta * C[m, n], lo, hi) for m < mr, n < nc.\n`;
  s += `// A[m, k] is at a + m*a_rs + k*a_cs (bytes: a_cs = 4 for row-major A, a_rs = 4 for a transposed A).\n`;
  s += `// w: packed B, ceil(nc/8) panels of [bias[8]][kc][8] floats (columns past nc zero). beta == 0 never reads C.\n`;
  s += `// A row pointers past mr alias the last valid row (reads stay in bounds); their results are not stored.\n\n`;
  s += `import { f32_gemm_pack_b_block, f32_sgemm_nb, F32_SGEMM_KC } from './gemm-scalar';\n\n`;
  s += helpers;
  for (const mr of [4, 6]) s += simdKernel(mr, isa);
  s += sgemmDriver(isa);
  writeFileSync(new URL(`../assembly/f32/gemm-gen-${isa}.ts`, import.meta.url), s);
}
console.log('gen-f32-gemm: assembly/f32/gemm-gen-{simd128,relaxed}.ts, assembly/f32/dwconv-gen-relaxed.ts');

// The relaxed depthwise kernels are the simd128 ones with a fused multiply-add.
{
  let s = readFileSync(new URL('../assembly/f32/dwconv-simd128.ts', import.meta.url), 'utf8');
  s = s.replace(/^\/\/ FP32 depthwise[^\n]*\n\/\/[^\n]*\n/, '// GENERATED from dwconv-simd128.ts by scripts/gen-f32-gemm.mjs: do not edit. FP32 depthwise convolution, relaxed\n// build: the same kernels with f32x4.relaxed_madd (fused on FMA hosts).\n');
  s = s.replace('return f32x4.add(c, f32x4.mul(a, b));', 'return f32x4.relaxed_madd(a, b, c);').replaceAll('__simd128', '__relaxed');
  writeFileSync(new URL('../assembly/f32/dwconv-gen-relaxed.ts', import.meta.url), s);
}
