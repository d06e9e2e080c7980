import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.js';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import { backendsUnderTest, disposeAll } from '../helpers/backends.js';
import { runKernel, type HostTensor } from '../helpers/kernels.js';
import { triangularKernel as kernel } from '../helpers/solve-kernel.js';
import { tolerance, worstMismatch } from '../helpers/tolerance.js';
import { expectIdentical, expectParity, others, reference, tensor } from './parity.js';
import type { SolveAttrs } from '../../src/ops/solve.js';

const list = await backendsUnderTest();
afterAll(() => disposeAll(list));
const ref = reference(list);

interface Case { N: number; C: number; H: number; W: number; groups: number; k: number }
const cases: Case[] = [
  { N: 1, C: 3, H: 5, W: 7, groups: 1, k: 3 },
  { N: 5, C: 8, H: 4, W: 6, groups: 4, k: 2 },
  { N: 2, C: 12, H: 7, W: 7, groups: 2, k: 3 },
  { N: 3, C: 4, H: 6, W: 3, groups: 4, k: 5 },
  { N: 2, C: 6, H: 3, W: 4, groups: 1, k: 1 },
  { N: 260, C: 2, H: 3, W: 4, groups: 2, k: 2 },
  // Fewer than 4 images with Cg ≥ 4: wasm vectorises over output channels instead of images.
  { N: 1, C: 12, H: 6, W: 5, groups: 2, k: 3 },
  { N: 3, C: 8, H: 5, W: 4, groups: 2, k: 3 },
  { N: 1, C: 9, H: 4, W: 7, groups: 1, k: 2 },
  { N: 1, C: 5, H: 3, W: 3, groups: 1, k: 1 },
];
const flipsFor = (groups: number, seed: number) => Array.from({ length: groups }, (_, g) => (g + seed) % 4);

for (const b of others(list)) {
  describe(`solves on ${b.name}`, () => {
    for (const c of cases)
      for (const unitDiag of [true, false])
        for (const algorithm of ['raster', 'wavefront'] as const)
          for (const op of ['solve', 'solveTranspose'] as const) {
            const label = `${op} N${c.N} C${c.C} ${c.H}×${c.W} g${c.groups} k${c.k} unit=${unitDiag} ${algorithm}`;
            it.skipIf(!b.backend)(label, async () => {
              const attrs: SolveAttrs = { groups: c.groups, unitDiag, flips: flipsFor(c.groups, c.N), algorithm };
              const shape = [c.N, c.C, c.H, c.W];
              await expectParity(ref, b.backend!, op, [tensor(shape, c.C + c.k), kernel(c.C, c.C / c.groups, c.k, c.N)], shape, attrs, label);
            });
          }
  });
}

describe('wasm solve threads', () => {
  it('threads = 2 gives bit-identical results to threads = 1', async () => {
    const one = await createWasmBackend({ threads: 1 }), two = await createWasmBackend({ threads: 2 });
    try {
      for (const [shape, groups] of [[[16, 12, 14, 14], 4], [[1, 32, 16, 16], 4], [[3, 16, 9, 9], 2]] as const) {
        const C = shape[1];
        const y = tensor(shape, 1), K = kernel(C, C / groups, 3, 2);
        for (const op of ['solve', 'solveTranspose'] as const) {
          const attrs: SolveAttrs = { groups, unitDiag: false, flips: [0, 1, 2, 3], algorithm: 'raster' };
          expectIdentical(await runKernel(one, op, [y, K], shape, attrs), await runKernel(two, op, [y, K], shape, attrs), `${op} N${shape[0]}`);
        }
      }
    } finally {
      one.dispose();
      two.dispose();
    }
  });
});

// Properties of the oracle itself: the other backends are only as right as the reference.
describe('reference solve properties', () => {
  const tol = tolerance.reference;
  const run64 = async (be: Backend, op: 'solve' | 'solveTranspose', y: HostTensor, K: HostTensor, attrs: SolveAttrs) => {
    const out = await runKernel(be, op, [y, K], y.shape, attrs);
    return out;
  };
  const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);

  /** The masked kernel the solve inverts: centre upper triangle zeroed, diagonal 1 when unitDiag. */
  function masked(K: HostTensor, Cg: number, unitDiag: boolean): HostTensor {
    const [C, , k] = K.shape as [number, number, number];
    const data = K.data.slice();
    for (let c = 0; c < C; c++)
      for (let i = 0; i < Cg; i++) {
        const at = ((c * Cg + i) * k + k - 1) * k + k - 1;
        if (i > c % Cg) data[at] = 0;
        if (i === c % Cg && unitDiag) data[at] = 1;
      }
    return { shape: K.shape, data };
  }

  for (const k of [1, 2, 3, 5, 7])
    for (const Cg of [1, 2, 3, 6, 12]) {
      const groups = 4, C = Cg * groups;
      const N = 2, H = 5, W = 6;
      it(`k${k} Cg${Cg}: wavefront = raster, conv(solve(y)) = y, adjoint identity, all 4 corners`, async () => {
        for (const unitDiag of [true, false]) {
          const attrs: SolveAttrs = { groups, unitDiag, flips: [0, 1, 2, 3], algorithm: 'raster' };
          const y = tensor([N, C, H, W], k * 100 + Cg), g = tensor([N, C, H, W], k * 100 + Cg + 1);
          const K = kernel(C, Cg, k, k + Cg);
          const x = await run64(ref, 'solve', y, K, attrs);
          const xw = await run64(ref, 'solve', y, K, { ...attrs, algorithm: 'wavefront' });
          expect(worstMismatch(xw, x, tol), 'wavefront vs raster').toBeNull();
          const gt = await run64(ref, 'solveTranspose', g, K, attrs);
          const gtw = await run64(ref, 'solveTranspose', g, K, { ...attrs, algorithm: 'wavefront' });
          expect(worstMismatch(gtw, gt, tol), 'transpose: wavefront vs raster').toBeNull();

          // conv(solve(y)) = y per group: F T F x = y, T the TL-padded conv with the masked kernel.
          const Km = masked(K, Cg, unitDiag);
          const shape = [N, C, H, W];
          const pad = { top: k - 1, left: k - 1, bottom: 0, right: 0 };
          for (let grp = 0; grp < groups; grp++) {
            const f = attrs.flips[grp]!;
            const flipAttrs = { h: (f & 2) !== 0, w: (f & 1) !== 0 };
            const fx = await runKernel(ref, 'flip', [{ shape, data: x }], shape, flipAttrs);
            const conv = await runKernel(ref, 'conv2d', [{ shape, data: fx }, Km], shape, { pad, stride: [1, 1], dilation: [1, 1], groups, hasBias: false });
            const back = await runKernel(ref, 'flip', [{ shape, data: conv }], shape, flipAttrs);
            const pick = (a: Float32Array) => {
              const out: number[] = [];
              for (let n = 0; n < N; n++) out.push(...a.subarray((n * C + grp * Cg) * H * W, (n * C + grp * Cg + Cg) * H * W));
              return out;
            };
            // The conv result went through float32 (runKernel reads float32), so compare at float32 accuracy.
            expect(worstMismatch(pick(back), pick(y.data), { abs: 1e-5, rel: 1e-5 }), `conv(solve(y)) group ${grp}`).toBeNull();
          }
          // ⟨T⁻ᵀ g, y⟩ = ⟨g, T⁻¹ y⟩
          const lhs = dot(gt, y.data), rhs = dot(g.data, x);
          expect(Math.abs(lhs - rhs)).toBeLessThan(1e-5 * (1 + Math.abs(lhs)));
        }
      });
    }
});
