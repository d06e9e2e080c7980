/**
 * The Fréchet distance between two Gaussians fitted to feature vectors — FID's formula
 * (docs/diffusion.md, "Judging samples"): ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½). Inflow has no
 * Inception network, so callers feed it another network's features and must call the number a proxy.
 */
import { fail } from '../engine/errors.js';
import { matmul as multiply, symmetricEigen } from '../layers/linalg.js';

export interface FeatureStats {
  /** Feature vectors the statistics were fitted to. */
  n: number;
  dim: number;
  mean: Float64Array;
  /** Row-major dim×dim covariance with the unbiased 1/(n − 1). */
  cov: Float64Array;
}

/** Accumulates feature rows in float64 (sum and sum of outer products), so batches can stream in. */
export class FeatureAccumulator {
  private n = 0;
  private readonly sum: Float64Array;
  private readonly outer: Float64Array;

  constructor(readonly dim: number) {
    this.sum = new Float64Array(dim);
    this.outer = new Float64Array(dim * dim);
  }

  /** rows: count × dim values, row-major. */
  add(rows: ArrayLike<number>): void {
    const d = this.dim;
    if (rows.length % d) fail('FeatureAccumulator.add', `${rows.length} values are not whole rows of ${d}`);
    for (let r = 0; r < rows.length; r += d) {
      for (let i = 0; i < d; i++) {
        const xi = rows[r + i]!;
        this.sum[i]! += xi;
        for (let j = i; j < d; j++) this.outer[i * d + j]! += xi * rows[r + j]!;
      }
      this.n++;
    }
  }

  stats(): FeatureStats {
    const d = this.dim, n = this.n;
    if (n < 2) fail('FeatureAccumulator.stats', `needs at least 2 feature vectors, has ${n}`);
    const mean = this.sum.map((s) => s / n);
    const cov = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        const c = (this.outer[i * d + j]! - n * mean[i]! * mean[j]!) / (n - 1);
        cov[i * d + j] = c;
        cov[j * d + i] = c;
      }
    }
    return { n, dim: d, mean, cov };
  }
}

/**
 * ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁ Σ₂)^½. Σ₁Σ₂ is not symmetric, but it is similar to
 * Σ₁^½ Σ₂ Σ₁^½, which is symmetric positive semi-definite with the same eigenvalues, so the trace
 * of the square root is Σ √λᵢ of that matrix (tiny negative λ from round-off count as 0).
 */
export function frechetDistance(a: FeatureStats, b: FeatureStats): number {
  if (a.dim !== b.dim) fail('frechetDistance', `feature sizes differ (${a.dim} and ${b.dim})`);
  const d = a.dim;
  let meanTerm = 0, traces = 0;
  for (let i = 0; i < d; i++) {
    meanTerm += (a.mean[i]! - b.mean[i]!) ** 2;
    traces += a.cov[i * d + i]! + b.cov[i * d + i]!;
  }
  const root = symmetricSqrt(a.cov, d);
  const m = multiply(multiply(root, b.cov, d), root, d);
  // Symmetrise away round-off before the eigen-solve.
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) m[i * d + j] = m[j * d + i] = (m[i * d + j]! + m[j * d + i]!) / 2;
  let traceRoot = 0;
  for (const l of symmetricEigen(m, d).values) traceRoot += Math.sqrt(Math.max(l, 0));
  return Math.max(0, meanTerm + traces - 2 * traceRoot);
}

/** The PSD square root V diag(√λ) Vᵀ of a symmetric positive semi-definite matrix. */
function symmetricSqrt(a: Float64Array, n: number): Float64Array {
  const { values, vectors: v } = symmetricEigen(a, n);
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const s = Math.sqrt(Math.max(values[k]!, 0));
    if (s === 0) continue;
    for (let i = 0; i < n; i++) {
      const vik = v[i * n + k]! * s;
      for (let j = 0; j < n; j++) out[i * n + j]! += vik * v[j * n + k]!;
    }
  }
  return out;
}
