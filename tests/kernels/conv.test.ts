import { afterAll, describe, expect, it } from 'vitest';
import type { Pad4 } from '../../src/backends/backend.js';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import { backendsUnderTest, disposeAll } from '../helpers/backends.js';
import { runKernel } from '../helpers/kernels.js';
import { expectIdentical, expectParity, others, reference, tensor } from './parity.js';

const list = await backendsUnderTest();
afterAll(() => disposeAll(list));
const ref = reference(list);

interface Case { N: number; Ci: number; H: number; W: number; Co: number; kh: number; kw: number; pad: Pad4; groups: number; bias: boolean }
const pad = (top: number, left: number, bottom: number, right: number): Pad4 => ({ top, left, bottom, right });
const cases: Case[] = [
  { N: 2, Ci: 3, H: 5, W: 7, Co: 5, kh: 3, kw: 3, pad: pad(1, 1, 1, 1), groups: 1, bias: true },
  { N: 1, Ci: 4, H: 6, W: 4, Co: 6, kh: 1, kw: 1, pad: pad(0, 0, 0, 0), groups: 2, bias: false },
  { N: 3, Ci: 6, H: 7, W: 5, Co: 9, kh: 3, kw: 2, pad: pad(2, 0, 0, 1), groups: 3, bias: true },
  { N: 2, Ci: 2, H: 9, W: 9, Co: 8, kh: 5, kw: 5, pad: pad(2, 2, 2, 2), groups: 1, bias: true },
  { N: 1, Ci: 5, H: 4, W: 6, Co: 3, kh: 2, kw: 2, pad: pad(0, 0, 0, 0), groups: 1, bias: false },
  // Padding wider than the kernel: the input gradient then crops (negative padding).
  { N: 1, Ci: 3, H: 4, W: 5, Co: 2, kh: 1, kw: 1, pad: pad(1, 2, 1, 0), groups: 1, bias: true },
  // Flow-like: squeezed image, TL padding of a 3×3 masked conv.
  { N: 2, Ci: 8, H: 14, W: 14, Co: 12, kh: 3, kw: 3, pad: pad(2, 2, 0, 0), groups: 4, bias: true },
  { N: 3, Ci: 7, H: 1, W: 11, Co: 4, kh: 1, kw: 3, pad: pad(0, 1, 0, 1), groups: 1, bias: false },
];

function shapes(c: Case) {
  const Ho = c.H + c.pad.top + c.pad.bottom - c.kh + 1, Wo = c.W + c.pad.left + c.pad.right - c.kw + 1;
  return {
    x: [c.N, c.Ci, c.H, c.W], w: [c.Co, c.Ci / c.groups, c.kh, c.kw], y: [c.N, c.Co, Ho, Wo],
    label: `N${c.N} ${c.Ci}→${c.Co} ${c.H}×${c.W} k${c.kh}×${c.kw} pad ${Object.values(c.pad).join(',')} g${c.groups}`,
  };
}

for (const b of others(list)) {
  describe(`conv kernels on ${b.name}`, () => {
    for (const c of cases) {
      const s = shapes(c);
      // Weights and dy are scaled by 1/√(terms per sum) so each output is O(1): the abs tolerance stays meaningful.
      const fanIn = (c.Ci / c.groups) * c.kh * c.kw;
      const x = tensor(s.x, 1), w = tensor(s.w, 2, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn)), bias = tensor([c.Co], 3);
      const terms = c.N * s.y[2]! * s.y[3]!;
      const dy = tensor(s.y, 4, -1 / Math.sqrt(terms), 1 / Math.sqrt(terms));
      const dyIn = tensor(s.y, 5, -1 / Math.sqrt(c.Co * c.kh * c.kw / c.groups), 1 / Math.sqrt(c.Co * c.kh * c.kw / c.groups));
      it.skipIf(!b.backend)(`conv2d ${s.label}`, async () => {
        await expectParity(ref, b.backend!, 'conv2d', c.bias ? [x, w, bias] : [x, w], s.y,
          { pad: c.pad, groups: c.groups, hasBias: c.bias }, s.label);
      });
      it.skipIf(!b.backend)(`conv2dGradInput ${s.label}`, async () => {
        await expectParity(ref, b.backend!, 'conv2dGradInput', [dyIn, w], s.x, { pad: c.pad, groups: c.groups }, s.label);
      });
      it.skipIf(!b.backend)(`conv2dGradFilter ${s.label}`, async () => {
        await expectParity(ref, b.backend!, 'conv2dGradFilter', [x, dy], s.w, { pad: c.pad, groups: c.groups }, s.label);
      });
    }
  });
}

describe('wasm conv threads', () => {
  it('threads = 2 gives bit-identical results to threads = 1', async () => {
    const one = await createWasmBackend({ threads: 1 });
    const two = await createWasmBackend({ threads: 2 });
    try {
      expect(two.info().details.threads).toBe(2);
      const c: Case = { N: 4, Ci: 16, H: 14, W: 13, Co: 18, kh: 3, kw: 3, pad: pad(1, 1, 1, 1), groups: 2, bias: true };
      const s = shapes(c);
      const x = tensor(s.x, 11), w = tensor(s.w, 12, -0.1, 0.1), bias = tensor([c.Co], 13), dy = tensor(s.y, 14, -0.05, 0.05);
      const attrs = { pad: c.pad, groups: c.groups };
      for (const [op, inputs, out] of [
        ['conv2d', [x, w, bias], s.y], ['conv2dGradInput', [dy, w], s.x], ['conv2dGradFilter', [x, dy], s.w],
      ] as const) {
        const a = await runKernel(one, op, inputs, out, { ...attrs, hasBias: true });
        const r = await runKernel(two, op, inputs, out, { ...attrs, hasBias: true });
        expectIdentical(a, r, op);
      }
    } finally {
      one.dispose();
      two.dispose();
    }
  });
});
