// A self-contained SVG bar chart (no scripts, no external fonts or images): one panel per
// metric, one bar per target, coloured by kind of target.

export interface ChartBar {
  readonly label: string;
  readonly group: string;
  /** One value per panel; NaN draws "n/a". */
  readonly values: readonly number[];
}

export interface ChartSpec {
  readonly title: string;
  readonly subtitle: string;
  readonly panels: readonly { title: string; unit: string }[];
  readonly bars: readonly ChartBar[];
}

const COLOURS: Record<string, string> = {
  limit: '#7f7f7f',
  'native peer': '#1f77b4',
  'node peer': '#2ca02c',
  gateway: '#d62728',
};

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export function barChartSvg(spec: ChartSpec): string {
  const labelWidth = 380;
  const panelWidth = 260;
  const gap = 30;
  const barHeight = 18;
  const rowHeight = 24;
  const top = 70;
  const width = labelWidth + spec.panels.length * (panelWidth + gap) + 20;
  const height = top + spec.bars.length * rowHeight + 50;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="22" font-size="16" font-weight="bold">${escapeXml(spec.title)}</text>`,
    `<text x="10" y="42" fill="#444">${escapeXml(spec.subtitle)}</text>`,
  ];
  spec.bars.forEach((b, i) => {
    const y = top + i * rowHeight;
    out.push(`<text x="${labelWidth - 8}" y="${y + 13}" text-anchor="end">${escapeXml(b.label)}</text>`);
  });
  spec.panels.forEach((p, pi) => {
    const x0 = labelWidth + pi * (panelWidth + gap);
    const max = Math.max(...spec.bars.map((b) => b.values[pi] ?? 0).filter(Number.isFinite), 1);
    out.push(`<text x="${x0}" y="${top - 10}" font-weight="bold">${escapeXml(`${p.title} (${p.unit})`)}</text>`);
    out.push(`<line x1="${x0}" y1="${top - 4}" x2="${x0}" y2="${top + spec.bars.length * rowHeight}" stroke="#999"/>`);
    spec.bars.forEach((b, i) => {
      const v = b.values[pi] ?? Number.NaN;
      const y = top + i * rowHeight;
      if (!Number.isFinite(v)) {
        out.push(`<text x="${x0 + 4}" y="${y + 13}" fill="#888">n/a</text>`);
        return;
      }
      const w = Math.max(1, (v / max) * (panelWidth - 60));
      out.push(
        `<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${COLOURS[b.group] ?? '#9467bd'}"/>`,
      );
      out.push(`<text x="${(x0 + w + 4).toFixed(1)}" y="${y + 13}">${v >= 100 ? v.toFixed(0) : v.toFixed(2)}</text>`);
    });
  });
  let lx = 10;
  const ly = height - 18;
  for (const [group, colour] of Object.entries(COLOURS)) {
    out.push(
      `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${colour}"/><text x="${lx + 16}" y="${ly}">${escapeXml(group)}</text>`,
    );
    lx += 30 + group.length * 7;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
