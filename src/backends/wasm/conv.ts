import type { KernelTable, View } from '../backend.js';
import { ceil4, ceil8, withScratch, type KernelContext } from './context.js';

/**
 * Row stride of the padded, flattened image. A row's right padding and the next row's left padding
 * are both zeros, so they can share columns: reads past the row end land in the next row's left
 * zeros. Sharing m = min(left, right, kw − 1) columns keeps Wo ≤ Wp (rows of outputs never overlap)
 * and saves m wasted output columns per row (7×7 with pad 1: 8 instead of 9).
 */
function paddedWidth(W: number, left: number, right: number, kw: number): number {
  const m = left >= 0 && right >= 0 ? Math.min(left, right, kw - 1) : 0;
  return W + left + right - m;
}

/**
 * K steps per chunk of convForward: enough input planes to fill about 16 KiB (half of a small L1),
 * so they stay cached while every tile of the image passes over them; at least 64 steps so the
 * accumulator reloads between chunks stay cheap.
 */
function kChunk(ps: number, taps: number, K: number): number {
  const planes = Math.max(1, Math.floor(16384 / (ps * 4)));
  return Math.min(K, Math.max(64, planes * taps));
}

interface ConvJob {
  x: number; N: number; G: number; cols: number; H: number; W: number;
  top: number; left: number; bottom: number; right: number;
  kh: number; kw: number; rows: number; y: number; bias: number;
  /** Weight source and its strides for convPack (see assembly/conv.ts). */
  w: number; gs: number; rs: number; cs: number; flip: number;
}

/** Forward convolution through the padded-plane implicit GEMM; conv2dGradInput reuses it. */
function convForward(ctx: KernelContext, j: ConvJob): void {
  const taps = j.kh * j.kw;
  const Hp = j.H + j.top + j.bottom, Wp0 = j.W + j.left + j.right;
  const Ho = Hp - j.kh + 1, Wo = Wp0 - j.kw + 1;
  const padded = j.top !== 0 || j.left !== 0 || j.bottom !== 0 || j.right !== 0;
  const Wp = padded ? paddedWidth(j.W, j.left, j.right, j.kw) : j.W;
  const ps = padded ? ceil4(Hp * Wp + j.kw + 8) : j.H * j.W;
  const rb = Math.ceil(j.rows / 4);
  const Lr = ceil8(Ho * Wp);
  const flops = 2 * j.N * j.G * rb * 4 * j.cols * taps * Lr;
  const perThread = 4 * Lr + (padded ? j.cols * ps : 0);
  withScratch(ctx, [j.G * rb * 4 * j.cols * taps, j.cols * taps, ctx.threads * perThread], ([wpk, offs, scratch]) => {
    ctx.run('convPack', [j.w, wpk!, j.G, j.rows, j.cols, taps, j.gs, j.rs, j.cs, j.flip], j.G * rb * 4 * j.cols * taps);
    ctx.run('convOffsets', [offs!, j.cols, j.kh, j.kw, ps, Wp], 0);
    ctx.run('convForward', [j.x, j.H, j.W, padded ? 1 : 0, j.top, j.left, Hp, ps, Wp, wpk!, offs!, j.y, j.bias, scratch!,
      j.N, j.G, j.cols, j.rows, taps, Ho, Wo, kChunk(ps, taps, j.cols * taps)], flops);
  });
}

/** conv2d and its two adjoints, all through convForward / convGradFilter in assembly/conv.ts. */
export function convKernels(ctx: KernelContext): Pick<KernelTable, 'conv2d' | 'conv2dGradInput' | 'conv2dGradFilter'> {
  const p = (v: View): number => ctx.ptr(v.storage);
  return {
    conv2d(inputs, out, attrs) {
      const [x, w, bias] = inputs as [View, View, View | undefined];
      const [N, , H, W] = x.shape as [number, number, number, number];
      const [Co, Cig, kh, kw] = w.shape as [number, number, number, number];
      const G = attrs.groups, Cog = Co / G, taps = kh * kw;
      convForward(ctx, {
        x: p(x), N, G, cols: Cig, H, W, ...attrs.pad, kh, kw, rows: Cog, y: p(out),
        bias: attrs.hasBias && bias ? p(bias) : 0,
        w: p(w), gs: Cog * Cig * taps, rs: Cig * taps, cs: taps, flip: 0,
      });
    },

    conv2dGradInput(inputs, out, attrs) {
      // dx is the convolution of dy with the flipped, transposed filter and complementary padding.
      const [dy, w] = inputs as [View, View];
      const [N, Co, Ho, Wo] = dy.shape as [number, number, number, number];
      const [, Cig, kh, kw] = w.shape as [number, number, number, number];
      const G = attrs.groups, Cog = Co / G, taps = kh * kw;
      const { top, left, bottom, right } = attrs.pad;
      convForward(ctx, {
        x: p(dy), N, G, cols: Cog, H: Ho, W: Wo,
        top: kh - 1 - top, left: kw - 1 - left, bottom: kh - 1 - bottom, right: kw - 1 - right,
        kh, kw, rows: Cig, y: p(out), bias: 0,
        w: p(w), gs: Cog * Cig * taps, rs: taps, cs: Cig * taps, flip: 1,
      });
    },

    conv2dGradFilter(inputs, out, attrs) {
      const [x, dy] = inputs as [View, View];
      const [N, Ci, H, W] = x.shape as [number, number, number, number];
      const [Co, Cig, kh, kw] = out.shape as [number, number, number, number];
      const [, , Ho, Wo] = dy.shape as [number, number, number, number];
      const G = attrs.groups, Cog = Co / G;
      const { top, left, bottom, right } = attrs.pad;
      const Hp = H + top + bottom, Wp = paddedWidth(W, left, right, kw);
      const ps = ceil4(Hp * Wp + kw + 8);
      const L4 = ceil4(Ho * Wp);
      const dyps = L4 + 4; // slack lets convPad copy whole rows in f32x4 steps
      const flops = 2 * N * Co * Cig * kh * kw * L4;
      withScratch(ctx, [N * Ci * ps, N * Co * dyps], ([xp, dyp]) => {
        ctx.run('convPad', [p(x), xp!, N * Ci, H, W, Hp, Wp, top, left, ps], N * Ci * ps);
        ctx.run('convPad', [p(dy), dyp!, N * Co, Ho, Wo, Ho, Wp, 0, 0, dyps], N * Co * dyps);
        ctx.run('convGradFilter', [xp!, ps, dyp!, dyps, p(out), N, G, Cig, Cog, kh, kw, Wp, L4], flops);
      });
    },
  };
}
