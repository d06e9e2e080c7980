/**
 * erf and erfc in float64 for the reference kernels (JavaScript has no Math.erf). Below |x| = 2.5
 * the series erf(x) = 2/√π · e^(−x²) · Σₙ (2x²)ⁿ x / (1·3·…·(2n+1)), whose terms are all positive
 * (no cancellation); above it the continued fraction erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))).
 * Both are accurate to about 1e−14 relative (erfc below 2.5, as 1 − erf, to about 1e−14 absolute),
 * and smooth across the switch, so finite differences of functions built on them stay meaningful.
 */
const SWITCH = 2.5;
const CF_TERMS = 60;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

function series(x: number): number {
  const x2 = 2 * x * x;
  let term = x, sum = x;
  for (let n = 1; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= x2 / (2 * n + 1);
    sum += term;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x * x) * sum;
}

/** erfc(x) for x ≥ SWITCH. */
function continuedFraction(x: number): number {
  let f = x;
  for (let k = CF_TERMS; k > 0; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  if (a < SWITCH) return series(x);
  return Math.sign(x) * (1 - continuedFraction(a));
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= SWITCH) return continuedFraction(x);
  if (x <= -SWITCH) return 2 - continuedFraction(-x);
  return 1 - series(x);
}
