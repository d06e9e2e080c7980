import { fail } from '../../engine/errors.js';

/**
 * A DDPM noise schedule: β_t for t = 0 … T−1 and ᾱ_t = Π_{s ≤ t} (1 − β_s), so that
 * x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε, ε ~ N(0, I) (docs/diffusion.md).
 */
export interface NoiseSchedule {
  readonly kind: 'linear' | 'cosine';
  readonly steps: number;
  readonly betas: Float64Array;
  readonly alphaBars: Float64Array;
}

/**
 * 'linear': β from 1e-4 to 0.02 (Ho et al.), scaled by 1000/T so any T spans the same noise.
 * 'cosine': ᾱ_t = f(t+1)/f(0), f(t) = cos²(((t/T) + s)/(1 + s) · π/2), s = 0.008, β capped at 0.999
 * (Nichol & Dhariwal).
 */
export function noiseSchedule(kind: 'linear' | 'cosine', steps = 1000): NoiseSchedule {
  if (!Number.isInteger(steps) || steps < 2) fail('noiseSchedule', `steps = ${steps} must be an integer ≥ 2`);
  const betas = new Float64Array(steps);
  if (kind === 'linear') {
    const scale = 1000 / steps, lo = scale * 1e-4, hi = scale * 0.02;
    for (let t = 0; t < steps; t++) betas[t] = lo + ((hi - lo) * t) / (steps - 1);
  } else if (kind === 'cosine') {
    const s = 0.008, f = (t: number) => Math.cos(((t / steps + s) / (1 + s)) * (Math.PI / 2)) ** 2;
    for (let t = 0; t < steps; t++) betas[t] = Math.min(0.999, 1 - f(t + 1) / f(t));
  } else fail('noiseSchedule', `unknown schedule '${String(kind)}' (linear or cosine)`);
  const alphaBars = new Float64Array(steps);
  let prod = 1;
  for (let t = 0; t < steps; t++) alphaBars[t] = prod *= 1 - betas[t]!;
  return { kind, steps, betas, alphaBars };
}
