import { InflowError } from '../engine/errors.js';
import { Canvas, TEXT_HEIGHT, textWidth, type Rgba } from './canvas.js';

/**
 * The cluster indices against k as one PNG of four small charts: WCSS (the elbow curve), silhouette,
 * Calinski–Harabasz and Davies–Bouldin, with the chosen k marked in each (docs/geomap.md, "Index
 * plot"). Drawn on our own canvas: axes, ticks at every k and at round values, a line with markers.
 */
export interface IndexPoint {
  k: number;
  wcss: number;
  silhouette: number;
  calinskiHarabasz: number;
  daviesBouldin: number;
}

type Key = Exclude<keyof IndexPoint, 'k'>;
export const PANELS: ReadonlyArray<{ key: Key; title: string }> = [
  { key: 'wcss', title: 'WCSS (elbow)' },
  { key: 'silhouette', title: 'silhouette (higher better)' },
  { key: 'calinskiHarabasz', title: 'Calinski-Harabasz (higher better)' },
  { key: 'daviesBouldin', title: 'Davies-Bouldin (lower better)' },
];

const INK: Rgba = [20, 20, 20, 255], GRID: Rgba = [225, 225, 225, 255], LINE: Rgba = [68, 119, 170, 255];
export const CHOSEN: Rgba = [204, 51, 17, 255];
const PANEL_W = 300, PANEL_H = 200, PAD_L = 62, PAD_R = 14, PAD_T = 26, PAD_B = 30;

/** Round tick values covering [lo, hi]: steps of 1, 2 or 5 × 10ⁿ, about `want` of them. */
export function niceTicks(lo: number, hi: number, want = 5): number[] {
  if (!(hi > lo)) { const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1; lo -= d; hi += d; }
  const raw = (hi - lo) / want, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  // Whole multiples of the step, so 0.1-style steps do not accumulate rounding error.
  for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9; i++) out.push(i === 0 ? 0 : Number((i * step).toPrecision(12)));
  return out;
}

/** A tick value short enough for the axis: plain with the step's decimals, or mantissa E exponent when large. */
export function tickLabel(v: number, step: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1e5) { const [m, e] = v.toExponential(2).split('e'); return `${Number(m)}E${Number(e)}`; }
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step))));
  return v.toFixed(decimals);
}

export interface PanelGeometry { key: Key; x0: number; y0: number; x1: number; y1: number; xOf: (k: number) => number; yOf: (v: number) => number }

function drawPanel(c: Canvas, left: number, top: number, rows: readonly IndexPoint[], key: Key, title: string, chosen: number | null): PanelGeometry {
  const x0 = left + PAD_L, x1 = left + PANEL_W - PAD_R, y0 = top + PAD_T, y1 = top + PANEL_H - PAD_B;
  const ks = rows.map((r) => r.k), kLo = Math.min(...ks), kHi = Math.max(...ks);
  const vals = rows.map((r) => r[key]).filter(Number.isFinite);
  const ticks = niceTicks(vals.length ? Math.min(...vals) : 0, vals.length ? Math.max(...vals) : 1);
  const vLo = Math.min(ticks[0]!, ...vals), vHi = Math.max(ticks[ticks.length - 1]!, ...vals);
  const xOf = (k: number) => (kHi === kLo ? (x0 + x1) / 2 : x0 + 6 + (k - kLo) / (kHi - kLo) * (x1 - x0 - 12));
  const yOf = (v: number) => y1 - (v - vLo) / (vHi - vLo || 1) * (y1 - y0);
  c.text(x0 + (x1 - x0 - textWidth(title)) / 2, top + 8, title, INK);
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : 1;
  for (const t of ticks) {
    const y = Math.round(yOf(t));
    c.line(x0, y, x1, y, GRID);
    c.line(x0 - 4, y, x0, y, INK);
    const s = tickLabel(t, step);
    c.text(x0 - 7 - textWidth(s), y - 3, s, INK);
  }
  for (const k of ks) {
    const x = Math.round(xOf(k));
    c.line(x, y1, x, y1 + 4, INK);
    c.text(x - textWidth(String(k)) / 2, y1 + 7, String(k), INK);
  }
  c.text(x1 + 4, y1 - 10, 'K', INK);
  c.line(x0, y0, x0, y1, INK);
  c.line(x0, y1, x1, y1, INK);
  if (chosen !== null && chosen >= kLo && chosen <= kHi) c.line(xOf(chosen), y0, xOf(chosen), y1 - 1, CHOSEN, 1, 3);
  const pts = rows.filter((r) => Number.isFinite(r[key])).map((r) => [Math.round(xOf(r.k)), Math.round(yOf(r[key])), r.k] as const);
  for (let i = 1; i < pts.length; i++) c.line(pts[i - 1]![0], pts[i - 1]![1], pts[i]![0], pts[i]![1], LINE, 2);
  for (const [x, y, k] of pts) c.rect(x - 3, y - 3, 7, 7, k === chosen ? CHOSEN : LINE);
  return { key, x0, y0, x1, y1, xOf, yOf };
}

export interface IndexPlot { canvas: Canvas; panels: PanelGeometry[] }

/** Draws the four charts in a 2 × 2 grid with a caption naming the chosen k. */
export function renderIndexPlot(rows: readonly IndexPoint[], chosenK: number | null, caption = ''): IndexPlot {
  if (rows.length === 0) throw new InflowError('index plot: no rows to plot');
  for (const r of rows) if (!Number.isInteger(r.k)) throw new InflowError(`index plot: k must be an integer, got ${String(r.k)}`);
  const sorted = [...rows].sort((a, b) => a.k - b.k);
  const head = TEXT_HEIGHT * 2 + 12;
  const c = new Canvas(2 * PANEL_W, 2 * PANEL_H + head);
  const text = `${caption}${caption && chosenK !== null ? '   ' : ''}${chosenK !== null ? `chosen k = ${chosenK}` : ''}`;
  if (text) c.text(10, 6, text, INK, 2);
  const panels = PANELS.map((p, i) => drawPanel(c, (i % 2) * PANEL_W, head + Math.floor(i / 2) * PANEL_H, sorted, p.key, p.title, chosenK));
  return { canvas: c, panels };
}

/** The plot as PNG bytes. */
export async function indexPlotPng(rows: readonly IndexPoint[], chosenK: number | null, caption = ''): Promise<Uint8Array> {
  return renderIndexPlot(rows, chosenK, caption).canvas.png();
}
