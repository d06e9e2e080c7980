import type { KernelTable, View } from '../backend.js';
import { binaryCode, reduceCode, unaryCode } from './codes.js';
import { ceil4, numel, withScratch, type KernelContext } from './context.js';
import { convKernels } from './conv.js';
import { solve } from './solve.js';

export type { KernelContext } from './context.js';

export function wasmKernels(ctx: KernelContext): KernelTable {
  const p = (v: View): number => ctx.ptr(v.storage);
  return {
    ...convKernels(ctx),

    matmul(inputs, out, attrs) {
      const [a, b] = inputs as [View, View];
      const [batch, M, N] = out.shape as [number, number, number];
      const K = attrs.transposeA ? a.shape[1]! : a.shape[2]!;
      if (K === 0) return ctx.run('fill', [p(out), batch * M * N, 0], batch * M * N);
      const Bb = b.shape[0]!;
      const aBatch = a.shape[0] === 1 ? 0 : M * K;
      const [sam, sak] = attrs.transposeA ? [1, M] : [K, 1];
      const [sbk, sbn] = attrs.transposeB ? [1, K] : [N, 1];
      const { mc, kc } = matmulBlocking(batch, M, K, ctx.threads);
      const panels = Math.ceil(N / 8);
      // Per thread: the packed a block, the overhanging panel (mc × 8) and sliver (4 × panels·8); see assembly/matmul.ts.
      const perThread = mc * kc + mc * 8 + 4 * panels * 8;
      const flops = 2 * batch * M * N * K;
      // Packing b pays off when many rows of a reuse it; a few rows read a row-major b in place.
      const inPlace = !attrs.transposeB && M <= MATMUL_IN_PLACE_ROWS;
      const packed = inPlace ? 0 : Bb * panels * 8 * K;
      withScratch(ctx, [packed, ctx.threads * perThread], ([pb, scratch]) => {
        // On the calling thread alone: a pass over b is far shorter than waking a worker, and a job
        // waits for every thread (a worker the OS wakes late would stall it).
        if (!inPlace) ctx.run('matmulPackB', [p(b), pb!, Bb, K, N, sbk, sbn, K * N], 0);
        const [bp, bBatch, bPanel, bk] = inPlace ? [p(b), K * N * 4, 32, N * 4] : [pb!, panels * K * 32, K * 32, 32];
        ctx.run('matmul', [p(a), bp, p(out), batch, M, N, K, aBatch, sam, sak, Bb === 1 ? 0 : bBatch, bPanel, bk, mc, kc,
          scratch!], flops);
      });
    },

    unary(inputs, out, attrs) {
      const n = numel(out.shape);
      ctx.run('unary', [unaryCode[attrs.fn], p(inputs[0]!), p(out), n, attrs.alpha, attrs.beta], n * 8);
    },

    binary(inputs, out, attrs) {
      const [a, b] = inputs as [View, View];
      const n = numel(out.shape);
      const { dims, sa, sb } = collapse(out.shape, broadcastStrides(a.shape, out.shape), broadcastStrides(b.shape, out.shape));
      ctx.run('binary', [binaryCode[attrs.fn], p(a), p(b), p(out), ...dims, ...sa, ...sb], n * 4);
    },

    reduce(inputs, out, attrs) {
      const x = inputs[0]!;
      const r = [0, 0, 0, 0];
      for (const ax of attrs.axes) r[(ax + 4) % 4] = 1;
      withScratch(ctx, [ctx.threads * x.shape[3]! * 2], ([acc]) => {
        ctx.run('reduce', [reduceCode[attrs.fn], p(x), p(out), ...x.shape, ...r, acc!], numel(x.shape) * 2);
      });
    },

    concat(inputs, out, attrs) {
      const [outer, total, inner] = around(out.shape, attrs.axis);
      let offset = 0;
      for (const x of inputs) {
        const len = x.shape[attrs.axis]!;
        ctx.run('copyRows', [p(x), len * inner, p(out) + offset * inner * 4, total * inner, outer, len * inner], outer * len * inner);
        offset += len;
      }
    },

    slice(inputs, out, attrs) {
      const x = inputs[0]!;
      const [outer, total, inner] = around(x.shape, attrs.axis);
      const len = out.shape[attrs.axis]!;
      ctx.run('copyRows', [p(x) + attrs.start * inner * 4, total * inner, p(out), len * inner, outer, len * inner], outer * len * inner);
    },

    squeeze(inputs, out) {
      const x = inputs[0]!;
      ctx.run('squeeze', [p(x), p(out), ...x.shape], numel(x.shape));
    },

    unsqueeze(inputs, out) {
      ctx.run('unsqueeze', [p(inputs[0]!), p(out), ...out.shape], numel(out.shape));
    },

    fill(_inputs, out, attrs) {
      const n = numel(out.shape);
      ctx.run('fill', [p(out), n, attrs.value], n);
    },

    solve: (inputs, out, attrs) => solve(ctx, inputs, out, attrs, 0),
    solveTranspose: (inputs, out, attrs) => solve(ctx, inputs, out, attrs, 1),
  };
}

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

/** outer × axis × inner decomposition of a rank-4 shape around `axis`. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return [outer, shape[axis]!, inner];
}

/**
 * Merges each axis into the next one where both inputs step through them as one run (contiguous,
 * or broadcast over both), so the kernel's inner rows are as long as possible: [N,C,H,W] + [1,C,1,1]
 * becomes rows of H·W with a broadcast scalar, a full-shape add one row of N·C·H·W.
 */
function collapse(shape: readonly number[], sa: number[], sb: number[]): { dims: number[]; sa: number[]; sb: number[] } {
  const dims = [...shape];
  for (let i = 2; i >= 0; i--) {
    const mergeable = (s: number[]) => dims[i] === 1 || s[i] === s[i + 1]! * dims[i + 1]!;
    if (!mergeable(sa) || !mergeable(sb)) continue;
    // Axis i folds into axis i + 1 (which keeps its stride); axis i becomes a unit axis.
    if (dims[i + 1] === 1) {
      sa[i + 1] = sa[i]!;
      sb[i + 1] = sb[i]!;
    }
    dims[i + 1] = dims[i]! * dims[i + 1]!;
    dims[i] = 1;
    sa[i] = 0;
    sb[i] = 0;
  }
  return { dims, sa, sb };
}

function broadcastStrides(inShape: readonly number[], outShape: readonly number[]): number[] {
  const s: number[] = new Array<number>(4);
  let acc = 1;
  for (let i = 3; i >= 0; i--) {
    s[i] = inShape[i] === 1 && outShape[i] !== 1 ? 0 : acc;
    acc *= inShape[i]!;
  }
  return s;
}
