// SVG chart of the model benchmark: one panel per model, one horizontal bar per runtime (median ms, with the
// interquartile range as a whisker), each panel on its own linear scale. No dependencies.
export interface ChartRow { model: string; engine: string; engineLabel: string; native: boolean; medianMs?: number; p25Ms?: number; p75Ms?: number }

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function color(engine: string): string {
  if (engine.startsWith('octet')) return engine.includes('fp32') ? '#2b8cbe' : '#08589e';
  if (engine.startsWith('ort-web')) return engine.includes('fp32') ? '#fdae6b' : '#e6550d';
  if (engine.startsWith('tfjs')) return '#74c476';
  return '#bdbdbd';
}

export function renderSvg(rows: ChartRow[], models: { id: string; label: string }[], caption: string): string {
  const W = 900, labelW = 250, barH = 16, gap = 4, panelPad = 34;
  let y = 40;
  const parts: string[] = [];
  for (const m of models) {
    const rs = rows.filter((r) => r.model === m.id && r.medianMs !== undefined);
    if (!rs.length) continue;
    const max = Math.max(...rs.map((r) => r.p75Ms ?? r.medianMs!)) * 1.08;
    const scale = (W - labelW - 90) / max;
    parts.push(`<text x="10" y="${y}" font-weight="bold" font-size="14">${esc(m.label)}</text>`);
    y += 10;
    for (const r of rs) {
      const w = Math.max(1, r.medianMs! * scale);
      parts.push(`<text x="${labelW - 8}" y="${y + barH - 4}" text-anchor="end" font-size="12">${esc(r.engineLabel)}</text>`);
      parts.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color(r.engine)}"${r.native ? ' fill-opacity="0.6"' : ''}/>`);
      if (r.p25Ms !== undefined && r.p75Ms !== undefined) {
        const a = labelW + r.p25Ms * scale, b = labelW + r.p75Ms * scale, cy = y + barH / 2;
        parts.push(`<line x1="${a.toFixed(1)}" x2="${b.toFixed(1)}" y1="${cy}" y2="${cy}" stroke="#000" stroke-width="1"/>`);
      }
      const v = r.medianMs!;
      parts.push(`<text x="${(labelW + Math.max(w, r.p75Ms ? r.p75Ms * scale : 0) + 6).toFixed(1)}" y="${y + barH - 4}" font-size="12">${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ms</text>`);
      y += barH + gap;
    }
    y += panelPad;
  }
  const H = y + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="20" font-size="12" fill="#444">${esc(caption)} · median latency, lower is better; whiskers: interquartile range; native reference faded</text>
${parts.join('\n')}
</svg>
`;
}
