import type { Engine } from '../engine/engine.js';
import { add, mul, sumSquares } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';

/** Global L2 norm of all gradients, read back to the host (one small readback per step). */
export async function globalNorm(engine: Engine, grads: readonly Tensor[]): Promise<number> {
  const total = engine.scope(() => grads.map((g) => sumSquares(g)).reduce((a, b) => add(a, b)));
  const v = await total.item();
  total.dispose();
  return Math.sqrt(v);
}

/** Scales gradients down so their global norm is at most maxNorm; returns the (possibly new) gradients. */
export function clipByGlobalNorm(grads: Tensor[], norm: number, maxNorm: number): Tensor[] {
  if (!(maxNorm > 0) || norm <= maxNorm) return grads;
  const scale = maxNorm / norm;
  return grads.map((g) => {
    const s = mul(g, scale);
    g.dispose();
    return s;
  });
}
