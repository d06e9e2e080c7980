import { InflowError } from '../engine/errors.js';

/**
 * Minimum-cost assignment of the rows of a rows × cols cost matrix (row-major) to distinct columns:
 * the Hungarian method with row/column potentials (docs/geomap.md), O(n²·m) for n = min side.
 * Returns for each row its column, or −1 when there are more rows than columns and it got none.
 */
export function hungarian(cost: ArrayLike<number>, rows: number, cols: number): Int32Array {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 1 || cols < 1 || cost.length !== rows * cols)
    throw new InflowError(`hungarian: cost holds ${cost.length} values, not a ${rows} × ${cols} matrix`);
  for (let i = 0; i < cost.length; i++)
    if (!Number.isFinite(cost[i]!)) throw new InflowError(`hungarian: cost entry ${i} is ${String(cost[i])}, not a finite number`);
  // The method assigns every row of an n × m matrix with n ≤ m; a tall matrix is solved transposed.
  const flip = rows > cols;
  const n = flip ? cols : rows, m = flip ? rows : cols;
  const a = (i: number, j: number): number => (flip ? cost[j * cols + i]! : cost[i * cols + j]!);
  // 1-based arrays with a virtual column 0, as in the textbook formulation: p[j] = row matched to column j.
  const u = new Float64Array(n + 1), v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1), way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Infinity), used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity, j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = a(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) { minv[j] = cur; way[j] = j0; }
        if (minv[j]! < delta) { delta = minv[j]!; j1 = j; }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) { u[p[j]!]! += delta; v[j]! -= delta; } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    // Flip the alternating path back to the root.
    do { const j1 = way[j0]!; p[j0] = p[j1]!; j0 = j1; } while (j0 !== 0);
  }
  const out = new Int32Array(rows).fill(-1);
  for (let j = 1; j <= m; j++) {
    if (p[j] === 0) continue;
    if (flip) out[j - 1] = p[j]! - 1; else out[p[j]! - 1] = j - 1;
  }
  return out;
}

export interface MatchResult {
  /** cluster → reference class, −1 for clusters left unmatched (more clusters than classes). */
  mapping: Int32Array;
  /** Fraction of valid pixels whose matched class equals the reference. */
  accuracy: number;
  /** Per reference class: correctly labelled / pixels of that class (NaN for an absent class). */
  recall: Float64Array;
  /** classes × (classes + 1) counts: row = reference class, column = matched class, last column = unmatched cluster. */
  confusion: Float64Array;
  /** Pixels compared (neither map no-data). */
  pixels: number;
}

/**
 * Matches cluster ids to reference classes so that the most pixels agree (Hungarian method on the
 * negated contingency table), then scores the relabelled map. Pixels whose cluster or class equals
 * noData are skipped.
 */
export function matchClusters(clusters: ArrayLike<number>, reference: ArrayLike<number>, k: number, classes: number, noData: number | null = null): MatchResult {
  if (clusters.length !== reference.length)
    throw new InflowError(`match: the cluster map has ${clusters.length} pixels, the reference ${reference.length}`);
  const table = new Float64Array(k * classes);
  let pixels = 0;
  for (let i = 0; i < clusters.length; i++) {
    const c = clusters[i]!, r = reference[i]!;
    if (noData !== null && (c === noData || r === noData)) continue;
    if (!(Number.isInteger(c) && c >= 0 && c < k)) throw new InflowError(`match: cluster id ${c} at pixel ${i} is outside 0…${k - 1}`);
    if (!(Number.isInteger(r) && r >= 0 && r < classes)) throw new InflowError(`match: reference class ${r} at pixel ${i} is outside 0…${classes - 1}`);
    table[c * classes + r]!++;
    pixels++;
  }
  const mapping = hungarian(table.map((x) => -x), k, classes);
  const confusion = new Float64Array(classes * (classes + 1));
  for (let c = 0; c < k; c++) {
    const to = mapping[c]! < 0 ? classes : mapping[c]!;
    for (let r = 0; r < classes; r++) confusion[r * (classes + 1) + to]! += table[c * classes + r]!;
  }
  let correct = 0;
  const recall = new Float64Array(classes);
  for (let r = 0; r < classes; r++) {
    let support = 0;
    for (let j = 0; j <= classes; j++) support += confusion[r * (classes + 1) + j]!;
    const hit = confusion[r * (classes + 1) + r]!;
    correct += hit;
    recall[r] = support > 0 ? hit / support : NaN;
  }
  return { mapping, accuracy: pixels > 0 ? correct / pixels : NaN, recall, confusion, pixels };
}
