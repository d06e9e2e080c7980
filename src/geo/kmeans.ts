import { Rng } from '../data/rng.js';
import type { Engine } from '../engine/engine.js';
import { InflowError } from '../engine/errors.js';
import { matmul } from '../ops/matmul.js';

/**
 * k-means on the engine (docs/geomap.md): k-means++ seeding, then Lloyd iterations whose assignment
 * step — the n × k distance matrix, the only O(n·k·d) part — is one engine matmul per chunk of rows.
 * Centroid updates, inertia and convergence are float64 on the host, so they do not depend on the
 * backend; only the argmin sees float32 dot products.
 */

export interface KMeansOptions {
  k: number;
  seed?: number;
  /** Independent k-means++ starts; the one with the lowest inertia wins (default 4). */
  restarts?: number;
  maxIterations?: number;
  /** Stop when no centroid moved by more than this squared distance (default 1e-6, as ml-kmeans). */
  tolerance?: number;
  /** Rows per engine matmul: bounds the device memory to chunk × (d + k) floats (default 65 536). */
  chunk?: number;
  /** k-means++ draws its seeds from a random subset of at most this many rows (default 262 144). */
  initSample?: number;
  /** Start from these centroids (k × d, row-major) instead of k-means++; restarts are then 1. */
  initialCentroids?: ArrayLike<number>;
  onIteration?: (info: { restart: number; iteration: number; inertia: number }) => void;
}

export interface KMeansResult {
  /** k × d, row-major. */
  centroids: Float64Array;
  labels: Int32Array;
  /** Sum over rows of the squared distance to their centroid. */
  inertia: number;
  iterations: number;
  converged: boolean;
}

const bad = (msg: string): never => { throw new InflowError(`kmeans: ${msg}`); };

function checkInt(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) bad(`${name} must be an integer ≥ ${min}, got ${String(v)}`);
  return v as number;
}

/** Column means: distances do not change under translation, and centred data keeps ‖x‖² − 2x·c + ‖c‖² from cancelling in float32. */
function columnMeans(x: Float32Array, n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= n;
  return mean;
}

export interface Assignment {
  labels: Int32Array;
  inertia: number;
  /** Per-cluster sums of rows (k × d) and counts: the next centroids without another pass. */
  sums: Float64Array;
  counts: Float64Array;
}

/**
 * Nearest centroid for every row. Per chunk the engine computes X·Cᵀ; the argmin over j of
 * ‖c_j‖² − 2 x·c_j needs no ‖x‖², which only enters the inertia (computed exactly in float64).
 */
export async function assignClusters(engine: Engine, x: Float32Array, n: number, d: number, centroids: Float64Array, chunk = 65536, labels: Int32Array = new Int32Array(n)): Promise<Assignment> {
  const k = centroids.length / d;
  const mean = columnMeans(x, Math.min(n, 65536), d);
  const c = new Float32Array(k * d), cNorm = new Float64Array(k);
  for (let j = 0; j < k; j++)
    for (let t = 0; t < d; t++) { const v = Math.fround(centroids[j * d + t]! - mean[t]!); c[j * d + t] = v; cNorm[j]! += v * v; }
  const sums = new Float64Array(k * d), counts = new Float64Array(k);
  let inertia = 0;
  const cT = engine.tensor(c, [k, d]);
  const buf = new Float32Array(Math.min(chunk, n) * d);
  try {
    for (let r0 = 0; r0 < n; r0 += chunk) {
      const m = Math.min(chunk, n - r0);
      for (let i = 0; i < m * d; i++) buf[i] = x[r0 * d + i]! - mean[i % d]!;
      const xt = engine.tensor(m * d === buf.length ? buf : buf.subarray(0, m * d), [m, d]);
      const prod = matmul(xt, cT, { transposeB: true });
      xt.dispose();
      const dots = await prod.data();
      prod.dispose();
      for (let i = 0; i < m; i++) {
        let best = 0, bestScore = Infinity;
        for (let j = 0; j < k; j++) {
          const s = cNorm[j]! - 2 * dots[i * k + j]!;
          if (s < bestScore) { bestScore = s; best = j; }
        }
        const row = (r0 + i) * d;
        labels[r0 + i] = best;
        counts[best]!++;
        let dist = 0;
        for (let t = 0; t < d; t++) {
          const v = x[row + t]!;
          sums[best * d + t]! += v;
          const diff = v - centroids[best * d + t]!;
          dist += diff * diff;
        }
        inertia += dist;
      }
    }
  } finally {
    cT.dispose();
  }
  return { labels, inertia, sums, counts };
}

