import { InflowError } from '../engine/errors.js';
import { Canvas, TEXT_HEIGHT, textWidth, type Rgba } from './canvas.js';
import { LABEL_NODATA } from './geotiff.js';

/**
 * A label map as a PNG a person can look at: one categorical colour per label, no-data transparent
 * (or grey), the map enlarged by whole pixels when small, and a legend beside it with each label's
 * colour, name and share of the mapped pixels (docs/geomap.md, "Preview").
 */

/**
 * Twelve colours that stay apart for the common colour-vision deficiencies: Paul Tol's "bright"
 * scheme without its grey (grey is what no-data may look like), then six of his "muted" scheme.
 * Labels past twelve get hues spaced by the golden angle, which never repeat.
 */
const BASE: ReadonlyArray<readonly [number, number, number]> = [
  [68, 119, 170], [238, 102, 119], [34, 136, 51], [204, 187, 68], [102, 204, 238], [170, 51, 119],
  [136, 34, 85], [68, 170, 153], [153, 153, 51], [51, 34, 136], [221, 204, 119], [136, 204, 238],
];

/** Colour of label `l` (0…254). */
export function labelColor(l: number): Rgba {
  if (!Number.isInteger(l) || l < 0 || l >= LABEL_NODATA) throw new InflowError(`preview: label ${l} is outside 0…${LABEL_NODATA - 1}`);
  if (l < BASE.length) { const [r, g, b] = BASE[l]!; return [r, g, b, 255]; }
  const h = ((l - BASE.length) * 137.508) % 360, s = 0.55, v = l % 2 ? 0.75 : 0.95;
  const f = (n: number) => { const k = (n + h / 60) % 6; return Math.round(255 * (v - v * s * Math.max(0, Math.min(k, 4 - k, 1)))); };
  return [f(5), f(3), f(1), 255];
}

export const NODATA_GREY: Rgba = [170, 170, 170, 255];
const TRANSPARENT: Rgba = [0, 0, 0, 0];
const INK: Rgba = [20, 20, 20, 255];
const PAPER: Rgba = [255, 255, 255, 255];

export interface PreviewOptions {
  /** Legend text per label (default "unit N"); drawn upper-case in the bitmap font. */
  names?: readonly string[];
  /** How no-data pixels look: transparent (default) or grey. */
  noData?: 'transparent' | 'grey';
  /** Whole-pixel enlargement of the map (default: enough for about 384 px on the longer side, at most 8). */
  scale?: number;
  /** A line above the legend, e.g. the method and k. */
  title?: string;
  /** Font pixel size of the legend text (default 2). */
  fontScale?: number;
}

export interface LegendEntry {
  /** The label, or LABEL_NODATA for the no-data entry. */
  label: number;
  pixels: number;
  /** Share of the mapped (not no-data) pixels; null for the no-data entry. */
  share: number | null;
  text: string;
  swatch: { x: number; y: number; size: number };
  textX: number;
}

export interface Preview {
  canvas: Canvas;
  /** Where the map sits and its enlargement: map pixel (x, y) covers canvas [mapX + x·scale, …). */
  mapX: number;
  mapY: number;
  scale: number;
  legend: LegendEntry[];
}

const MARGIN = 8, GAP = 16;
// PNG viewers and sharp cope with this; a 10⁷-pixel scene (about 3 200 px a side) fits at scale 1.
const MAX_SIDE = 16384;

function fmtShare(s: number): string {
  return s >= 0.1 ? `${(s * 100).toFixed(1)}%` : `${(s * 100).toFixed(2)}%`;
}

/** Draws the preview; `previewPng` encodes it. */
export function renderPreview(labels: Uint8Array, width: number, height: number, opts: PreviewOptions = {}): Preview {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || labels.length !== width * height)
    throw new InflowError(`preview: ${labels.length} labels do not fill a ${width}×${height} map`);
  const fontScale = opts.fontScale ?? 2;
  if (!Number.isInteger(fontScale) || fontScale < 1 || fontScale > 8) throw new InflowError(`preview: fontScale must be an integer in 1…8, got ${String(fontScale)}`);
  const scale = opts.scale ?? Math.max(1, Math.min(8, Math.floor(384 / Math.max(width, height))));
  if (!Number.isInteger(scale) || scale < 1 || scale > 64) throw new InflowError(`preview: scale must be an integer in 1…64, got ${String(scale)}`);
  if (Math.max(width, height) * scale > MAX_SIDE) throw new InflowError(`preview: a ${width}×${height} map at scale ${scale} exceeds ${MAX_SIDE} pixels per side`);

  const counts = new Float64Array(256);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++;
  const mapped = labels.length - counts[LABEL_NODATA]!;
  const present = [];
  for (let l = 0; l < LABEL_NODATA; l++) if (counts[l]! > 0) present.push(l);

  const th = TEXT_HEIGHT * fontScale, rowH = th + 2 * fontScale + 4, sw = th;
  const texts = present.map((l) => `${opts.names?.[l] ?? `unit ${l}`}  ${fmtShare(counts[l]! / mapped)}  (${counts[l]} px)`);
  const noDataPx = counts[LABEL_NODATA]!;
  if (noDataPx > 0) texts.push(`no data  (${noDataPx} px)`);
  const title = opts.title ?? '';
  const legendW = sw + 6 * fontScale + Math.max(0, ...texts.map((t) => textWidth(t, fontScale)), textWidth(title, fontScale) - sw - 6 * fontScale);
  const legendH = (title ? rowH : 0) + texts.length * rowH;
  const mapX = MARGIN, mapY = MARGIN, mapW = width * scale, mapH = height * scale;
  const legendX = mapX + mapW + GAP;
  const canvas = new Canvas(legendX + legendW + MARGIN, Math.max(mapH, legendH) + 2 * MARGIN, PAPER);

  const nd = opts.noData === 'grey' ? NODATA_GREY : TRANSPARENT;
  const colors = Array.from({ length: 256 }, (_, l) => (l === LABEL_NODATA ? nd : counts[l]! > 0 ? labelColor(l) : nd));
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) canvas.rect(mapX + x * scale, mapY + y * scale, scale, scale, colors[labels[y * width + x]!]!);

  let y = MARGIN;
  if (title) { canvas.text(legendX, y, title, INK, fontScale); y += rowH; }
  const legend: LegendEntry[] = [];
  const entries = [...present.map((l) => ({ label: l, color: labelColor(l), share: counts[l]! / mapped })), ...(noDataPx > 0 ? [{ label: LABEL_NODATA, color: nd, share: null }] : [])];
  entries.forEach((e, i) => {
    const swatch = { x: legendX, y, size: sw };
    canvas.rect(swatch.x, swatch.y, sw, sw, e.color);
    canvas.frame(swatch.x, swatch.y, sw, sw, INK);
    const textX = legendX + sw + 6 * fontScale;
    canvas.text(textX, y, texts[i]!, INK, fontScale);
    legend.push({ label: e.label, pixels: counts[e.label]!, share: e.share, text: texts[i]!, swatch, textX });
    y += rowH;
  });
  return { canvas, mapX, mapY, scale, legend };
}

/** The preview as PNG bytes. */
export async function previewPng(labels: Uint8Array, width: number, height: number, opts: PreviewOptions = {}): Promise<Uint8Array> {
  return renderPreview(labels, width, height, opts).canvas.png();
}
