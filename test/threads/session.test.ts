// Threads through the public API: InferenceSession outputs are bit-identical for threads 1..4 on the reference
// models (src/zoo) and on a small CNN; 100 concurrent run() calls on two sessions sharing one pool equal the
// results of sequential runs on a 1-thread session; queued calls on one session run side by side (request level).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InferenceSession, Tensor } from '../../src/index.js';
import { GraphBuilder } from '../../src/onnx/writer.js';
import { zooModel } from '../../src/zoo/index.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}
const randn = (n: number, r: () => number, scale = 1) => Float32Array.from({ length: n }, () => r() * scale);

/** Conv 3x3 s2 + Relu -> Conv 1x1 (16 -> 32) + Relu -> Conv 1x1 -> GAP -> Gemm: big enough that nodes split. */
function cnn(): Uint8Array {
  const r = rng(3);
  const g = new GraphBuilder({ opset: 17 });
  const x = g.input('x', 'float32', [1, 3, 48, 48]);
  const [c1] = g.node('Conv', [x, g.initializer('w1', 'float32', randn(16 * 27, r, 0.3), [16, 3, 3, 3]), g.initializer('b1', 'float32', randn(16, r, 0.1), [16])], ['c1'], { pads: [1, 1, 1, 1], strides: [2, 2], kernel_shape: [3, 3] });
  const [a1] = g.node('Relu', [c1], ['a1']);
  const [c2] = g.node('Conv', [a1, g.initializer('w2', 'float32', randn(32 * 16, r, 0.3), [32, 16, 1, 1])], ['c2']);
  const [a2] = g.node('Relu', [c2], ['a2']);
  const [c3] = g.node('Conv', [a2, g.initializer('w3', 'float32', randn(24 * 32, r, 0.3), [24, 32, 1, 1])], ['c3']);
  const [gp] = g.node('GlobalAveragePool', [c3], ['gp']);
  const [fl] = g.node('Flatten', [gp], ['fl']);
  const [y] = g.node('Gemm', [fl, g.initializer('wf', 'float32', randn(10 * 24, r, 0.5), [10, 24])], ['y'], { transB: 1 });
  g.output(y, 'float32', [1, 10]);
  g.output(c3, 'float32', [1, 24, 24, 24]);
  return g.toBytes();
}

function feedsFor(s: InferenceSession, seed: number): Record<string, Tensor> {
  const r = rng(seed);
  const dims = s.inputMetadata[0].shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
  const n = dims.reduce((a, b) => a * b, 1);
  return { [s.inputNames[0]]: new Tensor('float32', randn(n, r), dims) };
}

/** Outputs as raw bytes, for bit-exact comparison. */
function bytesOf(out: Record<string, Tensor>): Record<string, number[]> {
  const res: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(out)) {
    const d = t.data as ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number };
    res[k] = Array.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return res;
}

test('small CNN: threads 1..4 give bit-identical outputs; session.threads reports the count', async () => {
  const model = cnn();
  let want: Record<string, number[]> | undefined;
  for (let threads = 1; threads <= 4; threads++) {
    const s = await InferenceSession.create(model, { threads });
    assert.is(s.threads, threads, s.threadsNote);
    const got = bytesOf(await s.run(feedsFor(s, 5)));
    if (!want) want = got;
    else assert.equal(got, want, `threads=${threads}`);
    await s.release();
  }
});

test('100 concurrent run() calls on two sessions sharing one pool equal sequential 1-thread results', async () => {
  const model = cnn();
  const ref = await InferenceSession.create(model, { threads: 1 });
  const a = await InferenceSession.create(model, { threads: 2 });
  const b = await InferenceSession.create(model, { threads: 2 });
  const feeds = Array.from({ length: 100 }, (_, i) => feedsFor(ref, 1000 + i));
  const want: Record<string, number[]>[] = [];
  for (const f of feeds) want.push(bytesOf(await ref.run(f)));
  const got = await Promise.all(feeds.map((f, i) => (i % 2 ? a : b).run(f).then(bytesOf)));
  for (let i = 0; i < feeds.length; i++) assert.equal(got[i], want[i], `request ${i}`);
  await Promise.all([ref.release(), a.release(), b.release()]);
});

test('concurrent run() calls on one 2-thread session run side by side, each whole on one thread, equal to sequential runs; a bad request is rejected alone', async () => {
  const bytes = await zooModel('mobilenetv2', 'qdq-ort-s8');
  const ref = await InferenceSession.create(bytes, { threads: 1 });
  const s = await InferenceSession.create(bytes, { threads: 2 });
  try {
    const feeds = Array.from({ length: 5 }, (_, i) => feedsFor(ref, 300 + i));
    const want: Record<string, number[]>[] = [];
    for (const f of feeds) want.push(bytesOf(await ref.run(f)));
    await s.run(feeds[0]); // compiles the plan
    const before = s.threadStats();
    const got = await Promise.all(feeds.map((f) => s.run(f).then(bytesOf)));
    for (let i = 0; i < feeds.length; i++) assert.equal(got[i], want[i], `request ${i}`);
    const after = s.threadStats();
    const nodes = (s as any).plan.steps.length as number;
    // 5 queued calls on 2 threads: two batches of 2 run as whole-request programs (no node split), then 1 alone.
    assert.is(after.serialNodes - before.serialNodes + after.parallelNodes - before.parallelNodes, 5 * nodes, 'every node of every request counted once');
    assert.ok(after.serialNodes - before.serialNodes >= 4 * nodes, `4 requests ran whole on one thread each: ${JSON.stringify([before, after])}`);
    // A request with bad feeds among good ones: it alone is rejected, with the usual message.
    const name = s.inputNames[0];
    const bad = { [name]: new Tensor('float32', new Float32Array(10), [1, 10]) };
    const res = await Promise.allSettled([s.run(feeds[1]), s.run(bad), s.run(feeds[2]), s.run(feeds[3])]);
    assert.is(res[1].status, 'rejected');
    assert.match(String((res[1] as PromiseRejectedResult).reason?.message), /has dims \[1,10\]/);
    for (const [k, i] of [[0, 1], [2, 2], [3, 3]]) {
      assert.is(res[k].status, 'fulfilled');
      assert.equal(bytesOf((res[k] as PromiseFulfilledResult<Record<string, Tensor>>).value), want[i], `request ${i} next to a bad one`);
    }
  } finally {
    await Promise.all([ref.release(), s.release()]);
  }
});

