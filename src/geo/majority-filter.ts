import { InflowError } from '../engine/errors.js';
import { LABEL_NODATA } from './geotiff.js';

/**
 * Mode (majority) filter of a label map (docs/geomap.md §10): every pixel with data takes the most
 * frequent label among the pixels with data in the size × size window around it (clipped at the
 * edges). Ties: the pixel keeps its own label if it is among the most frequent, else the smallest
 * of them — so a filter never changes a pixel without a strict reason, and the result does not
 * depend on scan order. No-data pixels stay no-data and never vote.
 */
export function majorityFilter(labels: Uint8Array, width: number, height: number, size: 3 | 5, noData: number = LABEL_NODATA): Uint8Array {
  if (size !== 3 && size !== 5) throw new InflowError(`majority filter: size must be 3 or 5, got ${String(size)}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || labels.length !== width * height)
    throw new InflowError(`majority filter: ${labels.length} labels do not make a ${width} × ${height} map`);
  const r = (size - 1) / 2;
  const out = new Uint8Array(labels.length);
  const counts = new Int32Array(256), seen = new Uint8Array(size * size);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x, own = labels[p]!;
      if (own === noData) { out[p] = own; continue; }
      let m = 0;
      for (let yy = Math.max(0, y - r); yy <= Math.min(height - 1, y + r); yy++)
        for (let xx = Math.max(0, x - r); xx <= Math.min(width - 1, x + r); xx++) {
          const l = labels[yy * width + xx]!;
          if (l === noData) continue;
          if (counts[l]!++ === 0) seen[m++] = l;
        }
      let best = own, top = counts[own]!;
      for (let i = 0; i < m; i++) {
        const l = seen[i]!, c = counts[l]!;
        if (c > top || (c === top && best !== own && l < best)) { best = l; top = c; }
      }
      for (let i = 0; i < m; i++) counts[seen[i]!] = 0;
      out[p] = best;
    }
  }
  return out;
}
