import { describeValue, fail } from '../../engine/errors.js';

/**
 * A decoded photo at the API edge: 8-bit pixels, row-major, interleaved RGB or RGBA (a browser's
 * ImageData fits as it is; sharp's `.raw()` output with its info too). Alpha is ignored.
 */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
  /** 3 (RGB) or 4 (RGBA); default: data.length / (width · height). */
  channels?: number;
}

/** Checks an RgbImage and returns its channel count (3 or 4). */
export function checkRgbImage(op: string, img: unknown): 3 | 4 {
  const m = img as Partial<RgbImage> | null;
  if (!m || typeof m !== 'object' || !(m.data instanceof Uint8Array || m.data instanceof Uint8ClampedArray))
    fail(op, `image = ${describeValue(img)} must be { width, height, data: Uint8Array | Uint8ClampedArray } (RGB or RGBA pixels)`);
  for (const key of ['width', 'height'] as const)
    if (typeof m[key] !== 'number' || !Number.isSafeInteger(m[key]) || m[key] < 1) fail(op, `image ${key} = ${describeValue(m[key])} must be a positive integer`);
  const pixels = m.width! * m.height!;
  const channels = m.channels ?? m.data.length / pixels;
  if (channels !== 3 && channels !== 4) fail(op, `image has ${describeValue(m.channels ?? m.data.length)} ${m.channels === undefined ? 'bytes' : 'channels'} for ${m.width}×${m.height} pixels: it must be RGB or RGBA`);
  if (m.data.length !== pixels * channels) fail(op, `image data has ${m.data.length} bytes, but ${m.width}×${m.height}×${channels} needs ${pixels * channels}`);
  return channels;
}
