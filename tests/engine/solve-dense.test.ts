import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { conv2d, flip, mul, solve, solveKernelMask, solveTranspose, sum, type Corner } from '../../src/ops/index.js';
import { rng } from '../helpers/random.js';

// The solves in float64 on the reference engine against the dense matrix of the convolution they invert.
let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'reference' }); });
afterAll(() => engine.dispose());

interface Case { name: string; C: number; groups: number; k: number; H: number; W: number; corners: Corner[]; unitDiag: boolean }

const cases: Case[] = [
  { name: 'C=3 4×5 k=3 unit', C: 3, groups: 1, k: 3, H: 4, W: 5, corners: ['tl'], unitDiag: true },
  { name: 'C=3 4×5 k=3 non-unit', C: 3, groups: 1, k: 3, H: 4, W: 5, corners: ['tl'], unitDiag: false },
  { name: 'C=2 5×3 k=2 br', C: 2, groups: 1, k: 2, H: 5, W: 3, corners: ['br'], unitDiag: false },
  { name: 'FInC 4 groups 3×4 k=3', C: 4, groups: 4, k: 3, H: 3, W: 4, corners: ['tl', 'tr', 'bl', 'br'], unitDiag: true },
  { name: '2 groups Cg=2 4×4 k=5', C: 4, groups: 2, k: 5, H: 4, W: 4, corners: ['tr', 'bl'], unitDiag: false },
  { name: 'C=1 3×3 k=1', C: 1, groups: 1, k: 1, H: 3, W: 3, corners: ['tl'], unitDiag: false },
];

function makeKernel(c: Case, seed: number): Float64Array {
  const Cg = c.C / c.groups, k = c.k, r = rng(seed);
  const K = Float64Array.from({ length: c.C * Cg * k * k }, () => 0.4 * (2 * r() - 1));
  for (let o = 0; o < c.C; o++) K[((o * Cg + (o % Cg)) * k + k - 1) * k + k - 1] = 0.8 + 0.6 * r();
  return K;
}

/** The effective kernel the solve inverts: centre upper triangle removed, unit diagonal when asked. */
function effectiveKernel(c: Case, K: Float64Array): Float64Array {
  const Cg = c.C / c.groups, k = c.k;
  const mask = solveKernelMask(c.C, Cg, k, false);
  const eff = K.map((v, i) => v * mask[i]!);
  if (c.unitDiag) for (let o = 0; o < c.C; o++) eff[((o * Cg + (o % Cg)) * k + k - 1) * k + k - 1] = 1;
  return eff;
}

/** The convolution T as a dense matrix, built by pushing every basis image through conv2d per group. */
async function denseMatrix(c: Case, K: Float64Array): Promise<Float64Array[]> {
  const n = c.C * c.H * c.W, Cg = c.C / c.groups, k = c.k;
  const eff = effectiveKernel(c, K);
  const cols: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const e = new Float64Array(n);
    e[j] = 1;
    const col = new Float64Array(n);
    for (let g = 0; g < c.groups; g++) {
      const f = { tl: 0, tr: 1, bl: 2, br: 3 }[c.corners[g % c.corners.length]!];
      const xg = e.subarray(g * Cg * c.H * c.W, (g + 1) * Cg * c.H * c.W);
      const Kg = eff.subarray(g * Cg * Cg * k * k, (g + 1) * Cg * Cg * k * k);
      const out = engine.scope(() => {
        const flipOpts = { w: (f & 1) !== 0, h: (f & 2) !== 0 };
        const x = flip(engine.tensor(xg, [1, Cg, c.H, c.W]), flipOpts);
        return flip(conv2d(x, engine.tensor(Kg, [Cg, Cg, k, k]), { pad: 'tl' }), flipOpts);
      });
      col.set(await out.data64(), g * Cg * c.H * c.W);
      out.dispose();
    }
    cols.push(col);
  }
  return cols;
}

