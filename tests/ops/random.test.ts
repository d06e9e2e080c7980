import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { dropout, randomNormal, randomUniform } from '../../src/ops/index.js';
import { philox4x32 } from '../../src/ops/util/philox.js';
import { enginesUnderTest, type EngineUnderTest } from '../helpers/engines.js';
import { tolerance, worstMismatch } from '../helpers/tolerance.js';

// What the generic op suite cannot say about the Philox draws (random.ts, dropout.ts): the bits
// are the published Philox-4x32-10, a seed draws the same uniforms and dropout masks on every
// backend and thread count, and the samples have the right moments.

let list: EngineUnderTest[] = [];
let threaded: Engine | null = null;
beforeAll(async () => {
  list = await enginesUnderTest();
  threaded = (await enginesUnderTest({ threads: 4 })).find((e) => e.name === 'wasm')!.engine;
});
afterAll(() => {
  for (const e of list) e.engine?.dispose();
  threaded?.dispose();
});
const engines = (): Array<[string, Engine]> => [
  ...list.filter((e) => e.engine).map((e): [string, Engine] => [e.name, e.engine!]),
  ...(threaded ? [['wasm × 4 threads', threaded] as [string, Engine]] : []),
];

async function read(t: Tensor): Promise<Float32Array> {
  const d = await t.data();
  t.dispose();
  return d;
}

const N = 100_003; // not a multiple of 4 or of the 4096-element wasm task

describe('Philox-4x32-10', () => {
  it('matches the Random123 known-answer vectors', () => {
    const hex = (w: number[]) => w.map((v) => v.toString(16).padStart(8, '0'));
    expect(hex(philox4x32([0, 0, 0, 0], [0, 0]))).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    expect(hex(philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff])))
      .toEqual(['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
    expect(hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])))
      .toEqual(['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
  });

  it('uniforms are bit-identical on every backend and thread count', async () => {
    const want = await read(randomUniform(list[0]!.engine!, [N], { seed: 42 }));
    // Element 0 is the first word of the zero-counter block under key (42, 0), top 24 bits.
    expect(want[0]).toBe((philox4x32([0, 0, 0, 0], [42, 0])[0]! >>> 8) * 2 ** -24);
    for (const [name, engine] of engines()) {
      const got = await read(randomUniform(engine, [N], { seed: 42 }));
      let differ = 0;
      for (let i = 0; i < N; i++) if (got[i] !== want[i]) differ++;
      expect(differ, name).toBe(0);
    }
  });

  it('normal samples agree across backends within the tolerance table', async () => {
    const want = await read(randomNormal(list[0]!.engine!, [N], { seed: 3, mean: 1, std: 2 }));
    for (const [name, engine] of engines()) {
      const got = await read(randomNormal(engine, [N], { seed: 3, mean: 1, std: 2 }));
      expect(worstMismatch(got, want, tolerance[name.startsWith('wasm') ? 'wasm' : name as 'webgpu']), name).toBeNull();
    }
  });

  it('different seeds draw different numbers', async () => {
    for (const [name, engine] of engines()) {
      const a = await read(randomUniform(engine, [1000], { seed: 1 }));
      const b = await read(randomUniform(engine, [1000], { seed: 2 }));
      const c = await read(randomUniform(engine, [1000], { seed: 1 + 2 ** 32 })); // differs in the key's high word only
      let same = 0, sameHigh = 0;
      for (let i = 0; i < 1000; i++) {
        if (a[i] === b[i]) same++;
        if (a[i] === c[i]) sameHigh++;
      }
      expect(same, name).toBeLessThan(5);
      expect(sameHigh, name).toBeLessThan(5);
    }
  });

  it('mean and variance of 1e5 samples are within 4σ of the distribution', async () => {
    const n = 100_000;
    const moments = (d: Float32Array) => {
      let s = 0, s2 = 0;
      for (const v of d) { s += v; s2 += v * v; }
      const mean = s / n;
      return { mean, variance: s2 / n - mean * mean };
    };
    for (const [name, engine] of engines()) {
      // Uniform [0, 1): σ of the mean √(1/12n); of the variance √((1/80 − 1/144)/n).
      const u = moments(await read(randomUniform(engine, [n], { seed: 9 })));
      expect(Math.abs(u.mean - 0.5), name).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
      expect(Math.abs(u.variance - 1 / 12), name).toBeLessThan(4 * Math.sqrt((1 / 80 - 1 / 144) / n));
      // Standard normal: σ of the mean √(1/n); of the variance √(2/n).
      const z = moments(await read(randomNormal(engine, [n], { seed: 9 })));
      expect(Math.abs(z.mean), name).toBeLessThan(4 * Math.sqrt(1 / n));
      expect(Math.abs(z.variance - 1), name).toBeLessThan(4 * Math.sqrt(2 / n));
    }
  });
});

describe('dropout masks', () => {
  it('are identical on every backend and equal (uniform ≥ p) for the same seed', async () => {
    const p = 0.3, seed = 1234;
    const ref = list[0]!.engine!;
    const u = await read(randomUniform(ref, [N], { seed }));
    for (const [name, engine] of engines()) {
      const ones = engine.ones([N]);
      const y = await read(dropout(ones, p, { seed }));
      ones.dispose();
      let wrong = 0, kept = 0, badScale = 0;
      for (let i = 0; i < N; i++) {
        const keep = y[i] !== 0;
        if (keep !== u[i]! >= p) wrong++;
        if (keep) kept++;
        if (keep && Math.abs(y[i]! - 1 / (1 - p)) > 1e-6) badScale++;
      }
      expect(wrong, name).toBe(0);
      expect(badScale, name).toBe(0);
      // The kept fraction is 1 − p within 4σ of a binomial.
      expect(Math.abs(kept / N - (1 - p)), name).toBeLessThan(4 * Math.sqrt(p * (1 - p) / N));
    }
  });

  it('validate p and the seed in one line naming dropout', () => {
    const engine = list[0]!.engine!;
    const x = engine.ones([4]);
    expect(() => dropout(x, 1, { seed: 0 })).toThrow(/^dropout: p must be in \[0, 1\), got 1$/);
    expect(() => dropout(x, -0.1, { seed: 0 })).toThrow(/^dropout: p must be in/);
    expect(() => dropout(x, 0.5, { seed: 1.5 })).toThrow(/^dropout: seed must be an integer/);
    expect(() => randomUniform(engine, [2], { seed: 0, lo: 1, hi: 1 })).toThrow(/^randomUniform: hi \(1\) must be greater than lo \(1\)/);
    expect(() => randomNormal(engine, [2], { seed: -1 })).toThrow(/^randomNormal: seed must be an integer/);
    x.dispose();
  });

  it('p = 0 and eval mode return x unchanged, in a handle of their own', async () => {
    const engine = list[0]!.engine!;
    const x = engine.tensor([1, 2, 3]);
    for (const y of [dropout(x, 0, { seed: 1 }), dropout(x, 0.5, { seed: 1, training: false })]) {
      expect(y).not.toBe(x);
      expect([...await y.data()]).toEqual([1, 2, 3]);
      y.dispose();
      expect(x.isDisposed).toBe(false);
    }
    x.dispose();
  });
});
