// Memory arena planner: every runtime tensor (and every step's scratch) gets a fixed byte offset before the
// first run, from its lifetime [first step, last step] in the execution order. Greedy by size (largest first),
// each placed at the best-fitting gap among the already placed buffers whose lifetimes overlap (the offset
// strategy of TFLite's "greedy by size" planner). The lower bound is the largest sum of sizes alive at once.

export interface BufferRequest {
  id: string;
  bytes: number;
  /** First and last step index (inclusive) where the buffer is alive. */
  first: number;
  last: number;
}

export interface ArenaPlan {
  offsets: Map<string, number>;
  /** Arena size in bytes (planned peak). */
  bytes: number;
  /** Largest sum of (aligned) sizes alive at one step: no plan can do better. */
  lowerBound: number;
}

export function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

export function planArena(reqs: readonly BufferRequest[], align = 64): ArenaPlan {
  const items = reqs.map((r) => ({ ...r, size: alignUp(Math.max(r.bytes, 1), align) }));
  // lower bound: sweep over steps
  let maxStep = 0;
  for (const r of items) maxStep = Math.max(maxStep, r.last + 1);
  const delta = new Float64Array(maxStep + 2);
  for (const r of items) {
    delta[r.first] += r.size;
    delta[r.last + 1] -= r.size;
  }
  let live = 0, lowerBound = 0;
  for (let t = 0; t <= maxStep; t++) {
    live += delta[t];
    lowerBound = Math.max(lowerBound, live);
  }
  const order = items.slice().sort((a, b) => b.size - a.size || a.first - b.first || (a.id < b.id ? -1 : 1));
  const placed: { first: number; last: number; off: number; size: number }[] = [];
  const offsets = new Map<string, number>();
  let total = 0;
  for (const it of order) {
    const overlapping = placed
      .filter((p) => p.first <= it.last && it.first <= p.last)
      .sort((a, b) => a.off - b.off);
    let best = -1, bestGap = Infinity, cursor = 0;
    for (const p of overlapping) {
      const gap = p.off - cursor;
      if (gap >= it.size && gap < bestGap) {
        best = cursor;
        bestGap = gap;
      }
      cursor = Math.max(cursor, p.off + p.size);
    }
    if (best < 0) best = cursor;
    placed.push({ first: it.first, last: it.last, off: best, size: it.size });
    offsets.set(it.id, best);
    total = Math.max(total, best + it.size);
  }
  return { offsets, bytes: total, lowerBound };
}
