import type { KernelAttrs, Pad4, View } from '../../backend.js';
import { uniform, type Runtime } from '../runtime.js';
import { shader } from '../shaders.js';
import { numel, st } from './util.js';

/** The uniform fields shared by the three conv kernels: Ci, H, W, Co, Ho, Wo, kh, kw, Cig, Cog, top, left. */
function geometry(xShape: readonly number[], wShape: readonly number[], yShape: readonly number[],
  pad: Pad4, groups: number): number[] {
  const [, Ci, H, W] = xShape as [number, number, number, number];
  const [Co, Cig, kh, kw] = wShape as [number, number, number, number];
  const [, , Ho, Wo] = yShape as [number, number, number, number];
  return [Ci, H, W, Co, Ho, Wo, kh, kw, Cig, Co / groups, pad.top, pad.left];
}

export function conv2d(rt: Runtime, inputs: readonly View[], out: View, attrs: KernelAttrs['conv2d']): void {
  const [x, w, bias] = inputs as [View, View, View | undefined];
  const n = numel(out.shape);
  if (n === 0) return;
  const hasBias = attrs.hasBias && bias !== undefined;
  rt.run(shader('conv2d'), 'conv2d', [{
    params: uniform([n, ...geometry(x.shape, w.shape, out.shape, attrs.pad, attrs.groups), hasBias ? 1 : 0]),
    bindings: [st(x), st(w), st(hasBias ? bias : w), st(out)],
    workgroups: Math.ceil(n / 64),
  }]);
}

export function conv2dGradInput(rt: Runtime, inputs: readonly View[], out: View, attrs: KernelAttrs['conv2dGradInput']): void {
  const [dy, w] = inputs as [View, View];
  const n = numel(out.shape);
  if (n === 0) return;
  rt.run(shader('conv2dGradInput'), 'conv2dGradInput', [{
    params: uniform([n, ...geometry(out.shape, w.shape, dy.shape, attrs.pad, attrs.groups)]),
    bindings: [st(dy), st(w), st(out)],
    workgroups: Math.ceil(n / 64),
  }]);
}

export function conv2dGradFilter(rt: Runtime, inputs: readonly View[], out: View, attrs: KernelAttrs['conv2dGradFilter']): void {
  const [x, dy] = inputs as [View, View];
  const nOut = numel(out.shape);
  if (nOut === 0) return;
  rt.run(shader('conv2dGradFilter'), 'conv2dGradFilter', [{
    params: uniform([nOut, x.shape[0]!, ...geometry(x.shape, out.shape, dy.shape, attrs.pad, attrs.groups)]),
    bindings: [st(x), st(dy), st(out)],
    workgroups: nOut,
  }]);
}
