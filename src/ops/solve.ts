import { buf } from '../backends/reference/storage.js';
import { withScratch } from './util/scratch.js';
import { fail, shapeStr } from '../engine/errors.js';
import { defineKernel, wasmExport, wasmQuery, wgslKernel, type GpuContext, type GpuDispatch, type KernelDef } from '../engine/kernel.js';
import type { Tensor } from '../engine/tensor.js';
import type { View } from '../backends/backend.js';
// Direct imports: an op file importing './index.js' would evaluate the generated registry before its own `kernels`.
import { conv2dGradFilter } from './conv2d.js';
import { mul } from './binary.js';
import { concat, slice } from './concat.js';
import { flip } from './flip.js';
import { neg } from './unary.js';

/**
 * Triangular solves of the masked k×k convolution (docs/inverse.md): x = F T⁻¹ F y per channel
 * group and its adjoint gy = F T⁻ᵀ F g. y (N,C,H,W), K (C, Cg, k, k), C = groups · Cg. T is the
 * TL-padded convolution y[c,h,w] = Σ_{i,a,b} K[c,i,a,b] · x[i, h+a−k+1, w+b−k+1] whose centre tap
 * is read only below its diagonal (the diagonal is K's, or exactly 1 with unitDiag). flips[g]
 * (bit 0 = W, bit 1 = H) reaches the other corners. 'wavefront' and 'raster' schedules give the
 * same result (docs/inverse.md §3).
 */
export interface SolveAttrs {
  groups: number;
  unitDiag: boolean;
  flips: readonly number[];
  algorithm: 'wavefront' | 'raster';
}

export type Corner = 'tl' | 'tr' | 'bl' | 'br';
/** Flip bits of a corner: bit 0 flips W, bit 1 flips H (docs/flows.md §3). */
export const cornerFlips: Record<Corner, number> = { tl: 0, tr: 1, bl: 2, br: 3 };

// ---- float64 reference ------------------------------------------------------------------------

/**
 * Pixels of an H×W image in an order that respects the TL dependency (every pixel after all
 * pixels above-left of it): anti-diagonals h + w = d for the wavefront, rows for raster. Reversed,
 * both are valid for the transposed solve.
 */
export function solveOrder(H: number, W: number, algorithm: SolveAttrs['algorithm']): Array<[number, number]> {
  const order: Array<[number, number]> = [];
  if (algorithm === 'raster') {
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) order.push([h, w]);
  } else {
    for (let d = 0; d <= H + W - 2; d++)
      for (let h = Math.max(0, d - W + 1); h <= Math.min(d, H - 1); h++) order.push([h, d - h]);
  }
  return order;
}

/** Index of (c, h, w) of one channel group and image, in the flipped frame the solve runs in. */
type At = (c: number, h: number, w: number) => number;

/**
 * Calls body once per channel group and image with the group's index map: the flips of
 * docs/inverse.md §4 turn every corner into TL, so the solves only ever see a TL-masked kernel.
 */
function forEachGroupImage(y: View, K: View, attrs: SolveAttrs, body: (g: number, at: At, dims: { Cg: number; k: number }) => void): void {
  const [N, C, H, W] = y.shape as [number, number, number, number];
  const Cg = C / attrs.groups, k = K.shape[2]!;
  for (let g = 0; g < attrs.groups; g++) {
    const fw = (attrs.flips[g]! & 1) !== 0, fh = (attrs.flips[g]! & 2) !== 0;
    const ph = (h: number) => (fh ? H - 1 - h : h), pw = (w: number) => (fw ? W - 1 - w : w);
    for (let n = 0; n < N; n++) body(g, (c, h, w) => ((n * C + g * Cg + c) * H + ph(h)) * W + pw(w), { Cg, k });
  }
}

function referenceSolve([y, kern]: readonly View[], out: View, attrs: SolveAttrs): void {
  const Y = buf(y!), Kw = buf(kern!), X = buf(out);
  const [, , H, W] = y!.shape as [number, number, number, number];
  const order = solveOrder(H, W, attrs.algorithm);
  forEachGroupImage(y!, kern!, attrs, (g, at, { Cg, k }) => {
    for (const [h, w] of order) {
      for (let c = 0; c < Cg; c++) {
        const row = g * Cg + c;
        let acc = Y[at(c, h, w)]!;
        for (let u = 0; u < k && h - u >= 0; u++)
          for (let v = 0; v < k && w - v >= 0; v++)
            for (let i = 0; i < Cg; i++) {
              if (u === 0 && v === 0 && i >= c) continue;
              acc -= Kw[((row * Cg + i) * k + k - 1 - u) * k + k - 1 - v]! * X[at(i, h - u, w - v)]!;
            }
        X[at(c, h, w)] = attrs.unitDiag ? acc : acc / Kw[((row * Cg + c) * k + k - 1) * k + k - 1]!;
      }
    }
  });
}

