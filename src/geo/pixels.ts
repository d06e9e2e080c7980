import { InflowError } from '../engine/errors.js';
import { LABEL_NODATA } from './geotiff.js';

/**
 * Band-major rasters ↔ the pixel-major rows the reductions and k-means take (docs/geomap.md §3).
 * A pixel is left out when any band holds the no-data value or a non-finite number.
 */
export interface PixelRows {
  /** n × d, row-major. */
  x: Float32Array;
  n: number;
  d: number;
  /** Raster index (y·W + x) of each row. */
  index: Int32Array;
}

export function validPixels(data: Float32Array, bands: number, noData: number | null): Int32Array {
  const plane = data.length / bands;
  if (!Number.isInteger(plane)) throw new InflowError(`pixels: ${data.length} values do not split into ${bands} bands`);
  const keep: number[] = [];
  for (let p = 0; p < plane; p++) {
    let ok = true;
    for (let b = 0; b < bands && ok; b++) { const v = data[b * plane + p]!; ok = Number.isFinite(v) && v !== noData; }
    if (ok) keep.push(p);
  }
  return Int32Array.from(keep);
}

/**
 * Rows of the valid pixels, each band min–max scaled to [0, 1] and then, when `standardize`, to zero
 * mean and unit variance over the valid pixels. A constant band becomes 0.
 */
export function scaledRows(data: Float32Array, bands: number, noData: number | null, opts: { standardize?: boolean } = {}): PixelRows {
  const index = validPixels(data, bands, noData);
  const n = index.length, d = bands, plane = data.length / bands;
  if (n === 0) throw new InflowError('pixels: every pixel is no-data');
  const x = new Float32Array(n * d);
  for (let b = 0; b < d; b++) {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < n; i++) { const v = data[b * plane + index[i]!]!; if (v < lo) lo = v; if (v > hi) hi = v; }
    const span = hi > lo ? hi - lo : 1;
    let mean = 0;
    for (let i = 0; i < n; i++) { const v = (data[b * plane + index[i]!]! - lo) / span; x[i * d + b] = v; mean += v; }
    if (!(opts.standardize ?? true)) continue;
    mean /= n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (x[i * d + b]! - mean) ** 2;
    // Population σ (n, not n − 1), the convention of scikit-learn's StandardScaler.
    const sd = Math.sqrt(ss / n) || 1;
    for (let i = 0; i < n; i++) x[i * d + b] = (x[i * d + b]! - mean) / sd;
  }
  return { x, n, d, index };
}

/** Labels of the rows back onto the raster grid; pixels without a row get LABEL_NODATA. */
export function labelImage(labels: ArrayLike<number>, index: Int32Array, pixels: number): Uint8Array {
  if (labels.length !== index.length) throw new InflowError(`pixels: ${labels.length} labels for ${index.length} rows`);
  const out = new Uint8Array(pixels).fill(LABEL_NODATA);
  for (let i = 0; i < index.length; i++) {
    const l = labels[i]!;
    if (!(Number.isInteger(l) && l >= 0 && l < LABEL_NODATA)) throw new InflowError(`pixels: label ${l} is outside 0…${LABEL_NODATA - 1}`);
    out[index[i]!] = l;
  }
  return out;
}
