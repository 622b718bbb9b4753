/**
 * A dependency-free SVG scatter plot (accuracy against occupancy for threshold sweeps), so a
 * report can be opened in any browser without a plotting stack.
 */

export interface PlotPoint {
  x: number;
  y: number;
  label?: string;
  highlight?: boolean;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Horizontal reference lines (e.g. dense accuracy, accuracy budget). */
  hLines?: Array<{ y: number; label: string; dashed?: boolean }>;
  width?: number;
  height?: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function ticks(lo: number, hi: number, n: number): number[] {
  const span = hi - lo || 1;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(Number(v.toPrecision(10)));
  return out;
}

/**
 * Render points as an SVG document (a string).
 *
 * @example writeFileSync('tune.svg', scatterSvg([{ x: 0.2, y: 0.97 }], { title: 't', xLabel: 'occupancy', yLabel: 'accuracy' }));
 */
export function scatterSvg(points: PlotPoint[], o: PlotOptions): string {
  const W = o.width ?? 640;
  const H = o.height ?? 420;
  const m = { l: 64, r: 24, t: 40, b: 52 };
  const ys = [...points.map((p) => p.y), ...(o.hLines ?? []).map((l) => l.y)];
  const xs = points.map((p) => p.x);
  const x0 = 0;
  const x1 = Math.max(1e-9, ...xs) * 1.05;
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  const pad = Math.max(1e-3, (y1 - y0) * 0.08);
  y0 -= pad;
  y1 += pad;
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(o.title)}</text>`);
  for (const t of ticks(x0, x1, 6)) {
    parts.push(`<line x1="${sx(t)}" y1="${m.t}" x2="${sx(t)}" y2="${H - m.b}" stroke="#eee"/>`);
    parts.push(`<text x="${sx(t)}" y="${H - m.b + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const t of ticks(y0, y1, 6)) {
    parts.push(`<line x1="${m.l}" y1="${sy(t)}" x2="${W - m.r}" y2="${sy(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.l - 6}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text x="16" y="${(m.t + H - m.b) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(m.t + H - m.b) / 2})">${esc(o.yLabel)}</text>`);
  for (const l of o.hLines ?? []) {
    parts.push(`<line x1="${m.l}" y1="${sy(l.y)}" x2="${W - m.r}" y2="${sy(l.y)}" stroke="#888"${l.dashed ? ' stroke-dasharray="5,4"' : ''}/>`);
    parts.push(`<text x="${W - m.r - 4}" y="${sy(l.y) - 4}" text-anchor="end" fill="#555">${esc(l.label)}</text>`);
  }
  for (const p of points) {
    const title = p.label ? `<title>${esc(p.label)}</title>` : '';
    if (p.highlight) parts.push(`<circle cx="${sx(p.x)}" cy="${sy(p.y)}" r="8" fill="none" stroke="#d62728" stroke-width="2"/>`);
    parts.push(`<circle cx="${sx(p.x)}" cy="${sy(p.y)}" r="3.5" fill="${p.highlight ? '#d62728' : '#1f77b4'}" fill-opacity="0.8">${title}</circle>`);
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
