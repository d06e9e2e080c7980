import { solve, solveTranspose, type Corner } from '../../src/ops/index.js';
import { triangularKernel } from '../helpers/solve-kernel.js';
import type { CaseInput, OpCase } from './case.js';

/** The solve's kernel as a case input: well-conditioned, junk above the centre diagonal. */
function kernel(C: number, Cg: number, k: number, seed: number): CaseInput {
  const { shape, data } = triangularKernel(C, Cg, k, seed);
  return { shape, data: Array.from(data) };
}

const corners: Corner[] = ['tl', 'tr', 'bl', 'br'];
// [N, C, H, W, groups, k, gradient-checked]; the kernel-level suite (tests/kernels/solve.test.ts)
// covers many more shapes, both schedules and the WebGPU per-diagonal path.
const shapes: Array<[number, number, number, number, number, number, boolean]> = [
  [1, 3, 5, 7, 1, 3, true], [5, 8, 4, 6, 4, 2, false], [2, 4, 3, 4, 4, 2, true], [1, 2, 4, 3, 1, 1, true], [1, 12, 6, 5, 2, 3, false],
];

export const cases: OpCase[] = shapes.flatMap(([N, C, H, W, groups, k, checked], s) =>
  ([false, true] as const).flatMap((unitDiag) => (['solve', 'solveTranspose'] as const).map((op): OpCase => {
    const list = Array.from({ length: groups }, (_, g) => corners[(g + s) % 4]!);
    const f = op === 'solve' ? solve : solveTranspose;
    return {
      name: `${op} N${N} C${C} ${H}×${W} g${groups} k${k} unit=${unitDiag}`,
      inputs: [{ shape: [N, C, H, W] }, kernel(C, C / groups, k, 11 + s)],
      run: ([y, K]) => f(y!, K!, { groups, unitDiag, corners: list }),
      grad: checked,
    };
  })));
