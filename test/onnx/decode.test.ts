// The runtime's ONNX decoder (src/onnx/decode.ts) against onnx-proto (protobufjs): every conformance model and the
// shipped models decode to the same fields (the ones the reader uses), and hand-made messages cover what those
// files do not: negative and >2^53 int64, uint64, unpacked repeated fields, non-ASCII names, external data entries,
// subgraph attributes, unknown fields, and truncated or malformed bytes (which must throw, not hang or return junk).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { decodeModel } from '../../src/onnx/decode.js';

const onnx = onnxProto.onnx;
const ROOT = new URL('../..', import.meta.url).pathname;

// Fields the decoder reads, per message: the projection both sides are compared on.
type Schema = { [field: string]: Schema | 'scalar' | 'bytes' | 'subgraph' };
const TENSOR: Schema = {
  dims: 'scalar', dataType: 'scalar', floatData: 'scalar', int32Data: 'scalar', int64Data: 'scalar', name: 'scalar', rawData: 'bytes',
  doubleData: 'scalar', uint64Data: 'scalar', externalData: { key: 'scalar', value: 'scalar' }, dataLocation: 'scalar',
};
const VALUE_INFO: Schema = { name: 'scalar', type: { tensorType: { elemType: 'scalar', shape: { dim: { dimValue: 'scalar', dimParam: 'scalar' } } } } };
const MODEL: Schema = {
  irVersion: 'scalar', producerName: 'scalar', opsetImport: { domain: 'scalar', version: 'scalar' },
  graph: {
    name: 'scalar', initializer: TENSOR, input: VALUE_INFO, output: VALUE_INFO, valueInfo: VALUE_INFO,
    node: {
      input: 'scalar', output: 'scalar', name: 'scalar', opType: 'scalar', domain: 'scalar',
      attribute: { name: 'scalar', type: 'scalar', f: 'scalar', i: 'scalar', s: 'bytes', t: TENSOR, floats: 'scalar', ints: 'scalar', strings: 'bytes', tensors: TENSOR, g: 'subgraph', graphs: 'subgraph' },
    },
  },
};

/** Plain comparable form: numbers / Longs / bigints as decimal strings, bytes as hex, empty and unset fields dropped. */
function project(v: any, s: Schema | 'scalar' | 'bytes' | 'subgraph'): any {
  if (v === undefined || v === null) return undefined;
  const isList = Array.isArray(v) || (ArrayBuffer.isView(v) && s !== 'bytes');
  if (isList) {
    const a = Array.from(v as ArrayLike<unknown>).map((x) => project(x, s));
    return a.length ? a : undefined;
  }
  if (s === 'subgraph') return 'subgraph';
  if (s === 'bytes') return Buffer.from(v as Uint8Array).toString('hex') || undefined;
  if (s === 'scalar') {
    if (typeof v === 'string') return v === '' ? undefined : v;
    if (typeof v === 'object' && typeof v.low === 'number') {
      const u = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
      return (v.unsigned ? BigInt.asUintN(64, u) : BigInt.asIntN(64, u)).toString();
    }
    return String(v);
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(s)) {
    const p = project(v[k], s[k]);
    if (p !== undefined && !(p === '0' && !['dims', 'int32Data', 'int64Data'].includes(k))) out[k] = p;
  }
  return Object.keys(out).length ? out : undefined;
}

const strip = (x: unknown) => JSON.parse(JSON.stringify(x ?? null));

function same(bytes: Uint8Array, label: string): void {
  const ref = onnx.ModelProto.decode(bytes);
  const got = decodeModel(bytes);
  assert.equal(strip(project(got, MODEL)), strip(project(ref, MODEL)), label);
}

function onnxFiles(dir: string): string[] {
  let out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out = out.concat(onnxFiles(p));
    else if (n.endsWith('.onnx')) out.push(p);
  }
  return out;
}

test('every conformance model and every shipped model decodes as onnx-proto decodes it', () => {
  // ../shared/conformance from the project root (a worktree one level deeper looks one level further up)
  const shared = [join(ROOT, '../shared/conformance'), join(ROOT, '../../shared/conformance')].find((p) => existsSync(p));
  assert.ok(shared, 'shared conformance data not found');
  const files = [...onnxFiles(shared!), ...onnxFiles(join(ROOT, 'models')).filter((f) => !f.includes('.generated'))];
  assert.ok(files.length > 100, `found ${files.length} models`);
  for (const f of files) same(readFileSync(f), f);
});

