import type { Tensor } from '../../engine/tensor.js';
import { dropout, mul } from '../../ops/index.js';
import { Dropout } from '../../nn/dropout.js';

/**
 * Dropout that a caller can keep on in evaluation mode (Monte-Carlo dropout: each pass a different
 * mask, so the spread of the passes' predictions estimates the model's uncertainty). Only an
 * explicit `mc` turns it on outside training: eval-mode predictions stay deterministic. A Dropout
 * subclass, so training checkpoints keep its call count like any other dropout's.
 */
export class McDropout extends Dropout {
  forwardMc(x: Tensor, mc: boolean): Tensor {
    if (this.training || !mc || this.p === 0) return this.forward(x);
    return dropout(x, this.p, { seed: this.seed + this.calls++ });
  }

  /**
   * One Monte-Carlo pass whose mask is drawn once for a single row and shared by every row of x
   * (consistent MC dropout): dropping features in front of a linear layer with one mask is one
   * sample of thinned weights, so every image of the pass sees the same network, and the same
   * `maskSeed` gives the same network on every call (a pool scored in chunks). BatchBALD's joint
   * probabilities need exactly that; per-row masks would make pool images independent.
   */
  forwardShared(x: Tensor, maskSeed: number): Tensor {
    if (this.training || this.p === 0) return this.forward(x);
    const row = x.shape.slice(1);
    const ones = this.engine.tensor(new Float32Array(x.size / x.shape[0]!).fill(1), [1, ...row]);
    return mul(x, dropout(ones, this.p, { seed: maskSeed }));
  }
}
