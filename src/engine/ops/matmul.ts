import { fail, shapeStr } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { sum } from './reduce.js';
import { reshape } from './shape-ops.js';

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
}

/**
 * Matrix product of rank-2 ([M, K] · [K, N]) or batched rank-3 ([B, M, K] · [B, K, N]) tensors;
 * a batch of 1 broadcasts. Transposes apply to the last two axes.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  a.assertLive('matmul');
  b.assertLive('matmul');
  const tA = !!opts.transposeA, tB = !!opts.transposeB;
  const rank = Math.max(a.rank, b.rank);
  if (a.rank < 2 || a.rank > 3 || b.rank < 2 || b.rank > 3)
    fail('matmul', `operands must be rank 2 or 3, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  const a3 = a.rank === 2 ? [1, ...a.shape] : [...a.shape];
  const b3 = b.rank === 2 ? [1, ...b.shape] : [...b.shape];
  const [Ba, ra, ca] = a3 as [number, number, number];
  const [Bb, rb, cb] = b3 as [number, number, number];
  const M = tA ? ca : ra, K = tA ? ra : ca, Kb = tB ? cb : rb, N = tB ? rb : cb;
  if (K !== Kb) fail('matmul', `inner dimensions differ: ${shapeStr(a.shape)}${tA ? 'ᵀ' : ''} · ${shapeStr(b.shape)}${tB ? 'ᵀ' : ''}`);
  if (Ba !== Bb && Ba !== 1 && Bb !== 1) fail('matmul', `batch sizes ${Ba} and ${Bb} differ (${shapeStr(a.shape)}, ${shapeStr(b.shape)})`);
  const B = Math.max(Ba, Bb);
  const out3 = [B, M, N];
  // Rank 2 gets its [M, N] output from the kernel call itself: a reshape of a rank-3 result would
  // leave that result alive after the caller disposes the reshape (outside a scope, a leak per call).
  return a.engine.run('matmul', {
    inputs: [a, b], outShape: rank === 2 ? [M, N] : out3, attrs: { transposeA: tA, transposeB: tB },
    kernelInputShapes: [a3, b3], kernelOutShape: out3,
    grad: (dy, [ain, bin]) => {
      const A = reshape(ain!, a3), Bm = reshape(bin!, b3);
      let [da, db] = matmulGrads(rank === 2 ? reshape(dy, out3) : dy, A, Bm, tA, tB);
      if (Ba === 1 && B > 1) da = sum(da, [0], true);
      if (Bb === 1 && B > 1) db = sum(db, [0], true);
      return [reshape(da, ain!.shape), reshape(db, bin!.shape)];
    },
  });
}

/** Gradients of y = op(A)·op(B) for each transpose combination, each in its operand's stored layout. */
function matmulGrads(dy: Tensor, A: Tensor, B: Tensor, tA: boolean, tB: boolean): [Tensor, Tensor] {
  const mm = (x: Tensor, z: Tensor, transposeA: boolean, transposeB: boolean) => matmul(x, z, { transposeA, transposeB });
  if (!tA && !tB) return [mm(dy, B, false, true), mm(A, dy, true, false)];
  if (!tA && tB) return [mm(dy, B, false, false), mm(dy, A, true, false)];
  if (tA && !tB) return [mm(B, dy, false, true), mm(A, dy, false, false)];
  return [mm(B, dy, true, true), mm(dy, A, true, true)];
}
