// Hand-written SVG charts: no plotting dependency, and the files diff as text in review.

export interface Series { name: string; points: Array<[number, number]>; dashed?: boolean }

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => (v >= 1000 ? `${Math.round(v / 100) / 10}k` : v >= 10 ? String(Math.round(v)) : String(Math.round(v * 100) / 100));

const W = 780, H = 420, M = { l: 64, r: 250, t: 40, b: 80 };

/** Log-log line chart: time against a size that grows geometrically. */
export function logLogChart(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const all = series.flatMap((s) => s.points).filter(([x, y]) => x > 0 && y > 0);
  if (!all.length) return emptyChart(title);
  const lx = (v: number) => Math.log10(v);
  const [x0, x1] = [Math.min(...all.map((p) => lx(p[0]))), Math.max(...all.map((p) => lx(p[0])))];
  const [y0, y1] = [Math.floor(Math.min(...all.map((p) => lx(p[1])))), Math.ceil(Math.max(...all.map((p) => lx(p[1]))))];
  const px = (v: number) => M.l + ((lx(v) - x0) / (x1 - x0 || 1)) * (W - M.l - M.r);
  const py = (v: number) => H - M.b - ((lx(v) - y0) / (y1 - y0 || 1)) * (H - M.t - M.b);
  const out = [header(title)];
  for (let e = y0; e <= y1; e++) {
    const y = py(10 ** e);
    out.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${M.l - 6}" y="${y + 4}" text-anchor="end">${fmt(10 ** e)}</text>`);
  }
  for (const x of [...new Set(all.map((p) => p[0]))].sort((a, b) => a - b))
    out.push(`<text x="${px(x)}" y="${H - M.b + 16}" text-anchor="middle">${fmt(x)}</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => x > 0 && y > 0);
    const c = COLORS[i % COLORS.length];
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''} points="${pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    for (const [x, y] of pts) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${c}"/>`);
    out.push(legend(i, s.name, c!, s.dashed));
  });
  out.push(axes(xLabel, yLabel), '</svg>\n');
  return out.join('\n');
}

/** Grouped bars, one group per category, one bar per series; an optional dashed reference line. */
export function barChart(title: string, yLabel: string, categories: string[], series: Array<{ name: string; values: Array<number | null> }>,
  ref?: { value: number; label: string }): string {
  const max = Math.max(ref?.value ?? 0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  if (!(max > 0)) return emptyChart(title);
  const top = niceCeil(max);
  const py = (v: number) => H - M.b - (v / top) * (H - M.t - M.b);
  const gw = (W - M.l - M.r) / categories.length, bw = (gw * 0.8) / series.length;
  const out = [header(title)];
  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4, y = py(v);
    out.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${M.l - 6}" y="${y + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  categories.forEach((c, ci) => {
    const gx = M.l + ci * gw + gw * 0.1;
    series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === null || v === undefined) return;
      out.push(`<rect x="${(gx + si * bw).toFixed(1)}" y="${py(v).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${(H - M.b - py(v)).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"/>`);
    });
    const lx = (gx + gw * 0.4).toFixed(1), ly = H - M.b + 12;
    out.push(`<text x="${lx}" y="${ly}" text-anchor="end" font-size="9" transform="rotate(-25 ${lx} ${ly})">${esc(c)}</text>`);
  });
  if (ref) {
    const y = py(ref.value);
    out.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${y}" y2="${y}" stroke="#000" stroke-dasharray="6 4"/><text x="${W - M.r - 4}" y="${y - 4}" text-anchor="end">${esc(ref.label)}</text>`);
  }
  series.forEach((s, i) => out.push(legend(i, s.name, COLORS[i % COLORS.length]!)));
  out.push(axes('', yLabel), '</svg>\n');
  return out.join('\n');
}

const niceCeil = (v: number) => { const p = 10 ** Math.floor(Math.log10(v)); return Math.ceil(v / p) * p; };
const header = (title: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, sans-serif" font-size="11">\n<rect width="${W}" height="${H}" fill="#fff"/>\n<text x="${W / 2}" y="20" text-anchor="middle" font-size="13">${esc(title)}</text>`;
const legend = (i: number, name: string, c: string, dashed = false) =>
  `<line x1="${W - M.r + 10}" x2="${W - M.r + 30}" y1="${M.t + 10 + i * 18}" y2="${M.t + 10 + i * 18}" stroke="${c}" stroke-width="3"${dashed ? ' stroke-dasharray="5 4"' : ''}/><text x="${W - M.r + 34}" y="${M.t + 14 + i * 18}">${esc(name)}</text>`;
const axes = (xLabel: string, yLabel: string) =>
  `<line x1="${M.l}" x2="${M.l}" y1="${M.t}" y2="${H - M.b}" stroke="#000"/><line x1="${M.l}" x2="${W - M.r}" y1="${H - M.b}" y2="${H - M.b}" stroke="#000"/>` +
  `<text x="${(M.l + W - M.r) / 2}" y="${H - M.b + 34}" text-anchor="middle">${esc(xLabel)}</text>` +
  `<text transform="translate(16 ${(M.t + H - M.b) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`;
const emptyChart = (title: string) => `${header(title)}\n<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data in this run</text>\n</svg>\n`;
