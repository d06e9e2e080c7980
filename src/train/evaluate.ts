import { batchValues, imageSize, type ImageDataset } from '../data/dataset.js';
import { Rng } from '../data/rng.js';
import { InflowError } from '../engine/errors.js';
import { sum } from '../ops/index.js';
import type { Tensor } from '../engine/tensor.js';
import { checkBatchBudget } from '../models/cost.js';
import type { FlowModel } from '../models/flow-model.js';
import { checkCount } from '../models/guards.js';

/** Fixed dequantisation noise for held-out numbers, so evaluations of one model are comparable. */
export const EVAL_NOISE_SEED = 12345;

/**
 * Runs the model's per-image scores of a batch elsewhere — DataParallel (src/parallel/data-parallel.ts)
 * on several threads — with the same bits as the model's own pass, so an evaluation's numbers do not
 * depend on where it ran.
 */
export interface BatchScorer {
  bitsPerDim(x: Float32Array, shape: readonly number[], opts: { range: 'pixels' }): Promise<Float32Array>;
  classLogProbs(x: Float32Array, shape: readonly number[], opts: { range: 'pixels' }): Promise<Float32Array>;
}

/**
 * Mean bits/dim of a model over a dataset (every log-det included, docs/flows.md §14), in batches.
 * Noise comes from its own seeded RNG so evaluation never disturbs a training run's random stream.
 */
export async function evaluateBitsPerDim(model: FlowModel, data: ImageDataset, batch = 100,
  onProgress?: (done: number, total: number) => void, scorer?: BatchScorer): Promise<number> {
  const engine = model.engine;
  let total = 0;
  await forEachBatch(model, data, batch, async (x, _idx, values) => {
    // range 'pixels': these are dequantised pixels by construction, so a batch of only very dark
    // images (the last, short batch of a folder) is scored, not refused as normalised.
    const perImage = scorer ? engine.tensor(await scorer.bitsPerDim(values, x.shape, { range: 'pixels' }), [x.shape[0]!]) : null;
    const s = engine.noGrad(() => engine.scope(() => sum(perImage ?? model.bitsPerDim(x, { range: 'pixels' }))));
    perImage?.dispose();
    total += await s.item();
    s.dispose();
  }, onProgress);
  return total / data.count;
}

/**
 * Bits/dim of p(x) and, for a model with a class prior on labelled data, how often the flow's own
 * Bayes classifier (argmax_y p(x | y)) names the label — both from one set of passes. accuracy is
 * null without a class prior or labels.
 */
export async function evaluateWithClasses(model: FlowModel, data: ImageDataset, batch = 100,
  onProgress?: (done: number, total: number) => void, scorer?: BatchScorer): Promise<{ bitsPerDim: number; accuracy: number | null }> {
  const engine = model.engine, K = model.classes;
  if (!K) return { bitsPerDim: await evaluateBitsPerDim(model, data, batch, onProgress, scorer), accuracy: null };
  let total = 0, right = 0;
  await forEachBatch(model, data, batch, async (x, idx, values) => {
    const scored = scorer ? engine.tensor(await scorer.classLogProbs(values, x.shape, { range: 'pixels' }), [idx.length, K]) : null;
    const [perClass, bpd] = engine.noGrad(() => engine.scope(() => {
      const lp = scored ?? model.classLogProbs(x, { range: 'pixels' });
      return [lp, sum(model.bitsPerDimFromClasses(lp))];
    }));
    const lp = await perClass!.data();
    total += await bpd!.item();
    perClass!.dispose();
    bpd!.dispose();
    if (data.labels) idx.forEach((src, n) => {
      const row = lp.subarray(n * K, (n + 1) * K);
      if (row.indexOf(Math.max(...row)) === data.labels![src]) right++;
    });
  }, onProgress);
  return { bitsPerDim: total / data.count, accuracy: data.labels ? right / data.count : null };
}

/** Dequantised batches with the fixed evaluation noise, in order (evaluation and prior fitting). */
export async function forEachBatch(model: FlowModel, data: ImageDataset, batch: number, fn: (x: Tensor, idx: number[], values: Float32Array) => Promise<void>,
  onProgress?: (done: number, total: number) => void): Promise<void> {
  const engine = model.engine;
  checkShape(model, data);
  checkCount('evaluate', 'batch', batch);
  checkBatchBudget('evaluate', engine, model.config.model, Math.min(batch, data.count), model.cost);
  await model.prepare();
  const rng = new Rng(EVAL_NOISE_SEED);
  for (let start = 0; start < data.count; start += batch) {
    const idx = Array.from({ length: Math.min(batch, data.count - start) }, (_, i) => start + i);
    const values = dequantize(batchValues(data, idx), rng);
    const x = engine.tensor(values, [idx.length, ...data.shape]);
    try {
      await fn(x, idx, values);
    } finally {
      x.dispose();
    }
    onProgress?.(start + idx.length, data.count);
  }
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
    throw new InflowError(`the model takes ${want.join('×')} images but ${data.name} has ${data.shape.join('×')} (${imageSize(data)} values per image)`);
}
