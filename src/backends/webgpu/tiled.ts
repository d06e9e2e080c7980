import type { View } from '../backend.js';
import { wgslKernel, type GpuContext, type GpuVariant } from '../../engine/kernel.js';
import type { MatmulAttrs } from '../../ops/matmul.js';
import { conv2dKernel, type ConvBiasAttrs, type ConvGeometry } from '../../ops/conv2d.js';

/**
 * The tiled WGSL kernels (wgsl/matmul-tiled.wgsl, wgsl/conv2d-tiled.wgsl) and their glue: the
 * hardware-adapter variants of matmul, conv2d, conv2dGradInput and conv2dGradFilter. The tiling and
 * the GEMM each convolution maps to: docs/webgpu-kernels.md.
 */

/** Workgroup of TX × TY invocations, each a 4 × 4 register tile, so a 4·TY × 4·TX block; K steps of BK. */
export interface TileConfig { TX: number; TY: number; BK: number }

/** Largest first: 64 × 64 blocks need 256 invocations and 8 KiB of workgroup memory. */
const CANDIDATES: readonly TileConfig[] = [
  { TX: 16, TY: 16, BK: 16 }, { TX: 16, TY: 8, BK: 16 }, { TX: 8, TY: 8, BK: 16 }, { TX: 8, TY: 8, BK: 8 }, { TX: 4, TY: 4, BK: 8 },
];

export type TileLimits = Pick<GPUSupportedLimits, 'maxComputeInvocationsPerWorkgroup' | 'maxComputeWorkgroupStorageSize' |
  'maxComputeWorkgroupSizeX'>;

/** Bytes of workgroup memory a configuration takes: two tiles of BK rows. */
export const tileBytes = (c: TileConfig): number => c.BK * 4 * (c.TX + c.TY) * 4;

const fits = (c: TileConfig, l: TileLimits): boolean => c.TX * c.TY <= l.maxComputeInvocationsPerWorkgroup &&
  c.TX * c.TY <= l.maxComputeWorkgroupSizeX && tileBytes(c) <= l.maxComputeWorkgroupStorageSize;

/**
 * The block sizes for this device: `large`, the biggest that its limits allow, and `small` (32 × 32
 * when it fits) for products too narrow to fill a large block at least half.
 */
export function tileConfigs(limits: TileLimits): { large: TileConfig; small: TileConfig } {
  const ok = CANDIDATES.filter((c) => fits(c, limits));
  const large = ok[0] ?? CANDIDATES[CANDIDATES.length - 1]!;
  const small = ok.find((c) => c.TX <= 8 && c.TY <= 8) ?? large;
  return { large, small };
}

function pick(cfg: { large: TileConfig; small: TileConfig }, M: number, N: number): TileConfig {
  const l = cfg.large;
  return M <= 2 * l.TY || N <= 2 * l.TX ? cfg.small : l;
}

const subsOf = (c: TileConfig): Record<string, string> => ({ TX: String(c.TX), TY: String(c.TY), BK: String(c.BK) });
const PLACEHOLDERS = ['BK', 'TX', 'TY'] as const;

const matmulFields = {
  batch: 'u32', M: 'u32', N: 'u32', K: 'u32', aBatch: 'u32', bBatch: 'u32', transA: 'u32', transB: 'u32', tilesM: 'u32', tilesN: 'u32',
} as const;
export const matmulTiled = wgslKernel('matmulTiled', matmulFields, PLACEHOLDERS);
export const matmulTiledVec4 = wgslKernel('matmulTiledVec4', matmulFields, PLACEHOLDERS);

