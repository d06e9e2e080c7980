import { buf } from '../backends/reference/storage.js';
import { fail, shapeStr } from '../engine/errors.js';
import { defineKernel, wasmExport, wgslKernel } from '../engine/kernel.js';
import { normaliseAxis, numel } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { around } from './util/layout.js';

/**
 * concat and slice along one axis, any rank ≤ 6. Around the axis a tensor is outer × len × inner
 * blocks, so both are copies of `outer` rows of len·inner floats between two row strides.
 * concat's adjoint is a slice per input; slice's adjoint is dy placed in zeros (docs/ops/layout.md).
 */
export interface ConcatAttrs { axis: number }
export interface SliceAttrs { axis: number; start: number }

const copyRows = wasmExport('copyRows', { src: 'ptr', srcStride: 'i32', dst: 'ptr', dstStride: 'i32', rows: 'i32', rowLen: 'i32' });
const wgslConcat = wgslKernel('concat', { n: 'u32', lenInner: 'u32', totalInner: 'u32', offsetInner: 'u32' });
const wgslSlice = wgslKernel('slice', { n: 'u32', lenInner: 'u32', totalInner: 'u32', startInner: 'u32' });

export const concatKernel = defineKernel<ConcatAttrs>({
  name: 'concat',
  reference(inputs, out, { axis }) {
    const Y = buf(out);
    const [outer, total, inner] = around(out.shape, axis);
    let offset = 0;
    for (const x of inputs) {
      const X = buf(x);
      const len = x.shape[axis]!;
      for (let o = 0; o < outer; o++) Y.set(X.subarray(o * len * inner, (o + 1) * len * inner), (o * total + offset) * inner);
      offset += len;
    }
  },
  wasm: {
    exports: [copyRows],
    run(ctx, inputs, out, { axis }) {
      const [outer, total, inner] = around(out.shape, axis);
      let offset = 0;
      for (const x of inputs) {
        const len = x.shape[axis]!;
        ctx.call(copyRows, {
          src: ctx.ptr(x.storage), srcStride: len * inner, dst: ctx.ptr(out.storage) + offset * inner * 4, dstStride: total * inner,
          rows: outer, rowLen: len * inner,
        }, outer * len * inner);
        offset += len;
      }
    },
  },
  webgpu: {
    kernels: [wgslConcat],
    // One dispatch per input, all in one pass: each copies its block into its slot of y.
    run(ctx, inputs, out, { axis }) {
      const [, total, inner] = around(out.shape, axis);
      let offset = 0;
      ctx.dispatch(wgslConcat, inputs.map((x) => {
        const len = x.shape[axis]!, n = numel(x.shape);
        const d = { params: { n, lenInner: len * inner, totalInner: total * inner, offsetInner: offset * inner }, bindings: [x.storage, out.storage], workgroups: Math.ceil(n / 64) };
        offset += len;
        return d;
      }));
    },
  },
});

export const sliceKernel = defineKernel<SliceAttrs>({
  name: 'slice',
  reference([x], out, { axis, start }) {
    const X = buf(x!), Y = buf(out);
    const [outer, total, inner] = around(x!.shape, axis);
    const len = out.shape[axis]!;
    for (let o = 0; o < outer; o++) Y.set(X.subarray((o * total + start) * inner, (o * total + start + len) * inner), o * len * inner);
  },
  wasm: {
    exports: [copyRows],
    run(ctx, [x], out, { axis, start }) {
      const [outer, total, inner] = around(x!.shape, axis);
      const len = out.shape[axis]!;
      ctx.call(copyRows, {
        src: ctx.ptr(x!.storage) + start * inner * 4, srcStride: total * inner, dst: ctx.ptr(out.storage), dstStride: len * inner,
        rows: outer, rowLen: len * inner,
      }, outer * len * inner);
    },
  },
  webgpu: {
    kernels: [wgslSlice],
    run(ctx, [x], out, { axis, start }) {
      const [, total, inner] = around(x!.shape, axis);
      const len = out.shape[axis]!, n = numel(out.shape);
      ctx.dispatch(wgslSlice, [{
        params: { n, lenInner: len * inner, totalInner: total * inner, startInner: start * inner },
        bindings: [x!.storage, out.storage],
        workgroups: Math.ceil(n / 64),
      }]);
    },
  },
});

