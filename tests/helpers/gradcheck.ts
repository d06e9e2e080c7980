import type { Engine } from '../../src/engine/engine.js';
import { mul, sum } from '../../src/ops/index.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { numel, rng } from './random.js';

export interface GradInput {
  shape: readonly number[];
  /** Values to start from; default uniform in [-1, 1). */
  data?: Float64Array;
}

export interface GradCheckResult {
  /** Largest |analytic − numeric| / max(1, |numeric|) over every element of every input. */
  maxError: number;
  where: string;
}

/**
 * Compares reverse-mode gradients with central finite differences of L = Σ f(xs) ⊙ R (R random,
 * fixed), in float64 on the reference engine. Inputs must be small: each element costs two runs.
 */
export async function gradCheck(engine: Engine, f: (xs: Tensor[]) => Tensor, inputs: readonly GradInput[],
  seed = 1, eps = 1e-6, checked: readonly number[] = inputs.map((_, i) => i)): Promise<GradCheckResult> {
  const r = rng(seed);
  const values = inputs.map((inp) => inp.data ?? Float64Array.from({ length: numel(inp.shape) }, () => 2 * r() - 1));
  const probe = engine.scope(() => f(values.map((v, i) => engine.tensor(v, inputs[i]!.shape))).shape);
  const weights = Float64Array.from({ length: numel(probe) }, () => 2 * r() - 1);
  const lossAt = async (vals: readonly Float64Array[]): Promise<number> => {
    const t = engine.scope(() => {
      const xs = vals.map((v, i) => engine.tensor(v, inputs[i]!.shape));
      return sum(mul(f(xs), engine.tensor(weights, probe)));
    });
    const v = (await t.data64())[0]!;
    t.dispose();
    return v;
  };
  const xs = values.map((v, i) => engine.tensor(v, inputs[i]!.shape));
  const { value, grads } = engine.valueAndGrads(() => sum(mul(f(xs), engine.tensor(weights, probe))), checked.map((i) => xs[i]!));
  const analyticChecked = await Promise.all(grads.map((g) => g.data64()));
  const analytic: Float64Array[] = [];
  checked.forEach((i, k) => { analytic[i] = analyticChecked[k]!; });
  value.dispose();
  for (const t of [...xs, ...grads]) t.dispose();
  let maxError = 0, where = '';
  for (const i of checked) {
    for (let j = 0; j < values[i]!.length; j++) {
      const plus = values.map((v) => v.slice()), minus = values.map((v) => v.slice());
      plus[i]![j]! += eps;
      minus[i]![j]! -= eps;
      const numeric = ((await lossAt(plus)) - (await lossAt(minus))) / (2 * eps);
      const err = Math.abs(analytic[i]![j]! - numeric) / Math.max(1, Math.abs(numeric));
      if (err > maxError) {
        maxError = err;
        where = `input ${i} element ${j}: analytic ${analytic[i]![j]} vs numeric ${numeric}`;
      }
    }
  }
  return { maxError, where };
}