const convFields = {
  batch: 'u32', M: 'u32', N: 'u32', K: 'u32', tilesM: 'u32', tilesN: 'u32', Nb: 'u32', Ci: 'u32', H: 'u32', W: 'u32',
  Co: 'u32', Ho: 'u32', Wo: 'u32', kh: 'u32', kw: 'u32', Cig: 'u32', Cog: 'u32', top: 'i32', left: 'i32',
  sh: 'u32', sw: 'u32', dh: 'u32', dw: 'u32', hasBias: 'u32',
} as const;
export const conv2dTiled = wgslKernel('conv2dTiled', convFields, PLACEHOLDERS);
export const conv2dGradInputTiled = wgslKernel('conv2dGradInputTiled', convFields, PLACEHOLDERS);
export const conv2dGradFilterTiled = wgslKernel('conv2dGradFilterTiled', convFields, PLACEHOLDERS);

/** Every tiled kernel, for the contract test (its struct P against these fields). */
export const tiledWgslKernels = [matmulTiled, matmulTiledVec4, conv2dTiled, conv2dGradInputTiled, conv2dGradFilterTiled];

type Run = (ctx: GpuContext, inputs: readonly View[], out: View, attrs: any) => void;

/** A GEMM of batch × M × N over K on this block size: the uniforms it shares and its workgroups. */
function gemm(c: TileConfig, batch: number, M: number, N: number, K: number) {
  const tilesM = Math.ceil(M / (4 * c.TY)), tilesN = Math.ceil(N / (4 * c.TX));
  return { params: { batch, M, N, K, tilesM, tilesN }, workgroups: batch * tilesM * tilesN };
}

/** The convolution's sizes from its views: x [Nb, Ci, H, W], w [Co, Cig, kh, kw], y [Nb, Co, Ho, Wo]. */
function convSizes(x: readonly number[], w: readonly number[], y: readonly number[], a: ConvGeometry) {
  const [Nb, Ci, H, W] = x as [number, number, number, number];
  const [Co, Cig, kh, kw] = w as [number, number, number, number];
  const [, , Ho, Wo] = y as [number, number, number, number];
  return {
    Nb, Ci, H, W, Co, Ho, Wo, kh, kw, Cig, Cog: Co / a.groups, top: a.pad.top, left: a.pad.left,
    sh: a.stride[0], sw: a.stride[1], dh: a.dilation[0], dw: a.dilation[1],
  };
}

/** Whether the largest row and column shifts of a tap fit the packing of tapTable. */
const packable = (s: ReturnType<typeof convSizes>): boolean => s.dh * (s.kh - 1) < 32768 && s.dw * (s.kw - 1) < 65536;

/**
 * conv2dTiled's table of the K axis (wgsl/conv2d-tiled.wgsl): for k = (ci, a, b), the input offset of
 * the tap from the window's top-left pixel, and its row and column shifts packed in one i32
 * (row · 65536 + column).
 */
function tapTable(s: ReturnType<typeof convSizes>, K: number): Int32Array {
  const t = new Int32Array(2 * K);
  const taps = s.kh * s.kw;
  for (let k = 0; k < K; k++) {
    const ci = Math.floor(k / taps), a = Math.floor((k % taps) / s.kw), b = k % s.kw;
    const ah = a * s.dh, bw = b * s.dw;
    t[2 * k] = ci * s.H * s.W + ah * s.W + bw;
    t[2 * k + 1] = ah * 65536 + bw;
  }
  return t;
}

