// Procedural test images for the reference CNN: a seeded landscape (sky gradient, sun, layered hills, a few trees,
// grain) drawn pixel by pixel, so the demo ships no image file and the build script (models.ts) can calibrate the
// INT8 model on the same kind of picture in Node. Output: RGBA bytes, row-major, `size` x `size`.

/** Small seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type RGB = [number, number, number];
const mix = (a: RGB, b: RGB, t: number): RGB => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

export function scene(seed: number, size = 224): Uint8ClampedArray<ArrayBuffer> {
  const r = prng(seed * 7919 + 17);
  const out = new Uint8ClampedArray(size * size * 4);
  const dusk = r() < 0.35;
  const skyTop: RGB = dusk ? [40 + 40 * r(), 30 + 30 * r(), 90 + 60 * r()] : [40 + 40 * r(), 110 + 50 * r(), 200 + 50 * r()];
  const skyLow: RGB = dusk ? [240, 140 + 60 * r(), 80 + 40 * r()] : [190 + 40 * r(), 215 + 30 * r(), 240];
  const sun = { x: 0.15 + 0.7 * r(), y: 0.12 + 0.3 * r(), rad: 0.05 + 0.06 * r() };
  const sunCol: RGB = dusk ? [255, 190, 120] : [255, 245, 200];
  // Hills: back to front, each a sum of sines, darker and greener towards the viewer.
  const hills = Array.from({ length: 3 }, (_, i) => ({
    base: 0.45 + 0.15 * i + 0.05 * r(),
    waves: Array.from({ length: 3 }, () => ({ a: (0.02 + 0.05 * r()) / (i + 1), f: 2 + 9 * r(), p: 6.28 * r() })),
    col: mix(dusk ? [90, 70, 110] : [120, 150, 170], [40 + 40 * r(), 90 + 50 * r(), 40 + 20 * r()], (i + 1) / 3),
  }));
  const trees = Array.from({ length: 3 + Math.floor(5 * r()) }, () => ({ x: r(), h: 0.08 + 0.12 * r(), w: 0.03 + 0.03 * r() }));
  const treeCol: RGB = [20 + 20 * r(), 60 + 30 * r(), 30 + 10 * r()];
  const front = hills[hills.length - 1];
  const groundAt = (h: (typeof hills)[number], x: number) => h.base + h.waves.reduce((s, w) => s + w.a * Math.sin(w.f * x + w.p), 0);
  for (let py = 0; py < size; py++) {
    const y = py / size;
    for (let px = 0; px < size; px++) {
      const x = px / size;
      let c = mix(skyTop, skyLow, Math.min(1, y / 0.6));
      const d = Math.hypot(x - sun.x, y - sun.y);
      if (d < sun.rad) c = sunCol;
      else c = mix(c, sunCol, Math.max(0, 0.5 - (d - sun.rad) * 3));
      for (const h of hills) {
        const g = groundAt(h, x);
        if (y > g) c = mix(h.col, [0, 0, 0], Math.min(0.5, (y - g) * 0.8));
      }
      for (const t of trees) {
        const g = groundAt(front, t.x);
        const top = g - t.h;
        if (y > top && y < g + 0.01 && Math.abs(x - t.x) < (t.w * (y - top)) / t.h) c = treeCol;
      }
      const grain = (r() - 0.5) * 18;
      const o = 4 * (py * size + px);
      out[o] = c[0] + grain;
      out[o + 1] = c[1] + grain;
      out[o + 2] = c[2] + grain;
      out[o + 3] = 255;
    }
  }
  return out;
}
