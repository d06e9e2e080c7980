import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import { concat, conv2d, flip, slice, solveKernelMask, type Corner } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import type { Rng } from '../data/rng.js';

/**
 * Helpers for the padded convolution block (docs/flows.md §2–§4): kernels are stored in TL orientation,
 * [C, Cg, k, k] with K[c, i] acting on channel g·Cg + i of c's group, exactly what the solve op takes.
 */

export const allCorners: readonly Corner[] = ['tl', 'tr', 'bl', 'br'];

/** M: 1 on every free entry; 0 at the centre tap for input channel ≥ output channel (K_eff = V ⊙ M + E). */
export const freeMask = (engine: Engine, C: number, Cg: number, k: number): Tensor =>
  engine.tensor(solveKernelMask(C, Cg, k, true), [C, Cg, k, k]);

/** E: 1 at each centre diagonal entry [c, c mod Cg, k−1, k−1]. */
export function centreDiagonal(engine: Engine, C: number, Cg: number, k: number): Tensor {
  const e = new Float32Array(C * Cg * k * k);
  for (let c = 0; c < C; c++) e[((c * Cg + (c % Cg)) * k + k - 1) * k + k - 1] = 1;
  return engine.tensor(e, [C, Cg, k, k]);
}

/** N(0, scale²) weights in TL orientation (docs/flows.md §2; the masked entries are never read). */
export const randomKernel = (engine: Engine, rng: Rng, C: number, Cg: number, k: number, scale: number): Tensor =>
  engine.tensor(rng.normals(C * Cg * k * k, scale), [C, Cg, k, k]);

const flipsOf = (c: Corner) => ({ w: c === 'tr' || c === 'br', h: c === 'bl' || c === 'br' });

/** A TL-oriented kernel as the stored kernel of a corner convolution (docs/flows.md §3). */
export const kernelForCorner = (K: Tensor, c: Corner): Tensor => (c === 'tl' ? K : flip(K, flipsOf(c)));

/**
 * The forward corner-padded convolution of each channel group: y_g = F T_g F x_g, the exact
 * operator whose inverse solve(y, K, { groups, corners }) computes.
 */
export function cornerConv(x: Tensor, K: Tensor, corners: readonly Corner[], bias?: Tensor): Tensor {
  const groups = corners.length;
  const [C, Cg] = K.shape as [number, number];
  if (C !== Cg * groups) fail('cornerConv', `kernel [${K.shape}] does not match ${groups} groups`);
  if (corners.every((c) => c === corners[0]))
    return conv2d(x, kernelForCorner(K, corners[0]!), { pad: corners[0]!, groups, ...(bias ? { bias } : {}) });
  const parts = corners.map((c, g) =>
    conv2d(slice(x, 1, g * Cg, Cg), kernelForCorner(slice(K, 0, g * Cg, Cg), c), { pad: c, ...(bias ? { bias: slice(bias, 0, g * Cg, Cg) } : {}) }));
  return concat(parts);
}

export function parseCorners(layer: string, corners: unknown, groups: number): Corner[] {
  const list = corners === undefined ? (groups === 4 ? [...allCorners] : new Array<Corner>(groups).fill('tl')) : corners;
  if (!Array.isArray(list) || list.length !== groups || list.some((c) => !allCorners.includes(c as Corner)))
    fail(layer, `corners ${JSON.stringify(corners)} must list one of tl/tr/bl/br for each of the ${groups} groups`);
  return list as Corner[];
}
