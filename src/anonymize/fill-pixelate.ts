import { forEachHolePixel, toByte, type Canvas } from './canvas.js';
import type { Region } from './mask.js';

/**
 * The region cut into square blocks (a grid anchored at its top-left corner) and each block's hole
 * pixels replaced by their mean colour. `blocks` = blocks across the region's shorter side (faces),
 * or its longer side (licence plates: their ten characters lie along it, and blocks counted across
 * a plate's height are small enough to leave each character legible; docs/anonymize.md §10), so the
 * detail left does not depend on how large the face or plate is in the photo.
 */
export function fillPixelate(img: Canvas, g: Region, blocks: number, across: 'shorter' | 'longer' = 'shorter'): void {
  const w = g.x1 - g.x0, h = g.y1 - g.y0, side = Math.max(1, Math.ceil((across === 'longer' ? Math.max(w, h) : Math.min(w, h)) / blocks));
  const bw = Math.ceil(w / side), ch = img.channels, d = img.data;
  const sums = new Float64Array(bw * Math.ceil(h / side) * 4);
  const block = (x: number, y: number) => (Math.floor((y - g.y0) / side) * bw + Math.floor((x - g.x0) / side)) * 4;
  forEachHolePixel(img, g, (x, y, i) => {
    const b = block(x, y);
    for (let c = 0; c < 3; c++) sums[b + c]! += d[i * ch + c]!;
    sums[b + 3]!++;
  });
  forEachHolePixel(img, g, (x, y, i) => {
    const b = block(x, y);
    for (let c = 0; c < 3; c++) d[i * ch + c] = toByte(sums[b + c]! / sums[b + 3]!);
  });
}
