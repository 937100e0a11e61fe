// Mutation fuzzing of model loading: every failure must be an Error naming something, never a TypeError / RangeError
// from inside the runtime, a non-Error throw, a hang or a crash.
//   npx tsx scripts/fuzz-models.ts bytes [seed] [iterations] [threads]     byte mutations (random bytes, truncation, 0xffff,
//       one bit flipped) of the conformance models (../shared/conformance/onnx-node) and models/*.onnx through
//       decodeModel and readModel; every 10th also through InferenceSession.create + run
//   npx tsx scripts/fuzz-models.ts semantic [seed] [iterations] [threads]  one change per model, decoded and re-encoded with
//       onnx-proto (an attribute value, an initializer or input dim, an op type, an input name, an input dropped or
//       added, an initializer dtype), then create + run (10 s limit each)
// threads (default 1): the sessions' thread count; with more, every session shares one worker pool, so a bad model
// must also leave the pool working for the next one. Prints the suspicious cases (BAD n), exits 1 when there are any.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { decodeModel } from '../src/onnx/decode.js';
import { readModel } from '../src/onnx/reader.js';
import { InferenceSession, Tensor } from '../src/index.js';
import { ROOT } from '../src/zoo/index.js';

const [mode = 'bytes', seedArg = '1', nArg, threadsArg = '1'] = process.argv.slice(2);
const threads = Number(threadsArg);
const N = Number(nArg ?? (mode === 'bytes' ? 3000 : 800));
let seed = Number(seedArg) >>> 0;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];

const seeds: string[] = [];
const conf = join(ROOT, '..', 'shared', 'conformance', 'onnx-node');
if (existsSync(conf)) for (const d of readdirSync(conf)) if (existsSync(join(conf, d, 'model.onnx'))) seeds.push(join(conf, d, 'model.onnx'));
for (const f of readdirSync(join(ROOT, 'models'))) if (f.endsWith('.onnx')) seeds.push(join(ROOT, 'models', f));
if (!seeds.length) throw new Error('no seed models found');

const bad: string[] = [];
/** An error from inside the runtime rather than one that names the problem. */
const internal = (e: any) => !(e instanceof Error) || !e.message || e instanceof TypeError || e instanceof RangeError || /Cannot read|is not a function|undefined|is not iterable/.test(e.message);

async function createAndRun(bytes: Uint8Array, where: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('HANG')), 10_000); });
  try {
    await Promise.race([hang, (async () => {
      const s = await InferenceSession.create(bytes, { threads });
      const feeds: Record<string, Tensor> = {};
      for (const m of s.inputMetadata) {
        const dims = m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
        const n = dims.reduce((a, b) => a * b, 1);
        if (n > 1e7) continue;
        const data = m.type === 'float32' ? Float32Array.from({ length: n }, (_, i) => Math.sin(i)) : m.type === 'int64' ? new BigInt64Array(n)
          : m.type === 'int32' ? new Int32Array(n) : m.type === 'int8' ? new Int8Array(n) : m.type === 'uint8' || m.type === 'bool' ? new Uint8Array(n) : null;
        if (data) feeds[m.name] = new Tensor(m.type as any, data as any, dims);
      }
      try { await s.run(feeds); } catch (e) { if (internal(e)) bad.push(`run ${where}: ${(e as Error)?.constructor?.name}: ${String((e as Error)?.message ?? e).slice(0, 160)}`); }
      await s.release();
    })()]);
  } catch (e: any) {
    if (e?.message === 'HANG') bad.push(`HANG ${where}`);
    else if (internal(e)) bad.push(`create ${where}: ${e?.constructor?.name}: ${String(e?.message ?? e).slice(0, 160)}`);
  } finally {
    clearTimeout(timer);
  }
}