/** k-means++ (Arthur & Vassilvitskii): each next seed is drawn with probability ∝ squared distance to the nearest seed so far. */
export function kmeansPlusPlus(x: Float32Array, n: number, d: number, k: number, rng: Rng): Float64Array {
  const centroids = new Float64Array(k * d);
  const dist = new Float64Array(n).fill(Infinity);
  let pick = Math.floor(rng.uniform() * n);
  for (let j = 0; j < k; j++) {
    for (let t = 0; t < d; t++) centroids[j * d + t] = x[pick * d + t]!;
    let total = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let t = 0; t < d; t++) { const v = x[i * d + t]! - centroids[j * d + t]!; s += v * v; }
      if (s < dist[i]!) dist[i] = s;
      total += dist[i]!;
    }
    if (j === k - 1) break;
    if (total === 0) { pick = Math.floor(rng.uniform() * n); continue; } // every row is a seed already
    let u = rng.uniform() * total;
    pick = n - 1;
    for (let i = 0; i < n; i++) { u -= dist[i]!; if (u < 0) { pick = i; break; } }
  }
  return centroids;
}

function sampleRows(x: Float32Array, n: number, d: number, m: number, rng: Rng): Float32Array {
  if (m >= n) return x;
  const out = new Float32Array(m * d);
  for (let i = 0; i < m; i++) {
    const r = Math.floor(rng.uniform() * n);
    out.set(x.subarray(r * d, r * d + d), i * d);
  }
  return out;
}

async function lloyd(engine: Engine, x: Float32Array, n: number, d: number, start: Float64Array, o: Required<Pick<KMeansOptions, 'maxIterations' | 'tolerance' | 'chunk'>>, report: (it: number, inertia: number) => void): Promise<KMeansResult> {
  const k = start.length / d;
  let centroids = start, converged = false, iterations = 0;
  let a: Assignment = { labels: new Int32Array(n), inertia: Infinity, sums: new Float64Array(0), counts: new Float64Array(0) };
  while (!converged && iterations < o.maxIterations) {
    a = await assignClusters(engine, x, n, d, centroids, o.chunk, a.labels);
    iterations++;
    const next = new Float64Array(k * d);
    let moved = 0;
    for (let j = 0; j < k; j++) {
      let shift = 0;
      for (let t = 0; t < d; t++) {
        // An emptied cluster keeps its centroid, as ml-kmeans does.
        const v = a.counts[j]! > 0 ? a.sums[j * d + t]! / a.counts[j]! : centroids[j * d + t]!;
        next[j * d + t] = v;
        shift += (v - centroids[j * d + t]!) ** 2;
      }
      moved = Math.max(moved, shift);
    }
    converged = moved <= o.tolerance;
    centroids = next;
    report(iterations, a.inertia);
  }
  // The labels and inertia belong to the centroids before the last update; when converged the two differ by at most the tolerance.
  return { centroids, labels: a.labels, inertia: a.inertia, iterations, converged };
}

/** Clusters n rows of d values (row-major float32). */
export async function kmeans(engine: Engine, x: Float32Array, n: number, d: number, opts: KMeansOptions): Promise<KMeansResult> {
  checkInt('n', n, 1);
  checkInt('d', d, 1);
  if (x.length !== n * d) bad(`data holds ${x.length} values, not n × d = ${n} × ${d}`);
  const k = checkInt('k', opts.k, 2);
  if (k > n) bad(`k = ${k} exceeds the ${n} rows`);
  const restarts = checkInt('restarts', opts.restarts ?? 4, 1);
  const maxIterations = checkInt('maxIterations', opts.maxIterations ?? 100, 1);
  const chunk = checkInt('chunk', opts.chunk ?? 65536, 1);
  const initSample = checkInt('initSample', opts.initSample ?? 262144, k);
  const tolerance = opts.tolerance ?? 1e-6;
  if (typeof tolerance !== 'number' || !(tolerance >= 0)) bad(`tolerance must be a number ≥ 0, got ${String(tolerance)}`);
  const seed = checkInt('seed', opts.seed ?? 0, 0);
  const o = { maxIterations, tolerance, chunk };
  if (opts.initialCentroids !== undefined) {
    if (opts.initialCentroids.length !== k * d) bad(`initialCentroids holds ${opts.initialCentroids.length} values, not k × d = ${k} × ${d}`);
    return lloyd(engine, x, n, d, Float64Array.from(opts.initialCentroids), o, (iteration, inertia) => opts.onIteration?.({ restart: 0, iteration, inertia }));
  }
  const rng = new Rng(seed);
  let best: KMeansResult | null = null;
  for (let r = 0; r < restarts; r++) {
    const sample = sampleRows(x, n, d, initSample, rng);
    const start = kmeansPlusPlus(sample, sample.length / d, d, k, rng);
    const res = await lloyd(engine, x, n, d, start, o, (iteration, inertia) => opts.onIteration?.({ restart: r, iteration, inertia }));
    if (!best || res.inertia < best.inertia) best = res;
  }
  return best!;
}
