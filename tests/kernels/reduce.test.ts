/**
 * Thread-count invariance of the reduction, softmax and normalisation kernels on wasm: every output
 * (and every gradient, which runs the fused backward kernels) is bit-identical on 1 and 3 threads.
 * Shapes are large enough that the jobs really run on several threads. Parity with the reference
 * lives in tests/ops/{reduce,softmax,normalization}.cases.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import {
  batchNorm, batchNormStats, groupNorm, layerNorm, logSoftmax, logsumexp, max, mean, mul, softmax, sum, sumSquares,
} from '../../src/ops/index.js';
import { numel, randomArray } from '../helpers/random.js';
import { expectIdentical } from './parity.js';

interface ThreadCase {
  name: string;
  shapes: number[][];
  /** Value ranges per input (default [-1, 1)). */
  ranges?: Array<[number, number]>;
  run: (xs: Tensor[]) => Tensor;
  /** Also compare the gradients of Σ run(xs) ⊙ r with respect to every input. */
  grad?: boolean;
}

const img = [8, 24, 30, 26];
const cases: ThreadCase[] = [
  ...[[0, 2, 3], [3], [1], [0, 1, 2, 3]].map((axes) => ({ name: `sum over [${axes}]`, shapes: [img], run: ([x]: Tensor[]) => sum(x!, axes) })),
  { name: 'mean over [1, 3]', shapes: [img], run: ([x]) => mean(x!, [1, 3]) },
  { name: 'sumSquares over [0]', shapes: [img], run: ([x]) => sumSquares(x!, [0]) },
  { name: 'max over [1]', shapes: [img], run: ([x]) => max(x!, [1]) },
  { name: 'logsumexp over [1] and [2, 3]', shapes: [img], run: ([x]) => mul(logsumexp(x!, [1], true), logsumexp(x!, [2, 3], true)) },
  { name: 'softmax along rows', shapes: [[600, 301]], ranges: [[-80, 80]], run: ([x]) => softmax(x!) },
  { name: 'logSoftmax along channels', shapes: [img], run: ([x]) => logSoftmax(x!, 1) },
  // One image: 3 threads split its 2500 columns into narrower chunks than 1 thread does.
  { name: 'softmax along channels of one image', shapes: [[1, 40, 50, 50]], run: ([x]) => softmax(x!, 1) },
  { name: 'groupNorm 6 groups, affine, with gradients', shapes: [img, [24], [24]], grad: true,
    run: ([x, w, b]) => groupNorm(x!, 6, { weight: w, bias: b }) },
  { name: 'layerNorm [100] with gradients', shapes: [[3000, 100], [100], [100]], grad: true,
    run: ([x, w, b]) => layerNorm(x!, [100], { weight: w, bias: b }) },
  { name: 'batchNorm training with gradients', shapes: [img, [24], [24]], grad: true,
    run: ([x, w, b]) => batchNorm(x!, { training: true, weight: w, bias: b }) },
  { name: 'batchNorm eval with gradients', shapes: [img, [24], [24], [24]], ranges: [[-1, 1], [-0.5, 0.5], [0.5, 1.5], [0.5, 1.5]], grad: true,
    run: ([x, m, v, w]) => batchNorm(x!, { training: false, runningMean: m, runningVar: v, weight: w }) },
  { name: 'batchNormStats', shapes: [img], run: ([x]) => x!.engine.scope(() => mul(batchNormStats(x!).mean, batchNormStats(x!).var)) },
];

let one: Engine, three: Engine;
beforeAll(async () => {
  one = await createEngine({ backend: 'wasm', threads: 1 });
  three = await createEngine({ backend: 'wasm', threads: 3 });
});
afterAll(() => {
  one?.dispose();
  three?.dispose();
});

async function results(engine: Engine, c: ThreadCase): Promise<Float32Array[]> {
  const xs = c.shapes.map((s, i) => engine.tensor(randomArray(numel(s), 7 + i, ...(c.ranges?.[i] ?? [-1, 1])), s));
  const out = engine.scope(() => {
    const y = c.run(xs);
    if (!c.grad) return [y];
    const r = engine.tensor(randomArray(y.size, 99), y.shape);
    const { value, grads } = engine.valueAndGrads(() => sum(mul(c.run(xs), r)), xs);
    return [y, value, ...grads];
  });
  const data = await Promise.all(out.map((t) => t.data()));
  for (const t of [...out, ...xs]) t.dispose();
  return data;
}

describe('wasm reductions and normalisations on 1 and 3 threads', () => {
  it.each(cases)('$name is bit-identical', async (c) => {
    expect(three.info().details.threads).toBe(3);
    const [a, b] = [await results(one, c), await results(three, c)];
    a.forEach((v, i) => expectIdentical(v, b[i]!, `${c.name} output ${i}`));
  });
});
