// Cold-start phase marks: session creation calls phase('<name>') at the end of each of its phases (module
// selection, file read, protobuf decode, graph conversion, graph passes, weight packing, arena placement).
// Nothing listens by default (one property read per mark, a dozen marks per session). bench/cold-phases.ts sets
// globalThis.__octetPhase = (name, ms) => ... before importing the runtime, in a fresh process, to print where a
// cold start goes. A global rather than an export: the bench child may load dist/ or src/, and must not import
// any runtime module before its clock starts.
export function phase(name: string): void {
  const l = (globalThis as { __octetPhase?: (name: string, ms: number) => void }).__octetPhase;
  if (l) l(name, performance.now());
}
