import type { Engine } from '../engine/engine.js';
import { fail, shapeStr } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { logSoftmax, mean, mul, sum } from '../ops/index.js';
import { checkTensorArg, ValueChecks } from './guards.js';

/** What the image classifiers (the digit classifier, the seed classifiers) share for their public calls. */
export interface ClassifierShape {
  readonly engine: Engine;
  readonly config: { readonly inputShape: readonly number[]; readonly classes: number };
}

/**
 * The pixels checked (a tensor of the input shape, finite values in [0, 256]: see ValueChecks for
 * when on each backend), fn run in a scope so only its result stays alive, the result refused if
 * the weights made it non-finite (outside training, whose loop guards non-finite steps itself).
 * No [0, 1] heuristic: a batch of black samples from a generator is legitimate input to judge.
 */
export function checkedCall(c: ClassifierShape, where: string, pixels: Tensor, what: string, fn: (x: Tensor) => Tensor): Tensor {
  const x = checkTensorArg(where, 'pixels', pixels);
  const want = c.config.inputShape;
  if (x.rank !== 4 || want.some((d, i) => x.shape[i + 1] !== d))
    fail(where, `input ${shapeStr(x.shape)} does not match the classifier's [N, ${want.join(', ')}]`);
  return c.engine.scope(() => {
    const checks = new ValueChecks(where);
    checks.pixels(x, 'pixels');
    const out = fn(x);
    checks.output(out, what);
    return out;
  });
}

/** The one-hot labels checked against the batch; then the mean cross-entropy −mean Σ y · log softmax(logits). */
export function oneHotTarget(c: ClassifierShape, where: string, pixels: Tensor, oneHot: Tensor): Tensor {
  const y = checkTensorArg(where, 'oneHot', oneHot);
  const n = (pixels as Tensor | undefined)?.shape?.[0];
  if (y.rank !== 2 || y.shape[0] !== n || y.shape[1] !== c.config.classes)
    fail(where, `oneHot ${shapeStr(y.shape)} must be [${n ?? 'N'}, ${c.config.classes}]: one row per image`);
  return y;
}

export const crossEntropy = (logits: Tensor, oneHot: Tensor): Tensor => mul(mean(sum(mul(logSoftmax(logits, 1), oneHot), [1])), -1);
