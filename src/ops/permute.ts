import { buf } from '../backends/reference/storage.js';
import { strides } from '../backends/strides.js';
import { fail, shapeStr } from '../engine/errors.js';
import { defineKernel, wasmExport, wgslKernel } from '../engine/kernel.js';
import { reshape } from '../engine/views.js';
import { normaliseAxis, numel } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';
import { inversePermutation, permutePlan } from './util/layout.js';

/**
 * permute: y[i_0, …, i_{r−1}] = x[j] with j[perm[k]] = i_k, so y.shape[k] = x.shape[perm[k]]
 * (rank ≤ 6). Its adjoint is the inverse permutation (docs/ops/layout.md).
 */
export interface PermuteAttrs { perm: readonly number[] }

/**
 * The wasm kernel walks 4 outer axes (n, input strides xs, output strides ys) and a tile plane of
 * R rows × C columns: C is the output's last axis; R is the input's contiguous axis (xsR = 1, a
 * tiled transpose) unless the output's last axis is contiguous in the input too (xsC = 1, row copies).
 */
const wasm = wasmExport('permute', {
  x: 'ptr', y: 'ptr', n0: 'i32', n1: 'i32', n2: 'i32', n3: 'i32', R: 'i32', C: 'i32',
  xs0: 'i32', xs1: 'i32', xs2: 'i32', xs3: 'i32', xsR: 'i32', xsC: 'i32', ys0: 'i32', ys1: 'i32', ys2: 'i32', ys3: 'i32', ysR: 'i32',
});
const wgsl = wgslKernel('permute', {
  n: 'u32', d1: 'u32', d2: 'u32', d3: 'u32', d4: 'u32', d5: 'u32',
  s0: 'u32', s1: 'u32', s2: 'u32', s3: 'u32', s4: 'u32', s5: 'u32',
});

/** The reduced permutation padded to rank 6 at the front (size 1, stride 0). */
function plan6(xShape: readonly number[], perm: readonly number[]): { dims: number[]; xs: number[] } {
  const { dims, xStrides } = permutePlan(xShape, perm);
  const pad = 6 - dims.length;
  return { dims: [...new Array<number>(pad).fill(1), ...dims], xs: [...new Array<number>(pad).fill(0), ...xStrides] };
}

export const permuteKernel = defineKernel<PermuteAttrs>({
  name: 'permute',
  // Straight from the definition on the unreduced shapes, so the parity suite also checks the
  // axis merging that the wasm and WebGPU glue do.
  reference([x], out, { perm }) {
    const X = buf(x!), Y = buf(out);
    const xs = strides(x!.shape);
    const dims = out.shape, r = dims.length;
    const step = perm.map((a) => xs[a]!);
    const idx = new Array<number>(r).fill(0);
    let off = 0;
    for (let i = 0; i < Y.length; i++) {
      Y[i] = X[off]!;
      for (let a = r - 1; a >= 0; a--) {
        idx[a]!++;
        off += step[a]!;
        if (idx[a]! < dims[a]!) break;
        off -= step[a]! * dims[a]!;
        idx[a] = 0;
      }
    }
  },
  wasm: {
    exports: [wasm],
    run(ctx, [x], out, { perm }) {
      const { dims, xStrides } = permutePlan(x!.shape, perm);
      const ys = strides(dims);
      const r = dims.length;
      const c = r - 1;
      // Row copies when the output's last axis is contiguous in the input (or nothing moves).
      const copy = r <= 1 || xStrides[c] === 1;
      const rAxis = r <= 1 ? -1 : copy ? r - 2 : xStrides.indexOf(1);
      const outer = dims.map((_, a) => a).filter((a) => a !== c && a !== rAxis);
      while (outer.length < 4) outer.unshift(-1);
      const [o0, o1, o2, o3] = outer as [number, number, number, number];
      // Axis −1 is a padding axis (size 1, stride 0).
      const d = (a: number) => (a < 0 ? 1 : dims[a]!), sx = (a: number) => (a < 0 ? 0 : xStrides[a]!), sy = (a: number) => (a < 0 ? 0 : ys[a]!);
      ctx.call(wasm, {
        x: ctx.ptr(x!.storage), y: ctx.ptr(out.storage),
        n0: d(o0), n1: d(o1), n2: d(o2), n3: d(o3), R: d(rAxis), C: d(c),
        xs0: sx(o0), xs1: sx(o1), xs2: sx(o2), xs3: sx(o3), xsR: sx(rAxis), xsC: c < 0 ? 1 : xStrides[c]!,
        ys0: sy(o0), ys1: sy(o1), ys2: sy(o2), ys3: sy(o3), ysR: sy(rAxis),
      }, numel(out.shape));
    },
  },
  webgpu: {
    kernels: [wgsl],
    run(ctx, [x], out, { perm }) {
      const { dims, xs } = plan6(x!.shape, perm);
      const n = numel(out.shape);
      ctx.dispatch(wgsl, [{
        params: { n, d1: dims[1]!, d2: dims[2]!, d3: dims[3]!, d4: dims[4]!, d5: dims[5]!, s0: xs[0]!, s1: xs[1]!, s2: xs[2]!, s3: xs[3]!, s4: xs[4]!, s5: xs[5]! },
        bindings: [x!.storage, out.storage],
        workgroups: Math.ceil(n / 64),
      }]);
    },
  },
});

export const kernels = [permuteKernel];

/**
 * Reorders the axes of x: y.shape[k] = x.shape[perm[k]] (negative axes count from the end).
 * A permutation that only moves size-1 axes is a reshape and shares x's memory.
 */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  x.assertLive('permute');
  if (!Array.isArray(perm) || perm.length !== x.rank)
    fail('permute', `perm [${String(perm)}] must list each of the ${x.rank} axes of ${shapeStr(x.shape)} once`);
  const p = perm.map((a) => normaliseAxis('permute', a, x.rank));
  if (new Set(p).size !== p.length) fail('permute', `perm [${perm.join(', ')}] repeats an axis of ${shapeStr(x.shape)}`);
  const outShape = p.map((a) => x.shape[a]!);
  if (permutePlan(x.shape, p).dims.length <= 1) return reshape(x, outShape);
  return x.engine.run(permuteKernel, { inputs: [x], outShape, attrs: { perm: p }, grad: (dy) => [permute(dy, inversePermutation(p))] });
}

/** Swaps axes a and b (by default the last two: a batched matrix transpose). */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  x.assertLive('transpose');
  const i = normaliseAxis('transpose', a, x.rank), j = normaliseAxis('transpose', b, x.rank);
  const perm = x.shape.map((_, k) => (k === i ? j : k === j ? i : k));
  return permute(x, perm);
}
