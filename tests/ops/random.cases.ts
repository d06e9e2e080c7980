import { randomNormal, randomUniform } from '../../src/ops/index.js';
import type { OpCase } from './case.js';

// The draws take no tensor; the one input only supplies the engine. No gradients (grad: false).
// Cross-backend identity of the bits and the statistics are in tests/ops/random.test.ts.
export const cases: OpCase[] = [
  { name: 'uniform [0, 1) 5×3×7×9', inputs: [{ shape: [1] }], grad: false, run: ([x]) => randomUniform(x!.engine, [5, 3, 7, 9], { seed: 7 }) },
  { name: 'uniform [−2, 3) 1013 (odd tail)', inputs: [{ shape: [1] }], grad: false, run: ([x]) => randomUniform(x!.engine, [1013], { seed: 2 ** 40 + 3, lo: -2, hi: 3 }) },
  { name: 'uniform scalar', inputs: [{ shape: [1] }], grad: false, run: ([x]) => randomUniform(x!.engine, [], { seed: 0 }) },
  { name: 'normal 5×3×7×9', inputs: [{ shape: [1] }], grad: false, run: ([x]) => randomNormal(x!.engine, [5, 3, 7, 9], { seed: 11 }) },
  { name: 'normal mean 0.5 std 2, 2×4099', inputs: [{ shape: [1] }], grad: false, run: ([x]) => randomNormal(x!.engine, [2, 4099], { seed: 123456789, mean: 0.5, std: 2 }) },
];
