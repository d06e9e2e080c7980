import { InflowError } from '../engine/errors.js';
import { Canvas, TEXT_HEIGHT, textWidth, type Rgba } from '../geo/canvas.js';
import { niceTicks, tickLabel } from '../geo/index-plot.js';

/** One acquisition function's mean learning curve. */
export interface CurveSeries {
  name: string;
  labels: number[];
  accuracy: number[];
  macroF1: number[];
}

const INK: Rgba = [20, 20, 20, 255], GRID: Rgba = [225, 225, 225, 255];
/** Colour-blind-safe (Paul Tol's bright scheme), one per acquisition function. */
const COLOURS: Rgba[] = [[68, 119, 170, 255], [238, 102, 119, 255], [34, 136, 51, 255], [204, 187, 68, 255], [102, 204, 238, 255], [170, 51, 119, 255]];
const PANEL_W = 360, PANEL_H = 260, PAD_L = 50, PAD_R = 14, PAD_T = 26, PAD_B = 34;

function panel(c: Canvas, left: number, top: number, series: readonly CurveSeries[], key: 'accuracy' | 'macroF1', title: string): void {
  const x0 = left + PAD_L, x1 = left + PANEL_W - PAD_R, y0 = top + PAD_T, y1 = top + PANEL_H - PAD_B;
  const xs = series.flatMap((s) => s.labels), vs = series.flatMap((s) => s[key]).filter(Number.isFinite);
  const xTicks = niceTicks(Math.min(...xs), Math.max(...xs), 6), yTicks = niceTicks(Math.min(...vs), Math.max(...vs), 5);
  const xLo = Math.min(xTicks[0]!, ...xs), xHi = Math.max(xTicks.at(-1)!, ...xs);
  const yLo = Math.min(yTicks[0]!, ...vs), yHi = Math.max(yTicks.at(-1)!, ...vs);
  const xOf = (v: number) => x0 + 4 + (v - xLo) / (xHi - xLo || 1) * (x1 - x0 - 8);
  const yOf = (v: number) => y1 - (v - yLo) / (yHi - yLo || 1) * (y1 - y0);
  c.text(x0 + (x1 - x0 - textWidth(title)) / 2, top + 8, title, INK);
  const yStep = yTicks.length > 1 ? yTicks[1]! - yTicks[0]! : 1, xStep = xTicks.length > 1 ? xTicks[1]! - xTicks[0]! : 1;
  for (const t of yTicks) {
    const y = Math.round(yOf(t)), s = tickLabel(t, yStep);
    c.line(x0, y, x1, y, GRID);
    c.line(x0 - 4, y, x0, y, INK);
    c.text(x0 - 7 - textWidth(s), y - 3, s, INK);
  }
  for (const t of xTicks) {
    const x = Math.round(xOf(t)), s = tickLabel(t, xStep);
    c.line(x, y1, x, y1 + 4, INK);
    c.text(x - textWidth(s) / 2, y1 + 7, s, INK);
  }
  c.text(x0 + (x1 - x0 - textWidth('labelled images')) / 2, y1 + 20, 'labelled images', INK);
  c.line(x0, y0, x0, y1, INK);
  c.line(x0, y1, x1, y1, INK);
  series.forEach((s, i) => {
    const col = COLOURS[i % COLOURS.length]!;
    const pts = s.labels.map((n, j) => [Math.round(xOf(n)), Math.round(yOf(s[key][j]!))] as const).filter((p) => Number.isFinite(p[1]));
    for (let j = 1; j < pts.length; j++) c.line(pts[j - 1]![0], pts[j - 1]![1], pts[j]![0], pts[j]![1], col, 2);
    for (const [x, y] of pts) c.rect(x - 2, y - 2, 5, 5, col);
  });
}

/** Held-out accuracy and macro-F1 against the number of labels, one line per acquisition function, with a legend. */
export async function learningCurvePng(series: readonly CurveSeries[], caption = ''): Promise<Uint8Array> {
  if (series.length === 0 || series.some((s) => s.labels.length === 0)) throw new InflowError('learning-curve plot: no points to plot');
  const head = TEXT_HEIGHT * 2 + 12, legend = 18 * Math.ceil(series.length / 3) + 8;
  const c = new Canvas(2 * PANEL_W, head + PANEL_H + legend);
  if (caption) c.text(10, 6, caption, INK, 2);
  panel(c, 0, head, series, 'accuracy', 'held-out accuracy');
  panel(c, PANEL_W, head, series, 'macroF1', 'macro-F1');
  series.forEach((s, i) => {
    const x = PAD_L + (i % 3) * 220, y = head + PANEL_H + 6 + Math.floor(i / 3) * 18;
    const col = COLOURS[i % COLOURS.length]!;
    c.rect(x, y + 2, 18, 3, col);
    c.text(x + 24, y, s.name, INK);
  });
  return c.png();
}
