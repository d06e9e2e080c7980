import type { Engine } from '../engine/engine.js';
import { add, affine, log, sigmoid, sub, sum } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { FlowLayer, type EncodeResult } from './layer.js';
import { Rng } from '../data/rng.js';
import { expectImage } from './util.js';

export interface PreprocessConfig { kind: 'preprocess'; alpha: number; levels: number }

/**
 * Dequantised pixels x ∈ [0, 256) → logit space (docs/flows.md §14): p = (x/256 + α)(1 − 2α), y = ln p − ln(1 − p).
 * log-det = D·(ln(1 − 2α) − ln 256) + Σ(−ln p − ln(1 − p)). Uniform dequantisation (log q = 0) is
 * `dequantize`, separate so encode stays deterministic.
 */
export class Preprocess extends FlowLayer {
  readonly config: PreprocessConfig;

  constructor(engine: Engine, config: { alpha?: number; levels?: number } = {}) {
    super(engine);
    this.config = { kind: 'preprocess', alpha: config.alpha ?? 1e-6, levels: config.levels ?? 256 };
  }

  encode(x: Tensor): EncodeResult {
    const [, C, H, W] = expectImage('Preprocess', x);
    const { alpha: a, levels } = this.config;
    const p = affine(x, (1 - 2 * a) / levels, a * (1 - 2 * a));
    const lp = log(p), l1p = log(affine(p, -1, 1));
    const D = C * H * W;
    const logdet = affine(sum(add(lp, l1p), [1, 2, 3]), -1, D * (Math.log(1 - 2 * a) - Math.log(levels)));
    return { y: sub(lp, l1p), logdet };
  }

  decode(y: Tensor): Tensor {
    expectImage('Preprocess', y);
    const { alpha: a, levels } = this.config;
    return affine(sigmoid(y), levels / (1 - 2 * a), -a * levels);
  }
}

/** x + u, u ~ U[0, 1)^D from the seeded host RNG (the same noise on every backend). */
export function dequantize(x: Tensor, seed = 0): Tensor {
  return add(x, x.engine.tensor(new Rng(seed).uniforms(x.size, 0, 1), x.shape));
}
