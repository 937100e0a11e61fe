// Tensors with reverse-mode automatic differentiation.
// A Tensor holds float32 data (NCHW for images) and, when it is part of a graph that needs gradients, the
// closure that pushes its gradient to its parents. backward() runs those closures in reverse topological order.

export type Backward = (grad: Float32Array) => void;

let gradEnabled = true;

/** Runs fn with gradient tracking off (evaluation, calibration). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export class Tensor {
  grad: Float32Array | null = null;
  /** Parents in the graph and the function that accumulates into their gradients. */
  parents: Tensor[] = [];
  backwardFn: Backward | null = null;

  constructor(
    public data: Float32Array,
    public shape: number[],
    public requiresGrad = false,
    public name = '',
  ) {
    if (data.length !== numel(shape)) {
      throw new Error(`octet train: tensor ${name || ''} data length ${data.length} does not match shape [${shape.join(', ')}]`);
    }
  }

  static zeros(shape: number[], requiresGrad = false, name = ''): Tensor {
    return new Tensor(new Float32Array(numel(shape)), shape, requiresGrad, name);
  }

  get size(): number {
    return this.data.length;
  }

  /** Adds g into this tensor's gradient (allocating it on first use). */
  accumulate(g: Float32Array): void {
    if (!this.grad) this.grad = new Float32Array(this.data.length);
    const d = this.grad;
    for (let i = 0; i < d.length; i++) d[i] += g[i];
  }

  zeroGrad(): void {
    this.grad = null;
  }

  /** Backpropagates from this (scalar or seeded) tensor through the graph that produced it. */
  backward(seed?: Float32Array): void {
    const order: Tensor[] = [];
    const seen = new Set<Tensor>();
    // Iterative DFS post-order (graphs can be deep).
    const stack: [Tensor, number][] = [[this, 0]];
    seen.add(this);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [t, i] = top;
      if (i < t.parents.length) {
        top[1]++;
        const p = t.parents[i];
        if (!seen.has(p) && (p.backwardFn || p.requiresGrad)) {
          seen.add(p);
          stack.push([p, 0]);
        }
      } else {
        stack.pop();
        order.push(t);
      }
    }
    const grads = new Map<Tensor, Float32Array>();
    grads.set(this, seed ?? new Float32Array(this.data.length).fill(1));
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k];
      const g = grads.get(t);
      if (!g) continue;
      if (t.backwardFn) {
        // Intermediate node: hand its gradient to its parents through the op's closure.
        const sink = (p: Tensor, pg: Float32Array) => {
          if (!p.backwardFn && !p.requiresGrad) return;
          const have = grads.get(p);
          if (!have) grads.set(p, pg);
          else for (let i = 0; i < have.length; i++) have[i] += pg[i];
        };
        currentSink = sink;
        try {
          t.backwardFn(g);
        } finally {
          currentSink = null;
        }
        if (t.requiresGrad) t.accumulate(g);
      } else if (t.requiresGrad) {
        t.accumulate(g);
      }
    }
  }
}

let currentSink: ((p: Tensor, g: Float32Array) => void) | null = null;

/** Called from inside an op's backward closure: passes gradient g to parent p. g must not be reused by the caller. */
export function pass(p: Tensor, g: Float32Array): void {
  if (!currentSink) throw new Error('octet train: pass() outside backward');
  currentSink(p, g);
}

/** Makes an op result: attaches parents and backward when any parent needs gradients and tracking is on. */
export function result(data: Float32Array, shape: number[], parents: Tensor[], backward: Backward): Tensor {
  const t = new Tensor(data, shape);
  if (gradEnabled && parents.some((p) => p.requiresGrad || p.backwardFn)) {
    t.parents = parents;
    t.backwardFn = backward;
  }
  return t;
}

/** Whether a parent wants a gradient (skip computing it otherwise). */
export function needs(p: Tensor): boolean {
  return p.requiresGrad || p.backwardFn !== null;
}
