import type { Rng } from '../../data/rng.js';
import type { ImageBatch } from '../batch.js';
import type { RngOrSeed } from '../rng-arg.js';
import { paintStrokes, strokeCoverage, type Stroke } from './stroke.js';

export interface ScratchOptions {
  /** Scratches per image. */
  count: number;
  /** Full width at the middle of a scratch, pixels; it tapers to 0 at both ends. */
  width: number;
  /** How far a scratch pulls its pixels to white or black, 0…1. */
  opacity: number;
}

/** Bends per scratch, and the standard deviation of each bend (radians). */
const SEGMENTS = 6;
const BEND = 0.15;

/**
 * One scratch: a gently bent polyline of 6 segments from a uniform point in a uniform direction,
 * 30…100 % of the image's longer side long, widest in the middle (sin(π t)^½ taper), white or
 * black with equal odds (docs/degradations.md §4.5).
 */
function scratch(r: Rng, h: number, w: number, width: number): { stroke: Stroke; target: number } {
  const side = Math.max(h, w);
  let x = r.uniform() * w, y = r.uniform() * h, angle = r.uniform() * 2 * Math.PI;
  const step = ((0.3 + 0.7 * r.uniform()) * side) / SEGMENTS;
  const target = r.uniform() < 0.5 ? 1 : -1;
  const stroke: Stroke = { xs: [x], ys: [y], widths: [0] };
  for (let s = 1; s <= SEGMENTS; s++) {
    angle += BEND * r.normal();
    x += step * Math.cos(angle);
    y += step * Math.sin(angle);
    stroke.xs.push(x);
    stroke.ys.push(y);
    stroke.widths.push(width * Math.sqrt(Math.sin((Math.PI * s) / SEGMENTS)));
  }
  stroke.widths[SEGMENTS] = 0;
  return { stroke, target };
}

/**
 * Thin, tapered, bright or dark scratches over every channel. Each image draws from its own
 * generator seeded from `rng`, and each scratch's shape does not depend on count, width or
 * opacity: with one seed, a larger count adds scratches to the same ones.
 */
export function addScratches(img: ImageBatch, opts: ScratchOptions, rng: RngOrSeed): ImageBatch {
  return paintStrokes('addScratches', img, opts, rng, (own, h, w, width) => {
    const { stroke, target } = scratch(own, h, w, width);
    return { coverage: strokeCoverage(stroke, h, w), target };
  });
}
