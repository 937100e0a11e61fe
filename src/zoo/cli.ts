// `npm run zoo [-- arch... ] [--forms fp32,qdq-ort-s8,...] [--seed N] [--out dir]`: writes the reference models
// (every architecture and form by default) into models/.generated/ and prints a table of what was written.
import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { ARCHS, FORMS, FORM_INFO, DEFAULT_SEED, GENERATED_DIR, ROOT, zooModelPath, type ArchName, type Form } from './index.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const forms = (opt('--forms')?.split(',') ?? [...FORMS]) as Form[];
const seed = Number(opt('--seed') ?? DEFAULT_SEED);
const out = opt('--out') ?? GENERATED_DIR;
const archs = (args.length ? args : [...ARCHS]) as ArchName[];
for (const a of archs) if (!ARCHS.includes(a)) throw new Error(`unknown architecture '${a}' (known: ${ARCHS.join(', ')})`);
for (const f of forms) if (!FORMS.includes(f)) throw new Error(`unknown form '${f}' (known: ${FORMS.join(', ')})`);
for (const a of archs) {
  for (const f of forms) {
    const t0 = performance.now();
    const p = await zooModelPath(a, f, seed, out);
    console.log(`${relative(ROOT, p).padEnd(48)} ${(statSync(p).size / 1e6).toFixed(1).padStart(6)} MB  ${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s  ${FORM_INFO[f]}`);
  }
}
