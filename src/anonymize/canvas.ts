import { checkRgbImage, type RgbImage } from '../models/detect/image.js';
import type { Region } from './mask.js';

/** An RgbImage whose channel count is known (3 or 4); the fills change R, G and B only, never alpha. */
export interface Canvas {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

/** A copy of `img` to fill: the caller's pixels are never changed. */
export function copyCanvas(op: string, img: RgbImage): Canvas {
  const channels = checkRgbImage(op, img);
  return { width: img.width, height: img.height, channels, data: new Uint8Array(img.data) };
}

/** Calls f(x, y, i) for each hole pixel of the region, i = its index in the image (pixels, not bytes). */
export function forEachHolePixel(img: Canvas, g: Region, f: (x: number, y: number, i: number) => void): void {
  const w = g.x1 - g.x0;
  for (let y = g.y0; y < g.y1; y++)
    for (let x = g.x0; x < g.x1; x++) if (g.hole[(y - g.y0) * w + x - g.x0]) f(x, y, y * img.width + x);
}

/** A number as a byte: rounded to nearest, clamped to 0…255. */
export const toByte = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));
