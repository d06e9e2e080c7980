import { checkSeed, Rng } from '../data/rng.js';
import { fail } from '../engine/errors.js';
import { entropy } from './entropy.js';
import { checkPoolProbs, type CheckedProbs, type PoolProbs } from './pool-probs.js';

/*
 * Joint entropy of the labels of a batch under the MC mixture (docs/active-learning.md §3):
 * p(y_1…y_n) = (1/K) Σ_k Π_i p_k(y_i | x_i), where pass k is one weight sample (consistent MC
 * dropout). Two ways to get H(y_1…y_n), both built one item at a time because greedy BatchBALD
 * adds one item per step and scores every candidate against the batch so far.
 */

/**
 * Exact: the table P[y][k] = Π_i p_k(y_i) over all C^n label configurations y of the batch. A
 * candidate's joint entropy sums over the C^(n+1) configurations it makes; cost C^n·K·C per candidate.
 */
export class ExactJoint {
  /** [configurations × K]; starts as the one empty configuration with product 1. */
  private table: Float64Array;
  configurations = 1;

  constructor(private readonly t: CheckedProbs) {
    this.table = new Float64Array(t.K).fill(1);
  }

  /** H(batch ∪ {j}). */
  entropyWith(j: number): number {
    const { K, N, C, p } = this.t, P = this.table;
    let h = 0;
    for (let y = 0; y < this.configurations; y++)
      for (let c = 0; c < C; c++) {
        let q = 0;
        for (let k = 0; k < K; k++) q += P[y * K + k]! * p[(k * N + j) * C + c]!;
        q /= K;
        if (q > 0) h -= q * Math.log(q);
      }
    return h;
  }

  /** Adds item j: every configuration splits into C, one per label of j. */
  add(j: number): void {
    const { K, N, C, p } = this.t, P = this.table;
    const next = new Float64Array(this.configurations * C * K);
    for (let y = 0; y < this.configurations; y++)
      for (let c = 0; c < C; c++)
        for (let k = 0; k < K; k++) next[(y * C + c) * K + k] = P[y * K + k]! * p[(k * N + j) * C + c]!;
    this.table = next;
    this.configurations *= C;
  }
}

/**
 * Sampled (the paper's importance sampling): M label configurations ŷ_m of the batch drawn from the
 * mixture itself (a weight sample k_m uniformly, then each label from p_{k_m}), kept with their
 * log-products L[m][k] = Σ_i log p_k(ŷ_m,i). For a candidate j, summing its label exactly,
 *   H(batch ∪ {j}) = H(batch) + H(y_j | batch) ≈ −(1/M) Σ_m log p(ŷ_m) + (1/M) Σ_m H[q_m],
 * q_m(c) = Σ_k w_mk p_k(c | x_j), w_mk = P_k(ŷ_m) / Σ_k' P_k'(ŷ_m): the posterior over weight
 * samples given ŷ_m. Weights are normalised per row in the log domain, so nothing underflows
 * however long the batch; cost M·K·C per candidate.
 */
export class SampledJoint {
  private readonly logs: Float64Array;
  private readonly weights: Float64Array;
  private readonly source: Int32Array;

  constructor(private readonly t: CheckedProbs, readonly samples: number, private readonly rng: Rng, batch: readonly number[] = []) {
    if (!Number.isSafeInteger(samples) || samples < 1) fail('SampledJoint', `samples = ${samples} must be a positive integer`);
    this.logs = new Float64Array(samples * t.K);
    this.weights = new Float64Array(samples * t.K);
    this.source = Int32Array.from({ length: samples }, () => rng.below(t.K));
    for (const i of batch) this.extend(i);
    this.normalise();
  }

  /** −(1/M) Σ_m log p(ŷ_m): the plain Monte-Carlo estimate of the batch's own joint entropy. */
  batchEntropy(): number {
    const { K } = this.t;
    let h = 0;
    for (let m = 0; m < this.samples; m++) h -= logSumExp(this.logs, m * K, K) - Math.log(K);
    return h / this.samples;
  }

