import type { BinaryFn, KernelAttrs, UnaryFn, View } from '../../backend.js';
import { uniform, type Runtime } from '../runtime.js';
import { shader } from '../shaders.js';
import { numel, st, strides } from './util.js';

/** WGSL bodies of the unary functions of v, written to stay finite where the reference does. */
const unaryBody: Record<UnaryFn, string> = {
  neg: '-v',
  exp: 'exp(v)',
  log: 'log(v)',
  // Branches so that exp never overflows into inf / inf.
  sigmoid: 'select(exp(v) / (1.0 + exp(v)), 1.0 / (1.0 + exp(-v)), v >= 0.0)',
  // tanh() itself overflows to NaN for large |v| on some drivers; this form saturates.
  tanh: 'sign(v) * (1.0 - exp(-2.0 * abs(v))) / (1.0 + exp(-2.0 * abs(v)))',
  relu: 'select(0.0, v, v > 0.0)',
  softplus: 'select(log(1.0 + exp(v)), v + log(1.0 + exp(-v)), v > 0.0)',
  square: 'v * v',
  sqrt: 'sqrt(v)',
  abs: 'abs(v)',
  sign: 'select(select(0.0, -1.0, v < 0.0), 1.0, v > 0.0)',
  step: 'select(0.0, 1.0, v > 0.0)',
  reciprocal: '1.0 / v',
  affine: 'p.alpha * v + p.beta',
};

const binaryBody: Record<BinaryFn, string> = {
  add: 'u + v',
  sub: 'u - v',
  mul: 'u * v',
  div: 'u / v',
  max: 'select(v, u, u > v)',
  min: 'select(v, u, u < v)',
  eq: 'select(0.0, 1.0, u == v)',
  gt: 'select(0.0, 1.0, u > v)',
};

export const unaryShader = (fn: UnaryFn): string => shader('unary', { UNARY: unaryBody[fn] });
export const binaryShader = (fn: BinaryFn): string => shader('binary', { BINARY: binaryBody[fn] });
export const allUnaryShaders = (): string[] => (Object.keys(unaryBody) as UnaryFn[]).map(unaryShader);
export const allBinaryShaders = (): string[] => (Object.keys(binaryBody) as BinaryFn[]).map(binaryShader);

export function unary(rt: Runtime, inputs: readonly View[], out: View, attrs: KernelAttrs['unary']): void {
  const n = numel(out.shape);
  if (n === 0) return;
  rt.run(unaryShader(attrs.fn), `unary ${attrs.fn}`, [{
    params: uniform([n], [attrs.alpha, attrs.beta]),
    bindings: [st(inputs[0]!), st(out)],
    workgroups: Math.ceil(n / 64),
  }]);
}

/** Strides of a view broadcast to the output shape: 0 along broadcast axes. */
function broadcast(shape: readonly number[], outShape: readonly number[]): number[] {
  const s = strides(shape);
  return outShape.map((d, i) => (shape[i] === 1 && d !== 1 ? 0 : s[i]!));
}

export function binary(rt: Runtime, inputs: readonly View[], out: View, attrs: KernelAttrs['binary']): void {
  const [a, b] = inputs as [View, View];
  const n = numel(out.shape);
  if (n === 0) return;
  const [, d1, d2, d3] = out.shape as [number, number, number, number];
  rt.run(binaryShader(attrs.fn), `binary ${attrs.fn}`, [{
    params: uniform([n, d1, d2, d3, ...broadcast(a.shape, out.shape), ...broadcast(b.shape, out.shape)]),
    bindings: [st(a), st(b), st(out)],
    workgroups: Math.ceil(n / 64),
  }]);
}

export function fill(rt: Runtime, _inputs: readonly View[], out: View, attrs: KernelAttrs['fill']): void {
  const n = numel(out.shape);
  if (n === 0) return;
  rt.run(shader('fill'), 'fill', [{ params: uniform([n], [attrs.value]), bindings: [st(out)], workgroups: Math.ceil(n / 64) }]);
}

