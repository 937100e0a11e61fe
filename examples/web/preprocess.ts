// Input preprocessing of the demo's two models.
// preprocessDigit: MNIST-style (LeCun et al.: the digit's bounding box is scaled so its longer side is 20 px, keeping
// the aspect ratio, then placed in a 28x28 field so that its centre of mass sits at the centre). Input: RGBA
// pixels; output: 784 grey levels in [0, 1], white digit on black, or null when the image is blank.
// preprocessImage: ImageNet-style normalisation for the reference CNN (below).

export function preprocessDigit(rgba: Uint8ClampedArray, w: number, h: number, mayInvert: boolean): Float32Array | null {
  const grey = new Float32Array(w * h);
  let mean = 0;
  for (let i = 0; i < w * h; i++) {
    const a = rgba[4 * i + 3] / 255;
    // Transparent pixels count as background (black).
    const g = ((0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]) / 255) * a;
    grey[i] = g;
    mean += g;
  }
  mean /= w * h;
  // A photo of a dark digit on light paper: invert so the digit is bright, as in MNIST.
  if (mayInvert && mean > 0.5) for (let i = 0; i < grey.length; i++) grey[i] = 1 - grey[i];
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (grey[y * w + x] > 0.1) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const scale = 20 / Math.max(bw, bh);
  const sw = Math.max(1, Math.round(bw * scale)), sh = Math.max(1, Math.round(bh * scale));
  // Area-average downsampling of the bounding box into sw x sh.
  const small = new Float32Array(sw * sh);
  for (let sy = 0; sy < sh; sy++)
    for (let sx = 0; sx < sw; sx++) {
      const fx0 = x0 + (sx * bw) / sw, fx1 = x0 + ((sx + 1) * bw) / sw;
      const fy0 = y0 + (sy * bh) / sh, fy1 = y0 + ((sy + 1) * bh) / sh;
      let acc = 0, area = 0;
      for (let y = Math.floor(fy0); y < Math.ceil(fy1); y++)
        for (let x = Math.floor(fx0); x < Math.ceil(fx1); x++) {
          const wx = Math.min(x + 1, fx1) - Math.max(x, fx0);
          const wy = Math.min(y + 1, fy1) - Math.max(y, fy0);
          if (wx <= 0 || wy <= 0) continue;
          acc += grey[y * w + x] * wx * wy;
          area += wx * wy;
        }
      small[sy * sw + sx] = area > 0 ? Math.min(1, acc / area) : 0;
    }
  // Centre of mass of the scaled digit, placed at (14, 14).
  let m = 0, cx = 0, cy = 0;
  for (let y = 0; y < sh; y++)
    for (let x = 0; x < sw; x++) {
      const v = small[y * sw + x];
      m += v;
      cx += v * x;
      cy += v * y;
    }
  const ox = Math.round(14 - (m > 0 ? cx / m : sw / 2) - 0.5);
  const oy = Math.round(14 - (m > 0 ? cy / m : sh / 2) - 0.5);
  const out = new Float32Array(784);
  for (let y = 0; y < sh; y++)
    for (let x = 0; x < sw; x++) {
      const tx = x + ox, ty = y + oy;
      if (tx >= 0 && tx < 28 && ty >= 0 && ty < 28) out[ty * 28 + tx] = small[y * sw + x];
    }
  return out;
}

// ImageNet-style input of the reference CNN: RGBA pixels of a square image already resized to side x side (the page
// draws the picture into a 224x224 canvas, centre-cropped to fill it) -> NCHW float32 [1, 3, side, side] with the
// usual per-channel mean/std normalisation, about N(0, 1) per value.
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

export function preprocessImage(rgba: Uint8ClampedArray, side: number): Float32Array {
  const plane = side * side;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++)
    for (let c = 0; c < 3; c++) out[c * plane + i] = (rgba[4 * i + c] / 255 - MEAN[c]) / STD[c];
  return out;
}