  /** (1/M) Σ_m H[q_m]: the estimate of H(y_j | batch). */
  conditionalEntropy(j: number): number {
    const { K, N, C, p } = this.t, W = this.weights;
    const q = new Float64Array(C);
    let h = 0;
    for (let m = 0; m < this.samples; m++) {
      q.fill(0);
      for (let k = 0; k < K; k++) {
        const w = W[m * K + k]!;
        if (w === 0) continue;
        const o = (k * N + j) * C;
        for (let c = 0; c < C; c++) q[c]! += w * p[o + c]!;
      }
      h += entropy(q);
    }
    return h / this.samples;
  }

  /** Adds item j to the batch: each sample draws j's label from its own weight sample. */
  add(j: number): void {
    this.extend(j);
    this.normalise();
  }

  private extend(j: number): void {
    const { K, N, C, p } = this.t;
    for (let m = 0; m < this.samples; m++) {
      const c = drawClass(p, (this.source[m]! * N + j) * C, C, this.rng);
      for (let k = 0; k < K; k++) this.logs[m * K + k]! += Math.log(p[(k * N + j) * C + c]!);
    }
  }

  private normalise(): void {
    const { K } = this.t;
    for (let m = 0; m < this.samples; m++) {
      const lse = logSumExp(this.logs, m * K, K);
      for (let k = 0; k < K; k++) this.weights[m * K + k] = Math.exp(this.logs[m * K + k]! - lse);
    }
  }
}

/** log Σ exp over a[from … from + n), safe for −∞ entries (a weight sample that gives a drawn label probability 0). */
function logSumExp(a: Float64Array, from: number, n: number): number {
  let max = -Infinity;
  for (let i = from; i < from + n; i++) if (a[i]! > max) max = a[i]!;
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let i = from; i < from + n; i++) s += Math.exp(a[i]! - max);
  return max + Math.log(s);
}

/** A class drawn from p[from … from + C); never one of probability 0. */
function drawClass(p: Float64Array, from: number, C: number, rng: Rng): number {
  let total = 0;
  for (let c = 0; c < C; c++) total += p[from + c]!;
  const u = rng.uniform() * total;
  let cum = 0, last = 0;
  for (let c = 0; c < C; c++) {
    const v = p[from + c]!;
    if (v <= 0) continue;
    cum += v;
    last = c;
    if (u < cum) return c;
  }
  return last;
}

function checkIndices(op: string, indices: readonly number[], N: number): void {
  if (!Array.isArray(indices) || indices.length === 0) fail(op, 'indices must be a non-empty list of pool positions');
  for (const i of indices) if (!Number.isSafeInteger(i) || i < 0 || i >= N) fail(op, `index ${String(i)} is not a position in the pool of ${N}`);
}

/** H(y_i for i in indices), summed over all C^n configurations. For small batches and tests. */
export function exactJointEntropy(pool: PoolProbs, indices: readonly number[]): number {
  const t = checkPoolProbs('exactJointEntropy', pool);
  checkIndices('exactJointEntropy', indices, t.N);
  const joint = new ExactJoint(t);
  for (const i of indices.slice(0, -1)) joint.add(i);
  return joint.entropyWith(indices.at(-1)!);
}

/** The sampled estimate of the same (the last item's label summed exactly, the others sampled `samples` times); deterministic given the seed. */
export function sampledJointEntropy(pool: PoolProbs, indices: readonly number[], samples: number, seed: number): number {
  const t = checkPoolProbs('sampledJointEntropy', pool);
  checkIndices('sampledJointEntropy', indices, t.N);
  const joint = new SampledJoint(t, samples, new Rng(checkSeed('sampledJointEntropy', seed)), indices.slice(0, -1));
  return joint.batchEntropy() + joint.conditionalEntropy(indices.at(-1)!);
}
