import type { Rng } from '../../data/rng.js';
import type { ImageBatch } from '../batch.js';
import type { RngOrSeed } from '../rng-arg.js';
import { paintStrokes, strokeCoverage, type Stroke } from './stroke.js';

export interface CrackOptions {
  /** Cracks per image (each with its branches). */
  count: number;
  /** Full width where a crack starts, pixels; it narrows to a fifth at its tip. */
  width: number;
  /** How far a crack darkens its pixels towards black, 0…1. */
  opacity: number;
}

/** Per 1-pixel step: the standard deviation of the turn (radians) and the chance of a branch; branches of branches stop at depth 2. */
const TURN = 0.3;
const BRANCH_CHANCE = 0.04;
const MAX_DEPTH = 2;

/**
 * A crack as a random walk of 1-pixel steps whose direction drifts, forking now and then into a
 * shorter, narrower branch that leaves at 0.4…1.2 rad to either side (docs/degradations.md §4.6).
 */
function walk(r: Rng, x: number, y: number, angle: number, steps: number, width: number, depth: number, out: Stroke[]): void {
  const stroke: Stroke = { xs: [x], ys: [y], widths: [width] };
  const forks: Array<[number, number, number, number, number]> = [];
  for (let s = 1; s <= steps; s++) {
    angle += TURN * r.normal();
    x += Math.cos(angle);
    y += Math.sin(angle);
    const here = width * (1 - (0.8 * s) / steps);
    stroke.xs.push(x);
    stroke.ys.push(y);
    stroke.widths.push(here);
    if (depth < MAX_DEPTH && r.uniform() < BRANCH_CHANCE) {
      const side = r.uniform() < 0.5 ? -1 : 1, turn = 0.4 + 0.8 * r.uniform();
      const length = Math.round((steps - s) * (0.3 + 0.4 * r.uniform()));
      if (length > 1) forks.push([x, y, angle + side * turn, length, here * 0.7]);
    }
  }
  out.push(stroke);
  for (const [fx, fy, fa, fl, fw] of forks) walk(r, fx, fy, fa, fl, fw, depth + 1, out);
}

/**
 * Dark branching cracks over every channel. Each image draws from its own generator seeded from
 * `rng`, and the cracks' shapes do not depend on width or opacity, nor the first k on count.
 */
export function addCracks(img: ImageBatch, opts: CrackOptions, rng: RngOrSeed): ImageBatch {
  return paintStrokes('addCracks', img, opts, rng, (own, h, w, width) => {
    const strokes: Stroke[] = [];
    const x = own.uniform() * w, y = own.uniform() * h, angle = own.uniform() * 2 * Math.PI;
    walk(own, x, y, angle, Math.round((0.4 + 0.6 * own.uniform()) * Math.max(h, w)), width, 0, strokes);
    const coverage = new Float32Array(h * w);
    for (const s of strokes) strokeCoverage(s, h, w, coverage);
    return { coverage, target: -1 };
  });
}
