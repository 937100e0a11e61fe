// Graph-boundary layout kernels (assembly/layout: x8/x32_swap_cs) against the host transpose they replace
// (src/ops/layout.ts), both directions, 1- and 4-byte elements, sizes that do not divide the 8 x 64 tiles.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WasmKernels, BumpAllocator } from '../../src/runtime/wasm.js';
import { fromChannelsLast } from '../../src/ops/layout.js';
import { transposeData } from '../../src/graph/tensor.js';

const shapes = [[1, 3, 7, 5], [2, 9, 1, 67], [1, 1, 4, 4], [3, 17, 130], [1, 64, 3, 3], [2, 5, 1, 1, 3]];

for (const level of ['scalar', 'simd128'] as const) {
  test(`${level}: swap_cs equals the host transpose (NCHW <-> NHWC), int8 and float32`, async () => {
    const k = await WasmKernels.create(level);
    const a = new BumpAllocator(k);
    for (const dims of shapes) {
      const n = dims.reduce((x, y) => x * y, 1);
      const N = dims[0], C = dims[1], S = n / (N * C);
      const perm = [0, ...dims.slice(2).map((_, i) => i + 2), 1];
      for (const es of [1, 4]) {
        const data = es === 1 ? Int8Array.from({ length: n }, (_, i) => ((i * 37) % 256) - 128) : Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);
        const want = transposeData({ dtype: es === 1 ? 'int8' : 'float32', dims, data }, perm);
        const src = a.put(data), dst = a.alloc(n * es);
        k.exports[es === 1 ? 'x8_swap_cs__scalar' : 'x32_swap_cs__scalar'](src, dst, N, C, S, 1, 0, S);
        const got = es === 1 ? k.i8(dst, n).slice() : k.f32(dst, n).slice();
        assert.equal(Array.from(got), Array.from(want.data as ArrayLike<number>), `to NHWC ${dims} es=${es}`);
        // and back: [N, S, C] -> [N, C, S]
        const back = a.alloc(n * es);
        k.exports[es === 1 ? 'x8_swap_cs__scalar' : 'x32_swap_cs__scalar'](dst, back, N, C, S, 0, 0, S);
        const round = es === 1 ? k.i8(back, n).slice() : k.f32(back, n).slice();
        assert.equal(Array.from(round), Array.from(data), `round trip ${dims} es=${es}`);
        const host = fromChannelsLast({ dtype: es === 1 ? 'int8' : 'float32', dims: want.dims, data: want.data });
        assert.equal(Array.from(host.data as ArrayLike<number>), Array.from(data));
        a.reset();
      }
    }
  });
}

test.run();
