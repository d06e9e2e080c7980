import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { logSoftmax, logsumexp, max, mean, softmax, sum } from '../../src/ops/index.js';

// What the generic op suite (cases in reduce.cases.ts, softmax.cases.ts) does not cover: argument
// errors, infinite entries (its tolerance check cannot compare them) and lines spanning ±88, where
// e^x itself over- and underflows float32. Thread-count invariance: tests/kernels/reduce.test.ts.

let ref: Engine, wasm: Engine;
beforeAll(async () => {
  ref = await createEngine({ backend: 'reference' });
  wasm = await createEngine({ backend: 'wasm', threads: 1 });
});
afterAll(() => {
  ref?.dispose();
  wasm?.dispose();
});

describe('reduce', () => {
  it('refuses bad axes in one line naming the op', () => {
    const x = ref.zeros([2, 3, 4]);
    expect(() => sum(x, [3])).toThrow(/^sum: axis 3 is out of range for rank 3$/);
    expect(() => mean(x, [1, -2])).toThrow(/^mean: axes \[1,-2\] repeat an axis of \[2, 3, 4\]$/);
    expect(() => logsumexp(x, 1 as unknown as number[])).toThrow(/^logsumexp: axes must be an array of integers, got 1$/);
    expect(() => max(x, [0.5])).toThrow(/^max: axis 0.5 is out of range for rank 3$/);
    expect(() => sum(x, [0], 'yes' as unknown as boolean)).toThrow(/^sum: keepDims must be a boolean, got yes$/);
    x.dispose();
  });

  it('logsumexp handles infinite entries as log Σ e^x does (reference and wasm)', async () => {
    const rows = [
      [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity], // log 0
      [1, Infinity, 2, 3, 4], // +∞
      [-Infinity, 0, -Infinity, 0, -Infinity], // log 2
      [88, 88, -88, 88, 88], // 88 + log 4: Σ e^x itself (6.6e38) would overflow float32
    ];
    const want = [-Infinity, Infinity, Math.log(2), 88 + Math.log(4)];
    for (const e of [ref, wasm]) {
      for (const keep of [false, true]) {
        // Along the last axis (contiguous rows) and along the first (rows of outputs accumulate).
        const a = e.tensor(rows.flat(), [4, 5]), b = e.tensor(transpose(rows.flat(), 4, 5), [5, 4]);
        for (const y of [logsumexp(a, [1], keep), logsumexp(b, [0], keep)]) {
          const got = Array.from(await y.data());
          got.forEach((v, i) => expect(v, `${e.name} row ${i}`).toBeCloseTo(want[i]!, 4));
          y.dispose();
        }
        a.dispose();
        b.dispose();
      }
    }
  });
});

describe('softmax', () => {
  it('refuses bad arguments in one line naming the op', () => {
    const x = ref.zeros([2, 3]);
    expect(() => softmax(x, 2)).toThrow(/^softmax: axis 2 is out of range for rank 2$/);
    expect(() => logSoftmax(x, '1' as unknown as number)).toThrow(/^logSoftmax: axis must be an integer, got 1$/);
    expect(() => softmax(ref.scalar(1))).toThrow(/^softmax: needs a tensor of rank 1 or more, got a scalar$/);
    x.dispose();
  });

  it('stays finite where e^x overflows: rows sum to 1, log-softmax keeps tiny terms', async () => {
    const row = [88, -88, 0, 88, 87];
    const lse = 88 + Math.log(2 + Math.exp(-1) + Math.exp(-88) + Math.exp(-176));
    for (const e of [ref, wasm]) {
      for (const axis of [1, 0]) {
        const x = axis === 1 ? e.tensor(row, [1, 5]) : e.tensor(row, [5, 1]);
        const [p, lp] = [softmax(x, axis), logSoftmax(x, axis)];
        const [pd, lpd] = [Array.from(await p.data()), Array.from(await lp.data())];
        expect(pd.reduce((a, b) => a + b, 0), `${e.name} axis ${axis}`).toBeCloseTo(1, 6);
        pd.forEach((v, i) => expect(v).toBeCloseTo(Math.exp(row[i]! - lse), 6));
        lpd.forEach((v, i) => expect(v, `${e.name} log-softmax ${i}`).toBeCloseTo(row[i]! - lse, 4));
        for (const t of [x, p, lp]) t.dispose();
      }
    }
  });
});

function transpose(d: readonly number[], rows: number, cols: number): number[] {
  return Array.from({ length: rows * cols }, (_, k) => d[(k % rows) * cols + Math.floor(k / rows)]!);
}
