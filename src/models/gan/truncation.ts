import type { Rng } from '../../data/rng.js';
import { fail } from '../../engine/errors.js';

/**
 * n draws of N(0, 1), each redrawn until |z| ≤ threshold (BigGAN's truncation trick: smaller
 * thresholds trade variety for fidelity). No threshold: plain normals. Thresholds below 0.01 are
 * refused, so the expected number of redraws per value stays under 126.
 */
export function truncatedNormals(rng: Rng, n: number, threshold?: number): Float32Array {
  if (!Number.isInteger(n) || n < 0) fail('truncatedNormals', `n = ${n} must be a whole number`);
  if (threshold !== undefined && !(Number.isFinite(threshold) && threshold >= 0.01))
    fail('truncatedNormals', `truncation = ${threshold} must be a number ≥ 0.01`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let z = rng.normal();
    if (threshold !== undefined) while (Math.abs(z) > threshold) z = rng.normal();
    out[i] = z;
  }
  return out;
}
