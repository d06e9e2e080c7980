import { where } from '../../src/ops/index.js';
import { rng } from '../helpers/random.js';
import type { CaseInput, OpCase } from './case.js';

// where(cond, a, b) over broadcast patterns of all three operands (NCHW masks per pixel or per
// channel, scalars, ranks 1–6, numbers for a or b), gradient-checked for a and b (cond, index 0,
// gets none: a finite difference of a 0/1 mask is meaningless).

/** A condition with zeros, ones and other nonzero values (all of which count as true). */
function mask(shape: number[], seed: number): CaseInput {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Array.from({ length: n }, () => { const v = r(); return v < 0.45 ? 0 : v < 0.9 ? 1 : -2.5; }) };
}

const patterns: Array<[string, number[], number[], number[]]> = [
  ['5×1×4×7 ? 5×3×4×7 : 1×3×1×1', [5, 1, 4, 7], [5, 3, 4, 7], [1, 3, 1, 1]],
  ['1×3×1×1 ? 1×3×5×6 : 1×3×5×6', [1, 3, 1, 1], [1, 3, 5, 6], [1, 3, 5, 6]],
  ['2×3×5 ? scalar : 2×3×5', [2, 3, 5], [], [2, 3, 5]],
  ['scalar ? 7 : 7', [], [7], [7]],
  ['4×1 ? 1×5 : 4×5', [4, 1], [1, 5], [4, 5]],
  ['1×2×1×3×1×3 ? 2×1×3×1×2×1 : 1×1×1×1×2×3', [1, 2, 1, 3, 1, 3], [2, 1, 3, 1, 2, 1], [1, 1, 1, 1, 2, 3]],
  ['3×1×2×5 ? 3×4×1×5 : 4×2×1', [3, 1, 2, 5], [3, 4, 1, 5], [4, 2, 1]],
];

export const cases: OpCase[] = patterns.map(([name, sc, sa, sb], i): OpCase => ({
  name, inputs: [mask(sc, i + 1), { shape: sa }, { shape: sb }], run: ([c, a, b]) => where(c!, a!, b!), grad: [1, 2],
}));

cases.push(
  { name: '5×3×2×3 ? 5×3×2×3 : −3 (a number)', inputs: [mask([5, 3, 2, 3], 11), { shape: [5, 3, 2, 3] }],
    run: ([c, a]) => where(c!, a!, -3), grad: [1] },
  // A mask value as attention uses it; parity only (a finite difference beside 1e9 loses every digit).
  { name: '5×3×2×3 ? 5×3×2×3 : −1e9 (a number)', inputs: [mask([5, 3, 2, 3], 11), { shape: [5, 3, 2, 3] }],
    run: ([c, a]) => where(c!, a!, -1e9), grad: false },
  { name: '2×7 ? 0.5 : 2×7', inputs: [mask([2, 7], 12), { shape: [2, 7] }], run: ([c, b]) => where(c!, 0.5, b!), grad: [1] },
  // Parity only (gradients checked above): rows across a 4096-element task and odd tails.
  { name: '2×1×4101 ? 2×3×4101 : 1×3×1', inputs: [mask([2, 1, 4101], 13), { shape: [2, 3, 4101] }, { shape: [1, 3, 1] }],
    run: ([c, a, b]) => where(c!, a!, b!), grad: false },
);