/** The tiled kernels by kernel name, on blocks sized for this device. */
export function tiledKernels(limits: TileLimits): Record<string, Run> {
  const cfg = tileConfigs(limits);
  return {
    matmul(ctx, [a, b], out, attrs: MatmulAttrs) {
      const [batch, M, N] = out.shape as [number, number, number];
      const K = attrs.transposeA ? a!.shape[1]! : a!.shape[2]!;
      if (batch * M * N === 0) return;
      const c = pick(cfg, M, N);
      // vec4 loads need each operand's contiguous axis to be a multiple of 4 (wgsl/matmul-tiled.wgsl).
      const vec4 = (attrs.transposeA ? M : K) % 4 === 0 && (attrs.transposeB ? K : N) % 4 === 0;
      const g = gemm(c, batch, M, N, K);
      ctx.dispatch(vec4 ? matmulTiledVec4 : matmulTiled, [{
        params: { ...g.params, aBatch: a!.shape[0] === 1 ? 0 : M * K, bBatch: b!.shape[0] === 1 ? 0 : K * N,
          transA: +attrs.transposeA, transB: +attrs.transposeB },
        bindings: [a!.storage, b!.storage, out.storage],
        workgroups: g.workgroups,
      }], { subs: subsOf(c) });
    },
    conv2d(ctx, inputs, out, attrs: ConvBiasAttrs) {
      const [x, w, bias] = inputs as [View, View, View | undefined];
      const s = convSizes(x.shape, w.shape, out.shape, attrs);
      const M = s.Cog, N = s.Nb * s.Ho * s.Wo, K = s.Cig * s.kh * s.kw;
      if (M * N === 0) return;
      // A kernel taller than 32768 rows (dilated) does not fit the tap table: the simple kernel takes it.
      if (!packable(s)) return conv2dKernel.webgpu!.run(ctx, inputs, out, attrs);
      const hasBias = attrs.hasBias && bias !== undefined;
      const c = pick(cfg, M, N);
      const g = gemm(c, attrs.groups, M, N, K);
      ctx.dispatch(conv2dTiled, [{
        params: { ...g.params, ...s, hasBias: +hasBias },
        bindings: [x.storage, w.storage, (hasBias ? bias : w).storage, out.storage, ctx.temporary(tapTable(s, K))],
        workgroups: g.workgroups,
      }], { subs: subsOf(c) });
    },
    conv2dGradInput(ctx, inputs, out, attrs: ConvBiasAttrs) {
      const [dy, w, bias] = inputs as [View, View, View | undefined];
      const s = convSizes(out.shape, w.shape, dy.shape, attrs);
      const M = s.Cig, N = s.Nb * s.H * s.W, K = s.Cog * s.kh * s.kw;
      if (M * N === 0) return;
      const hasBias = attrs.hasBias && bias !== undefined;
      const c = pick(cfg, M, N);
      const g = gemm(c, attrs.groups, M, N, K);
      ctx.dispatch(conv2dGradInputTiled, [{
        params: { ...g.params, ...s, hasBias: +hasBias },
        bindings: [dy.storage, w.storage, (hasBias ? bias : w).storage, out.storage],
        workgroups: g.workgroups,
      }], { subs: subsOf(c) });
    },
    conv2dGradFilter(ctx, inputs, out, attrs: ConvGeometry) {
      const [x, dy] = inputs as [View, View];
      const s = convSizes(x.shape, out.shape, dy.shape, attrs);
      const M = s.Cog, N = s.Cig * s.kh * s.kw, K = s.Nb * s.Ho * s.Wo;
      if (M * N === 0) return;
      const c = pick(cfg, M, N);
      const g = gemm(c, attrs.groups, M, N, K);
      ctx.dispatch(conv2dGradFilterTiled, [{
        params: { ...g.params, ...s, hasBias: 0 },
        bindings: [x.storage, dy.storage, out.storage],
        workgroups: g.workgroups,
      }], { subs: subsOf(c) });
    },
  };
}

/** The pipelines warmup() compiles for a tiled kernel (both block sizes), or null for other ops. */
export function tiledVariants(op: string, limits: TileLimits): GpuVariant[] | null {
  const kernels: Record<string, readonly (typeof matmulTiled | typeof conv2dTiled)[]> = {
    matmul: [matmulTiled, matmulTiledVec4], conv2d: [conv2dTiled], conv2dGradInput: [conv2dGradInputTiled],
    conv2dGradFilter: [conv2dGradFilterTiled],
  };
  const list = kernels[op];
  if (!list) return null;
  const { large, small } = tileConfigs(limits);
  const configs = large === small ? [large] : [large, small];
  return list.flatMap((kernel) => configs.map((c) => ({ kernel, subs: subsOf(c) })));
}
