/**
 * Plates in a photo of any size (docs/plates.md §10): the detector sees plates 16–60 % as wide as
 * its 128-pixel input, so one letterboxed copy of a 1920 × 1080 photo finds only plates wider than
 * ≈ 300 pixels. Smaller ones are looked for on overlapping square tiles of a pyramid of tile sides
 * (M/2, M/4, … down to the detector's input), each area-averaged straight from the photo's bytes
 * to the input size, a batch of tiles at a time: memory stays that of one batch, whatever the photo.
 */
import { describeValue, fail } from '../../engine/errors.js';
import type { Detection } from '../detect/box.js';
import { checkRgbImage, type RgbImage } from '../detect/image.js';
import { nonMaxSuppression } from '../detect/nms.js';
import { detectPlates, detectPlatesInBatch } from './detect-plates.js';
import { PlateDetector } from './plate-detector.js';

export interface DetectPlatesTiledOptions {
  /** Keep boxes scoring strictly above this, in (0, 1) (default 0.5). */
  scoreThreshold?: number;
  /** Most tiles looked at, an integer ≥ 0 (default 1024); 0: the letterboxed photo only. Finer levels are dropped first. */
  maxTiles?: number;
  /** Tiles per network call (default 16). */
  batch?: number;
}

export const PLATE_TILE_DEFAULTS = { scoreThreshold: 0.5, maxTiles: 1024, batch: 16 } as const;
/** NMS across tiles and levels, as within one input (docs/plates.md §4). */
const IOU = 0.45;
/** A box this close (network pixels) to a tile edge that lies inside the photo may be a cut plate: the neighbouring tile sees it whole. */
const EDGE = 2;

/** One level of the pyramid: square tiles of side `side`, origins every side/2 (moved inwards at the far edges). */
export interface TileLevel { side: number; xs: number[]; ys: number[] }

/** Origins of tiles of `side` covering [0, length) with half-tile overlap; one origin when the tile is longer than the photo. */
function origins(length: number, side: number): number[] {
  if (side >= length) return [0];
  const n = Math.ceil((length - side) / (side / 2)) + 1;
  return Array.from({ length: n }, (_, i) => Math.round((i * (length - side)) / (n - 1)));
}

/**
 * The tile levels for a width × height photo and an S-pixel detector: sides M/2, M/4, … while above
 * S, then S itself (never upsampled: the detector learned plates at least 20 pixels wide at S), as
 * long as the running tile count stays within maxTiles. A level is whole or absent.
 */
export function plateTileLevels(width: number, height: number, S: number, maxTiles: number): TileLevel[] {
  const M = Math.max(width, height), levels: TileLevel[] = [];
  let total = 0;
  for (let side = M / 2; ; side /= 2) {
    const t = Math.max(S, Math.round(side));
    if (t >= M) break;
    const level = { side: t, xs: origins(width, t), ys: origins(height, t) };
    total += level.xs.length * level.ys.length;
    if (total > maxTiles) break;
    levels.push(level);
    if (t === S) break;
  }
  return levels;
}

/** Per output index along one axis, the input indices it averages and their weights: output i covers [i·f, (i+1)·f), clipped at `length` (beyond is black). */
function areaTaps(length: number, f: number, S: number): { idx: Int32Array[]; w: Float64Array[] } {
  const idx: Int32Array[] = [], w: Float64Array[] = [];
  for (let i = 0; i < S; i++) {
    const lo = i * f, hi = (i + 1) * f, a: number[] = [], b: number[] = [];
    for (let j = Math.floor(lo); j < Math.min(length, Math.ceil(hi)); j++) {
      const overlap = Math.min(hi, j + 1) - Math.max(lo, j);
      if (overlap > 1e-9) { a.push(j); b.push(overlap / f); }
    }
    idx.push(Int32Array.from(a));
    w.push(Float64Array.from(b));
  }
  return { idx, w };
}

/**
 * The tile at (x0, y0) of side `side` as the detector's input, planar [3, S, S] in [−1, 1], written
 * into `out` at `at`: area averaging (each input pixel weighted by how much of it an output pixel
 * covers), parts beyond the photo black, as the letterbox pads.
 */
function tileInput(img: RgbImage, ch: number, x0: number, y0: number, side: number, S: number, out: Float32Array, at: number): void {
  const f = side / S, tw = Math.min(side, img.width - x0), th = Math.min(side, img.height - y0);
  const tx = areaTaps(tw, f, S), ty = areaTaps(th, f, S);
  // Rows first: th × S × 3 sums, then columns; the tile's bytes are read in place, never copied.
  const rows = new Float64Array(th * S * 3), W = img.width, px = img.data;
  for (let y = 0; y < th; y++) {
    const base = ((y0 + y) * W + x0) * ch;
    for (let q = 0; q < S; q++) {
      const idx = tx.idx[q]!, w = tx.w[q]!;
      let r = 0, g = 0, b = 0;
      for (let k = 0; k < idx.length; k++) {
        const p = base + idx[k]! * ch, wk = w[k]!;
        r += wk * px[p]!;
        g += wk * px[p + 1]!;
        b += wk * px[p + 2]!;
      }
      const o = (y * S + q) * 3;
      rows[o] = r;
      rows[o + 1] = g;
      rows[o + 2] = b;
    }
  }
  const plane = S * S;
  for (let r = 0; r < S; r++) {
    const idx = ty.idx[r]!, w = ty.w[r]!;
    for (let q = 0; q < S; q++) {
      let s0 = 0, s1 = 0, s2 = 0;
      for (let k = 0; k < idx.length; k++) {
        const o = (idx[k]! * S + q) * 3, wk = w[k]!;
        s0 += wk * rows[o]!;
        s1 += wk * rows[o + 1]!;
        s2 += wk * rows[o + 2]!;
      }
      out[at + r * S + q] = s0 / 127.5 - 1;
      out[at + plane + r * S + q] = s1 / 127.5 - 1;
      out[at + 2 * plane + r * S + q] = s2 / 127.5 - 1;
    }
  }
}

