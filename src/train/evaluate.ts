import { batchValues, imageSize, type ImageDataset } from '../data/dataset.js';
import { Rng } from '../data/rng.js';
import { sum } from '../engine/ops/index.js';
import type { FlowModel } from '../models/flow-model.js';

/** Fixed dequantisation noise for held-out numbers, so evaluations of one model are comparable. */
export const EVAL_NOISE_SEED = 12345;

/**
 * Mean bits/dim of a model over a dataset (every log-det included, spec §b.8), in batches.
 * Noise comes from its own seeded RNG so evaluation never disturbs a training run's random stream.
 */
export async function evaluateBitsPerDim(model: FlowModel, data: ImageDataset, batch = 100,
  onProgress?: (done: number, total: number) => void): Promise<number> {
  const engine = model.engine;
  checkShape(model, data);
  await model.prepare();
  const rng = new Rng(EVAL_NOISE_SEED);
  let total = 0;
  for (let start = 0; start < data.count; start += batch) {
    const idx = Array.from({ length: Math.min(batch, data.count - start) }, (_, i) => start + i);
    const values = dequantize(batchValues(data, idx), rng);
    const s = engine.noGrad(() => engine.scope(() => sum(model.bitsPerDim(engine.tensor(values, [idx.length, ...data.shape])))));
    total += await s.item();
    s.dispose();
    onProgress?.(start + idx.length, data.count);
  }
  return total / data.count;
}

/** x + u with u ~ U[0, 1): uniform dequantisation, fresh noise on every call. */
export function dequantize(values: Float32Array, rng: Rng): Float32Array {
  for (let i = 0; i < values.length; i++) values[i]! += rng.uniform();
  return values;
}

/** The data must have exactly the model's input shape. */
export function checkShape(model: FlowModel, data: ImageDataset): void {
  const want = model.config.model.inputShape;
  if (want.join() !== data.shape.join())
    throw new Error(`the model takes ${want.join('×')} images but ${data.name} has ${data.shape.join('×')} (${imageSize(data)} values per image)`);
}
