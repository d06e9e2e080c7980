import { fullLike } from '../../src/ops/index.js';
import type { OpCase } from './case.js';

// fill through fullLike (engine.fill, zeros and ones run the same kernel): odd sizes, a scalar,
// and 4099 elements (a 4096-element task and a tail). The output does not depend on x: no gradient.
export const cases: OpCase[] = [
  { name: 'fullLike 5×3×2×7 −2.5', inputs: [{ shape: [5, 3, 2, 7] }], run: ([x]) => fullLike(x!, -2.5), grad: false },
  { name: 'fullLike scalar 0.1', inputs: [{ shape: [] }], run: ([x]) => fullLike(x!, 0.1), grad: false },
  { name: 'fullLike 1×4099 3', inputs: [{ shape: [1, 4099] }], run: ([x]) => fullLike(x!, 3), grad: false },
];
