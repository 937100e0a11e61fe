// Feature detection and path selection against what this Node can actually do.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectFeatures } from '../../src/runtime/features.js';
import { choosePath, availablePaths } from '../../src/runtime/select.js';
import { WasmKernels, loadWasmBytes } from '../../src/runtime/wasm.js';
import { arch as osArch } from 'node:os';

test('detects SIMD128 support the same way WebAssembly.validate does on a tiny SIMD module', async () => {
  const f = await detectFeatures();
  // (module (func (result v128) v128.const i32x4 0 0 0 0)) built by hand: an independent probe.
  const simdModule = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
  ]);
  assert.is(f.simd128, WebAssembly.validate(simdModule));
});

test('x86/ARM probe agrees with the machine Node runs on', async () => {
  const f = await detectFeatures();
  const expected = osArch() === 'arm64' || osArch() === 'arm' ? 'arm' : 'x86';
  assert.is(f.arch, expected);
});

test('relaxed SIMD is reported only when the engine validates it', async () => {
  const f = await detectFeatures();
  const flag = process.execArgv.join(' ').includes('relaxed-simd') || /relaxed-simd/.test(process.env.NODE_OPTIONS ?? '');
  if (!flag && process.versions.node.startsWith('20.')) assert.is(f.relaxedSimd, false);
  const bytes = await loadWasmBytes('relaxed');
  assert.is(f.relaxedSimd, WebAssembly.validate(bytes as unknown as BufferSource));
});

test('choosePath: auto picks the best supported path; option and env force one; bad names are rejected', async () => {
  const f = await detectFeatures();
  const auto = await choosePath('auto');
  assert.is(auto.path, f.relaxedSimd ? 'relaxed' : f.simd128 ? f.arch : 'scalar');
  assert.is((await choosePath('scalar')).path, 'scalar');
  assert.is((await choosePath('scalar')).reason, 'option');
  process.env.OCTET_KERNELS = 'arm';
  try {
    const c = await choosePath('auto');
    assert.is(c.path, 'arm');
    assert.is(c.reason, 'env');
  } finally {
    delete process.env.OCTET_KERNELS;
  }
  try {
    await choosePath('avx9' as any);
    assert.unreachable('should have thrown');
  } catch (e: any) {
    assert.match(e.message, /unknown kernel path 'avx9'/);
  }
  const paths = await availablePaths();
  assert.ok(paths.includes('scalar'));
  assert.is(paths.includes('x86'), f.simd128);
});

test('memory: growth past maxBytes is a clear error, not a crash', async () => {
  const k = await WasmKernels.create('scalar', { initialBytes: 65536, maxBytes: 4 * 65536 });
  k.ensure(3 * 65536);
  assert.ok(k.byteLength >= 3 * 65536);
  assert.throws(() => k.ensure(5 * 65536), /above the limit/);
});

test.run();