function referenceSolveTranspose([g0, kern]: readonly View[], out: View, attrs: SolveAttrs): void {
  const G = buf(g0!), Kw = buf(kern!), GY = buf(out);
  const [, , H, W] = g0!.shape as [number, number, number, number];
  const order = solveOrder(H, W, attrs.algorithm).reverse();
  forEachGroupImage(g0!, kern!, attrs, (g, at, { Cg, k }) => {
    for (const [h, w] of order) {
      for (let c = Cg - 1; c >= 0; c--) {
        let acc = G[at(c, h, w)]!;
        for (let u = 0; u < k && h + u < H; u++)
          for (let v = 0; v < k && w + v < W; v++)
            for (let o = 0; o < Cg; o++) {
              if (u === 0 && v === 0 && o <= c) continue;
              acc -= Kw[(((g * Cg + o) * Cg + c) * k + k - 1 - u) * k + k - 1 - v]! * GY[at(o, h + u, w + v)]!;
            }
        GY[at(c, h, w)] = attrs.unitDiag ? acc : acc / Kw[(((g * Cg + c) * Cg + c) * k + k - 1) * k + k - 1]!;
      }
    }
  });
}

// ---- wasm: raster substitution with SIMD over batch or channel lanes (assembly/solve.ts) --------

const wasmSolve = wasmExport('solve', {
  y: 'ptr', K: 'ptr', x: 'ptr', flips: 'ptr', scratch: 'ptr', N: 'i32', C: 'i32', H: 'i32', W: 'i32',
  Cg: 'i32', k: 'i32', unitDiag: 'i32', wavefront: 'i32', transpose: 'i32',
});
const wasmScratch = wasmQuery('solveScratchBytes', { Cg: 'i32', H: 'i32', W: 'i32', k: 'i32' });

function wasmRun(transpose: number) {
  return (ctx: Parameters<NonNullable<KernelDef['wasm']>['run']>[0], [y, K]: readonly View[], out: View, attrs: SolveAttrs): void => {
    const [N, C, H, W] = y!.shape as [number, number, number, number];
    const k = K!.shape[2]!;
    const Cg = C / attrs.groups;
    const per = ctx.query(wasmScratch, { Cg, H, W, k });
    withScratch(ctx, [attrs.groups, (ctx.threads * per) / 4], ([flips, scratch]) => {
      ctx.writeInts(flips!, attrs.flips);
      ctx.call(wasmSolve, {
        y: ctx.ptr(y!.storage), K: ctx.ptr(K!.storage), x: ctx.ptr(out.storage), flips: flips!, scratch: scratch!,
        N, C, H, W, Cg, k, unitDiag: +attrs.unitDiag, wavefront: +(attrs.algorithm === 'wavefront'), transpose,
      }, 2 * N * C * Cg * k * k * H * W);
    });
  };
}

// ---- WebGPU: the wavefront in one workgroup tile, or one dispatch per diagonal (wgsl/solve.wgsl) --

const solveUniforms = { N: 'u32', C: 'u32', H: 'u32', W: 'u32', Cg: 'u32', k: 'u32', groups: 'u32', unitDiag: 'u32', d: 'u32', jobs: 'u32' } as const;
const gpuTile = wgslKernel('solveTile', solveUniforms, ['TRANSPOSE', 'TILE', 'WG']);
const gpuDiagonal = wgslKernel('solveDiagonal', solveUniforms, ['TRANSPOSE']);

/** Smallest tile compiled: tiles are rounded up to powers of two so few pipeline variants exist. */
const MIN_TILE = 256;
/** Floats of workgroup memory the tile kernel may use on this device. */
const maxTileFloats = (device: GPUDevice): number => Math.floor(device.limits.maxComputeWorkgroupStorageSize / 4);

function tileFloats(cg: number, h: number, w: number, device: GPUDevice): number | null {
  const need = cg * h * w;
  const max = maxTileFloats(device);
  if (need > max) return null;
  return Math.min(max, Math.max(MIN_TILE, 2 ** Math.ceil(Math.log2(Math.max(1, need)))));
}

/** Workgroup sizes of the tile kernel: the longest diagonal rounded up to a power of two, 4 … 64. */
const TILE_WORKGROUPS = [4, 8, 16, 32, 64] as const;
const tileWorkgroup = (h: number, w: number): number => TILE_WORKGROUPS.find((s) => s >= Math.min(h, w)) ?? 64;

