import { buf } from '../backends/reference/storage.js';
import { withScratch } from './util/scratch.js';
import { fail, shapeStr } from '../engine/errors.js';
import { defineKernel, wasmExport, wgslKernel } from '../engine/kernel.js';
import { normaliseAxis, numel } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { around } from './util/layout.js';

/**
 * gather (numpy's take): around `axis`, x is outer × V × inner and the K indices (a float tensor of
 * integer values, any shape) pick rows: y[o, k, i] = x[o, idx[k], i]; y's shape is x's with the
 * axis replaced by the index shape. Embedding lookup is axis 0 of a [V, D] table.
 * Gradient: dx[o, v, i] = Σ over k with idx[k] = v, in increasing k, of dy[o, k, i] (a scatter-add
 * written as a gather per dx row, so it is deterministic); the indices get none (docs/ops/layout.md).
 *
 * Indices must be integers in [0, V). The op checks them where the index tensor can be read
 * synchronously (reference, wasm). WebGPU cannot read it without a round trip, so there the kernels
 * treat an invalid index as selecting nothing: its output row is 0 and it adds no gradient.
 */
export type GatherAttrs = Record<string, never>;

// Views the kernels see: x or dx [outer, V, inner], indices [K], y or dy [outer, K, inner].
const wasmGather = wasmExport('gather', { x: 'ptr', idx: 'ptr', y: 'ptr', outer: 'i32', V: 'i32', K: 'i32', inner: 'i32' });
const wasmIndex = wasmExport('gatherIndex', { idx: 'ptr', K: 'i32', V: 'i32', table: 'ptr' });
const wasmGatherGrad = wasmExport('gatherGrad', { dy: 'ptr', dx: 'ptr', table: 'ptr', outer: 'i32', V: 'i32', K: 'i32', inner: 'i32' });
const wgslGather = wgslKernel('gather', { n: 'u32', V: 'u32', K: 'u32', inner: 'u32' });
const wgslGatherGrad = wgslKernel('gatherGrad', { n: 'u32', V: 'u32', K: 'u32', inner: 'u32' });

/** The row an index value selects, or −1 when it selects none. */
const row = (v: number, V: number): number => (Number.isInteger(v) && v >= 0 && v < V ? v : -1);

type Dims3 = [number, number, number];

export const gatherKernel = defineKernel<GatherAttrs>({
  name: 'gather',
  reference([x, idx], out) {
    const X = buf(x!), I = buf(idx!), Y = buf(out);
    const [outer, K, inner] = out.shape as Dims3;
    const V = x!.shape[1]!;
    for (let o = 0; o < outer; o++)
      for (let k = 0; k < K; k++) {
        const v = row(I[k]!, V), dst = (o * K + k) * inner;
        if (v < 0) Y.fill(0, dst, dst + inner);
        else Y.set(X.subarray((o * V + v) * inner, (o * V + v + 1) * inner), dst);
      }
  },
  wasm: {
    exports: [wasmGather],
    run(ctx, [x, idx], out) {
      const [outer, K, inner] = out.shape as Dims3;
      ctx.call(wasmGather, { x: ctx.ptr(x!.storage), idx: ctx.ptr(idx!.storage), y: ctx.ptr(out.storage), outer, V: x!.shape[1]!, K, inner }, outer * K * inner);
    },
  },
  webgpu: {
    kernels: [wgslGather],
    run(ctx, [x, idx], out) {
      const [, K, inner] = out.shape as Dims3;
      const n = numel(out.shape);
      ctx.dispatch(wgslGather, [{ params: { n, V: x!.shape[1]!, K, inner }, bindings: [x!.storage, idx!.storage, out.storage], workgroups: Math.ceil(n / 64) }]);
    },
  },
});

