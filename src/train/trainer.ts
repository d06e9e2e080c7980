import type { ImageDataset } from '../data/dataset.js';
import { InflowError } from '../engine/errors.js';
import { checkBatchBudget } from '../models/cost.js';
import type { FlowModel } from '../models/flow-model.js';
import type { Checkpoint } from './checkpoint.js';
import { checkShape } from './evaluate.js';
import { defaultLoopOptions, positiveInt, runTraining, validateLoopOptions, type LoopCallbacks, type LoopOptions } from './loop.js';
import { checkOptimizerConfig, defaultOptimizer, Optimizer, type OptimizerKind } from './optimizer.js';
import { FlowTask } from './tasks/flow.js';
import { DataParallel } from '../parallel/data-parallel.js';

export { checkpointPath, TrainingDiverged, type StepMetrics } from './loop.js';

export interface TrainOptions extends LoopOptions {
  optimizer: OptimizerKind;
  /** Weight decay of the optimizer (see OptimizerConfig; default none, adamw 0.01). */
  weightDecay?: number;
  /** SGD momentum. */
  momentum?: number;
  evalBatch: number;
  /**
   * Data parallelism (src/parallel): the model replicated on this many threads (each with a
   * one-thread wasm engine), every batch split in as many shards whose gradients are summed. The
   * run's numbers depend on this value, never on the machine. Unset: one engine.
   */
  dataParallel?: number;
}

export const defaultTrainOptions: TrainOptions = { ...defaultLoopOptions, optimizer: 'adam', evalBatch: 100 };

export interface TrainCallbacks extends LoopCallbacks {
  onEpoch?: (epoch: number, heldOutBitsPerDim: number | null) => void;
}

export interface TrainResult {
  steps: number;
  finalLoss: number;
  heldOut: Array<{ epoch: number; bitsPerDim: number }>;
  seconds: number;
}

/**
 * Maximum-likelihood training of a flow on 0…255 images (the flow task on the generic loop, see
 * loop.ts): fresh uniform dequantisation noise per batch, bits/dim loss, Adam/Adamax with warm-up
 * and decay, global-norm clipping, a non-finite guard, atomic checkpoints holding everything
 * (weights, moments, step, data order, RNG) so a resumed run continues exactly like an
 * uninterrupted one on the same backend.
 */
export async function train(model: FlowModel, trainSet: ImageDataset, testSet: ImageDataset | null, options: Partial<TrainOptions>,
  callbacks: TrainCallbacks = {}, resume?: Checkpoint): Promise<TrainResult> {
  const opts: TrainOptions = { ...defaultTrainOptions, ...options };
  validateTrainOptions(opts);
  checkShape(model, trainSet);
  if (testSet) checkShape(model, testSet);
  // Before the first step rather than inside it: the forward pass's memory is a lower bound of a
  // training step's (the tape and gradients come on top), so a batch refused here could never run.
  checkBatchBudget('train', model.engine, model.config.model, Math.min(opts.batch, trainSet.count), model.cost);
  if (model.classes > 0 && trainSet.labels !== null) checkLabels(trainSet, model.classes);
  const optimizer = new Optimizer(model.engine, {
    ...defaultOptimizer, kind: opts.optimizer,
    ...(opts.weightDecay !== undefined ? { weightDecay: opts.weightDecay } : {}), ...(opts.momentum !== undefined ? { momentum: opts.momentum } : {}),
  });
  const n = opts.dataParallel;
  const parallel = n === undefined ? null : await DataParallel.create(model, { threads: n, shards: n });
  const task = new FlowTask(model, optimizer, testSet, { seed: opts.seed, evalBatch: opts.evalBatch, parallel });
  try {
    const r = await runTraining(task, trainSet, opts, callbacks, resume);
    return { steps: r.steps, finalLoss: r.finalLoss, heldOut: r.heldOut.map(({ epoch, value }) => ({ epoch, bitsPerDim: value })), seconds: r.seconds };
  } finally {
    optimizer.dispose();
    await parallel?.close();
  }
}

/** Every check train() makes of its options, for callers that want to refuse them before loading data. */
export function validateTrainOptions(opts: TrainOptions): void {
  validateLoopOptions(opts);
  positiveInt('evalBatch', opts.evalBatch);
  if (opts.dataParallel !== undefined) positiveInt('dataParallel', opts.dataParallel);
  checkOptimizerConfig({ kind: opts.optimizer, ...(opts.weightDecay !== undefined ? { weightDecay: opts.weightDecay } : {}), ...(opts.momentum !== undefined ? { momentum: opts.momentum } : {}) });
}

function checkLabels(data: ImageDataset, classes: number): void {
  const bad = data.labels!.findIndex((y) => y < 0 || y >= classes);
  if (bad >= 0) throw new InflowError(`${data.name}: image ${bad} has label ${data.labels![bad]}, but the model's class prior has ${classes} classes (0…${classes - 1})`);
}
