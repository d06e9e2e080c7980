import { batchValues, type ImageDataset } from '../data/dataset.js';
import { InflowError } from '../engine/errors.js';
import type { TrainData } from './loop.js';

/** Examples of one shape as float values, read by index: the training data of tensor-in tasks (autoencoder, GAN, diffusion). */
export interface TensorData extends TrainData {
  /** Shape of one example (e.g. [C, H, W] or [features]). */
  readonly shape: readonly number[];
  /** The examples at `indices`, concatenated (a batch's values). */
  values(indices: readonly number[]): Float32Array;
}

/** Examples stored back to back in one array. */
export function tensorData(values: Float32Array, shape: readonly number[]): TensorData {
  const size = shape.reduce((a, b) => a * b, 1);
  if (!(size > 0) || values.length % size !== 0) throw new InflowError(`tensorData: ${values.length} values are not a whole number of [${shape.join(', ')}] examples`);
  return {
    count: values.length / size, shape: [...shape],
    values: (indices) => {
      const out = new Float32Array(indices.length * size);
      indices.forEach((src, i) => out.set(values.subarray(src * size, (src + 1) * size), i * size));
      return out;
    },
  };
}

/** 0…255 images scaled by `scale` (default to [0, 1]). */
export function imageTensorData(d: ImageDataset, scale = 1 / 255): TensorData {
  return {
    count: d.count, shape: [...d.shape],
    values: (indices) => {
      const v = batchValues(d, indices);
      if (scale !== 1) for (let i = 0; i < v.length; i++) v[i]! *= scale;
      return v;
    },
  };
}