export const gatherGradKernel = defineKernel<GatherAttrs>({
  name: 'gatherGrad',
  reference([dy, idx], out) {
    const G = buf(dy!), I = buf(idx!), D = buf(out);
    const [outer, V, inner] = out.shape as Dims3;
    const K = idx!.shape[0]!;
    D.fill(0);
    for (let o = 0; o < outer; o++)
      for (let k = 0; k < K; k++) {
        const v = row(I[k]!, V);
        if (v < 0) continue;
        const src = (o * K + k) * inner, dst = (o * V + v) * inner;
        for (let i = 0; i < inner; i++) D[dst + i]! += G[src + i]!;
      }
  },
  wasm: {
    exports: [wasmIndex, wasmGatherGrad],
    run(ctx, [dy, idx], out) {
      const [outer, V, inner] = out.shape as Dims3;
      const K = idx!.shape[0]!;
      // The occurrences of each row (row offsets, then the k's in order), built on one thread.
      withScratch(ctx, [V + 1 + K], ([table]) => {
        ctx.call(wasmIndex, { idx: ctx.ptr(idx!.storage), K, V, table: table! }, 0);
        ctx.call(wasmGatherGrad, { dy: ctx.ptr(dy!.storage), dx: ctx.ptr(out.storage), table: table!, outer, V, K, inner }, outer * (K + V) * inner);
      });
    },
  },
  webgpu: {
    kernels: [wgslGatherGrad],
    run(ctx, [dy, idx], out) {
      const [, V, inner] = out.shape as Dims3;
      const n = numel(out.shape);
      ctx.dispatch(wgslGatherGrad, [{ params: { n, V, K: idx!.shape[0]!, inner }, bindings: [dy!.storage, idx!.storage, out.storage], workgroups: Math.ceil(n / 64) }]);
    },
  },
});

export const kernels = [gatherKernel, gatherGradKernel];

/** Fails unless every index is an integer in [0, V), where the backend can read them synchronously. */
function checkIndices(op: string, indices: Tensor, V: number): void {
  const { backend, storage } = indices.ref;
  const values = backend.read64?.(storage) ?? backend.readSync?.(storage);
  if (!values) return;
  for (let k = 0; k < indices.size; k++) {
    const v = values[k]!;
    if (row(v, V) < 0) fail(op, `index ${v} at position ${k} of indices ${shapeStr(indices.shape)} is not an integer in [0, ${V})`);
  }
}

/** Rows of a [V, D] table (embedding lookup): indices of shape S give [...S, D]. */
export function gather(table: Tensor, indices: Tensor): Tensor;
/** Slices of x along `axis` picked by indices: x.shape with that axis replaced by indices.shape. */
export function gather(x: Tensor, axis: number, indices: Tensor): Tensor;
export function gather(x: Tensor, axisOrIndices: number | Tensor, maybeIndices?: Tensor): Tensor {
  x.assertLive('gather');
  const [axis, indices] = typeof axisOrIndices === 'number' ? [axisOrIndices, maybeIndices] : [0, axisOrIndices];
  if (!indices || typeof indices !== 'object' || typeof indices.assertLive !== 'function') fail('gather', 'indices must be a tensor');
  indices.assertLive('gather');
  if (x.rank === 0) fail('gather', 'x must have at least one axis');
  const ax = normaliseAxis('gather', axis, x.rank);
  const [outer, V, inner] = around(x.shape, ax);
  checkIndices('gather', indices, V);
  const K = indices.size;
  const outShape = [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
  return x.engine.run(gatherKernel, {
    inputs: [x, indices], outShape, attrs: {},
    kernelInputShapes: [[outer, V, inner], [K]], kernelOutShape: [outer, K, inner],
    grad: (dy, [xin, idx]) => [gatherGrad(dy, idx!, xin!.shape, ax), null],
  });
}

/**
 * The adjoint of gather in x: dx (shape xShape) with dx[o, v, i] = Σ_{k: idx[k] = v} dy[o, k, i].
 * Indices are not checked again (gather did).
 */
export function gatherGrad(dy: Tensor, indices: Tensor, xShape: readonly number[], axis: number): Tensor {
  dy.assertLive('gatherGrad');
  indices.assertLive('gatherGrad');
  const ax = normaliseAxis('gatherGrad', axis, xShape.length);
  const [outer, V, inner] = around(xShape, ax);
  const K = indices.size;
  const want = [...xShape.slice(0, ax), ...indices.shape, ...xShape.slice(ax + 1)];
  if (dy.rank !== want.length || dy.shape.some((d, i) => d !== want[i]))
    fail('gatherGrad', `gradient ${shapeStr(dy.shape)} does not match the gathered shape ${shapeStr(want)}`);
  return dy.engine.run(gatherGradKernel, {
    inputs: [dy, indices], outShape: xShape, attrs: {},
    kernelInputShapes: [[outer, K, inner], [K]], kernelOutShape: [outer, V, inner],
    grad: (g, [, idx]) => [gather(g, ax, idx!), null],
  });
}
