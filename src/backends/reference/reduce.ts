import type { KernelAttrs, View } from '../backend.js';
import { broadcastStrides } from './elementwise.js';
import { buf } from './storage.js';

export function reduce(inputs: readonly View[], out: View, attrs: KernelAttrs['reduce']): void {
  const x = inputs[0]!;
  const X = buf(x), Y = buf(out);
  const isMax = attrs.fn === 'max';
  Y.fill(isMax ? -Infinity : 0);
  const so = broadcastStrides(out.shape, x.shape);
  const [d0, d1, d2, d3] = x.shape as [number, number, number, number];
  let i = 0;
  for (let i0 = 0; i0 < d0; i0++)
    for (let i1 = 0; i1 < d1; i1++)
      for (let i2 = 0; i2 < d2; i2++)
        for (let i3 = 0; i3 < d3; i3++) {
          const o = i0 * so[0]! + i1 * so[1]! + i2 * so[2]! + i3 * so[3]!;
          const v = X[i++]!;
          if (isMax) { if (v > Y[o]!) Y[o] = v; }
          else Y[o]! += attrs.fn === 'sumSquares' ? v * v : v;
        }
  if (attrs.fn === 'mean') {
    const count = X.length / Y.length;
    for (let k = 0; k < Y.length; k++) Y[k]! /= count;
  }
}
