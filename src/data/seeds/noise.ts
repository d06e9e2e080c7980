import type { Rng } from '../rng.js';

/**
 * Smooth value noise on [0, 1]²: random values on a g × g lattice, blended with a smoothstep.
 * Gives the low-frequency mottling of a kernel's surface and the uneven lighting of the backdrop.
 */
export function valueNoise(rng: Rng, g: number): (x: number, y: number) => number {
  const lattice = new Float32Array((g + 1) * (g + 1));
  for (let i = 0; i < lattice.length; i++) lattice[i] = 2 * rng.uniform() - 1;
  return (x, y) => {
    const fx = Math.min(Math.max(x, 0), 1) * g, fy = Math.min(Math.max(y, 0), 1) * g;
    const ix = Math.min(Math.floor(fx), g - 1), iy = Math.min(Math.floor(fy), g - 1);
    const tx = smooth(fx - ix), ty = smooth(fy - iy);
    const i0 = iy * (g + 1) + ix, i1 = i0 + g + 1;
    const top = lattice[i0]! + (lattice[i0 + 1]! - lattice[i0]!) * tx;
    const bottom = lattice[i1]! + (lattice[i1 + 1]! - lattice[i1]!) * tx;
    return top + (bottom - top) * ty;
  };
}

export const smooth = (t: number): number => t * t * (3 - 2 * t);
export const clamp01 = (t: number): number => (t < 0 ? 0 : t > 1 ? 1 : t);
