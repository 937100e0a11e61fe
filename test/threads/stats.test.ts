// Per-thread work counters (session.threadStats(), session.profile().threads): every node of a run is counted
// once (parallel or serial), a 1-thread session does all its work on the calling thread, a 2-thread session's
// worker runs chunks of the split nodes, and two sessions sharing one pool get only their own work credited.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { InferenceSession, Tensor, type ThreadStats } from '../../src/index.js';
import { GraphBuilder } from '../../src/onnx/writer.js';
import { MAX_CHUNKS_PER_THREAD } from '../../src/runtime/pool.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}
const randn = (n: number, r: () => number, scale = 1) => Float32Array.from({ length: n }, () => r() * scale);

/** Conv 3x3 (3 -> 32) + Relu -> Conv 1x1 (32 -> 64) + Relu -> GAP -> Gemm: two nodes large enough to split. */
function cnn(): Uint8Array {
  const r = rng(7);
  const g = new GraphBuilder({ opset: 17 });
  const x = g.input('x', 'float32', [1, 3, 64, 64]);
  const [c1] = g.node('Conv', [x, g.initializer('w1', 'float32', randn(32 * 27, r, 0.3), [32, 3, 3, 3])], ['c1'], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] });
  const [a1] = g.node('Relu', [c1], ['a1']);
  const [c2] = g.node('Conv', [a1, g.initializer('w2', 'float32', randn(64 * 32, r, 0.3), [64, 32, 1, 1])], ['c2']);
  const [a2] = g.node('Relu', [c2], ['a2']);
  const [gp] = g.node('GlobalAveragePool', [a2], ['gp']);
  const [fl] = g.node('Flatten', [gp], ['fl']);
  const [y] = g.node('Gemm', [fl, g.initializer('wf', 'float32', randn(10 * 64, r, 0.5), [10, 64])], ['y'], { transB: 1 });
  g.output(y, 'float32', [1, 10]);
  return g.toBytes();
}

const feeds = (seed: number) => ({ x: new Tensor('float32', randn(3 * 64 * 64, rng(seed)), [1, 3, 64, 64]) });
const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);

/** Invariants of one run's counters: every node counted once; chunks only from split nodes, at most the split. */
function checkRun(t: ThreadStats, nodes: number, threads: number): void {
  assert.is(t.threads, threads);
  assert.is(t.chunks.length, threads);
  assert.is(t.parallelNodes + t.serialNodes, nodes, 'every node is counted once, as parallel or serial');
  const c = sum(t.chunks);
  assert.ok(c >= t.parallelNodes, `chunks ${c} < split nodes ${t.parallelNodes}`);
  assert.ok(c <= t.parallelNodes * threads * MAX_CHUNKS_PER_THREAD, `chunks ${c} > split nodes x ${threads * MAX_CHUNKS_PER_THREAD}`);
  for (const x of t.chunks) assert.ok(Number.isInteger(x) && x >= 0);
}

test('1 thread: every node runs whole on the calling thread', async () => {
  const s = await InferenceSession.create(cnn(), { threads: 1 });
  try {
    assert.equal(s.threadStats(), { threads: 1, parallelNodes: 0, serialNodes: 0, chunks: [0] });
    await s.run(feeds(1));
    await s.run(feeds(2));
    const nodes = s.profile().nodes.length;
    assert.ok(nodes >= 3);
    checkRun(s.profile().threads, nodes, 1);
    assert.equal(s.threadStats(), { threads: 1, parallelNodes: 0, serialNodes: 2 * nodes, chunks: [0] });
  } finally {
    await s.release();
  }
});

test('2 threads: nodes are split, the worker runs chunks, profile().threads is the last run', async () => {
  const s = await InferenceSession.create(cnn(), { threads: 2 });
  try {
    assert.is(s.threads, 2, s.threadsNote);
    const x = feeds(3);
    const ref = await InferenceSession.create(cnn(), { threads: 1 });
    const want = Array.from((await ref.run(x)).y.data as Float32Array);
    await ref.release();
    // A worker that wakes late leaves its chunks to the calling thread (a busy machine): run until the worker
    // has done some work, a bounded number of times.
    let runs = 0;
    let prev = s.threadStats();
    while (runs < 60) {
      const out = await s.run(x);
      runs++;
      assert.equal(Array.from(out.y.data as Float32Array), want, 'outputs do not depend on which thread ran a chunk');
      const now = s.threadStats();
      const nodes = s.profile().nodes.length;
      checkRun(s.profile().threads, nodes, 2);
      // profile().threads is exactly this run's share of the cumulative counters.
      assert.equal(s.profile().threads, {
        threads: 2, parallelNodes: now.parallelNodes - prev.parallelNodes, serialNodes: now.serialNodes - prev.serialNodes,
        chunks: now.chunks.map((c, i) => c - prev.chunks[i]),
      });
      assert.ok(s.profile().threads.parallelNodes >= 1, 'the 3x3 and 1x1 convs are split over the threads');
      prev = now;
      if (now.chunks[1] > 0 && runs >= 3) break;
    }
    const total = s.threadStats();
    checkRun(total, runs * s.profile().nodes.length, 2);
    assert.ok(total.chunks[1] > 0, `the worker ran no chunk in ${runs} runs: ${JSON.stringify(total)}`);
    assert.ok(total.chunks[0] + total.chunks[1] === sum(total.chunks));
  } finally {
    await s.release();
  }
});

test('two sessions on one pool: each is credited only with its own work', async () => {
  const a = await InferenceSession.create(cnn(), { threads: 2 });
  const b = await InferenceSession.create(cnn(), { threads: 2 });
  try {
    await a.run(feeds(4));
    const a1 = a.threadStats();
    for (let i = 0; i < 5; i++) await b.run(feeds(5 + i));
    assert.equal(a.threadStats(), a1, "b's runs do not change a's counters");
    const nodes = b.profile().nodes.length;
    checkRun(b.threadStats(), 5 * nodes, 2);
    // Interleaved runs on both sessions: the totals still add up per session.
    await Promise.all([a.run(feeds(11)), b.run(feeds(12)), a.run(feeds(13)), b.run(feeds(14))]);
    checkRun(a.threadStats(), 3 * nodes, 2);
    checkRun(b.threadStats(), 7 * nodes, 2);
  } finally {
    await a.release();
    await b.release();
  }
});

test.run();