test('int64 extremes, uint64, floats, strings, external data, subgraphs, unknown fields', () => {
  const big = { low: 0x89abcdef | 0, high: 0x01234567, unsigned: false }; // > 2^53
  const neg = { low: 5, high: -1, unsigned: false }; // -(2^32 - 5)
  const model = onnx.ModelProto.create({
    irVersion: 8, producerName: 'tést producer ✓',
    opsetImport: [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }],
    graph: {
      name: 'g',
      node: [{
        name: 'nœud', opType: 'Foo', domain: 'x.y', input: ['a', '', 'b'], output: ['c'],
        attribute: [
          { name: 'ints', type: 7, ints: [-1, 0, 1, 2147483648, -9007199254740991, big as any, neg as any] },
          { name: 'i', type: 2, i: -3 },
          { name: 'f', type: 1, f: -1.5 },
          { name: 'floats', type: 6, floats: [0.1, -2, 3e38] },
          { name: 's', type: 3, s: new TextEncoder().encode('größe') },
          { name: 'strings', type: 8, strings: [new Uint8Array([1, 2]), new Uint8Array(0)] },
          { name: 'body', type: 5, g: { name: 'sub', node: [{ opType: 'Relu', input: ['q'], output: ['r'] }] } },
          { name: 't', type: 4, t: { name: 'tt', dataType: 7, dims: [2], int64Data: [-5, big as any] } },
        ],
      }],
      initializer: [
        { name: 'w', dataType: 1, dims: [3], floatData: [1.25, -0, 7] },
        { name: 'd', dataType: 11, dims: [2], doubleData: [Math.PI, -1e300] },
        { name: 'i32', dataType: 3, dims: [4], int32Data: [-128, 127, 0, -1] },
        { name: 'u64', dataType: 13, dims: [2], uint64Data: [{ low: -1, high: -1, unsigned: true } as any, 3] },
        { name: 'ext', dataType: 1, dims: [4], dataLocation: 1, externalData: [{ key: 'location', value: 'w.bin' }, { key: 'offset', value: '16' }] },
        { name: 'raw', dataType: 2, dims: [3], rawData: new Uint8Array([9, 8, 7]) },
      ],
      input: [{ name: 'a', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }, { dimValue: 3 }, {}] } } } }],
      output: [{ name: 'c', type: { tensorType: { elemType: 1 } } }],
      valueInfo: [{ name: 'b', type: { tensorType: { elemType: 7, shape: { dim: [{ dimValue: 0 }, { dimValue: -1 }] } } } }],
    },
  });
  const bytes = onnx.ModelProto.encode(model).finish();
  same(bytes, 'hand-made model');
  const got = decodeModel(bytes);
  const ints = got.graph!.node![0].attribute![0].ints!;
  assert.equal(ints.slice(0, 5), [-1, 0, 1, 2147483648, -9007199254740991]);
  assert.is(ints[5], (0x01234567n << 32n) | 0x89abcdefn, 'beyond 2^53: a bigint');
  assert.is(ints[6], -(2 ** 32 - 5));
  assert.is(got.graph!.initializer![3].uint64Data![0], 2n ** 64n - 1n);
  assert.is(got.graph!.node![0].attribute![6].g, true, 'subgraph seen, not decoded');
  assert.is(got.graph!.node![0].name, 'nœud');

  // unknown fields of every wire type, and unpacked repeated scalars, written by hand
  const Writer = (onnx.ModelProto.encode({}) as any).constructor; // protobufjs's writer, through onnx-proto
  const t = new Writer();
  t.uint32((1 << 3) | 0).int64(2).uint32((1 << 3) | 0).int64(3); // dims unpacked
  t.uint32((2 << 3) | 0).int32(7); // data_type int64
  t.uint32((7 << 3) | 0).int64(-7).uint32((7 << 3) | 0).int64(8); // int64_data unpacked
  t.uint32((7 << 3) | 0).int64(9).uint32((7 << 3) | 0).int64(10).uint32((7 << 3) | 0).int64(11).uint32((7 << 3) | 0).int64(12);
  t.uint32((99 << 3) | 0).uint64(123).uint32((98 << 3) | 1).fixed64(1).uint32((97 << 3) | 5).fixed32(1).uint32((96 << 3) | 2).bytes(new Uint8Array([1, 2, 3]));
  t.uint32((8 << 3) | 2).string('hand');
  const tensorBytes = t.finish();
  const g = new Writer();
  g.uint32((5 << 3) | 2).bytes(tensorBytes);
  const m = new Writer();
  m.uint32((7 << 3) | 2).bytes(g.finish());
  const mb = m.finish();
  same(mb, 'unpacked and unknown fields');
  const ht = decodeModel(mb).graph!.initializer![0];
  assert.equal(ht.dims, [2, 3]);
  assert.equal(ht.int64Data, [-7, 8, 9, 10, 11, 12]);
  assert.is(ht.name, 'hand');
});

test('truncated and malformed bytes throw (every prefix of a real model)', () => {
  const bytes = readFileSync(join(ROOT, 'models/mnist-cnn.fp32.onnx'));
  let threw = 0, ok = 0;
  const step = Math.max(1, Math.floor(bytes.length / 400));
  for (let n = 1; n < bytes.length; n += step) {
    try {
      decodeModel(bytes.subarray(0, n));
      ok++;
    } catch (e) {
      assert.ok(e instanceof Error && /truncated|past the end|overrun|wire type|field/.test(e.message), String(e));
      threw++;
    }
  }
  // a prefix ending exactly between two top-level fields is a valid (smaller) message; nearly all others are not
  assert.ok(threw > ok * 10, `threw ${threw}, decoded ${ok}`);
  assert.throws(() => decodeModel(new Uint8Array([0x0f])), /wire type 7/);
  assert.throws(() => decodeModel(new Uint8Array([0x3a, 0x05, 0x0a])), /past the end/);
  assert.throws(() => decodeModel(new Uint8Array([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), /longer than 10 bytes/);
  assert.throws(() => decodeModel(new Uint8Array([0x00, 0x01])), /field number 0/);
});

test.run();
