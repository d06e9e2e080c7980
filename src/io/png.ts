import sharp from 'sharp';
import { writeFileAtomic } from './atomic-write.js';

/**
 * Tiles N images (values in 0…255, N × C × H × W planar, C = 1 or 3) into a grid PNG with a
 * 2-pixel gap, `columns` wide (default: as square as possible).
 */
export async function encodeImageGrid(values: Float32Array, shape: readonly [number, number, number, number], columns?: number,
  scale = 1): Promise<Uint8Array> {
  const [N, C, H, W] = shape;
  if (C !== 1 && C !== 3) throw new Error(`image grids need 1 or 3 channels, not ${C}`);
  const cols = columns ?? Math.ceil(Math.sqrt(N));
  const rows = Math.ceil(N / cols);
  const gap = 2;
  const GW = cols * (W + gap) + gap, GH = rows * (H + gap) + gap;
  const grid = new Uint8Array(GW * GH * C).fill(32);
  for (let n = 0; n < N; n++) {
    const ox = gap + (n % cols) * (W + gap), oy = gap + Math.floor(n / cols) * (H + gap);
    for (let c = 0; c < C; c++)
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const v = values[((n * C + c) * H + y) * W + x]!;
          grid[((oy + y) * GW + ox + x) * C + c] = Math.max(0, Math.min(255, Math.round(v)));
        }
  }
  let img = sharp(grid, { raw: { width: GW, height: GH, channels: C as 1 | 3 } });
  if (scale !== 1) img = img.resize(GW * scale, GH * scale, { kernel: 'nearest' });
  return new Uint8Array(await img.png().toBuffer());
}

export async function writeImageGrid(path: string, values: Float32Array, shape: readonly [number, number, number, number],
  columns?: number, scale = 1): Promise<void> {
  writeFileAtomic(path, await encodeImageGrid(values, shape, columns, scale));
}
