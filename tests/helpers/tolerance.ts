import type { BackendName } from '../../src/backends/backend.js';

/**
 * The one tolerance table for every parity test: |got − want| ≤ abs + rel·|want|.
 * The reference backend computes in float64, so it is held to float64 accuracy.
 */
export const tolerance: Record<BackendName, { abs: number; rel: number }> = {
  reference: { abs: 1e-9, rel: 1e-9 },
  wasm: { abs: 1e-4, rel: 1e-4 },
  webgpu: { abs: 1e-3, rel: 1e-3 },
};

/** Largest violation of the tolerance, with where it happened; null when all values pass. */
export function worstMismatch(got: ArrayLike<number>, want: ArrayLike<number>, tol: { abs: number; rel: number }):
  { index: number; got: number; want: number } | null {
  if (got.length !== want.length) return { index: -1, got: got.length, want: want.length };
  let worst: { index: number; got: number; want: number; excess: number } | null = null;
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    const excess = Math.abs(g - w) - (tol.abs + tol.rel * Math.abs(w));
    if (!(excess <= 0) && (!worst || !(excess <= worst.excess))) worst = { index: i, got: g, want: w, excess };
  }
  return worst && { index: worst.index, got: worst.got, want: worst.want };
}
