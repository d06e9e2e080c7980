import type { ImageDataset } from '../../data/dataset.js';
import { CHARSET } from '../../data/plates/font.js';
import { project } from '../../data/plates/homography.js';
import type { Cell, PlateLayout } from '../../data/plates/layout.js';
import { positionKinds } from '../../data/plates/plate-text.js';
import type { PlateSceneSet } from '../../data/plates/dataset.js';
import type { Engine } from '../../engine/engine.js';
import { fail } from '../../engine/errors.js';
import { checkBatch, type ImageBatch } from '../../image/batch.js';
import { lumaBT601 } from '../../image/luma.js';
import { DigitClassifier, type ClassifierConfig } from '../classifier.js';

/**
 * The character reader (docs/plates.md §8): inflow's small convolutional classifier
 * (src/models/classifier.ts) on one character cell at a time, cut from the image through the
 * plate's known projective map — it reads where the ground truth says the characters are, and
 * does not find them itself.
 */
export const READER_CROP: [number, number, number] = [1, 20, 12];
export const DEFAULT_READER: ClassifierConfig = { kind: 'digit-classifier', inputShape: READER_CROP, classes: CHARSET.length, widths: [16, 32, 32] };
/** The crop reaches this many plate units beyond the glyph on every side (a character gap is 1). */
const MARGIN = 0.5;

/** What a reader needs of a plate: its layout and its plate-units → pixels map (a PlateInstance has both). */
export interface PlacedPlate { layout: PlateLayout; toImage: Float64Array }

/**
 * One character cell as the reader's 20 × 12 grey crop: each crop pixel's centre mapped from the
 * cell (widened by MARGIN) into the image through toImage, the luma there read bilinearly (edges
 * repeated), then contrast-normalised: (v − mean) / max(std, 8) · 50 + 128, clamped to 0…255, so
 * dim and bright, white and yellow plates look alike. A flat crop (nothing left to read) stays flat.
 */
export function cellCrop(luma: Float32Array, H: number, W: number, toImage: Float64Array, cell: Cell): Float32Array {
  const [, h, w] = READER_CROP, out = new Float32Array(h * w);
  const x0 = cell.x - MARGIN, y0 = cell.y - MARGIN, cw = cell.width + 2 * MARGIN, ch = cell.height + 2 * MARGIN;
  const px = (x: number, y: number) => luma[Math.min(H - 1, Math.max(0, y)) * W + Math.min(W - 1, Math.max(0, x))]!;
  let sum = 0, sum2 = 0;
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      const [x, y] = project(toImage, x0 + ((j + 0.5) / w) * cw, y0 + ((i + 0.5) / h) * ch);
      // Pixel (x, y) covers [x, x + 1): its centre is at x + ½.
      const fx = x - 0.5, fy = y - 0.5, xi = Math.floor(fx), yi = Math.floor(fy), tx = fx - xi, ty = fy - yi;
      const v = (px(xi, yi) * (1 - tx) + px(xi + 1, yi) * tx) * (1 - ty) + (px(xi, yi + 1) * (1 - tx) + px(xi + 1, yi + 1) * tx) * ty;
      out[i * w + j] = v;
      sum += v;
      sum2 += v * v;
    }
  const n = h * w, mean = sum / n, std = Math.max(8, Math.sqrt(Math.max(0, sum2 / n - mean * mean)));
  for (let k = 0; k < n; k++) out[k] = Math.min(255, Math.max(0, ((out[k]! - mean) / std) * 50 + 128));
  return out;
}

/** Every character crop of a plate, in reading order, from an RGB image [1, 3, H, W] in [−1, 1]. */
export function plateCrops(image: ImageBatch, plate: PlacedPlate): Float32Array[] {
  const img = checkBatch('plateCrops', image);
  if (img.shape[0] !== 1 || img.shape[1] !== 3) fail('plateCrops', `image must be one RGB image [1, 3, H, W], not [${img.shape.join(', ')}]`);
  const [, , H, W] = img.shape, luma = lumaBT601(img).data;
  return plate.layout.cells.map((cell) => cellCrop(luma, H, W, plate.toImage, cell));
}

/** The character crops of every plate of the first `scenes` scenes of a set, labelled by CHARSET index: the reader's data. */
export function glyphDataset(set: PlateSceneSet, scenes: number): ImageDataset {
  const crops: Float32Array[] = [], labels: number[] = [];
  for (let s = 0; s < scenes; s++) {
    const sc = set.scene(s);
    for (const p of sc.plates) {
      crops.push(...plateCrops(sc.image, p));
      for (const ch of p.layout.chars) labels.push(CHARSET.indexOf(ch));
    }
  }
  const size = READER_CROP[1] * READER_CROP[2], images = new Uint8Array(crops.length * size);
  crops.forEach((c, i) => { for (let k = 0; k < size; k++) images[i * size + k] = Math.round(c[k]!); });
  return { name: `plate-glyphs-${set.split}`, images, labels: Int32Array.from(labels), count: crops.length, shape: [...READER_CROP] };
}

/** A new reader with seeded weights. */
export const newPlateReader = (engine: Engine, seed = 0): DigitClassifier => new DigitClassifier(engine, DEFAULT_READER, seed);

/**
 * Reads a plate: each cell's crop classified, the most probable character kept among those the
 * Indian format allows at that position (letters in the state code and series, digits in the
 * district and number) — the format is known, so a reader that ignored it would be needlessly
 * weak. Returns the groups joined by spaces, as PlateInstance.text.
 */
export async function readPlate(reader: DigitClassifier, image: ImageBatch, plate: PlacedPlate): Promise<string> {
  const crops = plateCrops(image, plate), size = READER_CROP[1] * READER_CROP[2];
  const x = new Float32Array(crops.length * size);
  crops.forEach((c, i) => x.set(c, i * size));
  const t = reader.engine.tensor(x, [crops.length, ...READER_CROP]);
  let probs: Float32Array[];
  try {
    probs = await reader.predict(t);
  } finally {
    t.dispose();
  }
  const kinds = positionKinds(plate.layout.groups);
  const chars = probs.map((p, i) => {
    let best = -1;
    for (let k = 0; k < CHARSET.length; k++) {
      const isDigit = k < 10;
      if ((kinds[i] === 'digit') !== isDigit) continue;
      if (best < 0 || p[k]! > p[best]!) best = k;
    }
    return CHARSET[best]!;
  });
  let at = 0;
  return plate.layout.groups.map((g) => chars.slice(at, (at += g.length)).join('')).join(' ');
}
