import type { CheckedProbs } from './pool-probs.js';

/** Shannon entropy in nats, −Σ p log p, with 0 log 0 = 0. */
export function entropy(p: ArrayLike<number>, from = 0, count = p.length - from): number {
  let h = 0;
  for (let c = from; c < from + count; c++) {
    const v = p[c]!;
    if (v > 0) h -= v * Math.log(v);
  }
  return h;
}

/** Per item: the entropy of the mean prediction, H[(1/K) Σ_k p_k] (total uncertainty). */
export function meanEntropies({ K, N, C, p }: CheckedProbs): Float64Array {
  const out = new Float64Array(N), mean = new Float64Array(C);
  for (let i = 0; i < N; i++) {
    mean.fill(0);
    for (let k = 0; k < K; k++) for (let c = 0; c < C; c++) mean[c]! += p[(k * N + i) * C + c]! / K;
    out[i] = entropy(mean);
  }
  return out;
}

/** Per item: the expected entropy under the weights, (1/K) Σ_k H[p_k] (the noise no label can explain away). */
export function expectedEntropies({ K, N, C, p }: CheckedProbs): Float64Array {
  const out = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let h = 0;
    for (let k = 0; k < K; k++) h += entropy(p, (k * N + i) * C, C);
    out[i] = h / K;
  }
  return out;
}
