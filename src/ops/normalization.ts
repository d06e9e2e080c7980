import { buf } from '../backends/reference/storage.js';
import type { View } from '../backends/backend.js';
import { fail, shapeStr } from '../engine/errors.js';
import { defineKernel, wasmExport, wgslKernel, type GpuContext, type WasmContext } from '../engine/kernel.js';
import { reshape } from '../engine/views.js';
import { mul } from './binary.js';
import { affine, reciprocal, sqrt } from './unary.js';
import { concat, slice } from './concat.js';
import { numel, sameShape, type Shape } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';

/**
 * GroupNorm, LayerNorm and BatchNorm with fused kernels (docs/ops/normalization.md). Every kernel
 * sees x as an [N, C, S] view and normalises per statistics group:
 *  - kind 'group': group j = n·G + g holds the Cg = C/G channels of group g of image n (a contiguous
 *    block); LayerNorm is this with G = 1 over the view [rows, D, 1];
 *  - kind 'batch': group j = channel c across the N images (BatchNorm).
 * Affine weight and bias are per channel of the view (per element of normalizedShape for LayerNorm).
 *
 * Saved statistics: the forward kernel computes each group's mean and variance in the task that
 * writes y and keeps nothing; the gradient recomputes them with normStats (two passes over x, less
 * than the backward kernels' own) instead of holding a second tensor on the tape. Statistics
 * tensors are [2, groups]: means, then biased variances.
 */
export interface NormAttrs {
  kind: 'group' | 'batch';
  groups: number;
  eps: number;
}
export interface NormForwardAttrs extends NormAttrs {
  /** Statistics come from an input (BatchNorm eval) instead of from x. */
  given: boolean;
  hasGamma: boolean;
  hasBeta: boolean;
}
export interface NormGradInputAttrs extends NormAttrs {
  /** The statistics were given (constants), so dx = rstd·γ·dy. */
  fixed: boolean;
  hasGamma: boolean;
}

const dims = (v: View): [number, number, number] => v.shape as [number, number, number];
const groupCount = ({ kind, groups }: NormAttrs, N: number, C: number): number => (kind === 'batch' ? C : N * groups);
const statsShape = (a: NormAttrs, N: number, C: number): Shape => [2, groupCount(a, N, C)];

/** The view offsets of statistics group j's elements and the channel each belongs to (reference kernels). */
function members(a: NormAttrs, N: number, C: number, S: number, j: number): { at: number[]; ch: number[] } {
  const at: number[] = [], ch: number[] = [];
  if (a.kind === 'batch') {
    for (let n = 0; n < N; n++) for (let s = 0; s < S; s++) { at.push((n * C + j) * S + s); ch.push(j); }
  } else {
    const Cg = C / a.groups, g = j % a.groups;
    for (let e = 0; e < Cg * S; e++) { at.push(j * Cg * S + e); ch.push(g * Cg + Math.floor(e / S)); }
  }
  return { at, ch };
}

function moments(X: Float64Array, at: readonly number[]): [number, number] {
  let s = 0;
  for (const i of at) s += X[i]!;
  const m = s / at.length;
  let q = 0;
  for (const i of at) q += (X[i]! - m) ** 2;
  return [m, q / at.length];
}

/** Shared uniform / argument values: N, C, S, G, batch, groups and the elements per group. */
function layout(a: NormAttrs, x: View) {
  const [N, C, S] = dims(x);
  const groups = groupCount(a, N, C);
  return { N, C, S, G: a.kind === 'batch' ? 1 : a.groups, batch: +(a.kind === 'batch'), groups, count: (N * C * S) / groups };
}

const wasmStats = wasmExport('normStats', { x: 'ptr', stats: 'ptr', N: 'i32', C: 'i32', S: 'i32', G: 'i32', batch: 'i32' });
const gpuStats = wgslKernel('normStats', { groups: 'u32', count: 'u32', C: 'u32', S: 'u32', G: 'u32', batch: 'u32' });