const tileSubs = (transpose: boolean, tile: number, wg: number) => ({ TRANSPOSE: String(transpose), TILE: `${tile}u`, WG: String(wg) });

/** Every tile size and workgroup a device can compile, both directions, for warmup(). */
function gpuVariants(device: GPUDevice) {
  const out = [false, true].map((t) => ({ kernel: gpuDiagonal, subs: { TRANSPOSE: String(t) } }));
  for (let t = MIN_TILE; t <= maxTileFloats(device); t *= 2)
    for (const wg of TILE_WORKGROUPS)
      for (const transpose of [false, true]) out.push({ kernel: gpuTile, subs: tileSubs(transpose, t, wg) });
  return out;
}

function gpuRun(transpose: boolean) {
  return (ctx: GpuContext, [y, kern]: readonly View[], out: View, attrs: SolveAttrs): void => {
    const [N, C, H, W] = y!.shape as [number, number, number, number];
    const groups = attrs.groups, Cg = C / groups, k = kern!.shape[2]!, jobs = N * groups;
    const flips = ctx.temporary(Uint32Array.from({ length: groups }, (_, g) => attrs.flips[g] ?? 0));
    const bindings = [y!.storage, kern!.storage, flips, out.storage];
    const head = { N, C, H, W, Cg, k, groups, unitDiag: +attrs.unitDiag, jobs };
    const name = transpose ? 'solveTranspose' : 'solve';
    const tile = ctx.options.solvePath === 'diagonal' ? null : tileFloats(Cg, H, W, ctx.device);
    if (tile !== null) {
      ctx.dispatch(gpuTile, [{ params: { ...head, d: 0 }, bindings, workgroups: jobs }],
        { subs: tileSubs(transpose, tile, tileWorkgroup(H, W)), label: `${name} tile` });
      return;
    }
    const dispatches: Array<GpuDispatch<typeof solveUniforms>> = [];
    const last = H + W - 2;
    for (let s = 0; s <= last; s++) {
      const d = transpose ? last - s : s;
      const len = Math.min(d, H - 1) - Math.max(0, d - W + 1) + 1;
      dispatches.push({ params: { ...head, d }, bindings, workgroups: Math.ceil((jobs * len) / 64) });
    }
    ctx.dispatch(gpuDiagonal, dispatches, { subs: { TRANSPOSE: String(transpose) }, label: `${name} per diagonal` });
  };
}

/** Workgroups of the largest dispatch: one per (image, group) tile, or per diagonal pixel. */
const gpuSupports = ([y]: readonly View[], _out: View, attrs: SolveAttrs): string | null => {
  const wg = y!.shape[0]! * attrs.groups * Math.min(y!.shape[2]!, y!.shape[3]!);
  return wg > 65535 * 65535 ? `${wg} workgroups exceed one dispatch` : null;
};

function solveKernel(transpose: boolean): KernelDef<SolveAttrs> {
  return defineKernel<SolveAttrs>({
    name: transpose ? 'solveTranspose' : 'solve',
    reference: transpose ? referenceSolveTranspose : referenceSolve,
    wasm: { exports: [wasmSolve, wasmScratch], run: wasmRun(+transpose) },
    webgpu: { kernels: [gpuTile, gpuDiagonal], run: gpuRun(transpose), supports: gpuSupports, variants: gpuVariants },
  });
}

export const solveKernels = { solve: solveKernel(false), solveTranspose: solveKernel(true) };
export const kernels = [solveKernels.solve, solveKernels.solveTranspose];

// ---- public ops and their gradients --------------------------------------------------------------

export interface SolveOptions {
  /** Independent channel groups (FInC: 4). Default 1. */
  groups?: number;
  /** Treat the centre diagonal as exactly 1 (FInC, Inverse-Flow). Default false: divide by it (CInC). */
  unitDiag?: boolean;
  /** Padding corner of each group (or one for all). Default 'tl'. */
  corners?: Corner | readonly Corner[];
  /** 'wavefront' (default) or the sequential 'raster' baseline: same result, different schedule. */
  algorithm?: SolveAttrs['algorithm'];
}

