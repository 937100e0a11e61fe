// Builds the AssemblyScript kernels: one .wasm per feature level and memory kind.
//   levels:   scalar (no SIMD), simd128, relaxed (relaxed SIMD)
//   memories: private (plain imported memory), shared (imported shared memory, for the worker pool)
// Output: build/wasm/octet-<level>[-mt].wasm (+ .wat with OCTET_WAT=1). Never committed. Runs the kernel generators
// (scripts/gen-dwconv.mjs, scripts/gen-f32-gemm.mjs) first: their outputs are git-ignored.
import asc from 'assemblyscript/asc';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Generated kernel sources (git-ignored) first: the INT8 depthwise kernels and the FP32 GEMM / relaxed depthwise ones.
await import('./gen-dwconv.mjs');
await import('./gen-f32-gemm.mjs');
const out = join(root, 'build', 'wasm');
mkdirSync(out, { recursive: true });

const LEVELS = {
  scalar: [],
  simd128: ['--enable', 'simd'],
  relaxed: ['--enable', 'simd', '--enable', 'relaxed-simd'],
};
// 16384 pages = 1 GiB: the declared maximum of the shared builds; a session may ask for less.
const SHARED = ['--enable', 'threads', '--sharedMemory', '--maximumMemory', '16384'];

const only = process.argv.slice(2);
let failed = false;
for (const [level, flags] of Object.entries(LEVELS)) {
  if (only.length && !only.includes(level)) continue;
  for (const shared of [false, true]) {
    const name = `octet-${level}${shared ? '-mt' : ''}`;
    const args = [
      join('assembly', `${level}.ts`),
      '--config', 'asconfig.json',
      '--outFile', join(out, `${name}.wasm`),
      ...(process.env.OCTET_WAT ? ['--textFile', join(out, `${name}.wat`)] : []),
      ...flags,
      ...(shared ? SHARED : []),
    ];
    const { error, stderr } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
    if (error) {
      console.error(`build-wasm: ${name} failed: ${error.message}`);
      failed = true;
    } else {
      console.log(`build-wasm: ${name}.wasm`);
    }
  }
}
if (failed) process.exit(1);
