import { fail, shapeStr } from './errors.js';

export type Shape = readonly number[];

export const numel = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

/** Largest tensor the engine will allocate, in elements (4 GiB of float32): a guard against typos like 1e12. */
export const MAX_ELEMENTS = 2 ** 30;

/** Most dimensions a tensor may have (attention and patch layouts reach rank 6). */
export const MAX_RANK = 6;

export function checkShape(op: string, shape: Shape): void {
  if (shape.length > MAX_RANK) fail(op, `rank ${shape.length} shape ${shapeStr(shape)}: tensors have rank 0 to ${MAX_RANK}`);
  for (const d of shape)
    if (!Number.isInteger(d) || d < 1) fail(op, `shape ${shapeStr(shape)}: every dimension must be a positive integer`);
  if (numel(shape) > MAX_ELEMENTS) fail(op, `shape ${shapeStr(shape)} has ${numel(shape)} elements, more than the limit ${MAX_ELEMENTS}`);
}

/** Numpy broadcasting of two shapes, or an error naming the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1, db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) fail(op, `shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast together`);
    out.push(Math.max(da, db));
  }
  return out;
}

export function normaliseAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) fail(op, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export const sameShape = (a: Shape, b: Shape): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
