import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { batchNorm, batchNormStats, groupNorm, layerNorm, mul, sum } from '../../src/ops/index.js';
import { randomArray } from '../helpers/random.js';

// What the generic op suite (cases in normalization.cases.ts) does not cover: argument errors,
// the statistics a BatchNorm module tracks, and what a recorded forward keeps alive.

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'reference' }); });
afterAll(() => engine?.dispose());

describe('normalization', () => {
  const t = (shape: number[]) => engine.tensor(randomArray(shape.reduce((a, b) => a * b, 1), 3), shape);

  it('refuses bad arguments in one line naming the op', () => {
    const x = t([2, 6, 3, 3]);
    expect(() => groupNorm(x, 4)).toThrow(/^groupNorm: groups must be a positive integer dividing the 6 channels of \[2, 6, 3, 3\], got 4$/);
    expect(() => groupNorm(t([6]), 2)).toThrow(/^groupNorm: input must have shape \[N, C, \.\.\.\] \(rank 2 or more\), got \[6\]$/);
    expect(() => groupNorm(x, 3, { weight: t([3]) })).toThrow(/^groupNorm: weight must have shape \[6\], got \[3\]$/);
    expect(() => groupNorm(x, 3, { eps: 0 })).toThrow(/^groupNorm: eps must be a positive finite number, got 0$/);
    expect(() => layerNorm(x, [3, 4])).toThrow(/^layerNorm: normalizedShape \[3, 4\] must be the trailing dimensions of \[2, 6, 3, 3\]$/);
    expect(() => layerNorm(x, [3, 3], { bias: t([9]) })).toThrow(/^layerNorm: bias must have shape \[3, 3\], got \[9\]$/);
    expect(() => batchNorm(x, { training: false })).toThrow(/^batchNorm: eval mode \(training: false\) needs runningMean and runningVar$/);
    expect(() => batchNorm(x, {} as { training: boolean })).toThrow(/^batchNorm: options must say training: true or false$/);
    expect(() => batchNorm(t([1, 4]), { training: true })).toThrow(/^batchNorm: training needs more than one value per channel, got \[1, 4\]$/);
    expect(() => batchNorm(x, { training: false, runningMean: t([6]), runningVar: t([5]) }))
      .toThrow(/^batchNorm: runningVar must have shape \[6\], got \[5\]$/);
  });

  it('batchNormStats gives the per-channel mean and biased variance, without a gradient', async () => {
    const [N, C, S] = [3, 4, 5];
    const data = randomArray(N * C * S, 9);
    const x = engine.tensor(data, [N, C, S]);
    const { mean, var: v, count } = batchNormStats(x);
    expect(count).toBe(N * S);
    const [m, vv] = [await mean.data64(), await v.data64()];
    for (let c = 0; c < C; c++) {
      const vals = Array.from({ length: N * S }, (_, k) => data[(Math.floor(k / S) * C + c) * S + (k % S)]!);
      const mu = vals.reduce((a, b) => a + b, 0) / vals.length;
      expect(m[c]).toBeCloseTo(mu, 6);
      expect(vv[c]).toBeCloseTo(vals.reduce((a, b) => a + (b - mu) ** 2, 0) / vals.length, 6);
    }
    // Constants to autograd: a loss through them gives x a zero gradient.
    const { grads } = engine.valueAndGrads(() => sum(mul(batchNormStats(x).mean, 1)), [x]);
    expect(Array.from(await grads[0]!.data()).every((g) => g === 0)).toBe(true);
    for (const tt of [x, mean, v, ...grads]) tt.dispose();
  });

  it('a recorded forward keeps no tensor beyond its inputs and output, and frees everything after backward', () => {
    const x = t([2, 4, 3, 3]), w = t([4]), b = t([4]);
    const before = engine.memory().buffers;
    const { value, grads } = engine.valueAndGrads(() => sum(groupNorm(x, 2, { weight: w, bias: b })), [x, w, b]);
    expect(engine.memory().buffers).toBe(before + 1 + grads.length);
    for (const tt of [value, ...grads, x, w, b]) tt.dispose();
  });
});