export const kernels = [concatKernel, sliceKernel];

/** Joins tensors along an axis (default 1, channels); all other dimensions must agree. */
export function concat(xs: readonly Tensor[], axis = 1): Tensor {
  if (xs.length === 0) fail('concat', 'needs at least one tensor');
  const first = xs[0]!;
  first.assertLive('concat');
  const rank = first.rank;
  const ax = normaliseAxis('concat', axis, rank);
  for (const x of xs) {
    x.assertLive('concat');
    if (x.rank !== rank || x.shape.some((d, i) => i !== ax && d !== first.shape[i]))
      fail('concat', `shapes ${xs.map((t) => shapeStr(t.shape)).join(', ')} differ outside axis ${ax}`);
  }
  const sizes = xs.map((t) => t.shape[ax]!);
  const outShape = first.shape.map((d, i) => (i === ax ? sizes.reduce((a, b) => a + b, 0) : d));
  return first.engine.run(concatKernel, {
    inputs: xs, outShape, attrs: { axis: ax },
    grad: (dy) => {
      let start = 0;
      return sizes.map((size) => {
        const g = slice(dy, ax, start, size);
        start += size;
        return g;
      });
    },
  });
}

/** x[..., start : start + size, ...] along one axis (a copy). */
export function slice(x: Tensor, axis: number, start: number, size: number): Tensor {
  x.assertLive('slice');
  const ax = normaliseAxis('slice', axis, x.rank);
  const len = x.shape[ax]!;
  if (!Number.isInteger(start) || !Number.isInteger(size) || start < 0 || size < 1 || start + size > len)
    fail('slice', `range [${start}, ${start + size}) is outside axis ${ax} of ${shapeStr(x.shape)}`);
  const outShape = x.shape.map((d, i) => (i === ax ? size : d));
  return x.engine.run(sliceKernel, {
    inputs: [x], outShape, attrs: { axis: ax, start },
    grad: (dy, [xin]) => {
      const zerosOf = (n: number) => xin!.engine.zeros(xin!.shape.map((d, i) => (i === ax ? n : d)));
      const parts: Tensor[] = [];
      if (start > 0) parts.push(zerosOf(start));
      parts.push(dy);
      if (start + size < len) parts.push(zerosOf(len - start - size));
      return [parts.length === 1 ? dy : concat(parts, ax)];
    },
  });
}

/** Splits along an axis into pieces of the given sizes, or into n equal pieces. */
export function split(x: Tensor, sizesOrCount: number | readonly number[], axis = 1): Tensor[] {
  x.assertLive('split');
  const ax = normaliseAxis('split', axis, x.rank);
  const len = x.shape[ax]!;
  let sizes: number[];
  if (typeof sizesOrCount === 'number') {
    if (!Number.isInteger(sizesOrCount) || sizesOrCount < 1 || len % sizesOrCount !== 0)
      fail('split', `axis ${ax} of ${shapeStr(x.shape)} does not split into ${sizesOrCount} equal parts`);
    sizes = new Array<number>(sizesOrCount).fill(len / sizesOrCount);
  } else sizes = [...sizesOrCount];
  if (sizes.reduce((a, b) => a + b, 0) !== len) fail('split', `sizes [${sizes.join(', ')}] do not add up to axis ${ax} of ${shapeStr(x.shape)}`);
  let start = 0;
  return sizes.map((s) => {
    const part = slice(x, ax, start, s);
    start += s;
    return part;
  });
}
