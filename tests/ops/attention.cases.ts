import { attention, concat, mul, reshape, sum, type AttentionOptions } from '../../src/ops/index.js';
import type { Tensor } from '../../src/engine/tensor.js';
import type { OpCase } from './case.js';

const NEG = -Infinity;
/** [4, 5]: −∞ entries, finite offsets, and row 2 masked from every key (its output is zeros). */
const mask4x5 = [
  0, NEG, 0, 0.5, NEG,
  NEG, 0, 0, 0, 0,
  NEG, NEG, NEG, NEG, NEG,
  0.3, 0, NEG, -1, 0,
];

const qkv = (B: number, Nq: number, Nk: number, d: number, dv: number) =>
  [{ shape: [B, Nq, d] }, { shape: [B, Nk, d] }, { shape: [B, Nk, dv] }];

/**
 * The gradients of Σ attention(q, k, v) ⊙ w for q, k and v, flattened into one tensor: the parity
 * suite then compares the backward kernels (logsumexp, dQ, dK, dV) of every backend with the float64
 * reference. The finite-difference check of these same gradients is the other cases' job.
 */
function backward(opts: (xs: Tensor[]) => AttentionOptions = () => ({})) {
  return (xs: Tensor[]): Tensor => {
    const [q, k, v, w] = xs as [Tensor, Tensor, Tensor, Tensor];
    const e = q.engine;
    return e.scope(() => {
      const { grads } = e.valueAndGrads(() => sum(mul(attention(q, k, v, opts(xs)), w)), [q, k, v]);
      return concat(grads.map((g) => reshape(g, [1, -1])), 1);
    });
  };
}

export const cases: OpCase[] = [
  { name: 'self 1×5×3 (q = k = v)', inputs: [{ shape: [1, 5, 3] }], run: ([x]) => attention(x!, x!, x!) },
  { name: 'cross B 5, Nq 3, Nk 7, d 5, dv 4', inputs: qkv(5, 3, 7, 5, 4), run: ([q, k, v]) => attention(q!, k!, v!) },
  { name: 'cross B 2, Nq 4, Nk 6, d 17, dv 3', inputs: qkv(2, 4, 6, 17, 3), run: ([q, k, v]) => attention(q!, k!, v!) },
  {
    name: 'mask [Nq, Nk] with −∞ and a fully masked row, B 2',
    inputs: [...qkv(2, 4, 5, 3, 2), { shape: [4, 5], data: mask4x5 }],
    run: ([q, k, v, m]) => attention(q!, k!, v!, { mask: m! }),
    grad: [0, 1, 2], // the mask has no gradient
  },
  {
    name: 'mask [B, Nq, Nk] finite, scale 0.7, B 3',
    inputs: [...qkv(3, 3, 4, 5, 3), { shape: [3, 3, 4], lo: -2, hi: 2 }],
    run: ([q, k, v, m]) => attention(q!, k!, v!, { mask: m!, scale: 0.7 }),
    grad: [0, 1, 2],
  },
  { name: 'causal self 1×6, d 5', inputs: qkv(1, 6, 6, 5, 5), run: ([q, k, v]) => attention(q!, k!, v!, { causal: true }) },
  {
    name: 'causal Nq 5 > Nk 3 with a mask, B 2',
    inputs: [...qkv(2, 5, 3, 3, 4), { shape: [5, 3], lo: -1, hi: 1 }],
    run: ([q, k, v, m]) => attention(q!, k!, v!, { causal: true, mask: m! }),
    grad: [0, 1, 2],
  },
  { name: 'causal Nq 3 < Nk 6, B 2', inputs: qkv(2, 3, 6, 4, 3), run: ([q, k, v]) => attention(q!, k!, v!, { causal: true }) },
  {
    // Logits up to ±128: e^s alone would overflow float32; the running maximum keeps every exponent ≤ 0.
    name: 'large logits (|s| ≤ 128), B 2, d 4',
    inputs: [{ shape: [2, 4, 4], lo: -8, hi: 8 }, { shape: [2, 5, 4], lo: -8, hi: 8 }, { shape: [2, 5, 3] }],
    run: ([q, k, v]) => attention(q!, k!, v!),
  },
  {
    name: 'UNet 8×8: B 4, N 64, d 64',
    inputs: qkv(4, 64, 64, 64, 64),
    run: ([q, k, v]) => attention(q!, k!, v!),
    grad: false, // 49 152 inputs: the gradient is checked by the small cases
  },
  {
    name: 'several key blocks and workgroups: B 2, Nq 100, Nk 130, d 20, dv 12, causal + mask',
    inputs: [...qkv(2, 100, 130, 20, 12), { shape: [2, 100, 130], lo: -1, hi: 1 }],
    run: ([q, k, v, m]) => attention(q!, k!, v!, { causal: true, mask: m! }),
    grad: false, // large: the gradient is checked by the small cases
  },
  {
    name: 'wide heads: B 1, Nq 9, Nk 11, d 100, dv 70',
    inputs: qkv(1, 9, 11, 100, 70),
    run: ([q, k, v]) => attention(q!, k!, v!),
    grad: false, // large: the gradient is checked by the small cases
  },
  {
    name: 'backward kernels: B 2, Nq 70, Nk 90, d 20, dv 12, causal + mask',
    inputs: [...qkv(2, 70, 90, 20, 12), { shape: [2, 70, 12] }, { shape: [70, 90], lo: -1, hi: 1 }],
    run: backward((xs) => ({ causal: true, mask: xs[4]! })),
    grad: false, // the output is a gradient; finite differences check the small cases
  },
  {
    name: 'backward kernels: B 2, N 64, d 64 (UNet 8×8)',
    inputs: [...qkv(2, 64, 64, 64, 64), { shape: [2, 64, 64] }],
    run: backward(),
    grad: false, // the output is a gradient; finite differences check the small cases
  },
  {
    name: 'backward kernels: −∞ mask with a fully masked row, d 3, dv 5',
    inputs: [...qkv(2, 4, 5, 3, 5), { shape: [2, 4, 5] }, { shape: [4, 5], data: mask4x5 }],
    run: backward((xs) => ({ mask: xs[4]! })),
    grad: false, // the output is a gradient; finite differences check the mask case above
  },
  {
    name: 'backward kernels: self-attention q = k = v, B 2, N 20, d 6',
    inputs: [{ shape: [2, 20, 6] }, { shape: [2, 20, 6] }],
    run: ([x, w]) => x!.engine.scope(() => x!.engine.valueAndGrads(() => sum(mul(attention(x!, x!, x!), w!)), [x!]).grads[0]!),
    grad: false, // the output is a gradient; finite differences check the self-attention case above
  },
  {
    name: 'backward kernels: large logits, B 3, Nq 6, Nk 5, d 9',
    inputs: [{ shape: [3, 6, 9], lo: -5, hi: 5 }, { shape: [3, 5, 9], lo: -5, hi: 5 }, { shape: [3, 5, 7] }, { shape: [3, 6, 7] }],
    run: backward(),
    grad: false, // the output is a gradient; finite differences check the large-logit case above
  },
];
