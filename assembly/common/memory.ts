// Exports that every build carries.
// Kernels never allocate: the host owns linear memory above __heap_base (its arena) and passes byte offsets.

/** First byte of linear memory the host may use (after this module's static data). */
export function heap_base(): usize {
  return __heap_base;
}

/**
 * Host probe: returns the bits of a - b. Called with (+inf, +inf) it yields the engine's default NaN,
 * whose sign bit tells x86 (set: 0xFFC00000) from ARM (clear: 0x7FC00000), as XNNPACK's
 * hardware-config.c does. Arguments come from the host so nothing can be constant-folded.
 */
export function probe_f32_sub_bits(a: f32, b: f32): u32 {
  return reinterpret<u32>(a - b);
}

/**
 * Fills n bytes at dst with the low byte of value. Lets a kernel's host side clear scratch through an export call
 * rather than a JS view, so the worker pool can replay it on another thread (src/runtime/pool.ts).
 */
export function x8_fill(dst: usize, value: i32, n: i32): void {
  memory.fill(dst, <u8>value, <usize>n);
}
