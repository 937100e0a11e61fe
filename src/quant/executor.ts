// The small interface calibration and the accuracy report run models through, plus adapters for
// onnxruntime-style APIs (Octet's InferenceSession has the same shape as onnxruntime's).

export type TypedData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array | Float64Array | Uint16Array;

export interface TensorLike {
  data: TypedData;
  dims: readonly number[];
  type?: string;
}

export type Feeds = Record<string, TensorLike>;

export interface ModelRunner {
  run(feeds: Feeds): Promise<Record<string, TensorLike>>;
  release?(): void | Promise<void>;
}

/** Loads ONNX bytes and returns something that runs them. */
export type Executor = (modelBytes: Uint8Array) => Promise<ModelRunner>;

interface SessionLike {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[]; type?: string }>>;
  release?(): Promise<void> | void;
}

export interface SessionApi {
  InferenceSession: { create(bytes: Uint8Array, options?: Record<string, unknown>): Promise<SessionLike> };
  Tensor: new (type: string, data: TypedData, dims: readonly number[]) => unknown;
}

function typeOf(d: TypedData): string {
  if (d instanceof Float32Array) return 'float32';
  if (d instanceof Int8Array) return 'int8';
  if (d instanceof Uint8Array) return 'uint8';
  if (d instanceof Int32Array) return 'int32';
  if (d instanceof BigInt64Array) return 'int64';
  if (d instanceof Float64Array) return 'float64';
  return 'float16';
}

/** An executor over any onnxruntime-like module: `sessionExecutor(await import('onnxruntime-node'))`. */
export function sessionExecutor(api: SessionApi, sessionOptions?: Record<string, unknown>): Executor {
  return async (bytes) => {
    const session = await api.InferenceSession.create(bytes, sessionOptions);
    return {
      async run(feeds) {
        const f: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(feeds)) f[k] = new api.Tensor(v.type ?? typeOf(v.data), v.data, [...v.dims]);
        const out = await session.run(f);
        const r: Record<string, TensorLike> = {};
        for (const [k, v] of Object.entries(out)) r[k] = { data: v.data as TypedData, dims: [...v.dims], type: v.type };
        return r;
      },
      release: () => session.release?.(),
    };
  };
}

let defaultExec: Executor | undefined;

/** Octet's own runtime (src/api): the default executor of calibration and of the accuracy report. */
export async function defaultExecutor(): Promise<Executor> {
  if (defaultExec) return defaultExec;
  // Loaded lazily (src/quant runs without the runtime until calibration needs it). Literal specifiers, so that
  // bundlers (Vite, webpack) see the runtime and split it into a chunk instead of leaving a path that does not exist
  // next to the bundle.
  let api: SessionApi;
  try {
    const [s, t] = await Promise.all([import('../api/session.js'), import('../api/tensor.js')]);
    api = { InferenceSession: s.InferenceSession, Tensor: t.Tensor } as SessionApi;
  } catch (e) {
    throw new Error(`quantize: Octet's runtime could not be loaded (${(e as Error).message}); pass options.executor`);
  }
  defaultExec = sessionExecutor(api, { requantization: 'float' });
  return defaultExec;
}
