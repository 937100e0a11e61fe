// Runs every uvu suite (test/**/*.test.ts) in its own Node process (through tsx), two at a time,
// prints each suite's output, and ends with one line: "N passed, N failed" (uvu's totals summed).
// A suite that crashes or prints no totals counts as one failure. Usage: npm test [-- filter]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { availableParallelism } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = walk(join(root, 'test')).filter((f) => !filters.length || filters.some((x) => f.includes(x)));
const jobs = Math.max(1, Math.min(Number(process.env.OCTET_TEST_JOBS) || availableParallelism(), 4));
const TIMEOUT_MS = Number(process.env.OCTET_TEST_TIMEOUT_MS) || 8 * 60 * 1000;

function runOne(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, env: { ...process.env, FORCE_COLOR: '0' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      out += `\n[run-tests] ${relative(root, file)} timed out after ${TIMEOUT_MS} ms\n`;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const total = /Total:\s+(\d+)/.exec(out);
      const passed = /Passed:\s+(\d+)/.exec(out);
      const skipped = /Skipped:\s+(\d+)/.exec(out);
      let p = 0, f = 0, s = 0;
      if (total && passed) {
        p = Number(passed[1]);
        s = skipped ? Number(skipped[1]) : 0;
        f = Number(total[1]) - p - s;
        if (code !== 0 && f === 0) f = 1;
      } else {
        f = 1;
      }
      resolve({ file, out, code, p, f, s, ms: Date.now() - started });
    });
  });
}

const queue = [...files];
const results = [];
await Promise.all(
  Array.from({ length: jobs }, async () => {
    while (queue.length) {
      const file = queue.shift();
      const r = await runOne(file);
      results.push(r);
      process.stdout.write(`\n=== ${relative(root, file)} (${(r.ms / 1000).toFixed(1)} s, exit ${r.code})\n${r.out}`);
    }
  }),
);
const passed = results.reduce((a, r) => a + r.p, 0);
const failed = results.reduce((a, r) => a + r.f, 0);
const skipped = results.reduce((a, r) => a + r.s, 0);
const bad = results.filter((r) => r.f > 0).map((r) => relative(root, r.file));
if (bad.length) console.log(`\nfailing suites: ${bad.join(', ')}`);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || files.length === 0 ? 1 : 0);
