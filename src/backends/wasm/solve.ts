import type { KernelAttrs, View } from '../backend.js';
import { withScratch, type KernelContext } from './context.js';

/** solve / solveTranspose (transpose = 1): the batch-lane or channel-lane substitution of assembly/solve.ts. */
export function solve(ctx: KernelContext, inputs: readonly View[], out: View, attrs: KernelAttrs['solve'], transpose: number): void {
  const [y, K] = inputs as [View, View];
  const [N, C, H, W] = y.shape as [number, number, number, number];
  const k = K.shape[2]!;
  const Cg = C / attrs.groups;
  const per = ctx.solveScratchBytes(Cg, H, W, k);
  const flops = 2 * N * C * Cg * k * k * H * W;
  withScratch(ctx, [attrs.groups, (ctx.threads * per) / 4], ([flips, scratch]) => {
    ctx.writeInts(flips!, attrs.flips);
    ctx.run('solve', [ctx.ptr(y.storage), ctx.ptr(K.storage), ctx.ptr(out.storage), flips!, scratch!, N, C, H, W, Cg, k,
      attrs.unitDiag ? 1 : 0, attrs.algorithm === 'wavefront' ? 1 : 0, transpose], flops);
  });
}

