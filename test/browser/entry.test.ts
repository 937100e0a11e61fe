// The package as bundlers see it (no browser needed): the exports map's conditions; an app importing 'octet' built by
// Vite for the browser reaches no Node built-in and gets every wasm build copied; and the `wasm` option takes a base URL, per-file bytes or URLs
// instead of the default files (and names the file when the bytes are not a build).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/onnx/writer.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const FILES = ['scalar', 'simd128', 'relaxed'].flatMap((l) => [`octet-${l}.wasm`, `octet-${l}-mt.wasm`]);
const wasmDir = join(root, 'build', 'wasm');

test('exports map: ESM with types, browser, node and default conditions, all pointing at built files', () => {
  assert.is(pkg.type, 'module');
  const dot = pkg.exports['.'];
  assert.equal(Object.keys(dot), ['types', 'browser', 'node', 'default'], 'types first, default last');
  for (const [cond, rel] of Object.entries<string>(dot)) {
    assert.ok(existsSync(join(root, rel)), `exports['.'].${cond} = ${rel} does not exist (npm run build)`);
  }
  assert.ok(pkg.files.includes('build/wasm'), 'the wasm builds are published');
  // Each build is located with a literal new URL('…', import.meta.url), which bundlers rewrite and copy.
  const src = readFileSync(join(root, 'src', 'runtime', 'wasm.ts'), 'utf8');
  for (const f of FILES) assert.ok(src.includes(`new URL('../../build/wasm/${f}', import.meta.url)`), `no literal URL for ${f}`);
});

test("an app importing 'octet', built by Vite for the browser: no Node built-in reached, every wasm build copied", async () => {
  // A throwaway app whose node_modules/octet is this package (a symlink), as after `npm install octet`.
  const app = mkdtempSync(join(tmpdir(), 'octet-vite-app-'));
  try {
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(root, join(app, 'node_modules', 'octet'), 'dir');
    writeFileSync(join(app, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
    writeFileSync(join(app, 'main.js'), "import { InferenceSession, Tensor } from 'octet';\nwindow.octet = { InferenceSession, Tensor };\n");
    const { build } = await import('vite');
    const found: string[] = [];
    const out: any = await build({
      configFile: false,
      logLevel: 'silent',
      root: app,
      plugins: [{
        name: 'octet-find-node-builtins',
        enforce: 'pre',
        // Sees every static import of every module reached (before tree-shaking).
        resolveId(id: string, importer?: string) {
          if (id.startsWith('node:') || builtinModules.includes(id)) found.push(`${importer} imports ${id}`);
          return null;
        },
      }],
      build: { write: false, target: 'es2022', assetsInlineLimit: 0 },
    });
    assert.equal(found, [], `Node built-ins reachable from the browser entry ${pkg.exports['.'].browser}`);
    const names = (Array.isArray(out) ? out : [out]).flatMap((o: any) => o.output.map((f: any) => f.fileName as string));
    // Vite names an asset <name>-<8-character hash>.<ext>.
    const wasm = names.filter((n) => n.endsWith('.wasm')).map((n) => n.replace(/^assets\//, '').replace(/-[\w-]{8}\.wasm$/, '.wasm'));
    assert.equal(wasm.sort(), [...FILES].sort(), 'each build found through its new URL(..., import.meta.url)');
    assert.not.ok(names.some((n) => n.includes('browser-external')), 'a Node built-in was externalized into the bundle');
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
});

/** A tiny model: Conv 1x1 (2 -> 3 channels) + Relu. */
function tinyModel(): Uint8Array {
  const g = new GraphBuilder({ opset: 17 });
  const x = g.input('x', 'float32', [1, 2, 4, 4]);
  const [c] = g.node('Conv', [x, g.initializer('w', 'float32', Float32Array.from([1, -1, 0.5, 2, -0.25, 1]), [3, 2, 1, 1])], ['c']);
  const [y] = g.node('Relu', [c], ['y']);
  g.output(y, 'float32', [1, 3, 4, 4]);
  return g.toBytes();
}

test('wasm option: a base URL, per-file bytes and per-file URLs all work; bad bytes give an error naming the file', async () => {
  const model = tinyModel;
  const feeds = { x: new Tensor('float32', Float32Array.from({ length: 32 }, (_, i) => Math.sin(i)), [1, 2, 4, 4]) };
  const ref = await InferenceSession.create(model(), { threads: 1 });
  const want = Array.from((await ref.run(feeds)).y.data as Float32Array);
  assert.ok(want.some((v) => v > 0));

  const dir = mkdtempSync(join(tmpdir(), 'octet-wasm-'));
  try {
    for (const f of FILES) copyFileSync(join(wasmDir, f), join(dir, f));
    const bytes = Object.fromEntries(FILES.map((f) => [f, new Uint8Array(readFileSync(join(wasmDir, f)))]));
    const urls = Object.fromEntries(FILES.map((f) => [f, pathToFileURL(join(dir, f))]));
    const sources: [string, any][] = [
      ['base URL (string, no trailing slash)', pathToFileURL(dir).href],
      ['base URL (URL)', new URL(`${pathToFileURL(dir).href}/`)],
      ['per-file bytes', bytes],
      ['per-file URLs', urls],
    ];
    for (const [what, wasm] of sources) {
      for (const threads of [1, 2]) {
        const s = await InferenceSession.create(model(), { threads, wasm, kernels: 'scalar' });
        assert.equal(Array.from((await s.run(feeds)).y.data as Float32Array), want, `${what}, ${threads} thread(s)`);
        await s.release();
      }
    }
    // The option is really used: a folder without the files, or bytes that are not a build, fail by name.
    const empty = mkdtempSync(join(tmpdir(), 'octet-nowasm-'));
    try {
      await InferenceSession.create(model(), { wasm: pathToFileURL(empty).href, kernels: 'scalar', threads: 1 }).then(
        () => assert.unreachable('a folder without the builds must fail'),
        (e: Error) => assert.match(e.message, /octet-scalar\.wasm/),
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    await InferenceSession.create(model(), { wasm: { 'octet-scalar.wasm': new Uint8Array([0, 1, 2, 3]) }, kernels: 'scalar', threads: 1 }).then(
      () => assert.unreachable('bytes that are not wasm must fail'),
      (e: Error) => assert.match(e.message, /octet-scalar\.wasm does not compile/),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await ref.release();
  }
});

test.run();
