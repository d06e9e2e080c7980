import { conv2d, conv2dGradFilter, conv2dGradInput, convTranspose2d, type ConvOptions, type ConvTransposeOptions } from '../../src/ops/index.js';
import type { CaseInput, OpCase } from './case.js';

type Shape4 = [number, number, number, number];

/** Weights scaled to ±1/√fanIn so outputs stay O(1) and the shared absolute tolerance stays meaningful. */
const weight = (shape: Shape4, fanIn = shape[1] * shape[2] * shape[3]): CaseInput => ({ shape, lo: -1 / Math.sqrt(fanIn), hi: 1 / Math.sqrt(fanIn) });
const label = (o: object): string => Object.entries(o).filter(([k]) => k !== 'bias').map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ');

function conv(x: Shape4, w: Shape4, opts: Omit<ConvOptions, 'bias'> & { bias?: boolean }, grad = true): OpCase {
  const { bias, ...rest } = opts;
  return {
    name: `x ${x.join('×')} w ${w.join('×')} ${label(rest)}${bias ? ' bias' : ''}`,
    inputs: [{ shape: x }, weight(w), ...(bias ? [{ shape: [w[0]] }] : [])],
    run: ([xt, wt, b]) => conv2d(xt!, wt!, { ...rest, ...(b ? { bias: b } : {}) }),
    ...(grad ? {} : { grad: false }),
  };
}

function transposed(x: Shape4, w: Shape4, opts: Omit<ConvTransposeOptions, 'bias'> & { bias?: boolean }, grad = true): OpCase {
  const { bias, ...rest } = opts;
  const Cout = w[1] * (rest.groups ?? 1);
  return {
    name: `transposed x ${x.join('×')} w ${w.join('×')} ${label(rest)}${bias ? ' bias' : ''}`,
    inputs: [{ shape: x }, weight(w, w[0] / (rest.groups ?? 1) * w[2] * w[3]), ...(bias ? [{ shape: [Cout] }] : [])],
    run: ([xt, wt, b]) => convTranspose2d(xt!, wt!, { ...rest, ...(b ? { bias: b } : {}) }),
    ...(grad ? {} : { grad: false }),
  };
}

