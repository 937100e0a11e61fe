// Arena planner: offsets never overlap for buffers alive at the same step (random lifetimes), the plan is at least
// the lower bound (largest sum of sizes alive at once), and on the reference MobileNetV2-224 and ResNet-18-224
// (FP32, from the zoo builder) the planned peak is within 1.15x of the lower bound; repeated runs reuse the arena.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { planArena, type BufferRequest } from '../../src/runtime/arena.js';
import { InferenceSession, Tensor } from '../../src/index.js';
import { zooModel } from '../../src/zoo/index.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

test('planner: no overlap between live buffers, plan >= lower bound', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const r = rng(seed);
    const reqs: BufferRequest[] = Array.from({ length: 5 + Math.floor(r() * 60) }, (_, i) => {
      const first = Math.floor(r() * 40);
      return { id: `b${i}`, bytes: 1 + Math.floor(r() * 100000), first, last: first + Math.floor(r() * 10) };
    });
    const plan = planArena(reqs, 64);
    assert.ok(plan.bytes >= plan.lowerBound);
    for (let i = 0; i < reqs.length; i++) for (let j = i + 1; j < reqs.length; j++) {
      const a = reqs[i], b = reqs[j];
      if (a.first > b.last || b.first > a.last) continue;
      const oa = plan.offsets.get(a.id)!, ob = plan.offsets.get(b.id)!;
      assert.ok(oa + a.bytes <= ob || ob + b.bytes <= oa, `seed ${seed}: ${a.id} and ${b.id} overlap`);
      assert.ok(oa % 64 === 0 && ob % 64 === 0);
    }
  }
});

test('planner: a chain reuses memory (peak = two largest neighbours)', () => {
  const reqs = [100, 200, 300, 50].map((k, i) => ({ id: `t${i}`, bytes: k * 64, first: i, last: i + 1 }));
  const plan = planArena(reqs, 64);
  assert.is(plan.lowerBound, 500 * 64);
  assert.is(plan.bytes, 500 * 64);
});

for (const arch of ['mobilenetv2', 'resnet18'] as const) {
  test(`${arch} FP32: arena within 1.15x of the lower bound, outputs match onnxruntime, runs reuse memory`, async () => {
    const bytes = await zooModel(arch, 'fp32');
    const r = rng(7);
    const x = Float32Array.from({ length: 3 * 224 * 224 }, () => r() * 2 - 1);
    const s = await InferenceSession.create(bytes);
    const name = s.inputNames[0];
    const feeds = { [name]: new Tensor('float32', x, [1, 3, 224, 224]) };
    const y1 = Object.values(await s.run(feeds))[0].data as Float32Array;
    const m1 = s.memory();
    const y2 = Object.values(await s.run(feeds))[0].data as Float32Array;
    const m2 = s.memory();
    console.log(`${arch}: arena ${m1.arenaBytes} B, lower bound ${m1.arenaLowerBound} B (${(m1.arenaBytes / m1.arenaLowerBound).toFixed(3)}x), weights ${m1.weightsBytes} B, wasm ${m1.wasmBytes} B`);
    assert.ok(m1.arenaBytes <= 1.15 * m1.arenaLowerBound, `arena ${m1.arenaBytes} > 1.15 x ${m1.arenaLowerBound}`);
    assert.equal(m2, m1, 'second run allocates nothing');
    assert.equal(Array.from(y2), Array.from(y1));
    const os = await ort.InferenceSession.create(bytes);
    const want = Object.values(await os.run({ [name]: new ort.Tensor('float32', x, [1, 3, 224, 224]) }))[0].data as Float32Array;
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(y1[i] - want[i]) <= 1e-4 * Math.abs(want[i]) + 1e-5, `${arch} output ${i}: ${y1[i]} vs ${want[i]}`);
    await s.release();
  });
}

test.run();
