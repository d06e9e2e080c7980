import type { Rng } from '../rng.js';
import type { SeedClass } from './classes.js';
import { edgePoint, type KernelShape } from './kernel-shape.js';

/** A soft-edged stain on the pericarp (discoloured kernels): centre and radius in kernel-frame (a, b) units. */
export interface Blotch { a: number; b: number; r: number; rgb: [number, number, number]; strength: number }

/** A straight break through the kernel: points with a·nx + b·ny > offset are gone. */
export interface Cut { nx: number; ny: number; offset: number }

/** A small bite out of the outline. */
export interface Chip { a: number; b: number; r: number }

/** A thin crack as a polyline in (a, b) units (silkcut kernels: the pericarp split along fine lines). */
export type Crack = Array<[number, number]>;

export interface Defects {
  blotches: Blotch[];
  cuts: Cut[];
  chips: Chip[];
  cracks: Crack[];
  /** Overall dulling of the kernel colour towards grey-brown, 0…1 (discoloured kernels). */
  dull: number;
}

const none = (): Defects => ({ blotches: [], cuts: [], chips: [], cracks: [], dull: 0 });

/** What makes a kernel of class `cls` look like one: nothing for pure, stains, breaks or cracks for the others. */
export function randomDefects(rng: Rng, cls: SeedClass, shape: KernelShape): Defects {
  const d = none();
  if (cls === 'discoloured') {
    d.dull = 0.15 + 0.25 * rng.uniform();
    const n = 2 + rng.below(4);
    for (let i = 0; i < n; i++) {
      const grey = rng.uniform() < 0.35;
      const base: [number, number, number] = grey ? [105, 100, 92] : [120, 74, 36];
      const j = 20 * (rng.uniform() - 0.5);
      d.blotches.push({
        a: 0.45 * (rng.uniform() - 0.5) * 2 * (shape.halfWidth / shape.halfLength),
        b: 1.4 * (rng.uniform() - 0.5),
        r: 0.15 + 0.25 * rng.uniform(),
        rgb: [base[0] + j, base[1] + j, base[2] + j],
        strength: 0.7 + 0.3 * rng.uniform(),
      });
    }
  } else if (cls === 'broken') {
    // Breaks take off the crown or a side more often than the tip, which is the hardest part.
    const phi = Math.PI / 2 + 1.6 * (rng.uniform() - 0.5) + (rng.uniform() < 0.3 ? Math.PI / 2 : 0);
    d.cuts.push({ nx: Math.cos(phi), ny: Math.sin(phi), offset: 0.25 + 0.3 * rng.uniform() });
    const chips = 2 + rng.below(3);
    for (let i = 0; i < chips; i++) {
      const [a, b] = edgePoint(shape, 2 * Math.PI * rng.uniform());
      d.chips.push({ a, b, r: 0.08 + 0.1 * rng.uniform() });
    }
  } else if (cls === 'silkcut') {
    const n = 1 + rng.below(3);
    for (let i = 0; i < n; i++) d.cracks.push(randomCrack(rng, shape));
  }
  return d;
}

/** A random walk across the kernel, starting on one side and heading roughly crosswise, ended when it leaves the outline. */
function randomCrack(rng: Rng, shape: KernelShape): Crack {
  const side = rng.uniform() < 0.5 ? 0 : Math.PI;
  const start = edgePoint(shape, side + 0.9 * (rng.uniform() - 0.3));
  let heading = side + Math.PI + 0.8 * (rng.uniform() - 0.5);
  const points: Crack = [start];
  let [a, b] = start;
  for (let step = 0; step < 40; step++) {
    heading += 0.5 * (rng.uniform() - 0.5);
    a += 0.07 * Math.cos(heading);
    b += 0.07 * Math.sin(heading);
    points.push([a, b]);
    if (step > 2 && Math.hypot(a, b) > 1.2) break;
  }
  return points;
}

/** Distance from (a, b) to the nearest segment of a polyline. */
export function distanceToCrack(crack: Crack, a: number, b: number): number {
  let best = Infinity;
  for (let i = 1; i < crack.length; i++) {
    const [a0, b0] = crack[i - 1]!, [a1, b1] = crack[i]!;
    const da = a1 - a0, db = b1 - b0, len2 = da * da + db * db;
    const t = len2 > 0 ? Math.min(Math.max(((a - a0) * da + (b - b0) * db) / len2, 0), 1) : 0;
    best = Math.min(best, Math.hypot(a - a0 - t * da, b - b0 - t * db));
  }
  return best;
}

/** Whether the point was broken away; when not, how far inside the nearest break face it is (for the exposed white starch). */
export function breakDepth(d: Defects, a: number, b: number): number {
  let depth = Infinity;
  for (const c of d.cuts) depth = Math.min(depth, c.offset - (a * c.nx + b * c.ny));
  for (const c of d.chips) depth = Math.min(depth, Math.hypot(a - c.a, b - c.b) - c.r);
  return depth;
}
