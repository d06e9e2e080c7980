import type { KernelAttrs, View } from '../backend.js';
import { buf } from './storage.js';

/** outer × axis × inner decomposition of a rank-4 shape around `axis`. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return [outer, shape[axis]!, inner];
}

export function concat(inputs: readonly View[], out: View, attrs: KernelAttrs['concat']): void {
  const Y = buf(out);
  const [outer, total, inner] = around(out.shape, attrs.axis);
  let offset = 0;
  for (const x of inputs) {
    const X = buf(x);
    const len = x.shape[attrs.axis]!;
    for (let o = 0; o < outer; o++)
      Y.set(X.subarray(o * len * inner, (o + 1) * len * inner), (o * total + offset) * inner);
    offset += len;
  }
}

export function slice(inputs: readonly View[], out: View, attrs: KernelAttrs['slice']): void {
  const x = inputs[0]!;
  const X = buf(x), Y = buf(out);
  const [outer, total, inner] = around(x.shape, attrs.axis);
  const len = out.shape[attrs.axis]!;
  for (let o = 0; o < outer; o++)
    Y.set(X.subarray((o * total + attrs.start) * inner, (o * total + attrs.start + len) * inner), o * len * inner);
}

/** Visits every (squeezed index, unsqueezed index) pair of space-to-depth. */
function forEachSqueezePair(N: number, C: number, H: number, W: number, visit: (si: number, ui: number) => void): void {
  const h2 = H / 2, w2 = W / 2;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let dy = 0; dy < 2; dy++)
        for (let dx = 0; dx < 2; dx++)
          for (let i = 0; i < h2; i++)
            for (let j = 0; j < w2; j++)
              visit(((n * 4 * C + 4 * c + 2 * dy + dx) * h2 + i) * w2 + j, ((n * C + c) * H + 2 * i + dy) * W + 2 * j + dx);
}

export function squeeze(inputs: readonly View[], out: View): void {
  const x = inputs[0]!;
  const X = buf(x), Y = buf(out);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  forEachSqueezePair(N, C, H, W, (si, ui) => { Y[si] = X[ui]!; });
}

export function unsqueeze(inputs: readonly View[], out: View): void {
  const X = buf(inputs[0]!), Y = buf(out);
  const [N, C, H, W] = out.shape as [number, number, number, number];
  forEachSqueezePair(N, C, H, W, (si, ui) => { Y[ui] = X[si]!; });
}
