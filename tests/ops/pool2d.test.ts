import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { avgPool2d, maxPool2d, resize } from '../../src/ops/index.js';
import { gradientOf } from '../helpers/backward.js';
import { enginesUnderTest } from '../helpers/engines.js';
import { randomArray } from '../helpers/random.js';

// What the generic op suite does not cover for pool2d.ts and resize.ts: the wasm kernels give the
// same bits on any thread count (forward and backward), and bad arguments fail in one line.

let one: Engine, four: Engine;
beforeAll(async () => {
  one = (await enginesUnderTest({ threads: 1 })).find((e) => e.name === 'wasm')!.engine!;
  four = (await enginesUnderTest({ threads: 4 })).find((e) => e.name === 'wasm')!.engine!;
});
afterAll(() => {
  one.dispose();
  four.dispose();
});

const shape = [5, 16, 48, 40]; // large enough that every kernel splits over the threads (PARALLEL_MIN_WORK)
const data = randomArray(shape.reduce((a, b) => a * b), 3);
const bodies: Array<[string, (x: Tensor) => Tensor]> = [
  ['max k3 s2 pad 1', (x) => maxPool2d(x, 3, { stride: 2, pad: 1 })],
  ['avg k3 s1 pad 1 ceil', (x) => avgPool2d(x, 3, { stride: 1, pad: 1, ceilMode: true })],
  ['bilinear 48×40 → 50×17', (x) => resize(x, { mode: 'bilinear', size: [50, 17] })],
  ['nearest × 1.5', (x) => resize(x, { scale: 1.5 })],
];

describe('pool2d and resize on wasm threads', () => {
  it.each(bodies)('%s: 4 threads give the bits of 1, forward and backward', async (_name, f) => {
    expect(four.info().details.threads).toBe(4);
    for (const run of [f, (x: Tensor) => gradientOf(f)([x])]) {
      const [a, b] = await Promise.all([one, four].map(async (e) => {
        const y = e.scope(() => run(e.tensor(data, shape)));
        const d = await y.data();
        y.dispose();
        return d;
      }));
      expect(Buffer.from(b!.buffer).equals(Buffer.from(a!.buffer))).toBe(true);
    }
  });
});

describe('resize index tables', () => {
  it('follow PyTorch\'s float32 arithmetic, not exact ratios', async () => {
    // 2 → 82 rows: exactly, output row 41 sits on input row 1 (41 · 2/82 = 1), but PyTorch computes
    // ⌊41 · float32(2/82)⌋ = ⌊0.99999994⌋ = 0 in float32, and so does resize.
    const x = one.tensor([10, 20], [1, 1, 2, 1]);
    const y = resize(x, { size: [82, 1] });
    const d = await y.data();
    expect([d[40], d[41], d[42]]).toEqual([10, 10, 20]);
    y.dispose();
    x.dispose();
  });
});

describe('argument errors', () => {
  it('name the op and what was wrong, in one line', () => {
    const x = one.zeros([1, 2, 5, 6]);
    expect(() => maxPool2d(x, 0)).toThrow(/^maxPool2d: kernel must be a positive integer or a pair of them, got 0$/);
    expect(() => maxPool2d(x, 3, { pad: 3 })).toThrow(/^maxPool2d: padding \[3, 3, 3, 3\] must be smaller than the 3×3 kernel/);
    expect(() => avgPool2d(x, [2, 7])).toThrow(/^avgPool2d: kernel 2×7 is larger than the padded input \[1, 2, 5, 6\]/);
    expect(() => avgPool2d(x, 2, { stride: [1, 1.5] as unknown as [number, number] })).toThrow(/^avgPool2d: stride must be/);
    expect(() => maxPool2d(one.zeros([5, 6]), 2)).toThrow(/^maxPool2d: input must be rank 4/);
    expect(() => resize(x, { size: [4, 4], scale: 2 })).toThrow(/^resize: give exactly one of size/);
    expect(() => resize(x, { scale: 0.1 })).toThrow(/^resize: scale 0.1 shrinks \[1, 2, 5, 6\] to nothing/);
    expect(() => resize(x, { size: [4, 0] })).toThrow(/^resize: size must be/);
    expect(() => resize(x, { size: [4, 4], mode: 'bicubic' as 'nearest' })).toThrow(/^resize: mode must be 'nearest' or 'bilinear'/);
  });
});
