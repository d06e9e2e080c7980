import { InflowError } from '../engine/errors.js';
import { symmetricEigen } from '../layers/linalg.js';

/**
 * Principal component analysis of per-pixel band vectors (docs/geomap.md): centre (and, by default,
 * scale to unit variance), form the d × d covariance in float64, diagonalise it with the Jacobi
 * solver of src/layers/linalg.ts. d is the band count (≤ a few dozen), so the eigenproblem is
 * negligible; the two passes over the n rows dominate.
 */
export interface PcaModel {
  bands: number;
  mean: Float64Array;
  /** Per-band divisor (sample standard deviation, 1 for a constant band or without scaling). */
  scale: Float64Array;
  /** Eigenvalues of the covariance, largest first: the variance each component explains. */
  variances: Float64Array;
  /** d × d, row j = unit component j; sign fixed so its largest-magnitude entry is positive. */
  components: Float64Array;
}

export function fitPca(x: Float32Array, n: number, d: number, opts: { standardize?: boolean } = {}): PcaModel {
  if (!Number.isInteger(d) || d < 1) throw new InflowError(`pca: bands must be a positive integer, got ${String(d)}`);
  if (!Number.isInteger(n) || n < 2) throw new InflowError(`pca: needs at least 2 rows, got ${String(n)}`);
  if (x.length !== n * d) throw new InflowError(`pca: data holds ${x.length} values, not n × d = ${n} × ${d}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) mean[t]! += x[i * d + t]!;
  for (let t = 0; t < d; t++) mean[t]! /= n;
  const cov = new Float64Array(d * d), row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) row[t] = x[i * d + t]! - mean[t]!;
    for (let a = 0; a < d; a++) { const ra = row[a]!; for (let b = a; b < d; b++) cov[a * d + b]! += ra * row[b]!; }
  }
  // n − 1: the unbiased sample covariance, the convention of ml-pca and of scikit-learn's StandardScaler-free PCA.
  for (let a = 0; a < d; a++) for (let b = a; b < d; b++) { cov[a * d + b]! /= n - 1; cov[b * d + a] = cov[a * d + b]!; }
  const scale = new Float64Array(d).fill(1);
  if (opts.standardize ?? true) {
    for (let t = 0; t < d; t++) { const s = Math.sqrt(cov[t * d + t]!); scale[t] = s > 0 ? s : 1; }
    // Standardising turns the covariance into the correlation matrix: divide by σ_a σ_b.
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a * d + b]! /= scale[a]! * scale[b]!;
  }
  const { values, vectors } = symmetricEigen(cov, d);
  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => values[j]! - values[i]!);
  const variances = new Float64Array(d), components = new Float64Array(d * d);
  order.forEach((src, j) => {
    variances[j] = values[src]!;
    let big = 0;
    for (let t = 0; t < d; t++) if (Math.abs(vectors[t * d + src]!) > Math.abs(big)) big = vectors[t * d + src]!;
    const sign = big < 0 ? -1 : 1;
    for (let t = 0; t < d; t++) components[j * d + t] = sign * vectors[t * d + src]!;
  });
  return { bands: d, mean, scale, variances, components };
}

/** Scores of the first `keep` components for each row: ((x − μ) / σ) · Vᵀ, n × keep row-major. */
export function projectPca(model: PcaModel, x: Float32Array, n: number, keep = model.bands): Float32Array {
  const d = model.bands;
  if (x.length !== n * d) throw new InflowError(`pca: data holds ${x.length} values, not n × d = ${n} × ${d}`);
  if (!Number.isInteger(keep) || keep < 1 || keep > d) throw new InflowError(`pca: components to keep must be an integer in 1…${d}, got ${String(keep)}`);
  const out = new Float32Array(n * keep), z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < d; t++) z[t] = (x[i * d + t]! - model.mean[t]!) / model.scale[t]!;
    for (let j = 0; j < keep; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) s += z[t]! * model.components[j * d + t]!;
      out[i * keep + j] = s;
    }
  }
  return out;
}

/** Fraction of the total variance the first `keep` components explain. */
export function explainedFraction(model: PcaModel, keep: number): number {
  let total = 0, part = 0;
  model.variances.forEach((v, j) => { total += v; if (j < keep) part += v; });
  return total > 0 ? part / total : 0;
}
