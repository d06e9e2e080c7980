import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subset } from '../../src/data/dataset.js';
import { mnistSplit } from '../../src/data/mnist.js';
import { Rng } from '../../src/data/rng.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { loadClassifier } from '../../src/io/classifier-file.js';
import { symmetricEigen } from '../../src/layers/linalg.js';
import { digitFeatureStats } from '../../src/models/diffusion/judge.js';
import { FeatureAccumulator, frechetDistance, type FeatureStats } from '../../src/models/frechet.js';

const stats = (mean: number[], cov: number[]): FeatureStats => ({ n: 100, dim: mean.length, mean: Float64Array.from(mean), cov: Float64Array.from(cov) });

function randomSymmetric(n: number, rng: Rng): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rng.normal();
  return a;
}

/** Q a Qᵀ for an orthogonal Q. */
function rotate(a: Float64Array, n: number, q: Float64Array): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) for (let l = 0; l < n; l++) s += q[i * n + k]! * a[k * n + l]! * q[j * n + l]!;
    out[i * n + j] = s;
  }
  return out;
}

describe('symmetricEigen', () => {
  it('reconstructs a random symmetric matrix as V diag(λ) Vᵀ with orthonormal V', () => {
    const n = 12, a = randomSymmetric(n, new Rng(3));
    const { values, vectors: v } = symmetricEigen(a, n);
    let worst = 0, worstOrtho = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0, dot = 0;
      for (let k = 0; k < n; k++) {
        s += v[i * n + k]! * values[k]! * v[j * n + k]!;
        dot += v[k * n + i]! * v[k * n + j]!;
      }
      worst = Math.max(worst, Math.abs(s - a[i * n + j]!));
      worstOrtho = Math.max(worstOrtho, Math.abs(dot - (i === j ? 1 : 0)));
    }
    expect(worst).toBeLessThan(1e-10);
    expect(worstOrtho).toBeLessThan(1e-10);
  });
});

describe('frechetDistance', () => {
  it('is 0 for identical Gaussians and ‖Δμ‖² + Σ(√a − √b)² for diagonal ones', () => {
    const a = stats([1, 2, 3], [4, 0, 0, 0, 9, 0, 0, 0, 1]);
    expect(frechetDistance(a, a)).toBeCloseTo(0, 10);
    const b = stats([0, 2, 5], [1, 0, 0, 0, 16, 0, 0, 0, 1]);
    expect(frechetDistance(a, b)).toBeCloseTo(1 + 4 + (2 - 1) ** 2 + (3 - 4) ** 2, 10);
    expect(frechetDistance(b, a)).toBeCloseTo(frechetDistance(a, b), 10);
  });

  it('does not change when both Gaussians are rotated together (non-diagonal covariances)', () => {
    const n = 5, rng = new Rng(7);
    const diagA = [1, 2, 3, 4, 5].map((v) => v * v), diagB = [2, 1, 3, 6, 0.5];
    const a = stats([0, 0, 0, 0, 0], diagA.flatMap((v, i) => diagA.map((_, j) => (i === j ? v : 0))));
    const b = stats([1, 0, 0, 0, 0], diagB.flatMap((v, i) => diagB.map((_, j) => (i === j ? v : 0))));
    const q = symmetricEigen(randomSymmetric(n, rng), n).vectors;
    const ra = stats([...a.mean], [...rotate(a.cov, n, q)]);
    const rbMean = Array.from({ length: n }, (_, i) => q[i * n]!); // Q · e₀, the rotated mean of b
    const rb = stats(rbMean, [...rotate(b.cov, n, q)]);
    expect(frechetDistance(ra, rb)).toBeCloseTo(frechetDistance(a, b), 8);
  });

  it('FeatureAccumulator streams the same mean and unbiased covariance as a direct computation', () => {
    const rng = new Rng(1), rows = Array.from({ length: 40 }, () => [rng.normal(), 2 * rng.normal() + 1]);
    const acc = new FeatureAccumulator(2);
    acc.add(rows.slice(0, 15).flat());
    acc.add(rows.slice(15).flat());
    const s = acc.stats();
    const m = [0, 1].map((k) => rows.reduce((t, r) => t + r[k]!, 0) / 40);
    const c01 = rows.reduce((t, r) => t + (r[0]! - m[0]!) * (r[1]! - m[1]!), 0) / 39;
    expect(s.mean[0]).toBeCloseTo(m[0]!, 12);
    expect(s.mean[1]).toBeCloseTo(m[1]!, 12);
    expect(s.cov[1]).toBeCloseTo(c01, 10);
    expect(s.cov[2]).toBe(s.cov[1]);
    expect(() => acc.add([1, 2, 3])).toThrow(/whole rows of 2/);
  });
});

describe('FID proxy in the digit classifier feature space', () => {
  let engine: Engine;
  beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
  afterAll(() => engine.dispose());

  it('training digits are close to the held-out digits; uniform noise is far', async () => {
    const { model: classifier } = loadClassifier(new URL('../../models/mnist-classifier.safetensors', import.meta.url).pathname, engine);
    const { train, test } = mnistSplit();
    const idx = [...Array(300).keys()];
    const held = await digitFeatureStats(classifier, subset(test, idx));
    const real = await digitFeatureStats(classifier, subset(train, idx));
    const rng = new Rng(0);
    const noise = { ...subset(train, idx), images: Uint8Array.from({ length: 300 * 784 }, () => Math.floor(rng.uniform() * 256)) };
    const noisy = await digitFeatureStats(classifier, noise);
    const fReal = frechetDistance(real, held), fNoise = frechetDistance(noisy, held);
    console.log(`FID proxy vs 300 held-out digits: 300 training digits ${fReal.toFixed(3)}, uniform noise ${fNoise.toFixed(3)}`);
    expect(held.dim).toBe(32);
    expect(fNoise).toBeGreaterThan(10 * fReal);
    classifier.dispose();
  });
});
