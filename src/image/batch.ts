import { describeValue, fail, shapeStr } from '../engine/errors.js';

/** N × C × H × W, planar (NCHW), as the models use. */
export type BatchShape = readonly [n: number, channels: number, height: number, width: number];

/**
 * Host-side images: plain float32 values with their NCHW shape. The degradations and resizes take
 * and return values in [−1, 1] (the models' range, docs/degradations.md §1); the metrics take any
 * range and are told its width.
 */
export interface ImageBatch {
  data: Float32Array;
  shape: BatchShape;
}

/** Checks that `img` is a well-formed batch (four positive integer sizes, matching data length). */
export function checkBatch(op: string, img: unknown, name = 'image'): ImageBatch {
  const b = img as Partial<ImageBatch> | null;
  if (!b || typeof b !== 'object' || !(b.data instanceof Float32Array) || !Array.isArray(b.shape))
    fail(op, `${name} = ${describeValue(img)} must be { data: Float32Array, shape: [N, C, H, W] }`);
  const shape = b.shape as readonly unknown[];
  if (shape.length !== 4 || !shape.every((d) => Number.isSafeInteger(d) && (d as number) > 0))
    fail(op, `${name} shape ${describeValue(shape)} must be four positive integers [N, C, H, W]`);
  const [n, c, h, w] = shape as unknown as BatchShape;
  if (b.data.length !== n * c * h * w) fail(op, `${name} has ${b.data.length} values, but shape ${shapeStr(b.shape)} needs ${n * c * h * w}`);
  return b as ImageBatch;
}

/** Checks that two batches have the same shape (metrics compare them value by value). */
export function checkSameShape(op: string, a: ImageBatch, b: ImageBatch): void {
  if (a.shape.some((d, i) => d !== b.shape[i])) fail(op, `the images have different shapes: ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
}

/** Image `i` of the batch as a batch of one (shares no memory with `img`). */
export function imageAt(img: ImageBatch, i: number): ImageBatch {
  const [, c, h, w] = img.shape, size = c * h * w;
  return { data: img.data.slice(i * size, (i + 1) * size), shape: [1, c, h, w] };
}

/** Clamps in place to [−1, 1]; NaN never reaches here because every input value is checked finite. */
export function clampUnit(data: Float32Array): Float32Array {
  for (let i = 0; i < data.length; i++) data[i] = Math.max(-1, Math.min(1, data[i]!));
  return data;
}

/** Checks that every value is finite and inside [−1, 1] (the degradations' input contract). */
export function checkUnitRange(op: string, img: ImageBatch): void {
  const d = img.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (!(v >= -1 && v <= 1)) fail(op, `value ${describeValue(v)} at index ${i} is outside [−1, 1]; degradations take images in [−1, 1] (pixels / 127.5 − 1)`);
  }
}
