// TrainKernels backed by the FP32 wasm build (src/kernels/f32-train.ts). The engine keeps its tensors in JS
// Float32Arrays; each call copies its operands into the wasm stack (F32Train mark/put/release), runs the kernel
// and copies the result out. The copies are O(operands) against O(MACs) of work in the kernel.
// Entries the wasm build does not export yet fall back to the TypeScript oracle (kernels-ts.ts); `wasmEntries`
// lists which ones run in wasm.
import { F32Train } from '../kernels/f32-train.js';
import type { KernelPath } from '../kernels/types.js';
import type { TrainKernels } from './kernels.js';
import { tsKernels } from './kernels-ts.js';
import { setKernels } from './kernels.js';

export interface WasmTrainKernels extends TrainKernels {
  readonly ft: F32Train;
  /** Which entries run in wasm (the rest run the TypeScript versions). */
  readonly wasmEntries: string[];
}

export function wasmTrainKernels(ft: F32Train): WasmTrainKernels {
  const ex = ft.wasm.exports as Record<string, (...a: number[]) => number>;
  const put = (a: Float32Array) => ft.put(a);
  const wasmEntries = ['sgemm'];
  const k: WasmTrainKernels = {
    ...tsKernels,
    name: `wasm-${ft.path} (${ft.gemmVariant})`,
    ft,
    wasmEntries,
    sgemm(transA, transB, M, N, K, A, B, C, beta) {
      if (M <= 0 || N <= 0) return;
      const m = ft.mark();
      const a = put(A.subarray(0, M * K));
      const b = put(B.subarray(0, K * N));
      const c = beta === 0 ? ft.alloc(M * N) : put(C.subarray(0, M * N));
      ft.sgemm(transA, transB, M, N, K, 1, a, transA ? M : K, b, transB ? K : N, beta, c, N);
      C.set(ft.view(c, M * N));
      ft.release(m);
    },
  };
  return k;
}

/** Loads the wasm build for `path` and makes it the engine's kernels; returns them. */
export async function useWasmKernels(path: KernelPath | 'auto' = 'auto'): Promise<WasmTrainKernels> {
  const ft = await F32Train.create(path);
  const k = wasmTrainKernels(ft);
  setKernels(k);
  return k;
}
