/**
 * The identity check (docs/anonymize.md §4.2): after the fill, face-api's recognition network
 * compares every hidden face with its original at the detected box. A learned fill is a random
 * draw, so a region whose face still matches (distance ≤ SAME_PERSON_DISTANCE) is filled again
 * with another seed, and of its fills the one that hides the most of its faces is kept (ties: the
 * one whose closest face lies farthest). One region can hide several faces when their masks touch,
 * and one of them may match whatever the fill: the count keeps such a face from deciding for the
 * others. Deterministic fills are only measured: filling them again would give the same pixels.
 */
import type { Box } from '../models/detect/box.js';
import type { FaceRecognitionNet } from '../models/detect/face-recognition-net.js';
import type { RgbImage } from '../models/detect/image.js';
import { forEachHolePixel, type Canvas } from './canvas.js';
import { distancesTo, faceDescriptors, SAME_PERSON_DISTANCE } from './deidentify.js';
import type { Region } from './mask.js';

/** Fills per region at most, the first included (each costs a sampler pass over the failing regions). */
export const MAX_FILL_TRIES = 16;
/** Fills per region by default when a recogniser is given: a face that a fill leaves recognisable about one time in ten rarely survives four. */
export const DEFAULT_FILL_TRIES = 4;

/** A face to check: its detected box and the index of the region that hides it (-1: none reaches into the image). */
export interface CheckedFace {
  box: Box;
  region: number;
}

export interface IdentityCheck {
  /** Per face: descriptor distance between the original and the result at its box. */
  distances: number[];
  /** Per region: how many fills it took (1 when the first already hid every face in it). */
  fills: number[];
}

/** Seed of the t-th fill again (t ≥ 1): far from seed + batch index, which the first fill uses. */
export const retrySeed = (seed: number, t: number): number => (seed + Math.imul(t, 0x9e3779b1)) >>> 0;

/** A region's fill judged by its faces: how many no longer match, and the smallest distance among them. */
interface RegionScore {
  hidden: number;
  closest: number;
}

const betterScore = (a: RegionScore, b: RegionScore): boolean => a.hidden > b.hidden || (a.hidden === b.hidden && a.closest > b.closest);

function holePixels(img: Canvas, g: Region): Uint8Array {
  const saved: number[] = [];
  forEachHolePixel(img, g, (_x, _y, i) => {
    for (let c = 0; c < 3; c++) saved.push(img.data[i * img.channels + c]!);
  });
  return Uint8Array.from(saved);
}

function restoreHole(img: Canvas, g: Region, saved: Uint8Array): void {
  let k = 0;
  forEachHolePixel(img, g, (_x, _y, i) => {
    for (let c = 0; c < 3; c++) img.data[i * img.channels + c] = saved[k++]!;
  });
}

/**
 * Distances of `faces` between `original` and `out`; with `refill` and tries > 1, regions whose faces
 * still match are filled again (refill(regions, t) writes the t-th new fill into `out`) until none
 * does or each has had `tries` fills. Regions without a face are never filled again.
 */
export async function checkIdentity(
  net: FaceRecognitionNet, original: RgbImage, out: Canvas, faces: readonly CheckedFace[], regions: readonly Region[],
  tries = 1, refill?: (again: Region[], t: number) => Promise<void>,
): Promise<IdentityCheck> {
  const boxes = faces.map((f) => f.box);
  const originals = await faceDescriptors(net, original, boxes);
  const distances = await distancesTo(net, originals, out, boxes);
  const fills = regions.map(() => 1);
  const facesOf = regions.map((_, r) => faces.flatMap((f, i) => (f.region === r ? [i] : [])));
  const score = (r: number, d: readonly number[]): RegionScore => ({
    hidden: facesOf[r]!.filter((i) => d[i]! > SAME_PERSON_DISTANCE).length,
    closest: Math.min(...facesOf[r]!.map((i) => d[i]!)),
  });
  const best = regions.map((_, r) => score(r, distances));
  let refilled = false;
  for (let t = 1; refill && t < tries; t++) {
    const again = regions.flatMap((_, r) => (best[r]!.hidden < facesOf[r]!.length ? [r] : []));
    if (!again.length) break;
    const saved = again.map((r) => holePixels(out, regions[r]!));
    await refill(again.map((r) => regions[r]!), t);
    refilled = true;
    const redo = again.flatMap((r) => facesOf[r]!);
    const now = await distancesTo(net, redo.map((i) => originals[i]!), out, redo.map((i) => boxes[i]!));
    const next = [...distances];
    redo.forEach((i, k) => (next[i] = now[k]!));
    again.forEach((r, k) => {
      fills[r]!++;
      const d = score(r, next);
      if (betterScore(d, best[r]!)) {
        best[r] = d;
        for (const i of facesOf[r]!) distances[i] = next[i]!;
      } else restoreHole(out, regions[r]!, saved[k]!);
    });
  }
  // A face's box can reach into a neighbouring region filled again later: the reported distances are measured on the final pixels.
  return { distances: refilled ? await distancesTo(net, originals, out, boxes) : distances, fills };
}
