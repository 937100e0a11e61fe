// Vite config of the browser demo (`npm run demo:web`, `npm run demo:web:build`).
// COOP/COEP make the page cross-origin isolated, so SharedArrayBuffer exists and Octet can use its worker pool.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  server: { headers: isolation, fs: { allow: [fileURLToPath(new URL('../..', import.meta.url))] } },
  preview: { headers: isolation },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Keep wasm and models as files (never inlined as base64) so their sizes are visible and cacheable.
    assetsInlineLimit: 0,
  },
  worker: { format: 'es' },
});
