import { describeValue, fail } from '../engine/errors.js';
import { forEachHolePixel, type Canvas } from './canvas.js';
import type { Region } from './mask.js';

export type Rgb = readonly [r: number, g: number, b: number];

export function checkColor(op: string, color: unknown): Rgb {
  const c = color as number[];
  if (!Array.isArray(c) || c.length !== 3 || !c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255))
    fail(op, `color = ${Array.isArray(c) && c.length <= 4 ? JSON.stringify(c) : describeValue(color)} must be [r, g, b], three integers from 0 to 255`);
  return [c[0]!, c[1]!, c[2]!];
}

/** The region's hole painted in one colour. */
export function fillSolid(img: Canvas, g: Region, color: Rgb): void {
  const ch = img.channels, d = img.data;
  forEachHolePixel(img, g, (_x, _y, i) => {
    d[i * ch] = color[0];
    d[i * ch + 1] = color[1];
    d[i * ch + 2] = color[2];
  });
}
