import { add, broadcastTo, div, equal, greater, maximum, minimum, mul, sub } from '../../src/ops/index.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { rng } from '../helpers/random.js';
import type { CaseInput, OpCase } from './case.js';

// Every binary function over the broadcast patterns the kernels collapse differently: per-channel
// [1,C,1,1] and per-pixel [N,1,H,W] operands of NCHW images (batch 1 and 5, odd sizes), scalars of
// rank 0, lower-rank right-aligned operands, outer products, ranks 1–6 and patterns that leave six
// uncollapsible axes. Larger equal-shape and broadcast cases (parity only) cross the 4096-element
// tasks of the wasm kernel.

type Pattern = [string, number[], number[]];
const patterns: Pattern[] = [
  ['5×3×4×7 ∘ 1×3×1×1', [5, 3, 4, 7], [1, 3, 1, 1]],
  ['1×3×4×7 ∘ 1×1×4×7', [1, 3, 4, 7], [1, 1, 4, 7]],
  ['5×1×2×3 ∘ 5×3×2×3', [5, 1, 2, 3], [5, 3, 2, 3]],
  ['2×3×5 ∘ scalar', [2, 3, 5], []],
  ['scalar ∘ 7', [], [7]],
  ['7 ∘ 7', [7], [7]],
  ['5×1 ∘ 1×6', [5, 1], [1, 6]],
  ['3×4×5 ∘ 4×1', [3, 4, 5], [4, 1]],
  ['2×1×3×1×2×3 ∘ 1×2×1×3×1×1', [2, 1, 3, 1, 2, 3], [1, 2, 1, 3, 1, 1]],
  ['2×1×2×1×2×1 ∘ 1×2×1×2×1×3', [2, 1, 2, 1, 2, 1], [1, 2, 1, 2, 1, 3]],
  ['1×3×1×2×5 ∘ 2×1×4×2×1', [1, 3, 1, 2, 5], [2, 1, 4, 2, 1]],
  ['1×5×3×3 ∘ 1×5×3×3', [1, 5, 3, 3], [1, 5, 3, 3]],
];

/** Small integers, so that eq and gt see both outcomes (ties included). */
function integers(shape: number[], seed: number): CaseInput {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Array.from({ length: n }, () => Math.floor(r() * 3)) };
}

type Fn = (a: Tensor, b: Tensor) => Tensor;
const fns: Array<[string, Fn, 'all' | 'some']> = [
  ['add', add, 'all'], ['sub', sub, 'some'], ['mul', mul, 'all'], ['div', div, 'some'], ['maximum', maximum, 'some'],
  ['minimum', minimum, 'some'], ['equal', equal, 'some'], ['greater', greater, 'some'],
];

export const cases: OpCase[] = [];
fns.forEach(([name, f, which], k) => {
  const chosen = which === 'all' ? patterns : patterns.filter((_, i) => (i + k) % 3 === 0);
  chosen.forEach(([pattern, sa, sb], i) => {
    const comparison = name === 'equal' || name === 'greater';
    const inputs: CaseInput[] = comparison ? [integers(sa, 10 * k + i), integers(sb, 10 * k + i + 5)]
      // div's divisor stays away from 0.
      : [{ shape: sa }, name === 'div' ? { shape: sb, lo: 0.5, hi: 2 } : { shape: sb }];
    cases.push({ name: `${name} ${pattern}`, inputs, run: ([a, b]) => f(a!, b!), grad: !comparison });
  });
});

// Parity only (the gradients are checked by the small cases): rows longer than one task, and a
// broadcast whose rows are shorter than a SIMD vector.
cases.push(
  { name: 'add 3×5×37×29 ∘ 3×5×37×29', inputs: [{ shape: [3, 5, 37, 29] }, { shape: [3, 5, 37, 29] }], run: ([a, b]) => add(a!, b!), grad: false },
  { name: 'mul 2×9×45×51 ∘ 1×9×1×1', inputs: [{ shape: [2, 9, 45, 51] }, { shape: [1, 9, 1, 1] }], run: ([a, b]) => mul(a!, b!), grad: false },
  { name: 'sub 1×1×4099 ∘ 3×1×1', inputs: [{ shape: [1, 1, 4099] }, { shape: [3, 1, 1] }], run: ([a, b]) => sub(a!, b!), grad: false },
  { name: 'div 301×3 ∘ 301×1', inputs: [{ shape: [301, 3] }, { shape: [301, 1], lo: 0.5, hi: 2 }], run: ([a, b]) => div(a!, b!), grad: false },
  { name: 'broadcastTo 1×3×1×1 → 5×3×4×7', inputs: [{ shape: [1, 3, 1, 1] }], run: ([x]) => broadcastTo(x!, [5, 3, 4, 7]) },
  { name: 'broadcastTo 4×1 → 2×3×4×5', inputs: [{ shape: [4, 1] }], run: ([x]) => broadcastTo(x!, [2, 3, 4, 5]) },
);
