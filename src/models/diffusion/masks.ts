/**
 * Random inpainting masks (docs/diffusion.md, "Random masks"): per image a target share of the
 * pixels to fill, uniform in [minCover, maxCover], reached by adding axis-aligned rectangles and
 * thick brush strokes (polylines) one at a time. Seeded like the degradations: each image gets
 * its own generator from the next 32-bit draw of `rng`, so a batch's masks do not depend on each
 * other's shapes.
 */
import { Rng } from '../../data/rng.js';
import { describeValue, fail } from '../../engine/errors.js';
import { strokeCoverage } from '../../image/degrade/stroke.js';
import { toRng, type RngOrSeed } from '../../image/rng-arg.js';

export interface MaskOptions {
  /** Smallest target share of the image to fill (default 0.1). */
  minCover?: number;
  /** Largest share (default 0.5): a shape that would push the mask past it is drawn again. */
  maxCover?: number;
  /** Probability that a shape is a rectangle rather than a brush stroke (default 0.5). */
  rectangleShare?: number;
}

/** Shapes tried per mask before giving up on reaching the target share (the mask keeps what it has). */
const MAX_SHAPES = 64;

/**
 * n masks of h × w, back to back (n · h · w values, 1 = fill, 0 = keep), each covering about
 * [minCover, maxCover] of its image (tests/models/diffusion-tasks.test.ts measures the shares).
 */
export function randomInpaintMask(n: number, h: number, w: number, rng: RngOrSeed, opts: MaskOptions = {}): Float32Array {
  const op = 'randomInpaintMask';
  for (const [name, v] of [['n', n], ['h', h], ['w', w]] as const)
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) fail(op, `${name} = ${describeValue(v)} must be a positive integer`);
  if (opts === null || typeof opts !== 'object') fail(op, `options = ${describeValue(opts)} must be an object`);
  const share = (name: string, v: unknown, def: number): number => {
    const x = v ?? def;
    if (typeof x !== 'number' || !(x >= 0 && x <= 1)) fail(op, `${name} = ${describeValue(x)} must be a number from 0 to 1`);
    return x;
  };
  const lo = share('minCover', opts.minCover, 0.1), hi = share('maxCover', opts.maxCover, 0.5), rects = share('rectangleShare', opts.rectangleShare, 0.5);
  if (lo > hi) fail(op, `minCover = ${lo} is above maxCover = ${hi}`);
  const r = toRng(op, rng), plane = h * w, out = new Float32Array(n * plane);
  for (let i = 0; i < n; i++) oneMask(out.subarray(i * plane, (i + 1) * plane), h, w, new Rng(r.nextUint32()), lo, hi, rects);
  return out;
}

function oneMask(mask: Float32Array, h: number, w: number, r: Rng, lo: number, hi: number, rects: number): void {
  const plane = h * w, target = lo + (hi - lo) * r.uniform();
  let covered = 0;
  const shape = new Float32Array(plane);
  for (let tries = 0; tries < MAX_SHAPES && covered < target * plane; tries++) {
    shape.fill(0);
    if (r.uniform() < rects) rectangle(shape, h, w, r);
    else brush(shape, h, w, r);
    let added = 0;
    for (let p = 0; p < plane; p++) if (shape[p]! && !mask[p]) added++;
    if (covered + added > hi * plane) continue;
    for (let p = 0; p < plane; p++) if (shape[p]) mask[p] = 1;
    covered += added;
  }
}

/** A rectangle with sides 15…50 % of the image's, anywhere inside it. */
function rectangle(into: Float32Array, h: number, w: number, r: Rng): void {
  const rh = Math.max(1, Math.round(h * (0.15 + 0.35 * r.uniform()))), rw = Math.max(1, Math.round(w * (0.15 + 0.35 * r.uniform())));
  const top = r.below(h - rh + 1), left = r.below(w - rw + 1);
  for (let y = top; y < top + rh; y++) into.fill(1, y * w + left, y * w + left + rw);
}

/**
 * A brush stroke: a polyline of 2…5 segments from a uniform point, each 15…40 % of the longer
 * side, the direction turning by N(0, 0.8²) rad at each joint, 8…18 % of the shorter side wide
 * (at least 2 px); pixels at least half covered (src/image/degrade/stroke.ts) are filled.
 */
function brush(into: Float32Array, h: number, w: number, r: Rng): void {
  const segments = 2 + r.below(4), side = Math.max(h, w);
  const width = Math.max(2, Math.min(h, w) * (0.08 + 0.1 * r.uniform()));
  const xs = [r.uniform() * (w - 1)], ys = [r.uniform() * (h - 1)];
  let angle = r.uniform() * 2 * Math.PI;
  for (let s = 0; s < segments; s++) {
    const len = side * (0.15 + 0.25 * r.uniform());
    xs.push(Math.min(w - 1, Math.max(0, xs[s]! + len * Math.cos(angle))));
    ys.push(Math.min(h - 1, Math.max(0, ys[s]! + len * Math.sin(angle))));
    angle += 0.8 * r.normal();
  }
  const cover = strokeCoverage({ xs, ys, widths: xs.map(() => width) }, h, w);
  for (let p = 0; p < into.length; p++) if (cover[p]! >= 0.5) into[p] = 1;
}

/** Share of each mask that is 1 (n values). */
export function maskCoverage(masks: ArrayLike<number>, n: number): Float64Array {
  const plane = masks.length / n, out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let p = 0; p < plane; p++) s += masks[i * plane + p]!;
    out[i] = s / plane;
  }
  return out;
}
