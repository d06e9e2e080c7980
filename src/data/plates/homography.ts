import { fail } from '../../engine/errors.js';
import { inverse } from '../../layers/linalg.js';

/** A point (x, y) and a quadrilateral: four corners, clockwise from the top-left in image coordinates. */
export type Point = readonly [number, number];
export type Quad = readonly [Point, Point, Point, Point];

/**
 * The 3 × 3 projective map (row-major, h₂₂ = 1) taking each corner of `from` to the same corner of
 * `to` (docs/plates.md §2): the eight equations x'·(h₆x + h₇y + 1) = h₀x + h₁y + h₂ and likewise for
 * y', solved exactly. Fails when three corners are collinear (no such map).
 */
export function homography(from: Quad, to: Quad): Float64Array {
  const a = new Float64Array(64), b = new Float64Array(8);
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i]!, [u, v] = to[i]!;
    a.set([x, y, 1, 0, 0, 0, -u * x, -u * y], 16 * i);
    a.set([0, 0, 0, x, y, 1, -v * x, -v * y], 16 * i + 8);
    b[2 * i] = u;
    b[2 * i + 1] = v;
  }
  const inv = inverse(a, 8);
  if (!inv) fail('homography', 'the corners are degenerate (three on a line): no projective map joins them');
  const h = new Float64Array(9);
  for (let r = 0; r < 8; r++) {
    let s = 0;
    for (let c = 0; c < 8; c++) s += inv[r * 8 + c]! * b[c]!;
    h[r] = s;
  }
  h[8] = 1;
  return h;
}

/** The image of (x, y) under the projective map h. */
export function project(h: Float64Array, x: number, y: number): [number, number] {
  const w = h[6]! * x + h[7]! * y + h[8]!;
  return [(h[0]! * x + h[1]! * y + h[2]!) / w, (h[3]! * x + h[4]! * y + h[5]!) / w];
}

/** The rectangle [0, w] × [0, h] as a quad, clockwise from the origin. */
export const rectQuad = (w: number, h: number, x = 0, y = 0): Quad => [[x, y], [x + w, y], [x + w, y + h], [x, y + h]];