export const normStatsKernel = defineKernel<NormAttrs>({
  name: 'normStats',
  reference([x], out, a) {
    const X = buf(x!), Y = buf(out);
    const [N, C, S] = dims(x!);
    const n = groupCount(a, N, C);
    for (let j = 0; j < n; j++) [Y[j], Y[n + j]] = moments(X, members(a, N, C, S, j).at);
  },
  wasm: {
    exports: [wasmStats],
    run(ctx, [x], out, a) {
      const { N, C, S, G, batch } = layout(a, x!);
      ctx.call(wasmStats, { x: ctx.ptr(x!.storage), stats: ctx.ptr(out.storage), N, C, S, G, batch }, numel(x!.shape) * 4);
    },
  },
  webgpu: {
    kernels: [gpuStats],
    run(ctx, [x], out, a) {
      const { C, S, G, batch, groups, count } = layout(a, x!);
      ctx.dispatch(gpuStats, [{ params: { groups, count, C, S, G, batch }, bindings: [x!.storage, out.storage], workgroups: groups }]);
    },
  },
});

/** Splits the forward kernel's inputs [x, stats?, gamma?, beta?] by the attributes. */
function forwardInputs(inputs: readonly View[], a: NormForwardAttrs) {
  let k = 1;
  const stats = a.given ? inputs[k++] : undefined;
  const gamma = a.hasGamma ? inputs[k++] : undefined;
  const beta = a.hasBeta ? inputs[k++] : undefined;
  return { x: inputs[0]!, stats, gamma, beta };
}

const wasmForward = wasmExport('normForward', {
  x: 'ptr', stats: 'ptr', gamma: 'ptr', beta: 'ptr', y: 'ptr', N: 'i32', C: 'i32', S: 'i32', G: 'i32',
  batch: 'i32', given: 'i32', eps: 'f32',
});
const gpuForward = wgslKernel('normForward', {
  groups: 'u32', count: 'u32', C: 'u32', S: 'u32', G: 'u32', batch: 'u32', given: 'u32', hasGamma: 'u32', hasBeta: 'u32', eps: 'f32',
});

const optPtr = (ctx: WasmContext, v: View | undefined): number => (v ? ctx.ptr(v.storage) : 0);

export const normForwardKernel = defineKernel<NormForwardAttrs>({
  name: 'normForward',
  reference(inputs, out, a) {
    const { x, stats, gamma, beta } = forwardInputs(inputs, a);
    const X = buf(x), Y = buf(out), T = stats && buf(stats), Gm = gamma && buf(gamma), Bt = beta && buf(beta);
    const [N, C, S] = dims(x);
    const n = groupCount(a, N, C);
    for (let j = 0; j < n; j++) {
      const { at, ch } = members(a, N, C, S, j);
      const [m, v] = T ? [T[j]!, T[n + j]!] : moments(X, at);
      const rstd = 1 / Math.sqrt(v + a.eps);
      at.forEach((i, e) => { Y[i] = (X[i]! - m) * rstd * (Gm ? Gm[ch[e]!]! : 1) + (Bt ? Bt[ch[e]!]! : 0); });
    }
  },
  wasm: {
    exports: [wasmForward],
    run(ctx, inputs, out, a) {
      const { x, stats, gamma, beta } = forwardInputs(inputs, a);
      const { N, C, S, G, batch } = layout(a, x);
      ctx.call(wasmForward, {
        x: ctx.ptr(x.storage), stats: optPtr(ctx, stats), gamma: optPtr(ctx, gamma), beta: optPtr(ctx, beta), y: ctx.ptr(out.storage),
        N, C, S, G, batch, given: +a.given, eps: a.eps,
      }, numel(x.shape) * 6);
    },
  },
  webgpu: {
    kernels: [gpuForward],
    run(ctx, inputs, out, a) {
      const { x, stats, gamma, beta } = forwardInputs(inputs, a);
      const { C, S, G, batch, groups, count } = layout(a, x);
      ctx.dispatch(gpuForward, [{
        params: { groups, count, C, S, G, batch, given: +a.given, hasGamma: +a.hasGamma, hasBeta: +a.hasBeta, eps: a.eps },
        // Absent inputs are bound to x (read-only, never read).
        bindings: [x.storage, (stats ?? x).storage, (gamma ?? x).storage, (beta ?? x).storage, out.storage],
        workgroups: groups,
      }]);
    },
  },
});

