import type { Rng } from '../data/rng.js';
import { InflowError } from '../engine/errors.js';
import type { TensorData } from './tensor-data.js';

/**
 * Training pairs (target, condition) for an image-conditioned model (e.g. the diffusion UNet with
 * condChannels): the targets as TensorData, and each drawn example's condition. The condition is
 * made from the batch's indices and target values with the run's RNG, so conditions drawn afresh
 * every step (a random degradation, a random mask) are the same in a resumed run.
 */
export interface PairedTensorData extends TensorData {
  /** Shape of one example's condition, e.g. [c, H, W]. */
  readonly condShape: readonly number[];
  /** The conditions of the examples at `indices`, concatenated; `targets` is their values (what `values(indices)` gave). */
  cond(indices: readonly number[], targets: Float32Array, rng: Rng): Float32Array;
}

export const isPairedData = (d: TensorData): d is PairedTensorData =>
  typeof (d as PairedTensorData).cond === 'function' && Array.isArray((d as PairedTensorData).condShape);

/** How a condition is made from a batch: a function of the indices, the targets' values and the run's RNG. */
export interface Conditioner {
  readonly shape: readonly number[];
  make(indices: readonly number[], targets: Float32Array, rng: Rng): Float32Array;
}

/**
 * Pairs targets with conditions: fixed ones (TensorData with the same count, e.g. precomputed
 * low-resolution images) or a Conditioner computing them per batch (checked to return one
 * condition per example).
 */
export function pairedTensorData(targets: TensorData, cond: TensorData | Conditioner): PairedTensorData {
  const size = cond.shape.reduce((a, b) => a * b, 1);
  if (!(size > 0) || !cond.shape.every((d) => Number.isInteger(d) && d > 0))
    throw new InflowError(`pairedTensorData: the condition shape [${cond.shape.join(', ')}] must be positive integers`);
  const fixed = 'values' in cond;
  if (fixed && cond.count !== targets.count)
    throw new InflowError(`pairedTensorData: ${cond.count} conditions for ${targets.count} targets (one each)`);
  return {
    count: targets.count, shape: targets.shape, condShape: [...cond.shape],
    values: (indices) => targets.values(indices),
    cond: (indices, values, rng) => {
      const out = fixed ? cond.values(indices) : cond.make(indices, values, rng);
      if (out.length !== indices.length * size)
        throw new InflowError(`pairedTensorData: the conditioner returned ${out.length} values for ${indices.length} examples of [${cond.shape.join(', ')}]`);
      return out;
    },
  };
}