function checkTiledOptions(op: string, opts: unknown): Required<DetectPlatesTiledOptions> {
  if (opts === null || typeof opts !== 'object') fail(op, `options = ${describeValue(opts)} must be an object`);
  const o = opts as DetectPlatesTiledOptions;
  const unknown = Object.keys(o).filter((k) => !(k in PLATE_TILE_DEFAULTS));
  if (unknown.length) fail(op, `unknown option '${unknown[0]}' (scoreThreshold, maxTiles, batch)`);
  const r = { ...PLATE_TILE_DEFAULTS, ...o };
  if (typeof r.scoreThreshold !== 'number' || !(r.scoreThreshold > 0 && r.scoreThreshold < 1)) fail(op, `scoreThreshold = ${describeValue(r.scoreThreshold)} must be a number between 0 and 1`);
  if (!Number.isSafeInteger(r.maxTiles) || r.maxTiles < 0 || r.maxTiles > 1_000_000) fail(op, `maxTiles = ${describeValue(r.maxTiles)} must be an integer from 0 to 1000000`);
  if (!Number.isSafeInteger(r.batch) || r.batch < 1 || r.batch > 256) fail(op, `batch = ${describeValue(r.batch)} must be an integer from 1 to 256`);
  return r;
}

/**
 * Plates in a photo of any size, best first, in the photo's pixels: the letterboxed photo
 * (detectPlates) and the tiles of plateTileLevels, coarse to fine: boxes touching a tile edge
 * inside the photo dropped, and boxes mostly inside a box of a coarser level (pieces of a plate the
 * tile is too small for); then one NMS over everything, then boxes mostly inside a larger one.
 */
export async function detectPlatesTiled(detector: PlateDetector, image: RgbImage, opts: DetectPlatesTiledOptions = {}): Promise<Detection[]> {
  const op = 'detectPlatesTiled';
  if (!(detector instanceof PlateDetector)) fail(op, `detector = ${describeValue(detector)} must be a PlateDetector (loadPlateDetector)`);
  const { scoreThreshold, maxTiles, batch } = checkTiledOptions(op, opts);
  const ch = checkRgbImage(op, image);
  // Coarse to fine: the whole photo, then each level; a box mostly inside a box of a coarser level is a piece of that plate.
  const accepted: Detection[] = await detectPlates(detector, image, { scoreThreshold });
  const S = detector.config.inputSize, per = 3 * S * S;
  const levels = plateTileLevels(image.width, image.height, S, maxTiles);
  const tiles = levels.flatMap((l) => l.ys.flatMap((y) => l.xs.map((x) => ({ x, y, side: l.side }))));
  let level: Detection[] = [], coarser = accepted.length, side = tiles[0]?.side;
  for (let start = 0; start < tiles.length; start += batch) {
    const group = tiles.slice(start, start + batch), x = new Float32Array(group.length * per);
    group.forEach((t, i) => tileInput(image, ch, t.x, t.y, t.side, S, x, i * per));
    const found = await detectPlatesInBatch(detector, x, { scoreThreshold, iouThreshold: IOU });
    group.forEach((t, i) => {
      if (t.side !== side) {
        accepted.push(...level.filter((d) => !insideAny(d, accepted.slice(0, coarser))));
        coarser = accepted.length;
        level = [];
        side = t.side;
      }
      const f = t.side / S;
      for (const d of found[i]!) {
        const b = d.box;
        const cut = (t.x > 0 && b.x < EDGE) || (t.y > 0 && b.y < EDGE)
          || (t.x + t.side < image.width && b.x + b.width > S - EDGE) || (t.y + t.side < image.height && b.y + b.height > S - EDGE);
        if (!cut) level.push({ score: d.score, box: { x: t.x + b.x * f, y: t.y + b.y * f, width: b.width * f, height: b.height * f } });
      }
    });
  }
  accepted.push(...level.filter((d) => !insideAny(d, accepted.slice(0, coarser))));
  return dropContained(nonMaxSuppression(accepted, IOU));
}

/** Share of a box that must lie inside a larger kept box for it to count as a piece of that plate. */
const CONTAINED = 0.6;

const area = (d: Detection) => d.box.width * d.box.height;

/** Whether at least CONTAINED of d's area lies inside one of `others`. */
function insideAny(d: Detection, others: readonly Detection[]): boolean {
  return others.some((e) => {
    const w = Math.max(0, Math.min(d.box.x + d.box.width, e.box.x + e.box.width) - Math.max(d.box.x, e.box.x));
    const h = Math.max(0, Math.min(d.box.y + d.box.height, e.box.y + e.box.height) - Math.max(d.box.y, e.box.y));
    return e !== d && area(e) > area(d) && w * h >= CONTAINED * area(d);
  });
}

/**
 * A tile smaller than a plate sees pieces of it (a run of characters looks like a narrower plate)
 * that IoU cannot suppress; a box mostly inside a larger kept one is dropped, largest first. Order kept: best first.
 */
function dropContained(dets: Detection[]): Detection[] {
  const kept: Detection[] = [];
  for (const d of [...dets].sort((p, q) => area(q) - area(p))) if (!insideAny(d, kept)) kept.push(d);
  return dets.filter((d) => kept.includes(d));
}
