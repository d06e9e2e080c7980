/**
 * The image-task panel's inputs, without the DOM (tests/web/task-inputs.test.ts checks them in
 * Node): preset inpainting masks, an image's pixels from canvas RGBA, and how a masked input is
 * shown.
 */

/** Regions the panel can fill; 'random' is drawn by the library's mask generator in the worker, 'drawn' comes from the mask pad. */
export const MASK_PRESETS = ['centre', 'left', 'right', 'top', 'bottom', 'random', 'drawn'] as const;
export type MaskPreset = (typeof MASK_PRESETS)[number];

/**
 * A fixed region of an H × W image as a mask (0 keep, 255 fill): the centre square of half the
 * side, or one half of the image.
 */
export function presetMask(name: Exclude<MaskPreset, 'random' | 'drawn'>, H: number, W: number): Float32Array {
  const m = new Float32Array(H * W);
  const inside = (x: number, y: number): boolean => {
    switch (name) {
      case 'centre': return x >= Math.floor(W / 4) && x < Math.floor(W / 4) + Math.ceil(W / 2) && y >= Math.floor(H / 4) && y < Math.floor(H / 4) + Math.ceil(H / 2);
      case 'left': return x < W / 2;
      case 'right': return x >= W / 2;
      case 'top': return y < H / 2;
      case 'bottom': return y >= H / 2;
      default: throw new Error(`unknown mask preset '${String(name)}'`);
    }
  };
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (inside(x, y)) m[y * W + x] = 255;
  return m;
}

/**
 * Canvas RGBA (width × height) as planar pixels: 1 channel (the mean of R, G, B — the pad draws grey)
 * or 3 (R, G, B); alpha is ignored.
 */
export function rgbaToPixels(rgba: ArrayLike<number>, width: number, height: number, channels: 1 | 3): Float32Array {
  const plane = width * height, out = new Float32Array(channels * plane);
  for (let p = 0; p < plane; p++) {
    if (channels === 1) out[p] = (rgba[4 * p]! + rgba[4 * p + 1]! + rgba[4 * p + 2]!) / 3;
    else for (let c = 0; c < 3; c++) out[c * plane + p] = rgba[4 * p + c]!;
  }
  return out;
}

/** Whether every pixel of an RGBA image is grey (R = G = B): such a file is loaded as one channel. */
export function isGrey(rgba: ArrayLike<number>): boolean {
  for (let i = 0; i < rgba.length; i += 4) if (rgba[i] !== rgba[i + 1] || rgba[i] !== rgba[i + 2]) return false;
  return true;
}

/** The image with its hole (mask ≥ 128) shown mid-grey, for the "model input" view of an inpainting run. */
export function showHole(pixels: ArrayLike<number>, mask: ArrayLike<number>, channels: number): Float32Array {
  const plane = mask.length, out = Float32Array.from(pixels);
  for (let c = 0; c < channels; c++) for (let p = 0; p < plane; p++) if (mask[p]! >= 128) out[c * plane + p] = 128;
  return out;
}
