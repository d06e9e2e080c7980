import type { HostTensor } from './kernels.js';
import { rng } from './random.js';

/**
 * A well-conditioned triangular kernel (C, Cg, k, k) for the solves: off-centre taps small enough
 * that the substitution does not amplify errors, centre diagonal in [1, 1.5] for the non-unit case.
 * Entries above the centre diagonal hold junk (9) that every backend must ignore.
 */
export function triangularKernel(C: number, Cg: number, k: number, seed: number): HostTensor {
  const r = rng(seed);
  const data = new Float32Array(C * Cg * k * k);
  const scale = 0.5 / (Cg * k * k);
  for (let c = 0; c < C; c++)
    for (let i = 0; i < Cg; i++)
      for (let a = 0; a < k; a++)
        for (let b = 0; b < k; b++) {
          const centre = a === k - 1 && b === k - 1;
          const local = c % Cg;
          let v = (2 * r() - 1) * scale;
          if (centre && i === local) v = 1 + 0.5 * r();
          if (centre && i > local) v = 9;
          data[((c * Cg + i) * k + a) * k + b] = v;
        }
  return { shape: [C, Cg, k, k], data };
}
