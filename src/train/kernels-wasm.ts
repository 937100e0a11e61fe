// TrainKernels backed by the FP32 wasm build (src/kernels/f32-train.ts: f32TrainKernels for the O(MACs) entries,
// plus the optional element-wise ones: batch norm, ReLU backward, fake quantization). The engine keeps its tensors
// in JS Float32Arrays; each call copies its operands into the wasm stack (F32Train mark/put/release), runs the
// kernel and copies the result out: O(operands) copies against O(MACs) of work.
import { F32Train, f32TrainKernels } from '../kernels/f32-train.js';
import type { KernelPath } from '../kernels/types.js';
import type { TrainKernels } from './kernels.js';
import { setKernels } from './kernels.js';

export interface WasmTrainKernels extends TrainKernels {
  readonly ft: F32Train;
  /** Which entries run in wasm (the rest run the TypeScript versions). */
  readonly wasmEntries: string[];
}

export function wasmTrainKernels(ft: F32Train): WasmTrainKernels {
  const base = f32TrainKernels(ft);
  const run = <T>(fn: () => T): T => {
    const m = ft.mark();
    try {
      return fn();
    } finally {
      ft.release(m);
    }
  };
  const k: WasmTrainKernels = {
    ...base,
    ft,
    wasmEntries: [...Object.keys(base).filter((n) => n !== 'name'), 'bnForward', 'bnBackward', 'reluBackward', 'fakeQuantForward'],
    bnForward(x, N, C, HW, gamma, beta, eps, y, mean, invstd, varU) {
      run(() => {
        const n = N * C * HW;
        const px = ft.put(x.subarray(0, n)), pg = ft.put(gamma), pb = ft.put(beta);
        const py = ft.alloc(n), pm = ft.alloc(C), pi = ft.alloc(C), pv = ft.alloc(C);
        ft.batchNormForward(px, N, C, HW, pg, pb, eps, py, pm, pi, pv);
        y.set(ft.view(py, n));
        mean.set(ft.view(pm, C));
        invstd.set(ft.view(pi, C));
        varU.set(ft.view(pv, C));
      });
    },
    bnBackward(x, dy, N, C, HW, gamma, mean, invstd, dx, dgamma, dbeta) {
      run(() => {
        const n = N * C * HW;
        const px = ft.put(x.subarray(0, n)), pd = ft.put(dy.subarray(0, n)), pg = ft.put(gamma), pm = ft.put(mean), pi = ft.put(invstd);
        const pdx = ft.alloc(n), pdg = ft.alloc(C), pdb = ft.alloc(C);
        ft.batchNormBackward(px, pd, N, C, HW, pg, pm, pi, pdx, pdg, pdb);
        dx.set(ft.view(pdx, n));
        dgamma.set(ft.view(pdg, C));
        dbeta.set(ft.view(pdb, C));
      });
    },
    reluBackward(x, dy, dx, hi) {
      run(() => {
        const n = x.length;
        const px = ft.put(x), pd = ft.put(dy.subarray(0, n)), po = ft.alloc(n);
        ft.reluBackward(px, pd, po, n, hi);
        dx.set(ft.view(po, n));
      });
    },
    fakeQuantForward(x, y, mask, C, inner, scales, zps, qmin, qmax) {
      run(() => {
        const n = x.length;
        const px = ft.put(x), py = ft.alloc(n), ps = ft.put(scales), pz = ft.put(zps), pm = ft.alloc(Math.ceil(n / 4));
        ft.fakeQuantForward(px, py, pm, n, C, inner, ps, pz, qmin, qmax);
        y.set(ft.view(py, n));
        mask.set(new Uint8Array(ft.wasm.memory.buffer, pm, n));
      });
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
