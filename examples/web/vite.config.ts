// Vite config of the browser demo (`npm run demo:web`, `npm run demo:web:build`).
// COOP/COEP make the page cross-origin isolated, so SharedArrayBuffer exists and Octet can use its worker pool.
// The reference CNN (MobileNetV2-224, FP32 and INT8) is generated at build/serve time by models.ts into
// .generated/ (git-ignored), which is the public dir: served as is in dev, copied into dist/ as separate files.
import { defineConfig, type Plugin } from 'vite';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** Runs models.ts (in its own Node process, through tsx) once before the build or the dev server starts. */
function demoModels(): Plugin {
  let done: Promise<void> | undefined;
  const ensure = () =>
    (done ??= new Promise<void>((resolve, reject) => {
      const script = fileURLToPath(new URL('./models.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let log = '';
      child.stdout.on('data', (d) => (log += d));
      child.stderr.on('data', (d) => (log += d));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) {
          process.stdout.write(log);
          resolve();
        } else reject(new Error(`examples/web/models.ts failed (exit ${code}):\n${log}`));
      });
    }));
  return {
    name: 'octet-demo-models',
    buildStart: ensure,
    configureServer: ensure,
  };
}

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  publicDir: '.generated',
  plugins: [demoModels()],
  server: { headers: isolation, fs: { allow: [root] } },
  preview: { headers: isolation },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Keep wasm and models as files (never inlined as base64) so their sizes are visible and cacheable.
    assetsInlineLimit: 0,
    // models.ts takes a few seconds (more on a first build, which generates the models): not worth a warning.
    // quantize's default executor loads the runtime with import() for Node users; in a page that imports the
    // runtime anyway the import() cannot split it off, which is fine.
    rolldownOptions: { checks: { bundlerTimings: false, ineffectiveDynamicImport: false } },
  },
  worker: { format: 'es' },
});
