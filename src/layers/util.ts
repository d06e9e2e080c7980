import type { Engine } from '../engine/engine.js';
import { fail, shapeStr } from '../engine/errors.js';
import { add, affine, reshape, slice, sum, sumSquares } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';

/** Σ over C, H, W: one value per batch element, shape [N]. */
export const sumPerSample = (x: Tensor): Tensor => sum(x, [1, 2, 3]);

/** A scalar (any shape with one element) repeated for each of N batch elements. */
export function perSample(engine: Engine, scalar: Tensor, n: number): Tensor {
  return add(engine.zeros([n]), reshape(scalar, [1]));
}

export const zeroLogdet = (x: Tensor): Tensor => x.engine.zeros([x.shape[0]!]);

/** log N(z; 0, I) per batch element. */
export function gaussianLogProb(z: Tensor): Tensor {
  const d = z.size / z.shape[0]!;
  return affine(sumSquares(z, [1, 2, 3]), -0.5, -0.5 * d * Math.log(2 * Math.PI));
}

/** Channels 0, 2, 4, … and 1, 3, 5, … of h (the interleaved NN outputs of docs/flows.md §10, §11). */
export function deinterleave(h: Tensor): [Tensor, Tensor] {
  const [N, C, H, W] = h.shape as [number, number, number, number];
  const r = reshape(h, [N, C / 2, 2, H * W]);
  return [reshape(slice(r, 2, 0, 1), [N, C / 2, H, W]), reshape(slice(r, 2, 1, 1), [N, C / 2, H, W])];
}

export function expectImage(layer: string, x: Tensor, channels?: number): [number, number, number, number] {
  if (x.rank !== 4) fail(layer, `input must be rank 4 [N, C, H, W], got ${shapeStr(x.shape)}`);
  if (channels !== undefined && x.shape[1] !== channels)
    fail(layer, `expects ${channels} channels, got input ${shapeStr(x.shape)}`);
  return x.shape as unknown as [number, number, number, number];
}

export function requireInt(layer: string, name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(layer, `${name} = ${String(v)} must be an integer ≥ ${min}`);
  return v;
}

/** Integer labels as a one-hot [n, classes] tensor (labels must already be checked). */
export function oneHot(engine: Engine, labels: ArrayLike<number>, classes: number): Tensor {
  const data = new Float32Array(labels.length * classes);
  for (let i = 0; i < labels.length; i++) data[i * classes + labels[i]!] = 1;
  return engine.tensor(data, [labels.length, classes]);
}