// Large parity-only cases set grad: false; their gradients are the same kernels, checked by the small cases.
export const cases: OpCase[] = [
  // Stride 1, the flows' forms: 'same', corners, groups, channels not multiples of 4.
  conv([1, 3, 5, 7], [5, 3, 3, 3], { pad: 'same', bias: true }),
  conv([2, 4, 6, 5], [6, 2, 2, 3], { pad: 'tl', groups: 2 }),
  conv([1, 4, 6, 5], [4, 1, 5, 4], { pad: 'br', groups: 4 }),
  conv([1, 3, 4, 5], [2, 3, 3, 2], { pad: [1, 0, 2, 1], bias: true }),
  // Strides 2 and 3, asymmetric padding, non-square images.
  conv([1, 3, 7, 6], [4, 3, 3, 3], { stride: 2, pad: [1, 0, 1, 2] }),
  conv([1, 2, 11, 10], [3, 2, 7, 7], { stride: 2, pad: 3, bias: true }),
  conv([1, 6, 5, 7], [5, 6, 1, 1], { stride: [2, 3] }),
  conv([1, 2, 8, 9], [3, 2, 4, 4], { stride: 3, pad: 'same' }),
  // Dilation, with and without stride.
  conv([1, 2, 9, 8], [3, 2, 2, 2], { stride: 3, dilation: 2, pad: 1 }),
  conv([1, 4, 8, 7], [4, 2, 3, 2], { dilation: [2, 1], groups: 2, pad: 'same', bias: true }),
  conv([1, 2, 6, 7], [3, 2, 3, 3], { stride: 2, dilation: 2, pad: 'tl' }),
  // Depthwise: multiplier 1 and 2, strides 1–2.
  conv([1, 5, 6, 5], [5, 1, 3, 3], { groups: 5, pad: 'same', bias: true }),
  conv([1, 3, 7, 9], [6, 1, 3, 3], { groups: 3, stride: 2, pad: 1, bias: true }),
  // The direct depthwise 3×3 kernel: rows of 1–3 vectors with and without a scalar tail, one row,
  // narrower than a vector, multiplier 3, and one input channel (a single group).
  conv([2, 2, 3, 8], [4, 1, 3, 3], { groups: 2, pad: 1, bias: true }),
  conv([1, 3, 1, 4], [9, 1, 3, 3], { groups: 3, pad: 1 }),
  conv([1, 2, 4, 3], [2, 1, 3, 3], { groups: 2, pad: 'same' }),
  conv([2, 1, 5, 6], [3, 1, 3, 3], { pad: 1, bias: true }),
  // Batch 5 and larger shapes, parity only.
  conv([5, 6, 13, 11], [10, 6, 3, 3], { stride: 2, pad: 1, bias: true }, false),
  conv([5, 9, 10, 9], [13, 9, 3, 3], { pad: 'same', bias: true }, false),
  conv([5, 5, 12, 14], [6, 5, 3, 3], { dilation: 2, pad: [2, 1, 0, 2] }, false),
  conv([2, 3, 20, 17], [5, 3, 7, 7], { stride: 3, pad: 3 }, false),
  conv([5, 6, 14, 13], [4, 3, 5, 5], { stride: 2, dilation: 2, groups: 2, pad: [4, 0, 3, 5] }, false),
  conv([5, 7, 15, 12], [7, 1, 3, 3], { groups: 7, pad: 'same', bias: true }, false),
  conv([5, 6, 9, 13], [12, 1, 3, 3], { groups: 6, pad: 1 }, false),
  // 16 output columns in a phase plane 17 wide: both micro-kernels walk row by row, over K in chunks.
  conv([1, 8, 32, 32], [5, 8, 3, 3], { stride: 2, pad: 1, bias: true }, false),
  conv([5, 4, 16, 15], [12, 1, 5, 5], { groups: 4, stride: 3, pad: 2 }, false),
  conv([5, 6, 17, 16], [6, 1, 3, 3], { groups: 6, stride: 2, dilation: 2, pad: 'same', bias: true }, false),
  // The adjoints on their own, so their own gradients (conv2d and each other) are checked too.
  {
    name: 'gradInput dy 1×4×3×4 w 4×3×3×3 stride 2, pad 1, dilation [1, 2]',
    inputs: [{ shape: [1, 4, 3, 4] }, weight([4, 3, 3, 3])],
    run: ([dy, w]) => conv2dGradInput(dy!, w!, [1, 3, 6, 9], { pad: 1, stride: 2, dilation: [1, 2] }),
  },
  {
    name: 'gradFilter x 2×4×7×6 dy 2×2×3×3 stride 2, groups 2',
    inputs: [{ shape: [2, 4, 7, 6] }, { shape: [2, 2, 3, 3] }],
    run: ([x, dy]) => conv2dGradFilter(x!, dy!, [2, 2, 3, 2], { pad: [0, 1, 1, 0], stride: 2, groups: 2 }),
  },
  // Transposed: stride 2 with output padding, the 4×4 stride-2 upsampler, dilation, groups, depthwise.
  transposed([1, 3, 4, 5], [3, 2, 4, 4], { stride: 2, padding: 1, bias: true }),
  transposed([1, 2, 4, 3], [2, 3, 3, 3], { stride: 2, padding: 1, outputPadding: 1 }),
  transposed([1, 4, 3, 4], [4, 1, 3, 3], { stride: 3, dilation: 2, groups: 2, outputPadding: [2, 1], bias: true }),
  transposed([1, 3, 6, 5], [3, 4, 5, 5], { padding: 'same' }),
  transposed([1, 2, 3, 5], [2, 3, 1, 1], { stride: [2, 3], outputPadding: [1, 2] }),
  transposed([5, 8, 9, 10], [8, 5, 4, 4], { stride: 2, padding: 1, bias: true }, false),
  transposed([5, 6, 8, 7], [6, 1, 4, 4], { stride: 2, padding: [1, 2, 2, 1], groups: 6, outputPadding: 1 }, false),
  transposed([5, 5, 7, 6], [5, 3, 3, 3], { stride: 3, padding: 1, dilation: 2, outputPadding: [0, 2], bias: true }, false),
];
