// Tensor: the value type of session inputs and outputs, shaped like onnxruntime-web's (type, data, dims, size).
// int64 data is a BigInt64Array, bool data a Uint8Array of 0/1 (boolean arrays are accepted and converted).
import { sizeOf, type DType, type TypedData } from '../graph/tensor.js';

export type TensorType = DType;
export type TensorData = TypedData;

const CTOR: Record<DType, { name: string; make: (x: any) => TypedData; is: (x: unknown) => boolean }> = {
  float32: { name: 'Float32Array', make: (x) => Float32Array.from(x), is: (x) => x instanceof Float32Array },
  float64: { name: 'Float64Array', make: (x) => Float64Array.from(x), is: (x) => x instanceof Float64Array },
  float16: { name: 'Uint16Array (float16 bits)', make: (x) => Uint16Array.from(x), is: (x) => x instanceof Uint16Array },
  int8: { name: 'Int8Array', make: (x) => Int8Array.from(x), is: (x) => x instanceof Int8Array },
  uint8: { name: 'Uint8Array', make: (x) => Uint8Array.from(x), is: (x) => x instanceof Uint8Array },
  int16: { name: 'Int16Array', make: (x) => Int16Array.from(x), is: (x) => x instanceof Int16Array },
  uint16: { name: 'Uint16Array', make: (x) => Uint16Array.from(x), is: (x) => x instanceof Uint16Array },
  int32: { name: 'Int32Array', make: (x) => Int32Array.from(x), is: (x) => x instanceof Int32Array },
  uint32: { name: 'Uint32Array', make: (x) => Uint32Array.from(x), is: (x) => x instanceof Uint32Array },
  int64: { name: 'BigInt64Array', make: (x) => BigInt64Array.from(x, (v: any) => BigInt(v)), is: (x) => x instanceof BigInt64Array },
  uint64: { name: 'BigUint64Array', make: (x) => BigUint64Array.from(x, (v: any) => BigInt(v)), is: (x) => x instanceof BigUint64Array },
  bool: { name: 'Uint8Array', make: (x) => Uint8Array.from(x, (v: any) => (v ? 1 : 0)), is: (x) => x instanceof Uint8Array },
};

function inferType(data: unknown): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof BigUint64Array) return 'uint64';
  if (Array.isArray(data) && typeof data[0] === 'boolean') return 'bool';
  if (Array.isArray(data)) return 'float32';
  throw new Error('octet: Tensor: cannot infer the type of the data; pass the type first: new Tensor(type, data, dims)');
}

export class Tensor {
  readonly type: TensorType;
  readonly data: TensorData;
  readonly dims: readonly number[];
  readonly size: number;

  constructor(type: TensorType, data: TensorData | readonly number[] | readonly bigint[] | readonly boolean[], dims?: readonly number[]);
  constructor(data: TensorData | readonly number[] | readonly boolean[], dims?: readonly number[]);
  constructor(a: any, b?: any, c?: any) {
    let type: DType, data: any, dims: readonly number[] | undefined;
    if (typeof a === 'string') { type = a as DType; data = b; dims = c; }
    else { type = inferType(a); data = a; dims = b; }
    const spec = CTOR[type];
    if (!spec) throw new Error(`octet: Tensor: unsupported type '${type}' (expected one of ${Object.keys(CTOR).join(', ')})`);
    if (data === undefined || data === null) throw new Error(`octet: Tensor: no data`);
    if (!spec.is(data)) {
      if (Array.isArray(data)) data = spec.make(data);
      else throw new Error(`octet: Tensor: data for type '${type}' must be a ${spec.name}, got ${data?.constructor?.name ?? typeof data}`);
    }
    const d = dims ? Array.from(dims) : [data.length];
    for (const x of d) if (!(Number.isInteger(x) && x >= 0)) throw new Error(`octet: Tensor: bad dimension ${x} in [${d}]`);
    const size = sizeOf(d);
    if (size !== data.length) throw new Error(`octet: Tensor: dims [${d}] hold ${size} values, data has ${data.length}`);
    this.type = type;
    this.data = data;
    this.dims = Object.freeze(d);
    this.size = size;
  }
}
