import { Rng } from '../data/rng.js';
import { InflowError } from '../engine/errors.js';

/**
 * Internal cluster-validity indices of a labelling of pixel rows (docs/geomap.md §9): the
 * within-cluster sum of squares and the elbow rule on it, the silhouette (on a seeded sample: it is
 * O(m²)), Calinski–Harabasz and Davies–Bouldin. Everything is float64 on the host; centroids are
 * the means of the labelled rows, so the numbers do not depend on how the labels were found.
 */

export interface ClusterIndices {
  /** Σ ‖x_i − c_{ℓ(i)}‖² around the label means. */
  wcss: number;
  /** Mean silhouette of the sampled rows, in [−1, 1] (NaN when the sample holds a single cluster). */
  silhouette: number;
  /** Between- over within-cluster dispersion, each per degree of freedom (higher is better). */
  calinskiHarabasz: number;
  /** Mean over clusters of the worst (s_i + s_j)/‖c_i − c_j‖ (lower is better). */
  daviesBouldin: number;
}

const bad = (msg: string): never => { throw new InflowError(`cluster indices: ${msg}`); };

function checkInput(x: ArrayLike<number>, n: number, d: number, labels: ArrayLike<number>, k: number): void {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(d) || d < 1 || x.length !== n * d) bad(`data holds ${x.length} values, not n × d = ${n} × ${d}`);
  if (labels.length !== n) bad(`${labels.length} labels for ${n} rows`);
  if (!Number.isInteger(k) || k < 1) bad(`k must be a positive integer, got ${String(k)}`);
  for (let i = 0; i < n; i++) { const l = labels[i]!; if (!(Number.isInteger(l) && l >= 0 && l < k)) bad(`label ${l} of row ${i} is outside 0…${k - 1}`); }
}

/** Label means (k × d) and counts. */
export function labelMeans(x: ArrayLike<number>, n: number, d: number, labels: ArrayLike<number>, k: number): { centroids: Float64Array; counts: Float64Array } {
  const centroids = new Float64Array(k * d), counts = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    counts[l]!++;
    for (let t = 0; t < d; t++) centroids[l * d + t]! += x[i * d + t]!;
  }
  for (let j = 0; j < k; j++) if (counts[j]! > 0) for (let t = 0; t < d; t++) centroids[j * d + t]! /= counts[j]!;
  return { centroids, counts };
}

/**
 * Calinski–Harabasz, Davies–Bouldin and the WCSS over all rows (O(n·d + k²·d)). Empty clusters do
 * not count: k_eff is the number of non-empty ones. Conventions as scikit-learn: CH is 1 when every
 * row sits on its centroid, DB ignores pairs of coinciding centroids and is 0 when all s_i are 0.
 */
export function dispersionIndices(x: ArrayLike<number>, n: number, d: number, labels: ArrayLike<number>, k: number): { wcss: number; calinskiHarabasz: number; daviesBouldin: number } {
  checkInput(x, n, d, labels, k);
  const { centroids, counts } = labelMeans(x, n, d, labels, k);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) mean[t]! += x[i * d + t]!;
  for (let t = 0; t < d; t++) mean[t]! /= n;
  let wcss = 0;
  const spread = new Float64Array(k); // Σ ‖x − c‖ (not squared) per cluster, for Davies–Bouldin
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    let s = 0;
    for (let t = 0; t < d; t++) s += (x[i * d + t]! - centroids[l * d + t]!) ** 2;
    wcss += s;
    spread[l]! += Math.sqrt(s);
  }
  const live: number[] = [];
  for (let j = 0; j < k; j++) if (counts[j]! > 0) live.push(j);
  const ke = live.length;
  let between = 0;
  for (const j of live) { let s = 0; for (let t = 0; t < d; t++) s += (centroids[j * d + t]! - mean[t]!) ** 2; between += counts[j]! * s; }
  const calinskiHarabasz = ke < 2 || n <= ke ? NaN : wcss === 0 ? 1 : (between / (ke - 1)) / (wcss / (n - ke));
  let db = 0, anySpread = false;
  for (const i of live) {
    const si = spread[i]! / counts[i]!;
    if (si > 0) anySpread = true;
    let worst = 0;
    for (const j of live) {
      if (j === i) continue;
      let m = 0;
      for (let t = 0; t < d; t++) m += (centroids[i * d + t]! - centroids[j * d + t]!) ** 2;
      if (m === 0) continue;
      worst = Math.max(worst, (si + spread[j]! / counts[j]!) / Math.sqrt(m));
    }
    db += worst;
  }
  const daviesBouldin = ke < 2 ? NaN : anySpread ? db / ke : 0;
  return { wcss, calinskiHarabasz, daviesBouldin };
}

