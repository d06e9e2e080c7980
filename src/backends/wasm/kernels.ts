import type { KernelAttrs, KernelTable, Storage, View } from '../backend.js';
import { binaryCode, reduceCode, unaryCode } from './codes.js';

/** What the kernel glue needs from the backend: pointers, scratch memory and a way to run exports. */
export interface KernelContext {
  ptr(s: Storage): number;
  /** Scratch block; release with scratchFree(ptr, bytes). */
  scratch(bytes: number): number;
  scratchFree(ptr: number, bytes: number): void;
  run(name: string, args: readonly number[], work: number): void;
  /** Writes int32 values at a byte offset (through a fresh view: memory may have grown). */
  writeInts(ptr: number, values: readonly number[]): void;
  readonly threads: number;
  solveScratchBytes(Cg: number, H: number, W: number, k: number): number;
}

const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const ceil4 = (n: number): number => Math.ceil(n / 4) * 4;
const ceil8 = (n: number): number => Math.ceil(n / 8) * 8;

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

/** Runs fn with scratch blocks of the given float counts, freeing them afterwards. */
function withScratch(ctx: KernelContext, floats: readonly number[], fn: (ptrs: number[]) => void): void {
  const ptrs = floats.map((f) => ctx.scratch(f * 4));
  try {
    fn(ptrs);
  } finally {
    ptrs.forEach((p, i) => ctx.scratchFree(p, floats[i]! * 4));
  }
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

export function wasmKernels(ctx: KernelContext): KernelTable {
  const p = (v: View): number => ctx.ptr(v.storage);
  return {
    conv2d(inputs, out, attrs) {
      const [x, w, bias] = inputs as [View, View, View | undefined];
      const [N, Ci, H, W] = x.shape as [number, number, number, number];
      const [Co, Cig, kh, kw] = w.shape as [number, number, number, number];
      const G = attrs.groups, Cog = Co / G, taps = kh * kw;
      void Ci;
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

    matmul(inputs, out, attrs) {
      const [a, b] = inputs as [View, View];
      const [batch, M, N] = out.shape as [number, number, number];
      const K = attrs.transposeA ? a.shape[1]! : a.shape[2]!;
      const aBatch = a.shape[0] === 1 ? 0 : M * K;
      const bBatch = b.shape[0] === 1 ? 0 : K * N;
      const [sam, sak] = attrs.transposeA ? [1, M] : [K, 1];
      const flops = 2 * batch * M * N * K;
      const run = (bp: number) => ctx.run('matmul', [p(a), bp, p(out), batch, M, N, K, aBatch, sam, sak, bBatch], flops);
      if (!attrs.transposeB) return run(p(b));
      const Bb = b.shape[0]!;
      withScratch(ctx, [Bb * K * N], ([bt]) => {
        ctx.run('transpose2d', [p(b), bt!, Bb, K, N], Bb * K * N);
        run(bt!);
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
      ctx.run('reduce', [reduceCode[attrs.fn], p(x), p(out), ...x.shape, ...r], numel(x.shape) * 2);
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

    flip(inputs, out, attrs) {
      const [N, C, H, W] = out.shape as [number, number, number, number];
      ctx.run('flip', [p(inputs[0]!), p(out), N * C, H, W, attrs.h ? 1 : 0, attrs.w ? 1 : 0], N * C * H * W);
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

function solve(ctx: KernelContext, inputs: readonly View[], out: View, attrs: KernelAttrs['solve'], transpose: number): void {
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
