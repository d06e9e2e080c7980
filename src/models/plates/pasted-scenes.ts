/**
 * Large test photos for the plate detector (docs/plates.md §10): held-out synthetic plate scenes,
 * each rendered at its own size (so its plates are drawn at their final pixel size, not resampled),
 * pasted without overlap into a background photo. Each plate keeps its text, layout and projective
 * map, moved by the paste offset, so the reader can read it in the large photo.
 */
import { PLATE_SPLITS } from '../../data/plates/dataset.js';
import { plateScene, type PlateInstance } from '../../data/plates/scene.js';
import { Rng } from '../../data/rng.js';
import { fail } from '../../engine/errors.js';
import type { ImageBatch } from '../../image/batch.js';
import type { RgbImage } from '../detect/image.js';

export interface PastedScenes {
  /** The photo, RGB bytes. */
  image: RgbImage;
  /** Every plate of every pasted scene, in the photo's pixels. */
  plates: PlateInstance[];
}

/** A plate moved by (dx, dy): its box, corners and plate-units → pixels map. */
function movePlate(p: PlateInstance, dx: number, dy: number): PlateInstance {
  const h = Float64Array.from(p.toImage);
  // x' = (h0 x + h1 y + h2) / (h6 x + h7 y + h8): adding dx · (bottom row) to the top row adds dx to x'.
  for (let k = 0; k < 3; k++) { h[k] = h[k]! + dx * h[6 + k]!; h[3 + k] = h[3 + k]! + dy * h[6 + k]!; }
  return {
    ...p, toImage: h, box: { ...p.box, x: p.box.x + dx, y: p.box.y + dy },
    corners: p.corners.map(([x, y]) => [x + dx, y + dy] as const) as unknown as PlateInstance['corners'],
  };
}

/**
 * `count` held-out scenes (test split from scene `first`), scene side log-uniform in [minSide,
 * maxSide], pasted at random places that overlap no earlier one (a place is retried up to 50 times,
 * then the scene is skipped), into a copy of `background` (RGB). Seeded: the same call, the same photo.
 */
export function pasteScenes(background: RgbImage, opts: { first: number; count: number; minSide: number; maxSide: number; seed: number }): PastedScenes {
  const { width: W, height: H } = background;
  if (background.data.length !== W * H * 3) fail('pasteScenes', 'the background must be RGB bytes');
  if (opts.maxSide > Math.min(W, H) || opts.minSide < 32 || opts.minSide > opts.maxSide) fail('pasteScenes', `scene sides ${opts.minSide}…${opts.maxSide} must be from 32 to the photo's shorter side`);
  const data = new Uint8Array(background.data), rng = new Rng(opts.seed), placed: { x: number; y: number; s: number }[] = [], plates: PlateInstance[] = [];
  for (let i = 0; i < opts.count; i++) {
    const s = Math.round(Math.exp(Math.log(opts.minSide) + rng.uniform() * Math.log(opts.maxSide / opts.minSide)));
    let spot: { x: number; y: number; s: number } | null = null;
    for (let tries = 0; tries < 50 && !spot; tries++) {
      const c = { x: Math.floor(rng.uniform() * (W - s + 1)), y: Math.floor(rng.uniform() * (H - s + 1)), s };
      if (placed.every((o) => c.x >= o.x + o.s || o.x >= c.x + s || c.y >= o.y + o.s || o.y >= c.y + s)) spot = c;
    }
    if (!spot) continue;
    placed.push(spot);
    const scene = plateScene(PLATE_SPLITS.test.firstSeed + opts.first + i, { size: s });
    const plane = s * s, img = scene.image.data;
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++)
        for (let c = 0; c < 3; c++)
          data[((spot.y + y) * W + spot.x + x) * 3 + c] = Math.max(0, Math.min(255, Math.round((img[c * plane + y * s + x]! + 1) * 127.5)));
    plates.push(...scene.plates.map((p) => movePlate(p, spot.x, spot.y)));
  }
  return { image: { width: W, height: H, data, channels: 3 }, plates };
}

/** RGB bytes as the reader's input: [1, 3, H, W] in [−1, 1]. */
export function bytesToBatch(img: RgbImage): ImageBatch {
  const { width: W, height: H } = img, ch = img.data.length / (W * H), plane = W * H, out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[c * plane + p] = img.data[p * ch + c]! / 127.5 - 1;
  return { data: out, shape: [1, 3, H, W] };
}
