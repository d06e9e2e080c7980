import type { BinaryFn, KernelAttrs, UnaryFn, View } from '../backend.js';
import { buf, strides } from './storage.js';

export function unaryFn(fn: UnaryFn, alpha: number, beta: number): (x: number) => number {
  switch (fn) {
    case 'neg': return (x) => -x;
    case 'exp': return Math.exp;
    case 'log': return Math.log;
    case 'sigmoid': return (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
    case 'tanh': return Math.tanh;
    case 'relu': return (x) => (x > 0 ? x : 0);
    case 'softplus': return (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
    case 'square': return (x) => x * x;
    case 'sqrt': return Math.sqrt;
    case 'abs': return Math.abs;
    case 'sign': return (x) => (x > 0 ? 1 : x < 0 ? -1 : 0);
    case 'step': return (x) => (x > 0 ? 1 : 0);
    case 'reciprocal': return (x) => 1 / x;
    case 'affine': return (x) => alpha * x + beta;
  }
}

export function binaryFn(fn: BinaryFn): (a: number, b: number) => number {
  switch (fn) {
    case 'add': return (a, b) => a + b;
    case 'sub': return (a, b) => a - b;
    case 'mul': return (a, b) => a * b;
    case 'div': return (a, b) => a / b;
    case 'max': return (a, b) => (a > b ? a : b);
    case 'min': return (a, b) => (a < b ? a : b);
    case 'eq': return (a, b) => (a === b ? 1 : 0);
    case 'gt': return (a, b) => (a > b ? 1 : 0);
  }
}

export function unary(inputs: readonly View[], out: View, attrs: KernelAttrs['unary']): void {
  const X = buf(inputs[0]!), Y = buf(out);
  const f = unaryFn(attrs.fn, attrs.alpha, attrs.beta);
  for (let i = 0; i < Y.length; i++) Y[i] = f(X[i]!);
}

/** Strides of an input broadcast to the output shape: 0 along broadcast axes. */
export function broadcastStrides(inShape: readonly number[], outShape: readonly number[]): number[] {
  const s = strides(inShape);
  return outShape.map((d, i) => (inShape[i] === 1 && d !== 1 ? 0 : s[i]!));
}

export function binary(inputs: readonly View[], out: View, attrs: KernelAttrs['binary']): void {
  const [a, b] = inputs as [View, View];
  const A = buf(a), B = buf(b), Y = buf(out);
  const f = binaryFn(attrs.fn);
  const [d0, d1, d2, d3] = out.shape as [number, number, number, number];
  const sa = broadcastStrides(a.shape, out.shape), sb = broadcastStrides(b.shape, out.shape);
  let o = 0;
  for (let i0 = 0; i0 < d0; i0++)
    for (let i1 = 0; i1 < d1; i1++)
      for (let i2 = 0; i2 < d2; i2++)
        for (let i3 = 0; i3 < d3; i3++) {
          const ia = i0 * sa[0]! + i1 * sa[1]! + i2 * sa[2]! + i3 * sa[3]!;
          const ib = i0 * sb[0]! + i1 * sb[1]! + i2 * sb[2]! + i3 * sb[3]!;
          Y[o++] = f(A[ia]!, B[ib]!);
        }
}

export function fill(_inputs: readonly View[], out: View, attrs: KernelAttrs['fill']): void {
  buf(out).fill(attrs.value);
}
