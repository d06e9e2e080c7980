import { buf, strides } from '../backends/reference/storage.js';
import { withScratch } from './util/scratch.js';
import { fail, shapeStr } from '../engine/errors.js';
import { defineKernel, enumCode, wasmExport, wgslKernel } from '../engine/kernel.js';
import { reshape } from '../engine/views.js';
import { broadcastTo, equal, mul, sub } from './binary.js';
import { exp } from './unary.js';
import { normaliseAxis, numel } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';

/**
 * Reductions over a set of axes: sum, mean, sum of squares, max and log-sum-exp
 * (docs/ops/reduce.md). The kernel sees a rank-4 view in which runs of neighbouring axes that are
 * all reduced, or all kept, are merged, and reduces the flagged axes of that view (keepdims).
 */
export type ReduceFn = 'sum' | 'mean' | 'sumSquares' | 'max' | 'logSumExp';
export interface ReduceAttrs {
  fn: ReduceFn;
  /** Reduced axes of the rank-4 kernel view. */
  axes: readonly number[];
}

const FN: readonly ReduceFn[] = ['sum', 'mean', 'sumSquares', 'max', 'logSumExp'];

const wasm = wasmExport('reduce', {
  fn: 'i32', x: 'ptr', y: 'ptr', d0: 'i32', d1: 'i32', d2: 'i32', d3: 'i32',
  r0: 'i32', r1: 'i32', r2: 'i32', r3: 'i32', acc: 'ptr',
});
const wgsl = wgslKernel('reduce', {
  nOut: 'u32', R: 'u32', xs0: 'u32', xs1: 'u32', xs2: 'u32', xs3: 'u32',
  od1: 'u32', od2: 'u32', od3: 'u32', rd1: 'u32', rd2: 'u32', rd3: 'u32', scale: 'f32', init: 'f32',
}, ['FN']);

/** Mean is sum · (1/R) on the GPU, so the two share a pipeline. */
const gpuFn = (fn: ReduceFn): string => String(enumCode(reduceKernel, 'FN', fn === 'mean' ? 'sum' : fn));
const startsAtMax = (fn: ReduceFn): boolean => fn === 'max' || fn === 'logSumExp';

export const reduceKernel = defineKernel<ReduceAttrs>({
  name: 'reduce',
  enums: { FN },
  reference([x], out, { fn, axes }) {
    const X = buf(x!), Y = buf(out);
    const xs = strides(x!.shape), os = strides(out.shape);
    // Where each input element lands: its kept coordinates in the output.
    const step = [0, 1, 2, 3].map((i) => (axes.includes(i) ? 0 : os[i]!));
    const target = new Int32Array(X.length);
    for (let i = 0; i < X.length; i++) {
      let o = 0;
      for (let a = 0; a < 4; a++) o += Math.floor(i / xs[a]!) % x!.shape[a]! * step[a]!;
      target[i] = o;
    }
    Y.fill(startsAtMax(fn) ? -Infinity : 0);
    if (startsAtMax(fn)) for (let i = 0; i < X.length; i++) if (X[i]! > Y[target[i]!]!) Y[target[i]!] = X[i]!;
    if (fn === 'max') return;
    const shift = Float64Array.from(Y, (m) => (fn === 'logSumExp' && Number.isFinite(m) ? m : 0));
    Y.fill(0);
    for (let i = 0; i < X.length; i++) {
      const v = X[i]!, o = target[i]!;
      Y[o]! += fn === 'sumSquares' ? v * v : fn === 'logSumExp' ? Math.exp(v - shift[o]!) : v;
    }
    const count = X.length / Y.length;
    for (let k = 0; k < Y.length; k++) {
      if (fn === 'mean') Y[k]! /= count;
      if (fn === 'logSumExp') Y[k] = shift[k]! + Math.log(Y[k]!);
    }
  },
  wasm: {
    exports: [wasm],
    run(ctx, [x], out, { fn, axes }) {
      const [d0, d1, d2, d3] = x!.shape as [number, number, number, number];
      const [r0, r1, r2, r3] = [0, 1, 2, 3].map((i) => +axes.includes(i)) as [number, number, number, number];
      // Rows of d3 outputs accumulate in per-thread scratch: d3 doubles and d3 floats (assembly/reduce.ts).
      withScratch(ctx, [r3 ? 1 : ctx.threads * d3 * 3], ([acc]) => {
        ctx.call(wasm, {
          fn: enumCode(reduceKernel, 'FN', fn), x: ctx.ptr(x!.storage), y: ctx.ptr(out.storage),
          d0, d1, d2, d3, r0, r1, r2, r3, acc: acc!,
        }, numel(x!.shape) * (fn === 'logSumExp' ? 8 : 2));
      });
    },
  },
  webgpu: {
    kernels: [wgsl],
    variants: () => (['sum', 'sumSquares', 'max', 'logSumExp'] as const).map((fn) => ({ kernel: wgsl, subs: { FN: gpuFn(fn) } })),
    run(ctx, [x], out, { fn, axes }) {
      const nOut = numel(out.shape);
      const reduced = x!.shape.map((d, i) => (axes.includes(i) ? d : 1));
      const R = numel(reduced);
      const [xs0, xs1, xs2, xs3] = strides(x!.shape) as [number, number, number, number];
      const [, od1, od2, od3] = out.shape as [number, number, number, number];
      const [, rd1, rd2, rd3] = reduced as [number, number, number, number];
      ctx.dispatch(wgsl, [{
        params: {
          nOut, R, xs0, xs1, xs2, xs3, od1, od2, od3, rd1, rd2, rd3,
          scale: fn === 'mean' ? 1 / R : 1, init: startsAtMax(fn) ? -Infinity : 0,
        },
        bindings: [x!.storage, out.storage],
        workgroups: nOut,
      }], { subs: { FN: gpuFn(fn) }, label: `reduce ${fn}` });
    },
  },
});

