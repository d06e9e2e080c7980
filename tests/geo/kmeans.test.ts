import { kmeans as mlKmeans } from 'ml-kmeans';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { kmeans } from '../../src/geo/kmeans.js';
import { rng } from '../helpers/random.js';

let ref: Engine, wasm: Engine;
beforeAll(async () => {
  ref = await createEngine({ backend: 'reference' });
  wasm = await createEngine({ backend: 'wasm', threads: 1 });
});
afterAll(() => { ref?.dispose(); wasm?.dispose(); });

/** n rows around k random centres; spread sets how much the blobs overlap. */
function blobs(n: number, d: number, k: number, spread: number, seed: number): { x: Float32Array; truth: Int32Array } {
  const r = rng(seed), centres = Array.from({ length: k * d }, () => 10 * r() - 5);
  const x = new Float32Array(n * d), truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(r() * k);
    truth[i] = c;
    for (let t = 0; t < d; t++) x[i * d + t] = centres[c * d + t]! + spread * (r() + r() + r() - 1.5) + 3;
  }
  return { x, truth };
}

const rows = (x: Float32Array, d: number): number[][] => Array.from({ length: x.length / d }, (_, i) => Array.from(x.subarray(i * d, i * d + d)));

describe('kmeans', () => {
  for (const name of ['reference', 'wasm'] as const) {
    it(`matches ml-kmeans from the same initial centroids (${name})`, async () => {
      const n = 800, d = 5, k = 4;
      const { x } = blobs(n, d, k, 4, 11);
      // Overlapping blobs and poor starts (the first k rows) make Lloyd take several steps.
      const init = rows(x.slice(0, k * d), d);
      const oracle = mlKmeans(rows(x, d), k, { initialization: init.map((r) => [...r]), maxIterations: 100, tolerance: 1e-6 });
      const engine = name === 'reference' ? ref : wasm;
      const ours = await kmeans(engine, x, n, d, { k, initialCentroids: init.flat(), chunk: 97 });
      expect(oracle.iterations).toBeGreaterThan(3);
      expect(ours.iterations).toBe(oracle.iterations);
      expect(ours.converged).toBe(oracle.converged);
      expect(Array.from(ours.labels)).toEqual(oracle.clusters);
      for (let j = 0; j < k; j++)
        for (let t = 0; t < d; t++) expect(Math.abs(ours.centroids[j * d + t]! - oracle.centroids[j]![t]!)).toBeLessThan(1e-4);
    });
  }

  it('gives the same result for any chunk size and is reproducible from its seed', async () => {
    const { x } = blobs(500, 4, 3, 2, 5);
    const a = await kmeans(wasm, x, 500, 4, { k: 3, seed: 7, chunk: 13 });
    const b = await kmeans(wasm, x, 500, 4, { k: 3, seed: 7, chunk: 100000 });
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(a.inertia).toBeCloseTo(b.inertia, 6);
  });

  it('k-means++ with restarts recovers well-separated blobs', async () => {
    const n = 600, d = 3, k = 5;
    const { x, truth } = blobs(n, d, k, 0.3, 21);
    const res = await kmeans(ref, x, n, d, { k, seed: 1, restarts: 3 });
    // Same partition as the truth: each cluster is exactly one true blob.
    const pairs = new Set<string>();
    for (let i = 0; i < n; i++) pairs.add(`${res.labels[i]}:${truth[i]}`);
    expect(pairs.size).toBe(k);
    // The inertia is the sum of squared distances to the returned centroids.
    let inertia = 0;
    for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) inertia += (x[i * d + t]! - res.centroids[res.labels[i]! * d + t]!) ** 2;
    expect(res.inertia).toBeCloseTo(inertia, 3);
  });

  it('refuses bad arguments in one line', async () => {
    const x = new Float32Array(20);
    await expect(kmeans(ref, x, 10, 2, { k: 1 })).rejects.toThrow(/^kmeans: k must be an integer ≥ 2, got 1$/);
    await expect(kmeans(ref, x, 10, 2, { k: 11 })).rejects.toThrow(/^kmeans: k = 11 exceeds the 10 rows$/);
    await expect(kmeans(ref, x, 10, 3, { k: 2 })).rejects.toThrow(/^kmeans: data holds 20 values, not n × d = 10 × 3$/);
    await expect(kmeans(ref, x, 10, 2, { k: 2, initialCentroids: [1, 2, 3] })).rejects.toThrow(/initialCentroids holds 3 values, not k × d = 2 × 2$/);
    await expect(kmeans(ref, x, 10, 2, { k: 2, tolerance: -1 })).rejects.toThrow(/^kmeans: tolerance must be a number ≥ 0, got -1$/);
  });
});
