import type { Box } from '../../models/detect/box.js';
import { homography, project, rectQuad, type Quad } from './homography.js';

/** Something flat drawn through a projective map: its size in its own units and its colour at a point of it. */
export interface Surface {
  width: number;
  height: number;
  /** Writes the RGB colour (in [−1, 1]) at (u, v), 0 ≤ u ≤ width, 0 ≤ v ≤ height, into out[0…2]. */
  colour(u: number, v: number, out: Float64Array): void;
}

/** Sub-samples per pixel side: 4 × 4 points per pixel anti-alias the edges and the strokes. */
const SUPERSAMPLE = 4;

/** The corners of a surface in the image under `toImage`, and their axis-aligned bounding box. */
export function surfaceQuad(surface: Pick<Surface, 'width' | 'height'>, toImage: Float64Array): { corners: Quad; box: Box } {
  const corners = rectQuad(surface.width, surface.height).map(([u, v]) => project(toImage, u, v)) as unknown as Quad;
  const xs = corners.map((p) => p[0]), ys = corners.map((p) => p[1]);
  const x0 = Math.min(...xs), y0 = Math.min(...ys);
  return { corners, box: { x: x0, y: y0, width: Math.max(...xs) - x0, height: Math.max(...ys) - y0 } };
}

/**
 * Draws `surface` onto the planar RGB canvas [3, H, W] (values in [−1, 1]) through the projective
 * map `toImage` (surface units → pixels, pixel (x, y) covering [x, x + 1) × [y, y + 1)). Each pixel
 * the surface's bounding box touches takes 4 × 4 points, maps them back onto the surface, and
 * blends the covered share: out = (1 − a)·canvas + Σ colours / 16 (docs/plates.md §2). A projective
 * map sends the rectangle to the convex quad of its corners, so no ink leaves their bounding box.
 * Returns each pixel's coverage a when `coverage` is given (added into it).
 */
export function pasteSurface(canvas: Float32Array, H: number, W: number, surface: Surface, toImage: Float64Array, coverage?: Float32Array): void {
  const { corners, box } = surfaceQuad(surface, toImage);
  const toSurface = homography(corners, rectQuad(surface.width, surface.height));
  const xa = Math.max(0, Math.floor(box.x)), xb = Math.min(W, Math.ceil(box.x + box.width));
  const ya = Math.max(0, Math.floor(box.y)), yb = Math.min(H, Math.ceil(box.y + box.height));
  const rgb = new Float64Array(3), plane = H * W, n = SUPERSAMPLE * SUPERSAMPLE;
  const [h0, h1, h2, h3, h4, h5, h6, h7, h8] = Array.from(toSurface) as [number, number, number, number, number, number, number, number, number];
  for (let y = ya; y < yb; y++)
    for (let x = xa; x < xb; x++) {
      let hits = 0, r = 0, g = 0, b = 0;
      for (let i = 0; i < SUPERSAMPLE; i++)
        for (let j = 0; j < SUPERSAMPLE; j++) {
          // project(toSurface, …) inlined: this loop runs 16 times per pixel.
          const sx = x + (j + 0.5) / SUPERSAMPLE, sy = y + (i + 0.5) / SUPERSAMPLE;
          const q = h6 * sx + h7 * sy + h8, u = (h0 * sx + h1 * sy + h2) / q, v = (h3 * sx + h4 * sy + h5) / q;
          if (!(u >= 0 && u <= surface.width && v >= 0 && v <= surface.height)) continue;
          surface.colour(u, v, rgb);
          hits++;
          r += rgb[0]!;
          g += rgb[1]!;
          b += rgb[2]!;
        }
      if (hits === 0) continue;
      const p = y * W + x, a = hits / n;
      canvas[p] = (1 - a) * canvas[p]! + r / n;
      canvas[plane + p] = (1 - a) * canvas[plane + p]! + g / n;
      canvas[2 * plane + p] = (1 - a) * canvas[2 * plane + p]! + b / n;
      if (coverage) coverage[p]! += a;
    }
}