if (mode === 'bytes') {
  for (let it = 0; it < N; it++) {
    const f = pick(seeds);
    const b = new Uint8Array(readFileSync(f));
    const m = Math.floor(rnd() * 4);
    let bytes = b;
    if (m === 0) for (let i = 0, n = 1 + Math.floor(rnd() * 8); i < n; i++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    if (m === 1) bytes = b.subarray(0, Math.floor(rnd() * b.length));
    if (m === 2) { const i = Math.floor(rnd() * b.length); b[i] = 0xff; if (i + 1 < b.length) b[i + 1] = 0xff; }
    if (m === 3) b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8);
    const where = `${f.split('/').slice(-2).join('/')} #${it} mutation ${m}`;
    for (const [name, fn] of [['decode', () => decodeModel(bytes)], ['read', () => readModel(bytes)]] as const) {
      try { fn(); } catch (e) { if (internal(e)) bad.push(`${name} ${where}: ${String((e as Error)?.message ?? e).slice(0, 160)}`); }
    }
    if (it % 10 === 0) await createAndRun(bytes, where);
  }
} else if (mode === 'semantic') {
  const onnx = createRequire(import.meta.url)('onnx-proto').onnx;
  const vals = [0, -1, 1, 2, 3, 7, 1000, -1000, 2 ** 31, -(2 ** 31), 65536];
  for (let it = 0; it < N; it++) {
    const f = pick(seeds);
    if (f.includes('resnet')) continue; // big: slow to re-encode, and covered by the byte mode
    const m = onnx.ModelProto.decode(readFileSync(f));
    const g = m.graph;
    if (!g?.node?.length) continue;
    const n = pick(g.node as any[]);
    let desc = '';
    switch (Math.floor(rnd() * 7)) {
      case 0: if (n.attribute.length) { const a = pick(n.attribute as any[]); if (a.ints?.length) a.ints[Math.floor(rnd() * a.ints.length)] = pick(vals); else { a.i = pick(vals); a.f = pick([NaN, -1, 0, 1e30, Infinity]); } desc = `attribute ${a.name}`; } break;
      case 1: if (g.initializer.length) { const t = pick(g.initializer as any[]); if (t.dims.length) { t.dims[Math.floor(rnd() * t.dims.length)] = pick([0, 1, 2, 3, 5, 1000]); desc = `dims of ${t.name}`; } } break;
      case 2: if (g.input.length) { const v = pick(g.input as any[]); const d = v.type?.tensorType?.shape?.dim; if (d?.length) { pick(d as any[]).dimValue = pick([0, 1, 2, 3, 7, 100000]); desc = `dim of input ${v.name}`; } } break;
      case 3: n.opType = pick(['Conv', 'QLinearConv', 'Add', 'Gemm', 'MatMul', 'Relu', 'Reshape', 'Concat', 'QuantizeLinear', 'DequantizeLinear', 'MaxPool', 'Foo']); desc = `op type -> ${n.opType}`; break;
      case 4: if (n.input.length) { n.input[Math.floor(rnd() * n.input.length)] = pick(['', 'nope', ...g.node.flatMap((x: any) => x.output)]); desc = 'an input name'; } break;
      case 5: if (g.initializer.length) { const t = pick(g.initializer as any[]); t.dataType = pick([1, 2, 3, 6, 7, 10, 11, 16]); desc = `dtype of ${t.name}`; } break;
      default: if (n.input.length > 1) { n.input.pop(); desc = 'last input dropped'; } else { n.input.push(pick([...g.initializer.map((x: any) => x.name), 'x'])); desc = 'an input added'; }
    }
    await createAndRun(onnx.ModelProto.encode(m).finish(), `${f.split('/').slice(-2).join('/')} #${it} ${desc}`);
  }
} else throw new Error(`mode must be bytes or semantic, got ${mode}`);

console.log(`${mode}, seed ${seedArg}, ${N} models from ${seeds.length} seeds, ${threads} thread(s)`);
console.log(`BAD ${bad.length}`);
for (const x of bad.slice(0, 40)) console.log(`  ${x}`);
process.exit(bad.length ? 1 : 0);
