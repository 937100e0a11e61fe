// Shared by the ISA suites (isa, f32-isa, qmisc-isa): a build's text disassembly (wabt, cached per level) and the
// code of one exported kernel, i.e. its function plus everything it calls transitively.
import wabtInit from 'wabt';
import { loadWasmBytes, type BuildLevel } from '../../src/runtime/wasm.js';

const wabt = await wabtInit();
const texts = new Map<BuildLevel, string>();

export async function disassemble(level: BuildLevel): Promise<string> {
  if (!texts.has(level)) {
    const m = wabt.readWasm(await loadWasmBytes(level), { readDebugNames: false, simd: true, relaxed_simd: true, threads: true, bulk_memory: true, sign_extension: true, sat_float_to_int: true, mutable_globals: true });
    texts.set(level, m.toText({}));
    m.destroy();
  }
  return texts.get(level)!;
}

/** Text of an exported function and of every function it (transitively) calls. */
export function kernelCode(text: string, exportName: string): string {
  const exp = new RegExp(`\\(export "${exportName}" \\(func (\\d+)\\)\\)`).exec(text);
  if (!exp) throw new Error(`export ${exportName} not found`);
  const starts = [...text.matchAll(/\n {2}\(func \(;(\d+);\)/g)].map((m) => [Number(m[1]), m.index!] as const);
  const bodies = new Map(starts.map(([id, at], i) => [id, text.slice(at, i + 1 < starts.length ? starts[i + 1][1] : text.length)]));
  const seen = new Set<number>();
  const todo = [Number(exp[1])];
  let out = '';
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const body = bodies.get(f) ?? '';
    out += body;
    for (const c of body.matchAll(/\bcall (\d+)/g)) todo.push(Number(c[1]));
  }
  return out;
}

/** How many times an instruction (or any substring) occurs. */
export const count = (code: string, instr: string) => code.split(instr).length - 1;
