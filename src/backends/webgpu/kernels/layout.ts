import type { KernelAttrs, View } from '../../backend.js';
import { uniform, type Dispatch, type Runtime } from '../runtime.js';
import { shader } from '../shaders.js';
import { numel, st } from './util.js';

/** outer × axis × inner decomposition of a rank-4 shape around `axis`. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [numel(shape.slice(0, axis)), shape[axis]!, numel(shape.slice(axis + 1))];
}

/** One dispatch per input, all in one pass: each copies its block into its slot of y. */
export function concat(rt: Runtime, inputs: readonly View[], out: View, attrs: KernelAttrs['concat']): void {
  const [, total, inner] = around(out.shape, attrs.axis);
  const dispatches: Dispatch[] = [];
  let offset = 0;
  for (const x of inputs) {
    const len = x.shape[attrs.axis]!;
    const n = numel(x.shape);
    if (n > 0) {
      dispatches.push({
        params: uniform([n, len * inner, total * inner, offset * inner]),
        bindings: [st(x), st(out)],
        workgroups: Math.ceil(n / 64),
      });
    }
    offset += len;
  }
  if (dispatches.length > 0) rt.run(shader('concat'), 'concat', dispatches);
}

export function slice(rt: Runtime, inputs: readonly View[], out: View, attrs: KernelAttrs['slice']): void {
  const x = inputs[0]!;
  const [, total, inner] = around(x.shape, attrs.axis);
  const len = out.shape[attrs.axis]!;
  const n = numel(out.shape);
  if (n === 0) return;
  rt.run(shader('slice'), 'slice', [{
    params: uniform([n, len * inner, total * inner, attrs.start * inner]),
    bindings: [st(x), st(out)],
    workgroups: Math.ceil(n / 64),
  }]);
}

/** kernel = 'squeeze': C, H, W of the input; 'unsqueeze': of the output (the unsqueezed side both times). */
function spaceToDepth(rt: Runtime, kernel: 'squeeze' | 'unsqueeze', x: View, out: View, big: readonly number[]): void {
  const [, C, H, W] = big as [number, number, number, number];
  const n = numel(out.shape);
  if (n === 0) return;
  rt.run(shader(kernel), kernel, [{ params: uniform([n, C, H, W]), bindings: [st(x), st(out)], workgroups: Math.ceil(n / 64) }]);
}

export function squeeze(rt: Runtime, inputs: readonly View[], out: View): void {
  spaceToDepth(rt, 'squeeze', inputs[0]!, out, inputs[0]!.shape);
}

export function unsqueeze(rt: Runtime, inputs: readonly View[], out: View): void {
  spaceToDepth(rt, 'unsqueeze', inputs[0]!, out, out.shape);
}
