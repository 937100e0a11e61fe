// The worker pool on real kernels (qs8 GEMM, FP32 GEMM): 1..4 threads give bit-identical outputs to the
// single-threaded call; several instances (sessions) share one pool under concurrent async callers; a kernel
// that traps in a worker rejects and the pool goes on; a worker that dies is replaced; without
// SharedArrayBuffer (or in a page that is not cross-origin isolated) the pool runs one thread and says why.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WasmKernels, BumpAllocator } from '../../src/runtime/wasm.js';
import { ThreadPool, SerialQueue, recordCalls, sharedPool, terminateSharedPools } from '../../src/runtime/pool.js';
import { prepareQGemm } from '../../src/kernels/qgemm.js';
import { prepareF32Gemm } from '../../src/kernels/f32.js';
import { kernelFromCalls, scratchBytesForThreads, type KernelIO, type PreparedKernel } from '../../src/kernels/types.js';
import type { KernelPath } from '../../src/kernels/types.js';

const CHILD = process.env.OCTET_POOL_CHILD;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function qgemm(m: number, k: number, n: number, path: KernelPath, seed: number): { kernel: PreparedKernel; a: Int8Array; outBytes: number } {
  const r = rng(seed);
  const w = Int8Array.from({ length: k * n }, () => Math.floor(r() * 256) - 128);
  const scales = Array.from({ length: n }, () => 0.001 + r() * 0.02);
  const bias = Int32Array.from({ length: n }, () => Math.floor(r() * 2000) - 1000);
  const kernel = prepareQGemm({
    m, k, n, aType: 'int8', aScale: 0.05, aZeroPoint: 3,
    weights: { data: w, type: 'int8', layout: 'kn', scales }, bias,
    output: { type: 'int8', scale: 0.2, zeroPoint: -5 }, path,
  });
  const a = Int8Array.from({ length: m * k }, () => Math.floor(r() * 256) - 128);
  return { kernel, a, outBytes: m * n };
}

/** Places a kernel's constants, input and output in `wasm`; returns io and a reader of the output bytes. */
function place(wasm: WasmKernels, kernel: PreparedKernel, input: ArrayBufferView, outBytes: number, threads = 4) {
  const mem = new BumpAllocator(wasm);
  const io: KernelIO = {
    constants: mem.put(kernel.constants),
    inputs: [mem.put(input)],
    outputs: [mem.alloc(outBytes)],
    scratch: mem.alloc(Math.max(64, scratchBytesForThreads(kernel, threads))),
  };
  const read = () => wasm.u8(io.outputs[0], outBytes).slice();
  const clear = () => wasm.u8(io.outputs[0], outBytes).fill(0xcd);
  return { io, read, clear };
}

