import { clampUnit, type ImageBatch } from '../batch.js';
import { checkInput, checkNumber } from './check.js';

/** The colour an old print fades towards (yellowed paper) in [0, 1] RGB, and the grey level grey images fade towards. */
export const FADE_PAPER_RGB = [0.85, 0.78, 0.55] as const;
export const FADE_PAPER_GREY = 0.75;

/**
 * Fading by `amount` (0…1), no randomness (docs/degradations.md §4.7). On intensities p = (x + 1)/2:
 * RGB images lose saturation, p ← Y + (1 − 0.8a)(p − Y) with Y the BT.601 luma, then every image
 * moves towards the paper colour, p ← (1 − a/2) p + (a/2) paper: contrast falls by 1 − a/2 and the
 * mean drifts to the paper's brightness and, in colour, its yellow tint. Images whose channel count
 * is not 3 are treated as grey, channel by channel.
 */
export function fade(img: ImageBatch, amount: number): ImageBatch {
  checkInput('fade', img);
  const a = checkNumber('fade', 'amount', amount, 0, 1);
  const [n, c, h, w] = img.shape, plane = h * w;
  const data = img.data.slice();
  const keep = 1 - a / 2, toward = a / 2, sat = 1 - 0.8 * a;
  for (let i = 0; i < n; i++) {
    const base = i * c * plane;
    if (c === 3) {
      for (let p = 0; p < plane; p++) {
        const o = base + p;
        const rgb = [(data[o]! + 1) / 2, (data[o + plane]! + 1) / 2, (data[o + 2 * plane]! + 1) / 2] as const;
        const y = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
        for (let k = 0; k < 3; k++) {
          const v = keep * (y + sat * (rgb[k]! - y)) + toward * FADE_PAPER_RGB[k]!;
          data[o + k * plane] = 2 * v - 1;
        }
      }
    } else {
      for (let o = base; o < base + c * plane; o++) data[o] = 2 * (keep * (data[o]! + 1) / 2 + toward * FADE_PAPER_GREY) - 1;
    }
  }
  return { data: clampUnit(data), shape: img.shape };
}
