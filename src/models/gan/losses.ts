import { fail, shapeStr } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { oneHot } from '../../layers/util.js';
import { add, max, mean, mul, neg, relu, sub, sum } from '../../ops/index.js';

/** Plain hinge, discriminator (docs/gan.md §5): E[relu(1 − D(x))] + E[relu(1 + D(G(z)))], D the [N] scores. */
export const hingeDiscriminatorLoss = (real: Tensor, fake: Tensor): Tensor =>
  add(mean(relu(add(neg(real), 1))), mean(relu(add(fake, 1))));

/** Plain hinge, generator: −E[D(G(z))]. */
export const hingeGeneratorLoss = (fake: Tensor): Tensor => neg(mean(fake));

/**
 * Crammer–Singer multi-class hinge (docs/gan.md §5): mean over rows of
 * relu(1 + max_{k≠y} l_k − l_y) for logits l [N, M] and targets y in 0…M−1.
 */
export function crammerSingerLoss(logits: Tensor, targets: ArrayLike<number>): Tensor {
  const [n, m] = logits.shape as [number, number];
  if (logits.rank !== 2 || m < 2) fail('crammerSingerLoss', `logits ${shapeStr(logits.shape)} must be [N, M] with M ≥ 2`);
  if (targets.length !== n) fail('crammerSingerLoss', `${targets.length} targets for ${n} rows`);
  for (let i = 0; i < n; i++) {
    const y = targets[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= m) fail('crammerSingerLoss', `target ${y} at position ${i} is not a class 0…${m - 1}`);
  }
  const mask = oneHot(logits.engine, targets, m);
  const right = sum(mul(logits, mask), [1]);
  // The target's own logit is pushed far below every other before the max, so it never wins it.
  const wrong = max(sub(logits, mul(mask, 1e9)), [1]);
  return mean(relu(add(sub(wrong, right), 1)));
}

/** Multi-hinge, discriminator: real images to their class, fakes to the "fake" class K (the last logit). */
export function multiHingeDiscriminatorLoss(realLogits: Tensor, labels: ArrayLike<number>, fakeLogits: Tensor): Tensor {
  const fakeClass = fakeLogits.shape[1]! - 1;
  return add(crammerSingerLoss(realLogits, labels), crammerSingerLoss(fakeLogits, Array.from({ length: fakeLogits.shape[0]! }, () => fakeClass)));
}

/** Multi-hinge, generator: each fake to the class it was made for, above every other class and "fake". */
export const multiHingeGeneratorLoss = (fakeLogits: Tensor, labels: ArrayLike<number>): Tensor => crammerSingerLoss(fakeLogits, labels);

