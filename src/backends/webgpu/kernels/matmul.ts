import type { KernelAttrs, View } from '../../backend.js';
import { uniform, type Runtime } from '../runtime.js';
import { shader } from '../shaders.js';
import { numel, st } from './util.js';

export function matmul(rt: Runtime, inputs: readonly View[], out: View, attrs: KernelAttrs['matmul']): void {
  const [a, b] = inputs as [View, View];
  const [, M, N] = out.shape as [number, number, number];
  const K = attrs.transposeA ? a.shape[1]! : a.shape[2]!;
  const n = numel(out.shape);
  if (n === 0) return;
  rt.run(shader('matmul'), 'matmul', [{
    params: uniform([n, M, N, K, a.shape[0] === 1 ? 0 : M * K, b.shape[0] === 1 ? 0 : K * N,
      attrs.transposeA ? 1 : 0, attrs.transposeB ? 1 : 0]),
    bindings: [st(a), st(b), st(out)],
    workgroups: Math.ceil(n / 64),
  }]);
}
