import type { Engine } from '../../engine/engine.js';
import { fail, shapeStr } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { add, mul, sigmoid, softplus, square, sub, sum } from '../../ops/index.js';
import type { YoloTargets } from './targets.js';

/** The targets as engine tensors (the caller disposes them). */
export interface YoloTargetTensors {
  shape: readonly number[];
  objWeight: Tensor; objTarget: Tensor; xyWeight: Tensor; xyTarget: Tensor; whWeight: Tensor; whTarget: Tensor;
}

export function targetTensors(engine: Engine, t: YoloTargets): YoloTargetTensors {
  const k = (d: Float32Array) => engine.tensor(d, t.shape);
  return {
    shape: t.shape, objWeight: k(t.objWeight), objTarget: k(t.objTarget), xyWeight: k(t.xyWeight), xyTarget: k(t.xyTarget),
    whWeight: k(t.whWeight), whTarget: k(t.whTarget),
  };
}

export function disposeTargets(t: YoloTargetTensors): void {
  for (const v of [t.objWeight, t.objTarget, t.xyWeight, t.xyTarget, t.whWeight, t.whTarget]) v.dispose();
}

/**
 * The detector's loss (docs/plates.md §5) on its raw output z [N, A·5, G, G], summed over slots and
 * averaged over the N images:
 *   Σ w_obj · (softplus(z) − y·z)            binary cross-entropy of σ(z) against y, objectness
 * + Σ w_xy  · (σ(z) − t)²                    centre offsets inside the cell
 * + Σ w_wh  · (z − t)²                       log-size against the anchor
 * Each weight is zero where its term does not apply, so one pass over the whole output does it.
 */
export function yoloLoss(out: Tensor, t: YoloTargetTensors): Tensor {
  if (out.shape.join() !== t.shape.join()) fail('yoloLoss', `output ${shapeStr(out.shape)} does not match the targets ${shapeStr(t.shape)}`);
  const n = out.shape[0]!;
  const bce = sub(softplus(out), mul(t.objTarget, out));
  const total = add(add(sum(mul(t.objWeight, bce)), sum(mul(t.xyWeight, square(sub(sigmoid(out), t.xyTarget))))),
    sum(mul(t.whWeight, square(sub(out, t.whTarget)))));
  return mul(total, 1 / n);
}
