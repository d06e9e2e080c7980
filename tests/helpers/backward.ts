import type { Tensor } from '../../src/engine/tensor.js';
import { mul, randomUniform, sum } from '../../src/ops/index.js';

/**
 * A case body that returns dx of Σ f(x) ⊙ w, w uniform in [−1, 1) from a fixed seed: run through the
 * parity suite (tests/ops/ops.test.ts), it compares each backend's backward kernels with the float64
 * reference, which finite differences alone (reference only) do not reach.
 */
export const gradientOf = (f: (x: Tensor) => Tensor) => ([x]: Tensor[]): Tensor => {
  const e = x!.engine;
  return e.scope(() => e.valueAndGrads(() => {
    const y = f(x!);
    return sum(mul(y, randomUniform(e, y.shape, { seed: 17, lo: -1, hi: 1 })));
  }, [x!]).grads[0]!);
};
