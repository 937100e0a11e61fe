// The small platform layer under the worker pool: worker_threads in Node, Web Workers in browsers,
// behind one interface. Also answers "can this host run threads at all" (SharedArrayBuffer, shared
// WebAssembly.Memory, cross-origin isolation in pages) and "may this thread block in Atomics.wait".
// Node built-ins are imported through a variable specifier so browser bundlers never try to resolve them.
import { workerSource } from './worker.js';

export interface WorkerHandle {
  postMessage(msg: unknown): void;
  /** Messages posted by the worker. */
  onMessage(cb: (msg: any) => void): void;
  /** The worker died (uncaught error or exit); called at most once. */
  onDeath(cb: (reason: string) => void): void;
  terminate(): void;
  /** Keeps the process alive (Node) until the returned release is called: while the pool awaits the worker. */
  hold(): () => void;
}

export interface ThreadSupport {
  /** Can this host run the pool (SharedArrayBuffer, shared wasm memory, workers)? */
  ok: boolean;
  /** Why not, when ok is false (reported through the API, never thrown). */
  reason?: string;
  /** Logical cores (os.availableParallelism in Node, navigator.hardwareConcurrency in browsers). */
  cores: number;
  /** May the calling thread block in Atomics.wait? (false on a browser's main thread) */
  canBlock: boolean;
  env: 'node' | 'browser';
}

const g = globalThis as any;

export function isNode(): boolean {
  return typeof process !== 'undefined' && !!(process as any).versions?.node && typeof g.window === 'undefined';
}

function nodeImport(name: string): Promise<any> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ name);
}

function probeCanBlock(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    // Returns 'not-equal' at once where blocking is allowed; throws where it is not (a page's main thread).
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

let support: Promise<ThreadSupport> | undefined;

export function threadSupport(): Promise<ThreadSupport> {
  support ??= detect();
  return support;
}

async function detect(): Promise<ThreadSupport> {
  const env = isNode() ? 'node' : 'browser';
  let cores = 1;
  if (env === 'node') {
    try {
      const os = await nodeImport('node:os');
      cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    } catch {
      cores = 1;
    }
  } else {
    cores = Number(g.navigator?.hardwareConcurrency) || 1;
  }
  const canBlock = probeCanBlock();
  const no = (reason: string): ThreadSupport => ({ ok: false, reason, cores, canBlock, env });
  if (typeof SharedArrayBuffer === 'undefined') {
    return no(
      env === 'browser' && g.crossOriginIsolated !== true
        ? 'SharedArrayBuffer is unavailable: the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp)'
        : 'SharedArrayBuffer is unavailable in this engine',
    );
  }
  if (env === 'browser' && g.crossOriginIsolated === false) {
    return no('the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp)');
  }
  try {
    const m = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor);
    if (!(m.buffer instanceof SharedArrayBuffer)) return no('this engine cannot share WebAssembly.Memory');
  } catch {
    return no('this engine cannot share WebAssembly.Memory (wasm threads disabled)');
  }
  if (env === 'browser' && typeof g.Worker !== 'function') return no('Web Workers are unavailable here');
  return { ok: true, cores, canBlock, env };
}

// Strings, not code: bundlers never see the Node require.
const NODE_PRELUDE = `globalThis.__octetPort = (() => { const { parentPort } = require('node:worker_threads');
  return { post: (m) => parentPort.postMessage(m), listen: (cb) => parentPort.on('message', cb) }; })();`;
const WEB_PRELUDE = `globalThis.__octetPort = { post: (m) => self.postMessage(m),
  listen: (cb) => self.addEventListener('message', (e) => cb(e.data)) };`;

/**
 * Starts a pool worker running worker.ts's workerMain as inlined source rather than a worker file: nothing for bundlers to locate, and the same code under tsx, dist/ and Vite.
 */
export async function spawnWorker(name: string): Promise<WorkerHandle> {
  let dead = false;
  const deathCbs: ((r: string) => void)[] = [];
  const die = (reason: string) => {
    if (dead) return;
    dead = true;
    for (const cb of deathCbs) cb(reason);
  };
  if (isNode()) {
    const { Worker } = await nodeImport('node:worker_threads');
    const w = new Worker(workerSource(NODE_PRELUDE), { eval: true, name });
    w.on('error', (e: Error) => die(`worker error: ${e?.message ?? e}`));
    w.on('exit', (code: number) => die(`worker exited with code ${code}`));
    // Idle workers must not keep a Node process alive. Adding a 'message' listener refs the worker again,
    // so unref after every listener.
    w.unref();
    let holds = 0;
    return {
      postMessage: (m) => w.postMessage(m),
      onMessage: (cb) => {
        w.on('message', cb);
        if (holds === 0) w.unref();
      },
      hold: () => {
        if (holds++ === 0) w.ref();
        let released = false;
        return () => {
          if (released) return;
          released = true;
          if (--holds === 0) w.unref();
        };
      },
      onDeath: (cb) => deathCbs.push(cb),
      terminate: () => {
        dead = true;
        void w.terminate();
      },
    };
  }
  const url = URL.createObjectURL(new Blob([workerSource(WEB_PRELUDE)], { type: 'text/javascript' }));
  const w: Worker = new g.Worker(url, { name });
  w.addEventListener('error', (e: ErrorEvent) => die(`worker error: ${e.message}`));
  return {
    postMessage: (m) => w.postMessage(m),
    onMessage: (cb) => w.addEventListener('message', (e: MessageEvent) => cb(e.data)),
    onDeath: (cb) => deathCbs.push(cb),
    terminate: () => {
      dead = true;
      w.terminate();
      URL.revokeObjectURL(url);
    },
    hold: () => () => {},
  };
}