const wasmGradInput = wasmExport('normGradInput', {
  dy: 'ptr', x: 'ptr', stats: 'ptr', gamma: 'ptr', dx: 'ptr', N: 'i32', C: 'i32', S: 'i32', G: 'i32',
  batch: 'i32', fixed: 'i32', eps: 'f32',
});
const gpuGradInput = wgslKernel('normGradInput', {
  groups: 'u32', count: 'u32', C: 'u32', S: 'u32', G: 'u32', batch: 'u32', fixed: 'u32', hasGamma: 'u32', eps: 'f32',
});

/** Inputs [dy, x, stats, gamma?] → dx. */
export const normGradInputKernel = defineKernel<NormGradInputAttrs>({
  name: 'normGradInput',
  reference([dy, x, stats, gamma], out, a) {
    const D = buf(dy!), X = buf(x!), T = buf(stats!), Gm = gamma && buf(gamma), DX = buf(out);
    const [N, C, S] = dims(x!);
    const n = groupCount(a, N, C);
    for (let j = 0; j < n; j++) {
      const { at, ch } = members(a, N, C, S, j);
      const m = T[j]!, rstd = 1 / Math.sqrt(T[n + j]! + a.eps);
      const dh = at.map((i, e) => D[i]! * (Gm ? Gm[ch[e]!]! : 1));
      const xh = at.map((i) => (X[i]! - m) * rstd);
      let m1 = 0, m2 = 0;
      if (!a.fixed) {
        dh.forEach((d, e) => { m1 += d; m2 += d * xh[e]!; });
        m1 /= at.length;
        m2 /= at.length;
      }
      at.forEach((i, e) => { DX[i] = rstd * (dh[e]! - m1 - xh[e]! * m2); });
    }
  },
  wasm: {
    exports: [wasmGradInput],
    run(ctx, [dy, x, stats, gamma], out, a) {
      const { N, C, S, G, batch } = layout(a, x!);
      ctx.call(wasmGradInput, {
        dy: ctx.ptr(dy!.storage), x: ctx.ptr(x!.storage), stats: ctx.ptr(stats!.storage), gamma: optPtr(ctx, gamma),
        dx: ctx.ptr(out.storage), N, C, S, G, batch, fixed: +a.fixed, eps: a.eps,
      }, numel(x!.shape) * 8);
    },
  },
  webgpu: {
    kernels: [gpuGradInput],
    run(ctx: GpuContext, [dy, x, stats, gamma], out, a) {
      const { C, S, G, batch, groups, count } = layout(a, x!);
      ctx.dispatch(gpuGradInput, [{
        params: { groups, count, C, S, G, batch, fixed: +a.fixed, hasGamma: +a.hasGamma, eps: a.eps },
        bindings: [dy!.storage, x!.storage, stats!.storage, (gamma ?? dy!).storage, out.storage],
        workgroups: groups,
      }]);
    },
  },
});

const wasmGradAffine = wasmExport('normGradAffine', {
  dy: 'ptr', x: 'ptr', stats: 'ptr', out: 'ptr', N: 'i32', C: 'i32', S: 'i32', G: 'i32', batch: 'i32', eps: 'f32',
});
const gpuGradAffine = wgslKernel('normGradAffine', { C: 'u32', N: 'u32', S: 'u32', G: 'u32', batch: 'u32', groups: 'u32', eps: 'f32' });