export const kernels = [reduceKernel];

/** What each function becomes when a reduction runs in two steps (the second combines partial results). */
const secondStep: Record<ReduceFn, ReduceFn> = { sum: 'sum', mean: 'mean', sumSquares: 'sum', max: 'max', logSumExp: 'logSumExp' };

/**
 * Reduces over `axes` (all axes when omitted). keepDims keeps reduced axes as size 1; otherwise
 * they are removed (reducing everything gives a scalar, shape []).
 */
function reduce(op: string, fn: ReduceFn, x: Tensor, axes: readonly number[] | undefined, keepDims: boolean): Tensor {
  x.assertLive(op);
  if (axes !== undefined && !Array.isArray(axes)) fail(op, `axes must be an array of integers, got ${String(axes)}`);
  if (typeof keepDims !== 'boolean') fail(op, `keepDims must be a boolean, got ${String(keepDims)}`);
  const rank = x.rank;
  const own = axes === undefined ? [...Array(rank).keys()] : axes.map((a) => normaliseAxis(op, a, rank));
  if (new Set(own).size !== own.length) fail(op, `axes [${axes}] repeat an axis of ${shapeStr(x.shape)}`);
  const kept = x.shape.map((d, i) => (own.includes(i) ? 1 : d));
  // The kernel writes the final shape directly: reshaping a keep-dims result would leave that
  // result alive after the caller disposes the reshape (outside a scope, a leak per call).
  const outShape = keepDims ? kept : x.shape.filter((_, i) => !own.includes(i));
  const runs = mergedRuns(x.shape, own);
  if (runs.length > 4) {
    // Only ranks above 4 alternate more than four times: reduce the last reduced axis (of size > 1) first.
    const last = Math.max(...own.filter((a) => x.shape[a]! > 1));
    return x.engine.scope(() => {
      const partial = reduce(op, fn, x, [last], true);
      return reduce(op, secondStep[fn], partial, own, keepDims);
    });
  }
  const view = [...new Array<{ size: number; reduced: boolean }>(4 - runs.length).fill({ size: 1, reduced: false }), ...runs];
  return x.engine.run(reduceKernel, {
    inputs: [x], outShape,
    attrs: { fn, axes: view.flatMap((r, i) => (r.reduced ? [i] : [])) },
    kernelInputShapes: [view.map((r) => r.size)], kernelOutShape: view.map((r) => (r.reduced ? 1 : r.size)),
    grad: (dy, [xin], y) => [reduceGrad(fn, keepDims ? dy : reshape(dy, kept), xin!, keepDims ? y : reshape(y, kept))],
  });
}

/** Neighbouring axes that are all reduced or all kept, merged (size-1 axes dropped: either role fits them). */
function mergedRuns(shape: readonly number[], reduced: readonly number[]): Array<{ size: number; reduced: boolean }> {
  const runs: Array<{ size: number; reduced: boolean }> = [];
  shape.forEach((d, i) => {
    if (d === 1) return;
    const r = reduced.includes(i), last = runs[runs.length - 1];
    if (last && last.reduced === r) last.size *= d;
    else runs.push({ size: d, reduced: r });
  });
  return runs;
}

/** dy and y have the keep-dims shape, so they broadcast against x. */
function reduceGrad(fn: ReduceFn, dy: Tensor, x: Tensor, y: Tensor): Tensor {
  switch (fn) {
    case 'sum': return broadcastTo(dy, x.shape);
    case 'mean': return broadcastTo(mul(dy, y.size / x.size), x.shape);
    case 'sumSquares': return mul(mul(x, dy), 2);
    // Every position equal to the maximum receives the gradient.
    case 'max': return mul(equal(x, y), dy);
    // ∂/∂x log Σ e^x = softmax(x) = e^(x − y).
    case 'logSumExp': return mul(exp(sub(x, y)), dy);
  }
}

export const sum = (x: Tensor, axes?: readonly number[], keepDims = false): Tensor => reduce('sum', 'sum', x, axes, keepDims);
export const mean = (x: Tensor, axes?: readonly number[], keepDims = false): Tensor => reduce('mean', 'mean', x, axes, keepDims);
export const sumSquares = (x: Tensor, axes?: readonly number[], keepDims = false): Tensor =>
  reduce('sumSquares', 'sumSquares', x, axes, keepDims);
export const max = (x: Tensor, axes?: readonly number[], keepDims = false): Tensor => reduce('max', 'max', x, axes, keepDims);
/** log Σ e^x over `axes`, computed as m + log Σ e^(x − m) with m the maximum (finite for any finite input). */
export const logsumexp = (x: Tensor, axes?: readonly number[], keepDims = false): Tensor =>
  reduce('logsumexp', 'logSumExp', x, axes, keepDims);
