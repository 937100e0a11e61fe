// Seeded random numbers for the reference architectures: mulberry32 on the shared SeededRandom base
// (src/train/rng.ts: Box-Muller normals). Same seed -> same weights on every machine (only integer ops and
// Math.log/sqrt/cos, all deterministic in V8).
import { SeededRandom } from '../train/rng.js';

export class Rng extends SeededRandom {
  private s: number;
  constructor(seed: number) {
    super();
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1) (mulberry32). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform in [0, 1). */
  uniform(): number { return this.next(); }
  /** n normal samples times std. */
  normals(n: number, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * std;
    return out;
  }
  uniforms(n: number, lo: number, hi: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.range(lo, hi);
    return out;
  }
}
