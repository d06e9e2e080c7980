import type { Engine } from '../engine/engine.js';
import type { Param } from '../nn/param.js';
import type { Optimizer } from './optimizer.js';
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

/**
 * The one rule of every training update: a non-finite loss or gradient norm changes nothing (the
 * step is bad); otherwise the gradients are clipped to `clip` (0: off) and the optimizer steps at
 * `lr`. Takes ownership of `grads` (freed here).
 */
export async function applyGradients(params: readonly Param[], grads: Tensor[], loss: number, opts: { optimizer: Optimizer; lr: number; clip: number }): Promise<{ loss: number; gradNorm: number; applied: boolean }> {
  const engine = opts.optimizer.engine;
  const gradNorm = await globalNorm(engine, grads);
  const applied = Number.isFinite(loss) && Number.isFinite(gradNorm);
  if (!applied) {
    for (const g of grads) g.dispose();
    return { loss, gradNorm, applied };
  }
  const clipped = clipByGlobalNorm(grads, gradNorm, opts.clip);
  opts.optimizer.step(params, clipped, opts.lr);
  for (const g of clipped) g.dispose();
  return { loss, gradNorm, applied };
}
