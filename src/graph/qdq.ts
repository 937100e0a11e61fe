// QDQ folding (filled in below).
import type { TypedGraph } from './infer.js';
export function foldQDQ(_tg: TypedGraph): void {}
