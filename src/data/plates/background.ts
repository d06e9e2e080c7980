import type { Rng } from '../rng.js';

/** Bilinear upsampling of a g × g grid of random values to S × S: smooth blobs of about S/g pixels. */
function valueNoise(rng: Rng, S: number, g: number): Float64Array {
  const grid = Float64Array.from({ length: (g + 1) * (g + 1) }, () => rng.uniform() * 2 - 1);
  const out = new Float64Array(S * S);
  for (let y = 0; y < S; y++) {
    const fy = (y / S) * g, y0 = Math.floor(fy), ty = fy - y0;
    for (let x = 0; x < S; x++) {
      const fx = (x / S) * g, x0 = Math.floor(fx), tx = fx - x0;
      const a = grid[y0 * (g + 1) + x0]!, b = grid[y0 * (g + 1) + x0 + 1]!;
      const c = grid[(y0 + 1) * (g + 1) + x0]!, d = grid[(y0 + 1) * (g + 1) + x0 + 1]!;
      out[y * S + x] = (a + (b - a) * tx) * (1 - ty) + (c + (d - c) * tx) * ty;
    }
  }
  return out;
}

/**
 * A seeded stand-in for a photo (docs/plates.md §3): a random base colour, a linear gradient, value
 * noise at two scales, and a few straight bars and rectangles of random colours, so the detector
 * sees edges and flat regions that are not plates. Planar [3, S, S] in [−1, 1].
 */
export function syntheticBackground(rng: Rng, S: number): Float32Array {
  const out = new Float32Array(3 * S * S), plane = S * S;
  const base = [0, 1, 2].map(() => rng.uniform() * 1.6 - 0.8);
  const tint = [0, 1, 2].map(() => 0.6 + 0.4 * rng.uniform());
  const angle = rng.uniform() * 2 * Math.PI, slope = (rng.uniform() * 0.8) / S;
  const coarse = valueNoise(rng, S, 2 + rng.below(4)), fine = valueNoise(rng, S, 12 + rng.below(20));
  const ca = 0.1 + 0.4 * rng.uniform(), fa = 0.02 + 0.15 * rng.uniform();
  for (let y = 0; y < S; y++)
    for (let x = 0; x < S; x++) {
      const p = y * S + x;
      const v = ((x - S / 2) * Math.cos(angle) + (y - S / 2) * Math.sin(angle)) * slope + ca * coarse[p]! + fa * fine[p]!;
      for (let c = 0; c < 3; c++) out[c * plane + p] = base[c]! + tint[c]! * v;
    }
  const shapes = rng.below(7);
  for (let s = 0; s < shapes; s++) {
    const colour = [0, 1, 2].map(() => rng.uniform() * 2 - 1);
    const w = 2 + rng.below(Math.floor(S / 2)), h = 2 + rng.below(Math.floor(S / 2));
    const x0 = rng.below(S), y0 = rng.below(S);
    for (let y = y0; y < Math.min(S, y0 + h); y++)
      for (let x = x0; x < Math.min(S, x0 + w); x++) for (let c = 0; c < 3; c++) out[c * plane + y * S + x] = colour[c]!;
  }
  for (let i = 0; i < out.length; i++) out[i] = Math.max(-1, Math.min(1, out[i]!));
  return out;
}
