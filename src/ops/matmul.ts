import { buf } from '../backends/reference/storage.js';
import { ceil4, withScratch } from './util/scratch.js';
import { fail, shapeStr } from '../engine/errors.js';
import { defineKernel, wasmExport, wgslKernel } from '../engine/kernel.js';
import type { Tensor } from '../engine/tensor.js';
import { sum } from './reduce.js';
import { reshape } from '../engine/views.js';

/**
 * Batched matrix product y[t] = op(a[t]) · op(b[t]) over rank-3 views [batch, rows, cols]; a batch
 * of 1 broadcasts. Gradient rules: docs/gradients.md §4.
 */
export interface MatmulAttrs { transposeA: boolean; transposeB: boolean }

const packB = wasmExport('matmulPackB', { b: 'ptr', dst: 'ptr', batch: 'i32', K: 'i32', N: 'i32', sbk: 'i32', sbn: 'i32', bBatch: 'i32' });
const wasmMatmul = wasmExport('matmul', {
  a: 'ptr', pb: 'ptr', y: 'ptr', batch: 'i32', M: 'i32', N: 'i32', K: 'i32', aBatch: 'i32', sam: 'i32', sak: 'i32',
  bBatch: 'i32', bPanel: 'i32', bk: 'i32', MC: 'i32', KC: 'i32', scratch: 'ptr',
});
const wgsl = wgslKernel('matmul', { n: 'u32', M: 'u32', N: 'u32', K: 'u32', aBatch: 'u32', bBatch: 'u32', transA: 'u32', transB: 'u32' });

/**
 * Up to this many rows of a (one task's block), matmul reads a row-major b in place: with a single
 * block per batch entry packing buys no reuse, only contiguity, and costs a pass over b
 * (measured: 2× faster at 1–4 rows, even from 32 to 128 rows at 512×512).
 */
const MATMUL_IN_PLACE_ROWS = 64;

/**
 * Rows per matmul task and k steps per chunk. A 256-step chunk of an 8-column panel is 8 KiB (it
 * stays in L1 while the block's slivers pass) and a 64-row block of packed a 64 KiB (L2). Blocks
 * shrink when there would be too few tasks for the threads (results do not depend on either size).
 */
export function matmulBlocking(batch: number, M: number, K: number, threads: number): { mc: number; kc: number } {
  const kc = Math.min(K, 256);
  let mc = Math.min(64, ceil4(M));
  if (threads > 1) {
    const perBatch = Math.ceil((4 * threads) / batch);
    mc = Math.min(mc, Math.max(4, ceil4(Math.ceil(M / perBatch))));
  }
  return { mc, kc };
}

export const matmulKernel = defineKernel<MatmulAttrs>({
  name: 'matmul',
  reference([a, b], out, attrs) {
    const A = buf(a!), B = buf(b!), Y = buf(out);
    const [batch, M, N] = out.shape as [number, number, number];
    const K = attrs.transposeA ? a!.shape[1]! : a!.shape[2]!;
    const aBatch = a!.shape[0] === 1 ? 0 : M * K;
    const bBatch = b!.shape[0] === 1 ? 0 : K * N;
    for (let t = 0; t < batch; t++) {
      const ao = t * aBatch, bo = t * bBatch;
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let acc = 0;
          for (let k = 0; k < K; k++)
            acc += A[ao + (attrs.transposeA ? k * M + i : i * K + k)]! * B[bo + (attrs.transposeB ? j * K + k : k * N + j)]!;
          Y[(t * M + i) * N + j] = acc;
        }
    }
  },
  wasm: {
    exports: [packB, wasmMatmul],
    run(ctx, [a, b], out, attrs) {
      const [batch, M, N] = out.shape as [number, number, number];
      const K = attrs.transposeA ? a!.shape[1]! : a!.shape[2]!;
      const Bb = b!.shape[0]!;
      const [sam, sak] = attrs.transposeA ? [1, M] : [K, 1];
      const [sbk, sbn] = attrs.transposeB ? [1, K] : [N, 1];
      const { mc, kc } = matmulBlocking(batch, M, K, ctx.threads);
      const panels = Math.ceil(N / 8);
      // Per thread: the packed a block, the overhanging panel (mc × 8) and sliver (4 × panels·8); see assembly/matmul.ts.
      const perThread = mc * kc + mc * 8 + 4 * panels * 8;
      // Packing b pays off when many rows of a reuse it; a few rows read a row-major b in place.
      const inPlace = !attrs.transposeB && M <= MATMUL_IN_PLACE_ROWS;
      const packed = inPlace ? 0 : Bb * panels * 8 * K;
      withScratch(ctx, [packed, ctx.threads * perThread], ([pb, scratch]) => {
        // On the calling thread alone: a pass over b is far shorter than waking a worker, and a job
        // waits for every thread (a worker the OS wakes late would stall it).
        if (!inPlace) ctx.call(packB, { b: ctx.ptr(b!.storage), dst: pb!, batch: Bb, K, N, sbk, sbn, bBatch: K * N }, 0);
        const [bp, bBatch, bPanel, bk] = inPlace ? [ctx.ptr(b!.storage), K * N * 4, 32, N * 4] : [pb!, panels * K * 32, K * 32, 32];
        ctx.call(wasmMatmul, {
          a: ctx.ptr(a!.storage), pb: bp, y: ctx.ptr(out.storage), batch, M, N, K, aBatch: a!.shape[0] === 1 ? 0 : M * K,
          sam, sak, bBatch: Bb === 1 ? 0 : bBatch, bPanel, bk, MC: mc, KC: kc, scratch: scratch!,
        }, 2 * batch * M * N * K);
      });
    },
  },
  webgpu: {
    kernels: [wgsl],
    run(ctx, [a, b], out, attrs) {
      const [batch, M, N] = out.shape as [number, number, number];
      const K = attrs.transposeA ? a!.shape[1]! : a!.shape[2]!;
      const n = batch * M * N;
      ctx.dispatch(wgsl, [{
        params: { n, M, N, K, aBatch: a!.shape[0] === 1 ? 0 : M * K, bBatch: b!.shape[0] === 1 ? 0 : K * N,
          transA: +attrs.transposeA, transB: +attrs.transposeB },
        bindings: [a!.storage, b!.storage, out.storage],
        workgroups: Math.ceil(n / 64),
      }]);
    },
  },
});

export const kernels = [matmulKernel];

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
  return a.engine.run(matmulKernel, {
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
