// qs8 GEMM oracle, written from the definition: C[m,n] = bias[n] + sum_k (A[m,k] - za) * (B[k,n] - zb[n]),
// A [m,k] int8 (or uint8), B [k,n] row-major int8 (or uint8), then one of the epilogues of assembly/gemm/epilogue.ts
// computed with the requantization oracle (./requant.ts) from the (multiplier, shift) pairs / float scales.
import { ref_requant_fixed, ref_requant_float } from './requant';

export function ref_qgemm(
  m: i32, n: i32, k: i32, a: usize, a_unsigned: i32, za: i32, b: usize, b_unsigned: i32, zb: usize, bias: usize,
  c: usize, kind: i32, mult: usize, shift: usize, scale: usize, fbias: usize, zp: i32, qmin: i32, qmax: i32,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc: i32 = bias ? load<i32>(bias + (<usize>j << 2)) : 0;
      const zbj = load<i32>(zb + (<usize>j << 2));
      for (let kk = 0; kk < k; kk++) {
        const av: i32 = a_unsigned ? <i32>load<u8>(a + <usize>(i * k + kk)) : <i32>load<i8>(a + <usize>(i * k + kk));
        const bv: i32 = b_unsigned ? <i32>load<u8>(b + <usize>(kk * n + j)) : <i32>load<i8>(b + <usize>(kk * n + j));
        acc += (av - za) * (bv - zbj);
      }
      const o = <usize>(i * n + j);
      if (kind == 0) {
        store<u8>(c + o, <u8>ref_requant_fixed(acc, load<i32>(mult + (<usize>j << 2)), load<i32>(shift + (<usize>j << 2)), zp, qmin, qmax));
      } else if (kind == 1) {
        store<u8>(c + o, <u8>ref_requant_float(acc, load<f32>(scale + (<usize>j << 2)), zp, qmin, qmax));
      } else if (kind == 2) {
        store<i32>(c + (o << 2), acc);
      } else {
        store<f32>(c + (o << 2), <f32>acc * load<f32>(scale + (<usize>j << 2)) + load<f32>(fbias + (<usize>j << 2)));
      }
    }
  }
}
