// Build step of the browser demo (run by the Vite plugin in vite.config.ts, or `node --import tsx examples/web/models.ts`):
// writes the reference CNN the page runs into examples/web/.generated/models/ (git-ignored; Vite serves and copies
// that folder as its public dir), never into git:
//  - mobilenetv2.fp32.onnx: MobileNetV2-224 from the reference builder (src/zoo), seeded random weights with
//    calibrated BatchNorm statistics: NOT a trained network;
//  - mobilenetv2.int8.onnx: the same model quantized by Octet's own quantizer (src/quant: QDQ, per-channel int8
//    weights, int8 activations, min/max ranges from 8 procedural scenes (scene.ts) and 8 of the zoo's random
//    image-like fields);
//  - cnn.json: what the page shows about them.
// Both are cached in models/.generated/ (the zoo's cache), so later builds only copy.
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GENERATED_DIR, ZOO_VERSION, DEFAULT_SEED, buildArch, ortNode, paramCount, randomInputs, zooModelPath } from '../../src/zoo/index.js';
import { quantize } from '../../src/quant/quantize.js';
import { sessionExecutor } from '../../src/quant/executor.js';
import { scene } from './scene.js';
import { preprocessImage } from './preprocess.js';

const ARCH = 'mobilenetv2' as const;
/** The architecture's shapes and parameter count (uncalibrated weights: enough for names and shapes). */
const net = buildArch(ARCH, DEFAULT_SEED);
/** Bump when the INT8 recipe below changes (the cached file is then rebuilt). */
const RECIPE = 1;
const here = fileURLToPath(new URL('.', import.meta.url));
const outDir = join(here, '.generated', 'models');

async function int8Path(fp32: string): Promise<string> {
  const path = join(GENERATED_DIR, `${ARCH}.v${ZOO_VERSION}.demo-int8-r${RECIPE}.onnx`);
  if (existsSync(path)) return path;
  const side = 224, size = 3 * side * side;
  const fields = randomInputs(net, 8, 777);
  const calibration = [
    ...Array.from({ length: 8 }, (_, i) => preprocessImage(scene(1000 + i, side), side)),
    ...Array.from({ length: 8 }, (_, i) => fields.slice(i * size, (i + 1) * size)),
  ].map((data) => ({ [net.input]: { data, dims: [1, 3, side, side] } }));
  const bytes = await quantize(readFileSync(fp32), {
    calibration, method: 'minmax', perChannel: true, activations: 'int8', weights: 'int8', format: 'qdq',
    executor: sessionExecutor((await ortNode()) as never),
  });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  return path;
}

function copyIfChanged(from: string, to: string): void {
  if (existsSync(to) && statSync(to).size === statSync(from).size && statSync(to).mtimeMs >= statSync(from).mtimeMs) return;
  copyFileSync(from, to);
}

const t0 = performance.now();
const fp32 = await zooModelPath(ARCH, 'fp32');
const int8 = await int8Path(fp32);
mkdirSync(outDir, { recursive: true });
copyIfChanged(fp32, join(outDir, `${ARCH}.fp32.onnx`));
copyIfChanged(int8, join(outDir, `${ARCH}.int8.onnx`));
const info = {
  arch: 'MobileNetV2-224',
  params: paramCount(net),
  classes: net.classes,
  seed: DEFAULT_SEED,
  input: [1, 3, 224, 224],
  fp32: { file: `models/${ARCH}.fp32.onnx`, bytes: statSync(fp32).size },
  int8: {
    file: `models/${ARCH}.int8.onnx`, bytes: statSync(int8).size,
    recipe: "Octet's quantizer: QDQ, per-channel int8 weights, int8 activations, min/max over 16 calibration images",
  },
};
writeFileSync(join(outDir, 'cnn.json'), JSON.stringify(info, null, 1));
console.log(`demo models: ${ARCH} fp32 ${(info.fp32.bytes / 1e6).toFixed(1)} MB, int8 ${(info.int8.bytes / 1e6).toFixed(1)} MB (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
