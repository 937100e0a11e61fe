// The choice logic: which variant each kernel family runs on each path and host flavour (src/runtime/select.ts,
// pickVariant in src/kernels/types.ts, variant lists in src/kernels/registry.ts). Pure logic over the registry:
// runs the same on any machine.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FAMILIES } from '../../src/kernels/registry.js';
import { pickVariant, fitness, buildOf, KERNEL_PATHS, type KernelVariant, type KernelPath } from '../../src/kernels/types.js';
import { familyChoices, choosePath } from '../../src/runtime/select.js';
import { detectFeatures, type Arch } from '../../src/runtime/features.js';

const ARCHES: Arch[] = ['x86', 'arm'];
const RANK = { scalar: 0, simd128: 1, relaxed: 2 } as const;

test('every family has a runnable variant on every path and flavour, and the pick can run there', () => {
  for (const [family, variants] of Object.entries(FAMILIES)) {
    for (const path of KERNEL_PATHS) {
      for (const arch of ARCHES) {
        const v = pickVariant(variants, path, arch);
        assert.is(v.family, family);
        assert.ok(RANK[v.build] <= RANK[buildOf(path)], `${family} on ${path}: ${v.name} needs build ${v.build}`);
        if (path === 'scalar') assert.is(v.build, 'scalar', `${family}: scalar path picked ${v.name}`);
        const flavor = path === 'x86' || path === 'arm' ? path : path === 'relaxed' ? arch : 'any';
        assert.ok(v.flavor === 'any' || v.flavor === flavor, `${family} on ${path}/${arch}: ${v.name} is tuned for ${v.flavor}`);
      }
    }
  }
});

test('the relaxed path never runs a variant the registry ranks below what the arch path runs (so auto may prefer it)', () => {
  for (const [family, variants] of Object.entries(FAMILIES)) {
    for (const arch of ARCHES) {
      const onArch = pickVariant(variants, arch, arch);
      const onRelaxed = pickVariant(variants, 'relaxed', arch);
      // the arch path's pick is eligible on the relaxed path too (simd128 ⊂ relaxed), so the relaxed pick is at least as fit
      assert.ok(fitness(onArch, 'relaxed', arch) >= 0, `${family}: ${onArch.name} must run on relaxed/${arch}`);
      assert.ok((onRelaxed.priority ?? 0) >= (onArch.priority ?? 0), `${family}/${arch}: relaxed picks ${onRelaxed.name} over ${onArch.name}`);
    }
  }
});

test('measured preferences: qs8 GEMM runs dot16 on x86 and extmul on ARM on the relaxed path too; FP32 uses relaxed FMA', () => {
  const x86 = familyChoices('relaxed', 'x86');
  assert.is(x86['qs8-gemm'], 'qs8_gemm_4x8c2__simd128_dot16');
  assert.is(x86['f32-gemm'], 'f32_gemm_4x8__relaxed');
  assert.is(x86['f32-dwconv'], 'f32_dwconv__relaxed');
  const arm = familyChoices('relaxed', 'arm');
  assert.is(arm['qs8-gemm'], 'qs8_gemm_4x8c2__simd128_extmul');
  assert.is(arm['f32-gemm'], 'f32_gemm_4x8__relaxed');
  assert.is(familyChoices('x86', 'x86')['qs8-gemm'], 'qs8_gemm_4x8c2__simd128_dot16');
  assert.is(familyChoices('arm', 'x86')['qs8-gemm'], 'qs8_gemm_4x8c2__simd128_extmul');
  assert.is(familyChoices('scalar', 'x86')['qs8-gemm'], 'qs8_gemm_1x8c2__scalar');
  assert.is(familyChoices('x86', 'x86')['f32-gemm'], 'f32_gemm_4x8__simd128');
});

test('pickVariant order: priority first, then newer build, then matching flavour; ineligible variants never win', () => {
  const v = (name: string, build: KernelVariant['build'], flavor: KernelVariant['flavor'], priority?: number): KernelVariant => ({ family: 't', name, build, flavor, priority });
  const list = [v('s', 'scalar', 'any'), v('a', 'simd128', 'any'), v('x', 'simd128', 'x86'), v('r', 'relaxed', 'any')];
  const pick = (l: KernelVariant[], p: KernelPath, a: Arch = 'x86') => pickVariant(l, p, a).name;
  assert.is(pick(list, 'scalar'), 's');
  assert.is(pick(list, 'x86'), 'x');
  assert.is(pick(list, 'arm'), 'a');
  assert.is(pick(list, 'relaxed'), 'r');
  const slowRelaxed = [...list.slice(0, 3), v('r', 'relaxed', 'any', -1)];
  assert.is(pick(slowRelaxed, 'relaxed'), 'x');
  assert.is(pick(slowRelaxed, 'relaxed', 'arm'), 'a');
  const tuned = [...list, v('a2', 'simd128', 'any', 2)];
  assert.is(pick(tuned, 'relaxed'), 'a2');
  assert.is(pick(tuned, 'scalar'), 's');
  assert.throws(() => pickVariant([v('x', 'simd128', 'x86')], 'arm', 'arm'), /no t variant runs on path 'arm'/);
});

test('auto picks the relaxed path whenever the engine has relaxed SIMD, else the arch path', async () => {
  const f = await detectFeatures();
  const c = await choosePath('auto');
  assert.is(c.path, f.relaxedSimd ? 'relaxed' : f.simd128 ? f.arch : 'scalar');
  assert.is(c.reason, 'auto');
});

test.run();
