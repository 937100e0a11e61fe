// formatReport: a quantization report as a text table. Its own module (no imports but a type) so that the package
// entry can export it without loading the quantizer (the runtime's import stays light: bench/cold-phases.ts).
import type { QuantizationReport } from './report.js';

export const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : x > 0 ? 'inf' : '-inf');

/** The report as a text table, worst layers first. */
export function formatReport(r: QuantizationReport, limit = Infinity): string {
  const rows = [['tensor', 'node', 'op', 'SQNR dB', 'cosine', 'max |err|']];
  for (const l of r.layers.slice(0, limit)) rows.push([l.tensor, l.node, l.op, fmt(l.sqnr), fmt(l.cosine, 5), l.maxAbsError.toPrecision(3)]);
  const w = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((x, c) => (c >= 3 ? x.padStart(w[c]) : x.padEnd(w[c]))).join('  ');
  const out = [line(rows[0]), w.map((x) => '-'.repeat(x)).join('  '), ...rows.slice(1).map(line)];
  out.push('', `model outputs (${r.samples} samples):`);
  for (const o of r.outputs) out.push(`  ${o.tensor}: SQNR ${fmt(o.sqnr)} dB, cosine ${fmt(o.cosine, 5)}`);
  return out.join('\n');
}

