import { describeValue, fail } from '../../engine/errors.js';
import { clampUnit, type ImageBatch } from '../../image/batch.js';
import { defocusBlur } from '../../image/degrade/defocus-blur.js';
import { gaussianNoise } from '../../image/degrade/gaussian-noise.js';
import { jpegArtifacts } from '../../image/degrade/jpeg.js';
import { motionBlur } from '../../image/degrade/motion-blur.js';
import type { Box } from '../../models/detect/box.js';
import { checkSeed, Rng } from '../rng.js';
import { syntheticBackground } from './background.js';
import { homography, rectQuad, type Point, type Quad } from './homography.js';
import { isInk, plateLayout, type PlateLayout } from './layout.js';
import { pasteSurface, surfaceQuad, type Surface } from './paste.js';
import { randomPlateGroups, type PlateGroups } from './plate-text.js';

/** Private cars carry black on white, commercial vehicles black on yellow. */
export type PlateStyle = 'private' | 'commercial';

/** One plate in a scene: what it says and where it is. */
export interface PlateInstance {
  /** "KA 01 AB 1234": the groups joined by spaces. */
  text: string;
  groups: PlateGroups;
  style: PlateStyle;
  /** The axis-aligned bounding box of the plate's four corners, in pixels: every pixel the plate touches lies in it. */
  box: Box;
  /** The plate's corners in the image, clockwise from its top-left. */
  corners: Quad;
  layout: PlateLayout;
  /** The projective map from plate units (layout) to pixels. */
  toImage: Float64Array;
}

export interface PlateScene {
  /** [1, 3, S, S] in [−1, 1]. */
  image: ImageBatch;
  plates: PlateInstance[];
  /** With `coverage`: per plate, the share of each pixel it covers (before blur), S × S. */
  coverage?: Float32Array[];
}

export interface PlateSceneOptions {
  /** Side S of the square image. */
  size: number;
  /**
   * Photo crops to draw backgrounds from: patch(i) is planar [3, S, S] in [−1, 1]. A scene takes one
   * (mirrored half the time) with probability photoShare, else a synthetic texture from the seed.
   */
  photos?: { count: number; patch(i: number): Float32Array } | null;
  /** Share of scenes on a photo when photos are given (default 0.6). */
  photoShare?: number;
  /** Lighting, blur, noise and JPEG (default true); false leaves the pasted plates sharp, for tests. */
  degrade?: boolean;
  /** Also return each plate's pixel coverage (tests). */
  coverage?: boolean;
  /** Most plates in one image (default 3). */
  maxPlates?: number;
}

/** Plates per image: 0 to 3 with these odds (an empty image teaches the detector to stay quiet). */
const COUNT_ODDS = [0.15, 0.45, 0.25, 0.15];
/** Plate width as a share of the image side: log-uniform between these. */
export const PLATE_WIDTH_RANGE = [0.16, 0.6] as const;

const pick = (rng: Rng, odds: readonly number[]): number => {
  let u = rng.uniform();
  for (let i = 0; i < odds.length; i++) if ((u -= odds[i]!) < 0) return i;
  return odds.length - 1;
};
const between = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng.uniform();

/** A plate's colours: background and ink RGB in [−1, 1], dimmed together by the light on it. */
function plateSurface(layout: PlateLayout, style: PlateStyle, rng: Rng): Surface {
  const light = between(rng, 0.5, 1.1), shade = (v: number) => Math.max(-1, Math.min(1, (v + 1) * light - 1));
  const paper = style === 'private'
    ? [0, 1, 2].map(() => between(rng, 0.7, 0.95))
    : [between(rng, 0.75, 0.95), between(rng, 0.45, 0.75), between(rng, -0.95, -0.55)];
  const inkLevel = between(rng, -0.95, -0.65);
  const bg = paper.map(shade), ink = [0, 1, 2].map(() => shade(inkLevel + between(rng, -0.05, 0.05)));
  return {
    width: layout.width, height: layout.height,
    colour(u, v, out) {
      const c = isInk(layout, u, v) ? ink : bg;
      out[0] = c[0]!;
      out[1] = c[1]!;
      out[2] = c[2]!;
    },
  };
}

