import { escapeXml } from '../report/chart-svg.js';

/** A small SVG line chart: share of attacker accounts detected against queries sent (log scale). */
export interface Curve {
  readonly label: string;
  /** Queries until detection per account; 0 = not detected within the budget. */
  readonly detectedAt: readonly number[];
}

const COLOURS = [
  '#1b9e77',
  '#d95f02',
  '#7570b3',
  '#e7298a',
  '#66a61e',
  '#e6ab02',
  '#a6761d',
  '#666666',
  '#1f78b4',
  '#b2df8a',
];

export function detectionChart(title: string, curves: readonly Curve[], budget: number): string {
  const w = 760;
  const h = 420;
  const left = 60;
  const right = 220;
  const top = 40;
  const bottom = 50;
  const xMin = Math.log10(10);
  const xMax = Math.log10(budget);
  const px = (q: number) => left + ((Math.log10(Math.max(10, q)) - xMin) / (xMax - xMin)) * (w - left - right);
  const py = (share: number) => top + (1 - share) * (h - top - bottom);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${w}" height="${h}" fill="white"/>`);
  parts.push(`<text x="${left}" y="22" font-size="14">${escapeXml(title)}</text>`);
  for (const tick of [10, 30, 100, 300, 1000, 2000, 5000, 20000].filter((t) => t <= budget)) {
    const x = px(tick);
    parts.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${h - bottom}" stroke="#ddd"/>`);
    parts.push(`<text x="${x}" y="${h - bottom + 16}" text-anchor="middle">${tick}</text>`);
  }
  for (const s of [0, 0.25, 0.5, 0.75, 1]) {
    const y = py(s);
    parts.push(`<line x1="${left}" y1="${y}" x2="${w - right}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 8}" y="${y + 4}" text-anchor="end">${Math.round(s * 100)}%</text>`);
  }
  parts.push(
    `<text x="${(left + w - right) / 2}" y="${h - 12}" text-anchor="middle">queries sent by the account (log scale)</text>`,
  );
  parts.push(
    `<text x="16" y="${(top + h - bottom) / 2}" transform="rotate(-90 16 ${(top + h - bottom) / 2})" text-anchor="middle">accounts flagged</text>`,
  );
  // The goals: median at 300, every one by 2,000.
  for (const g of [300, 2000])
    parts.push(
      `<line x1="${px(g)}" y1="${top}" x2="${px(g)}" y2="${h - bottom}" stroke="#c00" stroke-dasharray="4 3"/>`,
    );
  curves.forEach((c, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const n = c.detectedAt.length;
    const sorted = c.detectedAt.filter((q) => q > 0).sort((a, b) => a - b);
    let d = `M ${px(10)} ${py(0)}`;
    sorted.forEach((q, k) => {
      d += ` L ${px(q)} ${py(k / n)} L ${px(q)} ${py((k + 1) / n)}`;
    });
    d += ` L ${px(budget)} ${py(sorted.length / n)}`;
    parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<rect x="${w - right + 12}" y="${top + i * 20}" width="14" height="4" fill="${colour}"/>`);
    parts.push(`<text x="${w - right + 32}" y="${top + i * 20 + 6}">${escapeXml(c.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