/** Inputs [dy, x, stats] → [2, C]: Σ dy·x̂ (dγ) and Σ dy (dβ) per channel. */
export const normGradAffineKernel = defineKernel<NormAttrs>({
  name: 'normGradAffine',
  reference([dy, x, stats], out, a) {
    const D = buf(dy!), X = buf(x!), T = buf(stats!), Y = buf(out);
    const [N, C, S] = dims(x!);
    const n = groupCount(a, N, C);
    Y.fill(0);
    for (let j = 0; j < n; j++) {
      const { at, ch } = members(a, N, C, S, j);
      const m = T[j]!, rstd = 1 / Math.sqrt(T[n + j]! + a.eps);
      at.forEach((i, e) => {
        Y[ch[e]!]! += D[i]! * (X[i]! - m) * rstd;
        Y[C + ch[e]!]! += D[i]!;
      });
    }
  },
  wasm: {
    exports: [wasmGradAffine],
    run(ctx, [dy, x, stats], out, a) {
      const { N, C, S, G, batch } = layout(a, x!);
      ctx.call(wasmGradAffine, {
        dy: ctx.ptr(dy!.storage), x: ctx.ptr(x!.storage), stats: ctx.ptr(stats!.storage), out: ctx.ptr(out.storage),
        N, C, S, G, batch, eps: a.eps,
      }, numel(x!.shape) * 6);
    },
  },
  webgpu: {
    kernels: [gpuGradAffine],
    run(ctx, [dy, x, stats], out, a) {
      const { N, C, S, G, batch, groups } = layout(a, x!);
      ctx.dispatch(gpuGradAffine, [{
        params: { C, N, S, G, batch, groups, eps: a.eps },
        bindings: [dy!.storage, x!.storage, stats!.storage, out.storage],
        workgroups: C,
      }]);
    },
  },
});

export const kernels = [normStatsKernel, normForwardKernel, normGradInputKernel, normGradAffineKernel];

// ---- public functions -------------------------------------------------------------------------

interface Normalize {
  op: string;
  x: Tensor;
  /** The [N, C, S] view of x. */
  view: [number, number, number];
  attrs: NormAttrs;
  /** Given (constant) statistics [2, groups]: BatchNorm in eval mode. */
  stats?: Tensor;
  weight?: Tensor;
  bias?: Tensor;
}

const noSecondOrder = (op: string) => (): never =>
  fail(op, 'gradients of the normalisation backward are not implemented (second derivatives)');

/** Runs the fused forward; the gradient runs the fused backward kernels. */
function normalize({ op, x, view, attrs, stats, weight, bias }: Normalize): Tensor {
  const [N, C] = view;
  const fwd: NormForwardAttrs = { ...attrs, given: !!stats, hasGamma: !!weight, hasBeta: !!bias };
  const params = [weight, bias].filter((t): t is Tensor => !!t);
  const paramShape = (weight ?? bias)?.shape;
  const sShape = statsShape(attrs, N, C);
  return x.engine.run(normForwardKernel, {
    inputs: [x, ...(stats ? [stats] : []), ...params], outShape: x.shape, attrs: fwd,
    kernelInputShapes: [view, ...(stats ? [sShape] : []), ...params.map(() => [C])], kernelOutShape: view,
    grad: (dy, inputs) => {
      const e = x.engine;
      const xin = inputs[0]!;
      let k = 1;
      const st = stats ? inputs[k++]! : e.run(normStatsKernel, { inputs: [xin], outShape: sShape, attrs, kernelInputShapes: [view] });
      const gamma = weight ? inputs[k++]! : undefined;
      const dx = e.run(normGradInputKernel, {
        inputs: [dy, xin, st, ...(gamma ? [gamma] : [])], outShape: xin.shape, attrs: { ...attrs, fixed: !!stats, hasGamma: !!gamma },
        kernelInputShapes: [view, view, sShape, ...(gamma ? [[C]] : [])], kernelOutShape: view, grad: noSecondOrder(op),
      });
      // Given statistics (BatchNorm eval) and the affine parameters all need Σ dy·x̂ and Σ dy per channel.
      if (!stats && !weight && !bias) return [dx];
      const sums = e.run(normGradAffineKernel, {
        inputs: [dy, xin, st], outShape: [2, C], attrs, kernelInputShapes: [view, view, sShape], grad: noSecondOrder(op),
      });
      const dxhat = reshape(slice(sums, 0, 0, 1), [C]), dsum = reshape(slice(sums, 0, 1, 1), [C]);
      const grads: Array<Tensor | null> = [dx];
      if (stats) grads.push(statsGrad(st, gamma, dxhat, dsum, attrs.eps, C));
      if (weight) grads.push(reshape(dxhat, paramShape!));
      if (bias) grads.push(reshape(dsum, paramShape!));
      return grads;
    },
  });
}