/** Solves A x = b by Gaussian elimination with partial pivoting (A given by columns). */
function denseSolve(cols: Float64Array[], b: Float64Array): Float64Array {
  const n = b.length;
  const A = Array.from({ length: n }, (_, i) => Float64Array.from({ length: n + 1 }, (_, j) => (j < n ? cols[j]![i]! : b[i]!)));
  for (let p = 0; p < n; p++) {
    let best = p;
    for (let i = p + 1; i < n; i++) if (Math.abs(A[i]![p]!) > Math.abs(A[best]![p]!)) best = i;
    [A[p], A[best]] = [A[best]!, A[p]!];
    for (let i = p + 1; i < n; i++) {
      const f = A[i]![p]! / A[p]![p]!;
      for (let j = p; j <= n; j++) A[i]![j]! -= f * A[p]![j]!;
    }
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let acc = A[i]![n]!;
    for (let j = i + 1; j < n; j++) acc -= A[i]![j]! * x[j]!;
    x[i] = acc / A[i]![i]!;
  }
  return x;
}

const transpose = (cols: Float64Array[]): Float64Array[] =>
  cols.map((_, i) => Float64Array.from(cols, (col) => col[i]!));

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe.each(cases)('solve vs the dense matrix: $name', (c) => {
  const opts = { groups: c.groups, unitDiag: c.unitDiag, corners: c.corners };
  const shape = [1, c.C, c.H, c.W];
  const y = Float64Array.from({ length: c.C * c.H * c.W }, (_, i) => Math.sin(1.3 * i + 0.2));
  const K = makeKernel(c, 5);

  it('wavefront and raster both equal the dense solve to 1e-10', async () => {
    const T = await denseMatrix(c, K);
    const want = denseSolve(T, y);
    for (const algorithm of ['wavefront', 'raster'] as const) {
      const x = solve(engine.tensor(y, shape), engine.tensor(K, [c.C, c.C / c.groups, c.k, c.k]), { ...opts, algorithm });
      expect(maxDiff(await x.data64(), want)).toBeLessThan(1e-10);
    }
  });

  it('the transposed solve equals the dense solve with Tᵀ to 1e-10', async () => {
    const T = await denseMatrix(c, K);
    const want = denseSolve(transpose(T), y);
    const gy = solveTranspose(engine.tensor(y, shape), engine.tensor(K, [c.C, c.C / c.groups, c.k, c.k]), opts);
    expect(maxDiff(await gy.data64(), want)).toBeLessThan(1e-10);
  });
});

describe('adjoint regression (docs/inverse.md §5)', () => {
  it('the gradient of solve in y is T⁻ᵀg, measurably different from T⁻¹g', async () => {
    const c = cases[0]!;
    const shape = [1, c.C, c.H, c.W];
    const Kt = engine.tensor(makeKernel(c, 5), [c.C, c.C, c.k, c.k]);
    const y = engine.tensor(Float64Array.from({ length: c.C * c.H * c.W }, (_, i) => Math.cos(i)), shape);
    const g = engine.tensor(Float64Array.from({ length: c.C * c.H * c.W }, (_, i) => Math.sin(2.1 * i)), shape);
    const { grads } = engine.valueAndGrads(() => sum(mul(solve(y, Kt, { unitDiag: true }), g)), [y]);
    const viaAdjoint = await solveTranspose(g, Kt, { unitDiag: true }).data64();
    const viaCausal = await solve(g, Kt, { unitDiag: true }).data64();
    const got = await grads[0]!.data64();
    expect(maxDiff(got, viaAdjoint)).toBeLessThan(1e-12);
    // The reference CUDA computed the causal T⁻¹g; it must differ from the true gradient here.
    expect(maxDiff(got, viaCausal)).toBeGreaterThan(0.05);
    // ⟨T⁻ᵀg, y⟩ = ⟨g, T⁻¹y⟩ holds for the adjoint and fails for the causal impostor.
    const Tinv_y = await solve(y, Kt, { unitDiag: true }).data64();
    const yv = await y.data64(), gv = await g.data64();
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i]!, 0);
    expect(Math.abs(dot(viaAdjoint, yv) - dot(gv, Tinv_y))).toBeLessThan(1e-10);
    expect(Math.abs(dot(viaCausal, yv) - dot(gv, Tinv_y))).toBeGreaterThan(1e-3);
  });
});
