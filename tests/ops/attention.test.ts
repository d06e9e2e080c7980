import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { attention, mul, sum } from '../../src/ops/index.js';
import { expectIdentical } from '../kernels/parity.js';
import { randomArray } from '../helpers/random.js';

// What the generic op suite (tests/ops/ops.test.ts, cases in attention.cases.ts) does not cover:
// thread-count invariance of the wasm kernels and the op's argument errors.

describe('attention', () => {
  let one: Engine, three: Engine;
  beforeAll(async () => {
    one = await createEngine({ backend: 'wasm', threads: 1 });
    three = await createEngine({ backend: 'wasm', threads: 3 });
  });
  afterAll(() => {
    one?.dispose();
    three?.dispose();
  });

  /** Forward output, then dq, dk, dv of Σ y ⊙ w, on one engine. */
  async function run(e: Engine, causal: boolean, masked: boolean): Promise<Float32Array[]> {
    const [B, Nq, Nk, d, dv] = [3, 70, 90, 20, 12];
    const t = (shape: number[], seed: number) => e.tensor(randomArray(shape.reduce((a, b) => a * b, 1), seed), shape);
    const outs = e.scope(() => {
      const q = t([B, Nq, d], 1), k = t([B, Nk, d], 2), v = t([B, Nk, dv], 3), w = t([B, Nq, dv], 4);
      const mask = masked ? t([B, Nq, Nk], 5) : undefined;
      const { grads } = e.valueAndGrads(() => sum(mul(attention(q, k, v, { causal, mask }), w)), [q, k, v]);
      return [attention(q, k, v, { causal, mask }), ...grads];
    });
    const data = await Promise.all(outs.map((x) => x.data()));
    for (const x of outs) x.dispose();
    return data;
  }

  for (const [causal, masked] of [[false, false], [true, true]] as const)
    it(`wasm: 3 threads give bit-identical forward and gradients to 1 (causal ${causal}, mask ${masked})`, async () => {
      expect(three.info().details.threads).toBe(3);
      const a = await run(one, causal, masked), b = await run(three, causal, masked);
      ['y', 'dq', 'dk', 'dv'].forEach((name, i) => expectIdentical(a[i]!, b[i]!, name));
    });

  it('fails with one line naming the op and what was wrong', () => {
    const e = one;
    e.scope(() => {
      const q = e.zeros([2, 3, 4]), k = e.zeros([2, 5, 4]), v = e.zeros([2, 5, 6]);
      expect(() => attention(e.zeros([3, 4]), k, v)).toThrow(/^attention: q must be rank 3/);
      expect(() => attention(q, e.zeros([1, 5, 4]), v)).toThrow(/^attention: batch sizes differ/);
      expect(() => attention(q, e.zeros([2, 5, 3]), v)).toThrow(/^attention: q and k widths differ/);
      expect(() => attention(q, k, e.zeros([2, 4, 6]))).toThrow(/^attention: k and v must have the same number of rows/);
      expect(() => attention(q, k, v, { mask: e.zeros([5, 3]) })).toThrow(/^attention: mask must be \[3, 5\] or \[2, 3, 5\]/);
      expect(() => attention(q, k, v, { scale: Number.NaN })).toThrow(/^attention: scale must be a finite number/);
      expect(attention(q, k, v, { mask: e.zeros([1, 3, 5]) }).shape).toEqual([2, 3, 6]);
    });
  });
});