/**
 * Gradient of y = (x − μ)·r·γ + β, r = (σ² + eps)^(−1/2), in given statistics [μ; σ²]:
 * dμ = −γ·r·Σ dy, dσ² = −½·γ·r²·Σ dy·x̂ (per channel), returned as [2, C].
 */
function statsGrad(st: Tensor, gamma: Tensor | undefined, dxhat: Tensor, dsum: Tensor, eps: number, C: number): Tensor {
  const r = reciprocal(sqrt(affine(reshape(slice(st, 0, 1, 1), [C]), 1, eps)));
  const gr = gamma ? mul(reshape(gamma, [C]), r) : r;
  const dMean = affine(mul(gr, dsum), -1, 0);
  const dVar = affine(mul(mul(gr, r), dxhat), -0.5, 0);
  return concat([reshape(dMean, [1, C]), reshape(dVar, [1, C])], 0);
}

function checkEps(op: string, eps: number): void {
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) fail(op, `eps must be a positive finite number, got ${String(eps)}`);
}

function checkParam(op: string, name: string, t: Tensor | undefined, shape: Shape, x: Tensor): void {
  if (t === undefined) return;
  t.assertLive(op);
  if (t.engine !== x.engine) fail(op, `${name} belongs to another engine (${t.engine.name})`);
  if (!sameShape(t.shape, shape)) fail(op, `${name} must have shape ${shapeStr(shape)}, got ${shapeStr(t.shape)}`);
}

/** [N, C, S] of an input [N, C, ...] of rank 2 to 4. */
function channelsView(op: string, x: Tensor): [number, number, number] {
  x.assertLive(op);
  if (x.rank < 2) fail(op, `input must have shape [N, C, ...] (rank 2 or more), got ${shapeStr(x.shape)}`);
  const [N, C] = x.shape as [number, number];
  return [N, C, numel(x.shape.slice(2))];
}

export interface NormOptions {
  /** Per-channel scale γ (LayerNorm: of shape normalizedShape). */
  weight?: Tensor;
  /** Per-channel shift β. */
  bias?: Tensor;
  /** Added to the variance (default 1e-5). */
  eps?: number;
}

/**
 * GroupNorm: x [N, C, ...] split into `groups` groups of C/groups channels; each (image, group)
 * is normalised by its own mean and variance, then y = x̂·γ_c + β_c.
 */
export function groupNorm(x: Tensor, groups: number, opts: NormOptions = {}): Tensor {
  const view = channelsView('groupNorm', x);
  const C = view[1];
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0)
    fail('groupNorm', `groups must be a positive integer dividing the ${C} channels of ${shapeStr(x.shape)}, got ${groups}`);
  const { weight, bias, eps = 1e-5 } = opts;
  checkEps('groupNorm', eps);
  checkParam('groupNorm', 'weight', weight, [C], x);
  checkParam('groupNorm', 'bias', bias, [C], x);
  return normalize({ op: 'groupNorm', x, view, attrs: { kind: 'group', groups, eps }, weight, bias });
}

