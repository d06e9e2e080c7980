import type { Tensor } from '../../engine/tensor.js';
import { dropout } from '../../ops/index.js';
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
}
