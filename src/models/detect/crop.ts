import { fail } from '../../engine/errors.js';
import type { Box } from './box.js';
import { checkRgbImage, type RgbImage } from './image.js';

/**
 * The part of `img` inside `box`, as face-api's extractFaceTensors cuts it: the box clipped to the
 * photo, then x, y, width and height each rounded down. Null when nothing of the box is inside.
 */
export function cropBox(op: string, img: RgbImage, box: Box): RgbImage | null {
  const ch = checkRgbImage(op, img);
  if (![box?.x, box?.y, box?.width, box?.height].every((v) => typeof v === 'number' && Number.isFinite(v)))
    fail(op, 'box must have finite x, y, width and height');
  const x0 = Math.max(box.x, 0), y0 = Math.max(box.y, 0);
  const x = Math.floor(x0), y = Math.floor(y0);
  const w = Math.floor(Math.min(box.x + box.width - x0, img.width - x0)), h = Math.floor(Math.min(box.y + box.height - y0, img.height - y0));
  if (!(w > 0 && h > 0) || x >= img.width || y >= img.height) return null;
  const out = new Uint8Array(w * h * ch);
  for (let r = 0; r < h; r++) out.set(img.data.subarray(((y + r) * img.width + x) * ch, ((y + r) * img.width + x + w) * ch), r * w * ch);
  return { width: w, height: h, data: out, channels: ch };
}
