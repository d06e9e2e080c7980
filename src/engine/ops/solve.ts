import type { SolveAttrs } from '../../backends/backend.js';
import { fail, shapeStr } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { conv2dGradFilter } from './conv.js';
import { mul, neg } from './elementwise.js';
import { concat, slice } from './layout.js';
import { flip } from '../../ops/flip.js';

export type Corner = 'tl' | 'tr' | 'bl' | 'br';
/** Flip bits of a corner: bit 0 flips W, bit 1 flips H (docs/flows.md §3). */
export const cornerFlips: Record<Corner, number> = { tl: 0, tr: 1, bl: 2, br: 3 };

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
  return y.engine.run('solve', {
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
  return g.engine.run('solveTranspose', {
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