/**
 * Where a plate of this layout lands: scaled to a width drawn from PLATE_WIDTH_RANGE, stretched a
 * little, foreshortened (one side shorter: yaw; top or bottom narrower: pitch), the corners jittered,
 * rotated by up to ±12°, centred so the quad lies inside the image. Corners relative to the centre.
 */
function plateQuad(layout: PlateLayout, S: number, rng: Rng): Point[] {
  const w = S * Math.exp(between(rng, Math.log(PLATE_WIDTH_RANGE[0]), Math.log(PLATE_WIDTH_RANGE[1]))) * between(rng, 0.9, 1.1);
  const h = (w / layout.width) * layout.height * between(rng, 0.9, 1.15);
  const yaw = between(rng, 0.8, 1), pitch = between(rng, 0.85, 1);
  const leftShort = rng.uniform() < 0.5, topShort = rng.uniform() < 0.5;
  const hl = (h / 2) * (leftShort ? yaw : 1), hr = (h / 2) * (leftShort ? 1 : yaw);
  const wt = (w / 2) * (topShort ? pitch : 1), wb = (w / 2) * (topShort ? 1 : pitch);
  const jitter = () => rng.normal() * 0.03 * h;
  const local: Point[] = [[-wt, -hl], [wt, -hr], [wb, hr], [-wb, hl]].map(([x, y]) => [x! + jitter(), y! + jitter()]);
  const theta = between(rng, -12, 12) * (Math.PI / 180), c = Math.cos(theta), s = Math.sin(theta);
  return local.map(([x, y]) => [c * x - s * y, s * x + c * y]);
}

/** A copy of a planar [3, S, S] image, flipped left to right when `flip`. */
function mirrored(src: Float32Array, S: number, flip: boolean): Float32Array {
  if (!flip) return src.slice();
  const out = new Float32Array(src.length);
  for (let r = 0; r < 3 * S; r++) for (let x = 0; x < S; x++) out[r * S + x] = src[r * S + S - 1 - x]!;
  return out;
}

const overlaps = (a: Box, b: Box, gap: number): boolean =>
  a.x < b.x + b.width + gap && b.x < a.x + a.width + gap && a.y < b.y + b.height + gap && b.y < a.y + a.height + gap;

/** Multiplies the light: a linear ramp over the image and, sometimes, a soft-edged shadow over one side of a line. */
function relight(img: Float32Array, S: number, rng: Rng): void {
  const angle = rng.uniform() * 2 * Math.PI, lo = between(rng, 0.6, 1), hi = between(rng, 0.95, 1.15);
  const shadow = rng.uniform() < 0.3, depth = between(rng, 0.55, 0.8), soft = between(rng, 1, 6);
  const sa = rng.uniform() * 2 * Math.PI, sc = between(rng, -0.3, 0.3) * S;
  const plane = S * S;
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const t = ((x - S / 2) * Math.cos(angle) + (y - S / 2) * Math.sin(angle)) / S + 0.5;
      let k = lo + (hi - lo) * Math.max(0, Math.min(1, t));
      if (shadow) {
        const d = (x - S / 2) * Math.cos(sa) + (y - S / 2) * Math.sin(sa) - sc;
        k *= 1 - (1 - depth) / (1 + Math.exp(-d / soft));
      }
      for (let c = 0; c < 3; c++) img[c * plane + y * S + x] = (img[c * plane + y * S + x]! + 1) * k - 1;
    }
}

/**
 * One synthetic scene (docs/plates.md §1–3), the same for the same seed (and photos): a background, sometimes
 * blank plate-like rectangles as decoys, 0 to maxPlates Indian-style plates with random
 * registration numbers placed without overlapping, then lighting, motion or defocus blur, noise and
 * JPEG. Boxes are the plates' exact bounding boxes, before blur.
 */
