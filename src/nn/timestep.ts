import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';

/**
 * Sinusoidal timestep embedding (Transformer positions, DDPM timesteps): for frequencies
 * f_i = maxPeriod^(−i/half), i < half = ⌊dim/2⌋, row n is [cos(t_n f_0 … t_n f_{half−1}), sin(…)],
 * with a zero last column when dim is odd. Computed in float64 on the host: [t.length, dim].
 */
export function timestepEmbedding(engine: Engine, t: ArrayLike<number>, dim: number, maxPeriod = 10000): Tensor {
  if (!Number.isInteger(dim) || dim < 2) fail('timestepEmbedding', `dim = ${dim} must be an integer ≥ 2`);
  if (!(maxPeriod > 0)) fail('timestepEmbedding', `maxPeriod = ${maxPeriod} must be positive`);
  const half = dim >> 1, out = new Float64Array(t.length * dim);
  for (let n = 0; n < t.length; n++) {
    const tn = t[n]!;
    if (!Number.isFinite(tn)) fail('timestepEmbedding', `timestep ${tn} at position ${n} is not finite`);
    for (let i = 0; i < half; i++) {
      const a = tn * Math.exp((-Math.log(maxPeriod) * i) / half);
      out[n * dim + i] = Math.cos(a);
      out[n * dim + half + i] = Math.sin(a);
    }
  }
  return engine.tensor(out, [t.length, dim]);
}
