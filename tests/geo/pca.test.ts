import { PCA } from 'ml-pca';
import { describe, expect, it } from 'vitest';
import { explainedFraction, fitPca, projectPca } from '../../src/geo/pca.js';
import { rng } from '../helpers/random.js';

/** Correlated rows: latent factors of decreasing scale mixed by a random matrix, bands of unequal units. */
function correlated(n: number, d: number, seed: number): Float32Array {
  const r = rng(seed), mix = Array.from({ length: d * d }, () => r() * 2 - 1);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: d }, (_, j) => (r() + r() + r() - 1.5) * 4 / (j + 1));
    for (let t = 0; t < d; t++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += z[j]! * mix[j * d + t]!;
      x[i * d + t] = s * (t + 1) * 100 + 1000 * t;
    }
  }
  return x;
}
const rows = (x: Float32Array, d: number): number[][] => Array.from({ length: x.length / d }, (_, i) => Array.from(x.subarray(i * d, i * d + d)));

describe('pca', () => {
  for (const standardize of [true, false]) {
    for (const method of ['SVD', 'covarianceMatrix'] as const) {
      it(`matches ml-pca (${method}, ${standardize ? 'standardised' : 'centred'}) up to a sign per component`, () => {
        const n = 400, d = 6, x = correlated(n, d, standardize ? 3 : 4);
        const oracle = new PCA(rows(x, d), { method, center: true, scale: standardize });
        const ours = fitPca(x, n, d, { standardize });
        const values = oracle.getEigenvalues(), vectors = oracle.getEigenvectors();
        const scores = oracle.predict(rows(x, d)), mine = projectPca(ours, x, n);
        for (let j = 0; j < d; j++) {
          expect(Math.abs(ours.variances[j]! - values[j]!) / Math.max(1, Math.abs(values[j]!))).toBeLessThan(1e-4);
          const sign = Math.sign(ours.components[j * d]! * vectors.get(0, j)) || 1;
          for (let t = 0; t < d; t++) expect(Math.abs(ours.components[j * d + t]! - sign * vectors.get(t, j))).toBeLessThan(1e-4);
          // Scores carry the data's units, so compare relative to the component's spread.
          const spread = Math.sqrt(values[j]!);
          for (let i = 0; i < n; i += 37) expect(Math.abs(mine[i * d + j]! - sign * scores.get(i, j)) / spread).toBeLessThan(1e-4);
        }
        const explained = oracle.getExplainedVariance();
        expect(explainedFraction(ours, 2)).toBeCloseTo(explained[0]! + explained[1]!, 6);
      });
    }
  }

  it('keeps the requested number of components and refuses bad shapes in one line', () => {
    const x = correlated(50, 4, 9), model = fitPca(x, 50, 4);
    expect(projectPca(model, x, 50, 2).length).toBe(100);
    expect(() => projectPca(model, x, 50, 5)).toThrow(/^pca: components to keep must be an integer in 1…4, got 5$/);
    expect(() => fitPca(x, 50, 3)).toThrow(/^pca: data holds 200 values, not n × d = 50 × 3$/);
    expect(() => fitPca(new Float32Array(4), 1, 4)).toThrow(/^pca: needs at least 2 rows, got 1$/);
  });
});