/**
 * LayerNorm over the trailing dimensions `normalizedShape`: each leading index is normalised by the
 * mean and variance of its trailing block, then y = x̂·γ + β elementwise (γ, β of shape normalizedShape).
 */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], opts: NormOptions = {}): Tensor {
  x.assertLive('layerNorm');
  const k = Array.isArray(normalizedShape) ? normalizedShape.length : -1;
  if (k < 1 || k > x.rank || !sameShape(x.shape.slice(x.rank - k), normalizedShape))
    fail('layerNorm', `normalizedShape ${Array.isArray(normalizedShape) ? shapeStr(normalizedShape) : String(normalizedShape)} must be the trailing dimensions of ${shapeStr(x.shape)}`);
  const { weight, bias, eps = 1e-5 } = opts;
  checkEps('layerNorm', eps);
  checkParam('layerNorm', 'weight', weight, normalizedShape, x);
  checkParam('layerNorm', 'bias', bias, normalizedShape, x);
  const D = numel(normalizedShape);
  return normalize({ op: 'layerNorm', x, view: [x.size / D, D, 1], attrs: { kind: 'group', groups: 1, eps }, weight, bias });
}

export interface BatchNormOptions extends NormOptions {
  /** Training: normalise by this batch's statistics. Eval: by runningMean / runningVar. */
  training: boolean;
  /** [C], required in eval mode. */
  runningMean?: Tensor;
  /** [C] (the variance, not the standard deviation), required in eval mode. */
  runningVar?: Tensor;
}

/**
 * BatchNorm: x [N, C, ...] normalised per channel over the batch and every position, by the batch's
 * statistics (training) or the running ones (eval), then y = x̂·γ_c + β_c. Running statistics are not
 * updated here: a module reads the batch's with batchNormStats and keeps its own.
 */
export function batchNorm(x: Tensor, opts: BatchNormOptions): Tensor {
  const view = channelsView('batchNorm', x);
  const [N, C, S] = view;
  if (!opts || typeof opts.training !== 'boolean') fail('batchNorm', 'options must say training: true or false');
  const { weight, bias, eps = 1e-5, training, runningMean, runningVar } = opts;
  checkEps('batchNorm', eps);
  checkParam('batchNorm', 'weight', weight, [C], x);
  checkParam('batchNorm', 'bias', bias, [C], x);
  const attrs: NormAttrs = { kind: 'batch', groups: 1, eps };
  if (training) {
    if (N * S < 2) fail('batchNorm', `training needs more than one value per channel, got ${shapeStr(x.shape)}`);
    return normalize({ op: 'batchNorm', x, view, attrs, weight, bias });
  }
  if (!runningMean || !runningVar) fail('batchNorm', 'eval mode (training: false) needs runningMean and runningVar');
  checkParam('batchNorm', 'runningMean', runningMean, [C], x);
  checkParam('batchNorm', 'runningVar', runningVar, [C], x);
  return x.engine.scope(() => {
    const stats = concat([reshape(runningMean, [1, C]), reshape(runningVar, [1, C])], 0);
    return normalize({ op: 'batchNorm', x, view, attrs, stats, weight, bias });
  });
}

/**
 * The batch statistics BatchNorm normalises by in training: per channel the mean and the biased
 * variance (divided by the count N·H·W; multiply by count/(count − 1) for the unbiased estimate
 * that running statistics usually track). Constants: no gradient flows through them.
 */
export function batchNormStats(x: Tensor): { mean: Tensor; var: Tensor; count: number } {
  const view = channelsView('batchNormStats', x);
  const [N, C, S] = view;
  const attrs: NormAttrs = { kind: 'batch', groups: 1, eps: 0 };
  return x.engine.scope(() => {
    const st = x.engine.run(normStatsKernel, { inputs: [x], outShape: [2, C], attrs, kernelInputShapes: [view] });
    return { mean: reshape(slice(st, 0, 0, 1), [C]), var: reshape(slice(st, 0, 1, 1), [C]), count: N * S };
  });
}