if (CHILD === 'nosab' || CHILD === 'page') {
  test(`${CHILD}: the pool falls back to one thread, says why, and still runs kernels`, async () => {
    const pool = await ThreadPool.create({ threads: 4 });
    assert.is(pool.threads, 1);
    assert.ok(pool.note && (CHILD === 'page' ? /cross-origin isolated/.test(pool.note) : /SharedArrayBuffer/.test(pool.note)), pool.note);
    const wasm = await WasmKernels.create('scalar');
    const { kernel, a, outBytes } = qgemm(19, 13, 9, 'scalar', 5);
    const inst = await pool.attach(wasm);
    assert.is(inst.parallel, false);
    const p = place(wasm, kernel, a, outBytes);
    kernel.run(wasm, p.io);
    const want = p.read();
    p.clear();
    await pool.run(inst, kernel, p.io);
    assert.equal(p.read(), want);
  });
} else {
  const cases: [string, KernelPath, 'scalar' | 'simd128'][] = [
    ['scalar', 'scalar', 'scalar'],
    ['x86 (simd128 dot16)', 'x86', 'simd128'],
    ['arm (simd128 extmul)', 'arm', 'simd128'],
  ];
  for (const [label, path, build] of cases) {
    test(`qs8 GEMM, ${label}: 1..4 threads are bit-identical to the single-threaded call`, async () => {
      const wasm = await WasmKernels.create(build, { shared: true });
      for (const [m, k, n, seed] of [[197, 300, 77, 1], [9, 33, 5, 2], [64, 576, 64, 3], [3, 7, 8, 4]]) {
        const { kernel, a, outBytes } = qgemm(m, k, n, path, seed);
        const p = place(wasm, kernel, a, outBytes);
        kernel.run(wasm, p.io);
        const want = p.read();
        for (let threads = 1; threads <= 4; threads++) {
          const pool = await ThreadPool.create({ threads });
          assert.is(pool.threads, threads, pool.note);
          const inst = await pool.attach(wasm);
          assert.is(inst.parallel, threads > 1);
          p.clear();
          await pool.run(inst, kernel, p.io);
          assert.equal(p.read(), want, `M=${m} K=${k} N=${n} threads=${threads}`);
          pool.terminate();
        }
      }
    });
  }

  test('FP32 GEMM (simd128): 1..4 threads are bit-identical to the single-threaded call', async () => {
    const wasm = await WasmKernels.create('simd128', { shared: true });
    const r = rng(11);
    const [M, K, N] = [150, 97, 45];
    const kernel = prepareF32Gemm({ M, N, K, weights: Float32Array.from({ length: K * N }, () => r() - 0.5), bias: Float32Array.from({ length: N }, () => r()), min: -0.7, max: 0.9 }, { path: 'x86' });
    const p = place(wasm, kernel, Float32Array.from({ length: M * K }, () => r() * 4 - 2), M * N * 4);
    kernel.run(wasm, p.io);
    const want = p.read();
    for (let threads = 1; threads <= 4; threads++) {
      const pool = await ThreadPool.create({ threads });
      const inst = await pool.attach(wasm);
      p.clear();
      await pool.run(inst, kernel, p.io);
      assert.equal(p.read(), want, `threads=${threads}`);
      pool.terminate();
    }
  });

  test('recordCalls: what run() does for a range, as serializable export calls', async () => {
    const wasm = await WasmKernels.create('simd128', { shared: true });
    const { kernel } = qgemm(40, 16, 8, 'x86', 6);
    const io: KernelIO = { inputs: [1024], outputs: [4096], constants: 8192, scratch: 0 };
    const calls = recordCalls(kernel, wasm, io, 2, 4)!;
    assert.is(calls.length, 1);
    assert.is(calls[0].fn, 'qs8_gemm_4x8c2__simd128_dot16');
    assert.ok(calls[0].args.every((x) => typeof x === 'number'));
    assert.ok(calls[0].args.includes(1024 + 8 * 16), 'A offset of row 8 (item 2 of 4-row quads)');
  });

  test('several instances (sessions) share one pool; 2 x 50 concurrent runs equal sequential results', async () => {
    const pool = await ThreadPool.create({ threads: 2 });
    const sessions = await Promise.all(
      [21, 22].map(async (seed) => {
        const wasm = await WasmKernels.create('simd128', { shared: true });
        const inst = await pool.attach(wasm);
        const { kernel, a, outBytes } = qgemm(120, 200, 40, 'x86', seed);
        const p = place(wasm, kernel, a, outBytes, pool.threads);
        return { wasm, inst, kernel, p, queue: new SerialQueue(), inputs: [] as Int8Array[] };
      }),
    );
    const r = rng(99);
    for (const s of sessions) for (let i = 0; i < 50; i++) s.inputs.push(Int8Array.from({ length: 120 * 200 }, () => Math.floor(r() * 256) - 128));
    // Sequential, single-threaded
    const want = sessions.map((s) => s.inputs.map((x) => {
      s.wasm.i8(s.p.io.inputs[0], x.length).set(x);
      s.kernel.run(s.wasm, s.p.io);
      return s.p.read();
    }));
    // Concurrent: each session serializes its own requests (one arena), the pool interleaves the sessions.
    const got = await Promise.all(sessions.flatMap((s) => s.inputs.map((x) => s.queue.run(async () => {
      s.wasm.i8(s.p.io.inputs[0], x.length).set(x);
      await new Promise((res) => setTimeout(res, 0));
      await pool.run(s.inst, s.kernel, s.p.io);
      return s.p.read();
    }))));
    assert.equal(got, want.flat());
    pool.terminate();
  });

  test('scratch: each thread runs its chunks on its own scratch slot (scratch arguments relocated per thread)', async () => {
    const wasm = await WasmKernels.create('simd128', { shared: true });
    const pool = await ThreadPool.create({ threads: 3 });
    const inst = await pool.attach(wasm);
    const stride = 64;
    // Each item marks the first byte of the scratch it was given, and writes one output byte.
    const kernel = kernelFromCalls({
      variant: 'scratch-test', constants: new Uint8Array(0), scratchBytes: stride, workItems: 24, cost: 1e9,
      calls: (io, b, e) => [{ fn: 'x8_fill', args: [io.scratch, 0xab, 1] }, { fn: 'x8_fill', args: [io.outputs[0] + b, 7, e - b] }],
    });
    const mem = new BumpAllocator(wasm);
    const io: KernelIO = { constants: 0, inputs: [], outputs: [mem.alloc(24)], scratch: mem.alloc(scratchBytesForThreads(kernel, 3)) };
    for (let round = 0; round < 200; round++) {
      wasm.u8(io.scratch, 3 * stride).fill(0);
      wasm.u8(io.outputs[0], 24).fill(0);
      const before = pool.stats(inst);
      await pool.run(inst, kernel, io);
      const ran = pool.stats(inst).chunks.map((c, t) => c - before.chunks[t]);
      assert.equal(Array.from(wasm.u8(io.outputs[0], 24)), new Array(24).fill(7), 'every item ran once');
      for (let t = 0; t < 3; t++) assert.is(wasm.u8(io.scratch + t * stride, 1)[0] === 0xab, ran[t] > 0, `thread ${t} ran ${ran[t]} chunks: its slot is marked iff it ran`);
      if (ran[1] > 0 && ran[2] > 0) break;
    }
    pool.terminate();
  });

  test('plan job (a run as one job, a phase per step): chained GEMMs on 2..4 threads equal the steps run one by one; a trap rejects, the pool goes on', async () => {
    const wasm = await WasmKernels.create('simd128', { shared: true });
    // x[64x96] -> g1 -> y1[64x80] -> g2 -> y2[64x72] -> g3 -> y3[64x40]: each step reads the previous one's output.
    const dims = [96, 80, 72, 40];
    const r = rng(77);
    const mem = new BumpAllocator(wasm);
    const x = mem.put(Int8Array.from({ length: 64 * 96 }, () => Math.floor(r() * 256) - 128));
    let prev = x;
    const steps: { kernel: PreparedKernel; io: KernelIO }[] = [];
    for (let i = 0; i < 3; i++) {
      const [k, n] = [dims[i], dims[i + 1]];
      const kernel = prepareQGemm({
        m: 64, k, n, aType: 'int8', aScale: 0.05, aZeroPoint: 1,
        weights: { data: Int8Array.from({ length: k * n }, () => Math.floor(r() * 256) - 128), type: 'int8', layout: 'kn', scales: 0.004 },
        output: { type: 'int8', scale: 0.2, zeroPoint: 0 }, path: 'x86',
      });
      const io: KernelIO = { constants: mem.put(kernel.constants), inputs: [prev], outputs: [mem.alloc(64 * n)], scratch: mem.alloc(scratchBytesForThreads(kernel, 4) + 64) };
      steps.push({ kernel, io });
      prev = io.outputs[0];
    }
    const out = () => Array.from(wasm.u8(prev, 64 * 40));
    for (const s of steps) s.kernel.run(wasm, s.io);
    const want = out();
    for (let threads = 2; threads <= 4; threads++) {
      const pool = await ThreadPool.create({ threads });
      const inst = await pool.attach(wasm);
      const job = pool.planJob(inst, steps);
      assert.ok(job, 'every step is replayable');
      for (let round = 0; round < 20; round++) {
        for (const s of steps) wasm.u8(s.io.outputs[0], 64 * 80).fill(0xcd);
        const ms: number[] = [];
        // every other round traced (setTrace): same outputs, and a trace that accounts for every chunk
        pool.setTrace(round % 2 === 0);
        await pool.runPlanJob(inst, job!, ms);
        assert.equal(out(), want, `threads=${threads} round ${round}`);
        assert.is(ms.length, 3);
        const tr = pool.lastTrace();
        if (round % 2) {
          assert.is(tr, null, 'tracing off: no trace');
          continue;
        }
        assert.ok(tr && tr.threads === threads && tr.phases.length === 3);
        tr!.phases.forEach((p, k) => {
          const ran = p.chunks.reduce((a, c) => a + (c === c ? c : 0), 0);
          assert.is(ran, job!.phaseStart[k + 1] - job!.phaseStart[k], `phase ${k}: every chunk traced once`);
          for (let t = 0; t < threads; t++) {
            if (!(p.chunks[t] > 0)) continue;
            const eps = 1e-6;
            assert.ok(p.ready[t] >= -eps && p.ready[t] <= p.open[t] + eps && p.open[t] <= p.done[t] + eps && p.done[t] <= tr!.end + eps, `phase ${k} thread ${t}: times in order`);
            assert.ok(p.busy[t] > 0 && p.busy[t] <= p.done[t] - p.open[t] + eps, `phase ${k} thread ${t}: busy within the phase`);
          }
        });
      }
      pool.setTrace(false);
      // A step that reads far past the end of memory, in the middle of the job.
      const bad = kernelFromCalls({
        variant: 'oob-job', constants: new Uint8Array(0), scratchBytes: 0, workItems: 8, cost: 1e9,
        calls: (io, b, e) => recordCalls(steps[1].kernel, wasm, { ...io, inputs: [2 ** 31 - 64] }, b, e)!,
      });
      const badJob = pool.planJob(inst, [steps[0], { kernel: bad, io: steps[1].io }, steps[2]])!;
      let error: Error | undefined;
      try {
        await pool.runPlanJob(inst, badJob);
      } catch (e: any) {
        error = e;
      }
      assert.match(String(error?.message), /out of bounds/);
      await pool.runPlanJob(inst, job!);
      assert.equal(out(), want, `threads=${threads} after a failed job`);
      pool.terminate();
    }
  });

  test('a kernel that traps in a worker rejects the run; the pool recovers', async () => {
    const wasm = await WasmKernels.create('simd128', { shared: true });
    const pool = await ThreadPool.create({ threads: 2 });
    const inst = await pool.attach(wasm);
    const { kernel, a, outBytes } = qgemm(64, 64, 16, 'x86', 7);
    const p = place(wasm, kernel, a, outBytes);
    kernel.run(wasm, p.io);
    const want = p.read();
    // The second half of the rows (the worker's range) reads far past the end of memory.
    const bad = kernelFromCalls({
      variant: 'oob-test', constants: new Uint8Array(0), scratchBytes: 0, workItems: 8,
      calls: (io, b, e) => (b >= 4 ? (recordCalls(kernel, wasm, { ...io, inputs: [2 ** 31 - 64] }, b, e)!) : recordCalls(kernel, wasm, io, b, e)!),
    });
    let error: Error | undefined;
    try {
      await pool.run(inst, bad, p.io);
    } catch (e: any) {
      error = e;
    }
    assert.ok(error, 'rejected');
    // The chunk runs on the worker, or on the calling thread when the worker was late to claim it.
    assert.match(error!.message, /(oob-test failed on a worker thread \(thread 1: .*)?out of bounds/);
    for (let i = 0; i < 3; i++) {
      p.clear();
      await pool.run(inst, kernel, p.io);
      assert.equal(p.read(), want);
    }
    pool.terminate();
  });

  test('a worker that dies is replaced; runs go on with the same outputs', async () => {
    const wasm = await WasmKernels.create('simd128', { shared: true });
    const pool = await ThreadPool.create({ threads: 2 });
    const inst = await pool.attach(wasm);
    const { kernel, a, outBytes } = qgemm(64, 64, 16, 'x86', 8);
    const p = place(wasm, kernel, a, outBytes);
    kernel.run(wasm, p.io);
    const want = p.read();
    pool.crashWorkerForTest(1);
    await new Promise((res) => setTimeout(res, 200));
    for (let i = 0; i < 3; i++) {
      p.clear();
      await pool.run(inst, kernel, p.io);
      assert.equal(p.read(), want);
    }
    assert.is(pool.threads, 2);
    pool.terminate();
  });

  test('threads: 1 uses no workers; bad thread counts are clear errors; sharedPool is shared', async () => {
    const one = await ThreadPool.create({ threads: 1 });
    assert.is(one.threads, 1);
    assert.is(one.note, undefined);
    for (const bad of [0, -1, 1.5, NaN]) {
      try {
        await ThreadPool.create({ threads: bad });
        assert.unreachable('should throw');
      } catch (e: any) {
        assert.match(e.message, /threads must be a positive integer/);
      }
    }
    const [p1, p2] = await Promise.all([sharedPool(2), sharedPool(2)]);
    assert.is(p1, p2);
    await terminateSharedPools();
  });

  for (const mode of ['nosab', 'page']) {
    test(`fallback without threads (${mode === 'nosab' ? 'no SharedArrayBuffer' : 'page not cross-origin isolated'}), in a child process`, () => {
      const preload = mode === 'nosab'
        ? 'delete globalThis.SharedArrayBuffer;'
        : 'globalThis.window = globalThis; globalThis.crossOriginIsolated = false;';
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', `data:text/javascript,${encodeURIComponent(preload)}`, fileURLToPath(import.meta.url)], {
        env: { ...process.env, OCTET_POOL_CHILD: mode, FORCE_COLOR: '0' },
        encoding: 'utf8',
        timeout: 60000,
      });
      assert.ok(r.status === 0 && /Passed:\s+1/.test(r.stdout), `child failed:\n${r.stdout}\n${r.stderr}`);
    });
  }
}

test.run();
