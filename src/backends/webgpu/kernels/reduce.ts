import type { KernelAttrs, ReduceFn, View } from '../../backend.js';
import { uniform, type Runtime } from '../runtime.js';
import { shader } from '../shaders.js';
import { numel, st, strides } from './util.js';

export function reduceShader(fn: ReduceFn): string {
  return shader('reduce', {
    MAP: fn === 'sumSquares' ? 'v * v' : 'v',
    COMBINE: fn === 'max' ? 'max(u, v)' : 'u + v',
  });
}

export const allReduceShaders = (): string[] => (['sum', 'mean', 'sumSquares', 'max'] as const).map(reduceShader);

export function reduce(rt: Runtime, inputs: readonly View[], out: View, attrs: KernelAttrs['reduce']): void {
  const x = inputs[0]!;
  const nOut = numel(out.shape);
  if (nOut === 0) return;
  const reduced = x.shape.map((d, i) => (attrs.axes.includes(i) ? d : 1));
  const R = numel(reduced);
  const [, od1, od2, od3] = out.shape as [number, number, number, number];
  rt.run(reduceShader(attrs.fn), `reduce ${attrs.fn}`, [{
    params: uniform([nOut, R, ...strides(x.shape), od1, od2, od3, reduced[1]!, reduced[2]!, reduced[3]!],
      [attrs.fn === 'mean' ? 1 / R : 1, attrs.fn === 'max' ? -Infinity : 0]),
    bindings: [st(x), st(out)],
    workgroups: nOut,
  }]);
}
