import sharp from 'sharp';
import { fail } from '../engine/errors.js';
import { writeFileAtomic } from './atomic-write.js';

/** Largest grid PNG written, in pixels after scaling: a careless --scale must not ask sharp for gigabytes. */
export const MAX_GRID_PIXELS = 100_000_000;

const GAP = 2;

/**
 * The grid's layout, after checking that it can be written: 1 or 3 channels, a whole positive
 * scale, and at most MAX_GRID_PIXELS pixels (callers check this before the work that fills it).
 */
export function checkImageGrid(shape: readonly [number, number, number, number], columns?: number, scale = 1): { cols: number; GW: number; GH: number } {
  const [N, C, H, W] = shape;
  if (C !== 1 && C !== 3) fail('encodeImageGrid', `image grids need 1 or 3 channels, not ${C}`);
  if (!Number.isInteger(scale) || scale < 1) fail('encodeImageGrid', `scale = ${scale} must be a positive integer`);
  const cols = columns ?? Math.ceil(Math.sqrt(N));
  const rows = Math.ceil(N / cols);
  const GW = cols * (W + GAP) + GAP, GH = rows * (H + GAP) + GAP;
  if (GW * GH * scale * scale > MAX_GRID_PIXELS)
    fail('encodeImageGrid', `a ${GW * scale}×${GH * scale} grid (scale ${scale}) is over the ${MAX_GRID_PIXELS / 1e6}-megapixel limit of a PNG grid; lower the scale or the number of images`);
  return { cols, GW, GH };
}

/**
 * Tiles N images (values in 0…255, N × C × H × W planar, C = 1 or 3) into a grid PNG with a
 * 2-pixel gap, `columns` wide (default: as square as possible).
 */
export async function encodeImageGrid(values: Float32Array, shape: readonly [number, number, number, number], columns?: number,
  scale = 1): Promise<Uint8Array> {
  const [N, C, H, W] = shape;
  const { cols, GW, GH } = checkImageGrid(shape, columns, scale);
  const grid = new Uint8Array(GW * GH * C).fill(32);
  for (let n = 0; n < N; n++) {
    const ox = GAP + (n % cols) * (W + GAP), oy = GAP + Math.floor(n / cols) * (H + GAP);
    for (let c = 0; c < C; c++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const v = values[((n * C + c) * H + y) * W + x]!;
          grid[((oy + y) * GW + ox + x) * C + c] = Math.max(0, Math.min(255, Math.round(v)));
        }
  }
  let img = sharp(grid, { raw: { width: GW, height: GH, channels: C as 1 | 3 } });
  if (scale !== 1) img = img.resize(GW * scale, GH * scale, { kernel: 'nearest' });
  // Without this sharp writes one channel as an RGB PNG (three times the bytes, read back as colour).
  if (C === 1) img = img.toColourspace('b-w');
  return new Uint8Array(await img.png().toBuffer());
}

export async function writeImageGrid(path: string, values: Float32Array, shape: readonly [number, number, number, number],
  columns?: number, scale = 1): Promise<void> {
  writeFileAtomic(path, await encodeImageGrid(values, shape, columns, scale));
}
