import { describe, expect, it } from 'vitest';
import { imbalancedMnist } from '../../src/data/imbalanced-mnist.js';
import { mnistSplit } from '../../src/data/mnist.js';

describe('imbalancedMnist', () => {
  it('takes exactly the asked digits per class from the training split, held out from the test split', () => {
    const { train, test, digits } = imbalancedMnist({ counts: [90, 70, 60, 10] });
    expect(digits).toEqual([0, 1, 2, 3]);
    expect([0, 1, 2, 3].map((k) => train.labels!.filter((l) => l === k).length)).toEqual([90, 70, 60, 10]);
    expect(train.shape).toEqual([1, 28, 28]);
    const split = mnistSplit();
    // Every held-out image is one of the test split's images of those digits, with its label remapped.
    const testOf = [0, 1, 2, 3].map((d) => split.test.labels!.filter((l) => l === d).length);
    expect([0, 1, 2, 3].map((k) => test.labels!.filter((l) => l === k).length)).toEqual(testOf);
    // No training image appears among the held-out ones.
    const key = (d: typeof train, i: number): string => Buffer.from(d.images.subarray(i * 784, (i + 1) * 784)).toString('base64');
    const held = new Set(Array.from({ length: test.count }, (_, i) => key(test, i)));
    for (let i = 0; i < train.count; i++) expect(held.has(key(train, i))).toBe(false);
  });

  it('maps chosen digits to classes in order and balances the held-out set on request', () => {
    const { train, test } = imbalancedMnist({ digits: [7, 3], counts: [5, 2], testPerClass: 20 });
    expect(train.count).toBe(7);
    expect([...test.labels!].filter((l) => l === 0).length).toBe(20);
    expect([...test.labels!].filter((l) => l === 1).length).toBe(20);
    const split = mnistSplit();
    const sevens = split.train.labels!.reduce((n, l) => n + (l === 7 ? 1 : 0), 0);
    expect(() => imbalancedMnist({ digits: [7, 3], counts: [sevens + 1, 1] })).toThrow(new RegExp(`^imbalancedMnist: ${sevens + 1} train images of digit 7 asked for, the split has ${sevens}$`));
  });

  it('refuses bad options in one line', () => {
    expect(() => imbalancedMnist({ counts: [1, 1, 1] })).toThrow(/counts .* must be 4 non-negative integers/);
    expect(() => imbalancedMnist({ digits: [1, 1], counts: [1, 1] })).toThrow(/digits .* must be at least two distinct integers/);
    expect(() => imbalancedMnist({ counts: [1, 1, 1, 1], testPerClass: 0 })).toThrow(/testPerClass 0 must be a positive integer/);
  });
});