/** At most m distinct row indices, seeded (a partial Fisher–Yates shuffle); all rows, in order, when m ≥ n. */
export function sampleIndices(n: number, m: number, seed: number): Int32Array {
  if (m >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed);
  // A sparse swap map keeps this O(m) in memory for any n.
  const swapped = new Map<number, number>(), out = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const j = i + rng.below(n - i);
    const vj = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    out[i] = vj;
  }
  return out;
}

/**
 * Mean silhouette of the given rows: for row i, a = mean distance to the other rows of its cluster,
 * b = the smallest mean distance to the rows of another cluster, s = (b − a)/max(a, b); a row alone
 * in its cluster scores 0 (scikit-learn's convention). Distances are Euclidean, among the rows given
 * only, so the cost is O(m²·d).
 */
export function silhouette(x: ArrayLike<number>, m: number, d: number, labels: ArrayLike<number>, k: number): number {
  checkInput(x, m, d, labels, k);
  const counts = new Float64Array(k);
  for (let i = 0; i < m; i++) counts[labels[i]!]!++;
  let present = 0;
  for (let j = 0; j < k; j++) if (counts[j]! > 0) present++;
  if (present < 2) return NaN;
  const sums = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < m; i++) {
    sums.fill(0);
    for (let j = 0; j < m; j++) {
      if (j === i) continue;
      let s = 0;
      for (let t = 0; t < d; t++) { const v = x[i * d + t]! - x[j * d + t]!; s += v * v; }
      sums[labels[j]!]! += Math.sqrt(s);
    }
    const own = labels[i]!;
    if (counts[own]! < 2) continue; // s = 0
    const a = sums[own]! / (counts[own]! - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && counts[c]! > 0) b = Math.min(b, sums[c]! / counts[c]!);
    const den = Math.max(a, b);
    total += den > 0 ? (b - a) / den : 0;
  }
  return total / m;
}

/** All four indices: the dispersion ones over every row, the silhouette over a seeded sample of `sample` rows. */
export function clusterIndices(x: ArrayLike<number>, n: number, d: number, labels: ArrayLike<number>, k: number, opts: { sample?: number; seed?: number } = {}): ClusterIndices {
  const sample = opts.sample ?? 2000;
  if (!Number.isInteger(sample) || sample < 2) bad(`the silhouette sample must be an integer ≥ 2, got ${String(sample)}`);
  const disp = dispersionIndices(x, n, d, labels, k);
  const pick = sampleIndices(n, sample, opts.seed ?? 0);
  const xs = new Float64Array(pick.length * d), ls = new Int32Array(pick.length);
  pick.forEach((r, i) => { ls[i] = labels[r]!; for (let t = 0; t < d; t++) xs[i * d + t] = x[r * d + t]!; });
  return { ...disp, silhouette: silhouette(xs, pick.length, d, ls, k) };
}

/**
 * The elbow of a WCSS curve over consecutive k (Kneedle's rule for a decreasing convex curve):
 * scale k and WCSS to [0, 1] over the range, and take the k whose point lies furthest below the
 * straight line from the first point to the last, i.e. the largest 1 − k̂ − ŵ. When no point lies
 * below that line (no bend at all) the smallest k is returned.
 */
export function elbowK(ks: readonly number[], wcss: readonly number[]): number {
  if (ks.length !== wcss.length || ks.length < 1) bad(`elbow needs one WCSS per k, got ${ks.length} k and ${wcss.length} values`);
  if (ks.length < 3) return ks[0]!;
  const k0 = ks[0]!, k1 = ks.at(-1)!;
  const hi = Math.max(...wcss), lo = Math.min(...wcss);
  if (!(hi > lo)) return k0;
  let best = k0, bestGap = 0;
  ks.forEach((k, i) => {
    const gap = 1 - (k - k0) / (k1 - k0) - (wcss[i]! - lo) / (hi - lo);
    if (gap > bestGap + 1e-12) { bestGap = gap; best = k; }
  });
  return best;
}