export function plateScene(seed: number, opts: PlateSceneOptions): PlateScene {
  if (opts === null || typeof opts !== 'object') fail('plateScene', `options = ${describeValue(opts)} must be an object`);
  const S = opts.size, maxPlates = opts.maxPlates ?? 3;
  if (!Number.isSafeInteger(S) || S < 16 || S > 2048) fail('plateScene', `size = ${describeValue(S)} must be an integer from 16 to 2048`);
  if (!Number.isSafeInteger(maxPlates) || maxPlates < 0 || maxPlates > 8) fail('plateScene', `maxPlates = ${describeValue(maxPlates)} must be an integer from 0 to 8`);
  const rng = new Rng(checkSeed('plateScene', seed));
  const photos = opts.photos && opts.photos.count > 0 && rng.uniform() < (opts.photoShare ?? 0.6) ? opts.photos : null;
  const img = photos ? mirrored(photos.patch(rng.below(photos.count)), S, rng.uniform() < 0.5) : syntheticBackground(rng, S);
  if (img.length !== 3 * S * S) fail('plateScene', `a photo background has ${img.length} values, not 3×${S}×${S}`);
  const decoys = rng.uniform() < 0.5 ? 1 + rng.below(2) : 0;
  for (let d = 0; d < decoys; d++) {
    const w = S * between(rng, 0.1, 0.5), h = w / between(rng, 1, 6);
    const colour = [0, 1, 2].map(() => between(rng, -1, 1));
    const surface: Surface = { width: w, height: h, colour: (_u, _v, out) => out.set(colour) };
    const cx = between(rng, 0, S), cy = between(rng, 0, S), t = between(rng, -0.3, 0.3);
    const quad = rectQuad(w, h).map(([x, y]) => [cx + Math.cos(t) * (x - w / 2) - Math.sin(t) * (y - h / 2), cy + Math.sin(t) * (x - w / 2) + Math.cos(t) * (y - h / 2)] as Point);
    pasteSurface(img, S, S, surface, homography(rectQuad(w, h), quad as unknown as Quad));
  }
  const count = Math.min(maxPlates, pick(rng, COUNT_ODDS));
  const plates: PlateInstance[] = [], coverage: Float32Array[] = [];
  for (let n = 0; n < count; n++) {
    const groups = randomPlateGroups(rng), layout = plateLayout(groups);
    const style: PlateStyle = rng.uniform() < 0.3 ? 'commercial' : 'private';
    const surface = plateSurface(layout, style, rng);
    let placed: { toImage: Float64Array; corners: Quad; box: Box } | null = null;
    for (let attempt = 0; attempt < 30 && !placed; attempt++) {
      const local = plateQuad(layout, S, rng);
      const xs = local.map((p) => p[0]), ys = local.map((p) => p[1]);
      const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
      if (x1 - x0 > S - 2 || y1 - y0 > S - 2) continue;
      const cx = between(rng, 1 - x0, S - 1 - x1), cy = between(rng, 1 - y0, S - 1 - y1);
      const toImage = homography(rectQuad(layout.width, layout.height), local.map(([x, y]) => [x + cx, y + cy]) as unknown as Quad);
      const where = surfaceQuad(surface, toImage);
      if (plates.some((p) => overlaps(p.box, where.box, 2))) continue;
      placed = { toImage, ...where };
    }
    if (!placed) continue;
    const cov = opts.coverage ? new Float32Array(S * S) : undefined;
    pasteSurface(img, S, S, surface, placed.toImage, cov);
    if (cov) coverage.push(cov);
    plates.push({ text: groups.join(' '), groups, style, layout, ...placed });
  }
  clampUnit(img);
  let image: ImageBatch = { data: img, shape: [1, 3, S, S] };
  if (opts.degrade ?? true) {
    relight(img, S, rng);
    clampUnit(img);
    const blur = rng.uniform();
    if (blur < 0.3) image = motionBlur(image, between(rng, 1, 4), between(rng, -Math.PI, Math.PI));
    else if (blur < 0.6) image = defocusBlur(image, between(rng, 0.4, 1.4));
    image = gaussianNoise(image, between(rng, 0, 0.05), rng);
    if (rng.uniform() < 0.7) image = jpegArtifacts(image, 30 + rng.below(66));
  }
  return { image, plates, ...(opts.coverage ? { coverage } : {}) };
}
