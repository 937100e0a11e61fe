// ONNX conformance: every case under ../shared/conformance/onnx-node/ and onnx-pytorch-converted/ whose operator
// Octet supports runs through InferenceSession and is compared with the expected outputs (exact for integers,
// |a - b| <= 1e-4 * |b| + 1e-6 for floats). Prints the pass count per operator. Failures must be listed in
// ACCEPTED below with the reason; an accepted case that starts passing is reported (so the list stays true).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceSession, Tensor, supportedOps } from '../../src/index.js';
import onnxProto from 'onnx-proto';
import { tensorFromProto } from '../../src/onnx/proto.js';
import { isFloat, toNumbers, type HostTensor } from '../../src/graph/tensor.js';

// ../shared/conformance from the project root (worktrees one level deeper look one level further up)
const ROOT = [join(process.cwd(), '..', 'shared', 'conformance'), join(process.cwd(), '..', '..', 'shared', 'conformance')]
  .find((p) => existsSync(p)) ?? join(process.cwd(), '..', 'shared', 'conformance');
const SUITES = ['onnx-node', 'onnx-pytorch-converted'];

/** Cases Octet does not pass, with the reason. */
export const ACCEPTED: Record<string, string> = {
  test_identity_opt: 'optional types are unsupported (tensors only)',
  test_identity_sequence: 'sequence types are unsupported (tensors only)',
  test_batchnorm_epsilon_training_mode: 'BatchNormalization training mode (batch statistics) is unsupported: inference runtime',
  test_batchnorm_example_training_mode: 'BatchNormalization training mode (batch statistics) is unsupported: inference runtime',
  test_maxpool_with_argmax_2d_precomputed_pads: 'MaxPool Indices output is unsupported',
  test_maxpool_with_argmax_2d_precomputed_strides: 'MaxPool Indices output is unsupported',
  test_averagepool_2d_ceil_last_window_starts_on_pad: 'expected output is rounded to 4 decimals (0.1511 for 1.3595/9); Octet is within 3e-4 relative, not 1e-4',
  test_resize_downsample_scales_cubic_align_corners: 'onnxruntime fails it too: expected data uses a different align_corners scale for downsampling',
  test_resize_downsample_scales_linear_align_corners: 'onnxruntime fails it too: expected data uses a different align_corners scale for downsampling',
  ...Object.fromEntries(['', '_dilated', '_dilated_strided', '_groups', '_no_bias', '_stride', '_stride_padding']
    .map((s) => [`test_Conv3d${s}`, '3-D convolution is unsupported (1-D and 2-D only)'])),
};
const FLOAT8_4_2 = /e4m3|e5m2|float4|int4|uint4|int2|uint2/;

function readTensor(path: string): HostTensor {
  return tensorFromProto(onnxProto.onnx.TensorProto.decode(readFileSync(path)), path);
}

interface Case { suite: string; name: string; op: string; ortPass: boolean }
function cases(): Case[] {
  const out: Case[] = [];
  for (const s of SUITES) {
    const idx = join(ROOT, s, 'INDEX.tsv');
    if (!existsSync(idx)) continue;
    for (const line of readFileSync(idx, 'utf8').trim().split('\n').slice(1)) {
      const f = line.split('\t');
      out.push({ suite: s, name: f[0], op: f[1], ortPass: f[6]?.startsWith('PASS') });
    }
  }
  return out;
}

function compare(got: Tensor, want: HostTensor): string | null {
  if (got.type !== want.dtype) return `type ${got.type}, expected ${want.dtype}`;
  if (got.dims.join('x') !== want.dims.join('x')) return `dims [${got.dims}], expected [${want.dims}]`;
  const a = toNumbers({ dtype: got.type, dims: got.dims.slice(), data: got.data }), b = toNumbers(want);
  let bad = 0, first = '';
  for (let i = 0; i < b.length; i++) {
    const ok = isFloat(want.dtype)
      ? (Number.isNaN(b[i]) ? Number.isNaN(a[i]) : a[i] === b[i] || Math.abs(a[i] - b[i]) <= 1e-4 * Math.abs(b[i]) + 1e-6)
      : a[i] === b[i];
    if (!ok) { if (!bad) first = `at ${i}: ${a[i]} vs ${b[i]}`; bad++; }
  }
  return bad ? `${bad}/${b.length} values differ (first ${first})` : null;
}

async function runCase(c: Case): Promise<string | null> {
  const dir = join(ROOT, c.suite, c.name);
  let s: InferenceSession;
  try {
    s = await InferenceSession.create(join(dir, 'model.onnx'), { requantization: 'float' }); // ONNX reference semantics
  } catch (e: any) {
    return `create: ${e.message}`;
  }
  try {
    const sets = readdirSync(dir).filter((d) => d.startsWith('test_data_set_')).sort();
    for (const set of sets) {
      const feeds: Record<string, Tensor> = {};
      s.inputNames.forEach((name, i) => {
        const t = readTensor(join(dir, set, `input_${i}.pb`));
        feeds[name] = new Tensor(t.dtype, t.data, t.dims);
      });
      let out: Record<string, Tensor>;
      try {
        out = await s.run(feeds);
      } catch (e: any) {
        return `run: ${e.message}`;
      }
      for (let i = 0; i < s.outputNames.length; i++) {
        const p = join(dir, set, `output_${i}.pb`);
        if (!existsSync(p)) continue;
        const err = compare(out[s.outputNames[i]], readTensor(p));
        if (err) return `${set} output '${s.outputNames[i]}': ${err}`;
      }
    }
    return null;
  } finally {
    await s.release();
  }
}

test('ONNX conformance cases of supported operators pass (or are accepted failures)', async () => {
  const ops = new Set(supportedOps());
  const all = cases();
  assert.ok(all.length > 0, `no conformance cases found under ${ROOT}`);
  const perOp = new Map<string, { pass: number; total: number }>();
  const failures: string[] = [];
  const unexpectedPass: string[] = [];
  let pass = 0, total = 0, skipped = 0;
  for (const c of all) {
    if (!ops.has(c.op) || FLOAT8_4_2.test(c.name)) { skipped++; continue; }
    const err = await runCase(c);
    const st = perOp.get(c.op) ?? { pass: 0, total: 0 };
    st.total++;
    total++;
    if (!err) { st.pass++; pass++; if (ACCEPTED[c.name]) unexpectedPass.push(c.name); }
    else if (!ACCEPTED[c.name]) failures.push(`${c.suite}/${c.name}: ${err}`);
    perOp.set(c.op, st);
  }
  console.log(`conformance: ${pass}/${total} cases pass (${skipped} cases of unsupported operators or 8/4/2-bit types skipped)`);
  for (const [op, st] of [...perOp].sort()) console.log(`  ${op.padEnd(24)} ${st.pass}/${st.total}`);
  if (unexpectedPass.length) console.log(`accepted failures that now pass (remove from ACCEPTED): ${unexpectedPass.join(', ')}`);
  if (failures.length) console.log(failures.join('\n'));
  assert.equal(failures, [], 'unexpected conformance failures');
});

test.run();
