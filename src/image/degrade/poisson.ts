import type { Rng } from '../../data/rng.js';

const LOG_FACTORIAL = [0, 0, Math.log(2), Math.log(6), Math.log(24), Math.log(120), Math.log(720), Math.log(5040), Math.log(40320), Math.log(362880)];

/** ln k!: exact for k < 10, Stirling's series (error < 1e-10) above. */
function logFactorial(k: number): number {
  if (k < 10) return LOG_FACTORIAL[k]!;
  const inv = 1 / k, inv2 = inv * inv;
  return k * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI * k) + inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260));
}

/**
 * A Poisson(μ) draw: Knuth's product of uniforms below μ = 10, Hörmann's PTRS (transformed
 * rejection with squeeze, 1993) above, so the cost stays flat for any μ.
 */
export function samplePoisson(mu: number, rng: Rng): number {
  if (mu <= 0) return 0;
  if (mu < 10) {
    const limit = Math.exp(-mu);
    let k = 0, p = rng.uniform();
    while (p > limit) {
      k++;
      p *= rng.uniform();
    }
    return k;
  }
  const smu = Math.sqrt(mu), b = 0.931 + 2.53 * smu, a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2), logMu = Math.log(mu);
  for (;;) {
    const u = rng.uniform() - 0.5, v = rng.uniform(), us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + mu + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -mu + k * logMu - logFactorial(k)) return k;
  }
}