function resolve(op: string, y: Tensor, K: Tensor, opts: SolveOptions): SolveAttrs {
  y.assertLive(op);
  K.assertLive(op);
  if (y.rank !== 4) fail(op, `input must be rank 4 [N, C, H, W], got ${shapeStr(y.shape)}`);
  if (K.rank !== 4) fail(op, `kernel must be rank 4 [C, C/groups, k, k], got ${shapeStr(K.shape)}`);
  const C = y.shape[1]!;
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0) fail(op, `groups = ${groups} must divide the ${C} channels of ${shapeStr(y.shape)}`);
  const [Ko, Ki, kh, kw] = K.shape as [number, number, number, number];
  if (Ko !== C || Ki !== C / groups)
    fail(op, `kernel ${shapeStr(K.shape)} must be [${C}, ${C / groups}, k, k] for input ${shapeStr(y.shape)} with ${groups} group(s)`);
  if (kh !== kw) fail(op, `kernel ${shapeStr(K.shape)} must be square (k×k)`);
  const corners = opts.corners ?? 'tl';
  const list = typeof corners === 'string' ? new Array<Corner>(groups).fill(corners) : [...corners];
  if (list.length !== groups) fail(op, `${list.length} corners given for ${groups} groups`);
  const flips = list.map((c) => {
    if (!(c in cornerFlips)) fail(op, `unknown corner '${String(c)}' (use tl, tr, bl or br)`);
    return cornerFlips[c];
  });
  const algorithm = opts.algorithm ?? 'wavefront';
  if (algorithm !== 'wavefront' && algorithm !== 'raster') fail(op, `unknown algorithm '${String(algorithm)}'`);
  return { groups, unitDiag: !!opts.unitDiag, flips, algorithm };
}

/**
 * x = T⁻¹ y for the TL-padded masked k×k convolution T of each channel group (docs/inverse.md §1–§4):
 * the centre tap is used as a lower-triangular channel matrix whatever K holds above its diagonal.
 * Differentiable in y and K (docs/inverse.md §6: reverse wavefront, then minus the conv weight gradient).
 */
export function solve(y: Tensor, K: Tensor, opts: SolveOptions = {}): Tensor {
  return runSolve(y, K, resolve('solve', y, K, opts));
}

function runSolve(y: Tensor, K: Tensor, attrs: SolveAttrs): Tensor {
  return y.engine.run(solveKernels.solve, {
    inputs: [y, K], outShape: y.shape, attrs,
    grad: (dx, [, Kin], x) => {
      const gy = runSolveTranspose(dx, Kin!, attrs);
      return [gy, kernelGrad(x, gy, Kin!, attrs)];
    },
  });
}

/** gy = T⁻ᵀ g: the adjoint of solve (reverse wavefront with the transposed kernel). */
export function solveTranspose(g: Tensor, K: Tensor, opts: SolveOptions = {}): Tensor {
  return runSolveTranspose(g, K, resolve('solveTranspose', g, K, opts));
}

function runSolveTranspose(g: Tensor, K: Tensor, attrs: SolveAttrs): Tensor {
  return g.engine.run(solveKernels.solveTranspose, {
    inputs: [g, K], outShape: g.shape, attrs,
    grad: (dgy, [, Kin], gy) => {
      const z = runSolve(dgy, Kin!, attrs);
      return [z, kernelGrad(z, gy, Kin!, attrs)];
    },
  });
}

/**
 * ∂L/∂K of x = T⁻¹y given gy = T⁻ᵀ(∂L/∂x): −(conv weight gradient of TL-frame x with upstream gy),
 * masked so the ignored centre entries (and a unit diagonal) get exactly zero.
 */
function kernelGrad(x: Tensor, gy: Tensor, K: Tensor, attrs: SolveAttrs): Tensor {
  const [C, Cg, k] = K.shape as [number, number, number];
  const pad = { left: k - 1, right: 0, top: k - 1, bottom: 0 };
  const toTL = (t: Tensor, f: number) => (f === 0 ? t : flip(t, { w: (f & 1) !== 0, h: (f & 2) !== 0 }));
  let raw: Tensor;
  if (attrs.flips.every((f) => f === attrs.flips[0])) {
    const f = attrs.flips[0]!;
    raw = conv2dGradFilter(toTL(x, f), toTL(gy, f), K.shape, { pad, groups: attrs.groups });
  } else {
    raw = concat(attrs.flips.map((f, g) =>
      conv2dGradFilter(toTL(slice(x, 1, g * Cg, Cg), f), toTL(slice(gy, 1, g * Cg, Cg), f), [Cg, Cg, k, k], { pad, groups: 1 })), 0);
  }
  return mul(neg(raw), K.engine.tensor(solveKernelMask(C, Cg, k, attrs.unitDiag), K.shape));
}

/** 1 where the solve reads the kernel, 0 at the centre entries it ignores (above the diagonal, and a unit diagonal). */
export function solveKernelMask(C: number, Cg: number, k: number, unitDiag: boolean): Float32Array {
  const m = new Float32Array(C * Cg * k * k).fill(1);
  for (let c = 0; c < C; c++)
    for (let i = 0; i < Cg; i++) {
      const local = c % Cg;
      if (i > local || (i === local && unitDiag)) m[((c * Cg + i) * k + k - 1) * k + k - 1] = 0;
    }
  return m;
}