test('parallelRequests: false runs queued calls one after another, each split over the threads; same results', async () => {
  const model = cnn();
  const ref = await InferenceSession.create(model, { threads: 1 });
  const s = await InferenceSession.create(model, { threads: 2, parallelRequests: false });
  try {
    const feeds = Array.from({ length: 4 }, (_, i) => feedsFor(ref, 500 + i));
    const want: Record<string, number[]>[] = [];
    for (const f of feeds) want.push(bytesOf(await ref.run(f)));
    await s.run(feeds[0]);
    const before = s.threadStats();
    const got = await Promise.all(feeds.map((f) => s.run(f).then(bytesOf)));
    for (let i = 0; i < feeds.length; i++) assert.equal(got[i], want[i], `request ${i}`);
    const after = s.threadStats();
    const perRun = before.parallelNodes; // the first run's split nodes
    assert.ok(perRun > 0, 'nodes are split over the threads');
    assert.is(after.parallelNodes - before.parallelNodes, 4 * perRun, 'every call was split node by node (none ran whole on one thread)');
  } finally {
    await Promise.all([ref.release(), s.release()]);
  }
});

// Reference models: every form the runtime can load today is checked; a form it cannot load yet is reported.
// (the INT8 reference models are the ones the threads target is about; FP32 MobileNetV2 adds the f32 depthwise kernel.)
for (const [arch, form] of [['mobilenetv2', 'qdq-ort-s8'], ['resnet18', 'qdq-ort-s8'], ['mobilenetv2', 'fp32']] as const) {
  test(`${arch} ${form}: threads 1..4 give bit-identical outputs`, async () => {
    const bytes = await zooModel(arch, form);
    let s: InferenceSession;
    try {
      s = await InferenceSession.create(bytes, { threads: 1 });
    } catch (e: any) {
      if (/unsupported operator/.test(e.message)) {
        console.log(`  (${arch} ${form}: the runtime cannot load it yet: ${e.message})`);
        return;
      }
      throw e;
    }
    const feeds = feedsFor(s, 9);
    const want = bytesOf(await s.run(feeds));
    await s.release();
    for (let threads = 2; threads <= 4; threads++) {
      const t = await InferenceSession.create(bytes, { threads });
      // several runs: claims race differently each time (and MobileNetV2 INT8 has local phases: no barrier before
      // the project, add and expand nodes of some blocks, pool.ts localDeps)
      for (let run = 0; run < 6; run++) assert.equal(bytesOf(await t.run(feeds)), want, `threads=${threads} run ${run}`);
      const deps: number[] = (t as any).job?.job?.deps ?? [];
      // every row-local node of MobileNetV2 INT8 is local once the arena keeps buffers LOCAL_SLACK steps longer
      // (executor.ts; without that, 4): 17 of 67 at 4 threads, 23 at 2, where the 7x7-stage 1x1 convolutions are cut
      // by rows too (gemmSplit). 3 threads: the home ranges of depthwise rows and pixel quads do not line up.
      const wantLocal: Record<number, number> = { 2: 23, 4: 17 };
      if (arch === 'mobilenetv2' && form !== 'fp32' && threads !== 3) assert.is(deps.filter((d) => d === 1).length, wantLocal[threads], `threads=${threads}: local phases in the job (${deps.join('')})`);
      await t.release();
    }
  });
}

test('the arena slack for local phases is dropped, not an error, when it alone would exceed maxMemoryBytes', async () => {
  const bytes = await zooModel('mobilenetv2', 'qdq-ort-s8');
  const s1 = await InferenceSession.create(bytes, { threads: 1 });
  const feeds = feedsFor(s1, 5);
  const want = bytesOf(await s1.run(feeds));
  await s1.release();
  const withSlack = await InferenceSession.create(bytes, { threads: 2 });
  await withSlack.run(feeds);
  const a = withSlack.memory();
  await withSlack.release();
  process.env.OCTET_LOCAL_SLACK = '0';
  let noSlack: InferenceSession;
  try {
    noSlack = await InferenceSession.create(bytes, { threads: 2 });
    await noSlack.run(feeds);
  } finally {
    delete process.env.OCTET_LOCAL_SLACK;
  }
  const b = noSlack.memory();
  await noSlack.release();
  assert.ok(a.arenaBytes > b.arenaBytes + (1 << 20), `slack arena ${a.arenaBytes} vs ${b.arenaBytes}`);
  // a limit between the two: the session plans without the slack and still runs on 2 threads, same outputs
  const limit = Math.floor((a.peakBytes + b.peakBytes) / 2);
  const s = await InferenceSession.create(bytes, { threads: 2, maxMemoryBytes: limit });
  assert.equal(bytesOf(await s.run(feeds)), want);
  assert.is(s.memory().arenaBytes, b.arenaBytes);
  assert.ok(s.memory().peakBytes <= limit);
  assert.is(s.threads, 2);
  await s.release();
});

test.run();
