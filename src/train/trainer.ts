import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { batchValues, type ImageDataset } from '../data/dataset.js';
import { Rng } from '../data/rng.js';
import { mean } from '../ops/index.js';
import type { FlowModel } from '../models/flow-model.js';
import { clipByGlobalNorm, globalNorm } from './clip.js';
import { saveCheckpoint, type Checkpoint, type TrainState } from './checkpoint.js';
import { checkShape, dequantize, evaluateBitsPerDim } from './evaluate.js';
import { Optimizer, type OptimizerKind } from './optimizer.js';
import { learningRate } from './schedule.js';

export interface TrainOptions {
  epochs: number;
  batch: number;
  lr: number;
  warmupSteps: number;
  /** Per-step multiplicative decay after warm-up. */
  decay: number;
  optimizer: OptimizerKind;
  /** Global gradient-norm clip (0 = off). */
  clip: number;
  seed: number;
  /** Folder for checkpoint.safetensors; none = no checkpoints. */
  checkpointDir?: string;
  checkpointEvery: number;
  /** Stop after this many non-finite steps in a row. */
  maxBadSteps: number;
  /** Stop after this many steps in total (for tests and quick runs); default: all epochs. */
  maxSteps?: number;
  /** JSONL log of every step's metrics. */
  logPath?: string;
  evalBatch: number;
  /** Held-out bits/dim after every this many epochs (and after the last). */
  evalEvery: number;
}

export const defaultTrainOptions: TrainOptions = {
  epochs: 1, batch: 64, lr: 1e-3, warmupSteps: 100, decay: 1, optimizer: 'adam', clip: 50, seed: 0,
  checkpointEvery: 200, maxBadSteps: 10, evalBatch: 100, evalEvery: 1,
};

export interface StepMetrics {
  step: number;
  epoch: number;
  loss: number;
  gradNorm: number;
  lr: number;
  skipped: boolean;
  imagesPerSecond: number;
  stepsPerSecond: number;
  totalSteps: number;
}

export interface TrainCallbacks {
  onStep?: (m: StepMetrics) => void;
  onEpoch?: (epoch: number, heldOutBitsPerDim: number | null) => void;
  onCheckpoint?: (path: string, step: number) => void;
  onBadStep?: (m: StepMetrics, consecutive: number) => void;
}

export class TrainingDiverged extends Error {
  override name = 'TrainingDiverged';
}

export interface TrainResult {
  steps: number;
  finalLoss: number;
  heldOut: Array<{ epoch: number; bitsPerDim: number }>;
  seconds: number;
}

/**
 * Maximum-likelihood training of a flow on 0…255 images: fresh uniform dequantisation noise per
 * batch, bits/dim loss, Adam/Adamax with warm-up and decay, global-norm clipping, a non-finite guard,
 * atomic checkpoints holding everything (weights, moments, step, data order, RNG) so a resumed run
 * continues exactly like an uninterrupted one on the same backend.
 */
export async function train(model: FlowModel, trainSet: ImageDataset, testSet: ImageDataset | null, options: Partial<TrainOptions>,
  callbacks: TrainCallbacks = {}, resume?: Checkpoint): Promise<TrainResult> {
  const opts = { ...defaultTrainOptions, ...options };
  validate(opts);
  checkShape(model, trainSet);
  if (testSet) checkShape(model, testSet);
  const engine = model.engine;
  // A class prior learns one component per class from labels; unlabelled data trains the mixture as a whole.
  const supervised = model.classes > 0 && trainSet.labels !== null;
  if (supervised) checkLabels(trainSet, model.classes);
  const optimizer = new Optimizer(engine, { kind: opts.optimizer, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
  const stepsPerEpoch = Math.floor(trainSet.count / opts.batch);
  if (stepsPerEpoch < 1) throw new Error(`batch ${opts.batch} is larger than the ${trainSet.count} training images`);
  const totalSteps = Math.min(opts.maxSteps ?? Infinity, stepsPerEpoch * opts.epochs);

  let state: TrainState;
  let rng: Rng;
  if (resume) {
    state = resume.state;
    rng = Rng.fromState(state.rng);
    model.loadParameters(new Map([...resume.weights].map(([k, v]) => [k, v.data])));
    optimizer.load(state.optimizerSteps, resume.optimizer);
  } else {
    rng = new Rng(opts.seed);
    state = { step: 0, epoch: 0, cursor: 0, order: rng.shuffle([...Array(trainSet.count).keys()]), rng: rng.state(),
      optimizerSteps: 0, consecutiveBad: 0, options: { ...opts } };

    // Data-dependent ActNorm initialisation from the first batch, outside the gradient tape.
    const first = state.order.slice(0, opts.batch);
    const x0 = dequantize(batchValues(trainSet, first), new Rng(opts.seed + 1));
    await model.prepare();
    engine.noGrad(() => engine.scope(() => { model.bitsPerDim(engine.tensor(x0, [first.length, ...trainSet.shape])); }));
  }
  if (opts.logPath) mkdirSync(join(opts.logPath, '..'), { recursive: true });
  const heldOut: TrainResult['heldOut'] = [];
  const t0 = performance.now();
  let lastLoss = NaN, stepsThisRun = 0;
  try {
    while (state.step < totalSteps) {
      const tStep = performance.now();
      const idx = state.order.slice(state.cursor, state.cursor + opts.batch);
      const x = dequantize(batchValues(trainSet, idx), rng);
      const lr = learningRate(opts, state.step);
      const params = model.parameters();
      await model.prepare();
      const labels = supervised ? idx.map((i) => trainSet.labels![i]!) : undefined;
      const { value, grads } = engine.valueAndGrads(
        () => mean(model.bitsPerDim(engine.tensor(x, [idx.length, ...trainSet.shape]), labels)), params.map((p) => p.value));
      const loss = await value.item();
      value.dispose();
      const norm = await globalNorm(engine, grads);
      const skipped = !Number.isFinite(loss) || !Number.isFinite(norm);
      if (!skipped) {
        const clipped = clipByGlobalNorm(grads, norm, opts.clip);
        optimizer.step(params, clipped, lr);
        for (const g of clipped) g.dispose();
        state.consecutiveBad = 0;
        lastLoss = loss;
      } else {
        for (const g of grads) g.dispose();
        state.consecutiveBad++;
      }
      state.step++;
      stepsThisRun++;
      state.cursor += opts.batch;
      const seconds = (performance.now() - tStep) / 1000;
      const metrics: StepMetrics = { step: state.step, epoch: state.epoch, loss, gradNorm: norm, lr, skipped,
        imagesPerSecond: idx.length / seconds, stepsPerSecond: 1 / seconds, totalSteps };
      if (opts.logPath) appendFileSync(opts.logPath, JSON.stringify({ ...metrics, time: new Date().toISOString() }) + '\n');
      if (skipped) {
        callbacks.onBadStep?.(metrics, state.consecutiveBad);
        if (state.consecutiveBad >= opts.maxBadSteps)
          throw new TrainingDiverged(`training stopped: ${state.consecutiveBad} steps in a row had a non-finite loss or gradient (step ${state.step}, lr ${lr.toExponential(2)}); lower --lr or raise --clip, then --resume from the last checkpoint`);
      } else callbacks.onStep?.(metrics);

      const epochDone = state.cursor + opts.batch > trainSet.count;
      if (epochDone) {
        const lastEpoch = state.step >= totalSteps;
        const due = (state.epoch + 1) % opts.evalEvery === 0 || lastEpoch;
        const bpd = testSet && due ? await evaluateBitsPerDim(model, testSet, opts.evalBatch) : null;
        if (bpd !== null) heldOut.push({ epoch: state.epoch, bitsPerDim: bpd });
        callbacks.onEpoch?.(state.epoch, bpd);
        state.epoch++;
        state.cursor = 0;
        state.order = rng.shuffle([...Array(trainSet.count).keys()]);
      }
      state.optimizerSteps = optimizer.t;
      state.rng = rng.state();
      if (opts.checkpointDir && (state.step % opts.checkpointEvery === 0 || state.step === totalSteps))
        await writeCheckpoint(model, optimizer, state, opts.checkpointDir, callbacks);
    }
  } finally {
    optimizer.dispose();
  }
  return { steps: stepsThisRun, finalLoss: lastLoss, heldOut, seconds: (performance.now() - t0) / 1000 };
}

export const checkpointPath = (dir: string): string => join(dir, 'checkpoint.safetensors');

async function writeCheckpoint(model: FlowModel, optimizer: Optimizer, state: TrainState, dir: string, callbacks: TrainCallbacks): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, p] of model.namedParams()) weights.set(name, { shape: [...p.shape], data: await p.value.data() });
  const ckpt: Checkpoint = { modelConfig: model.config as unknown as Record<string, unknown>, weights, optimizer: await optimizer.state(), state };
  const path = checkpointPath(dir);
  saveCheckpoint(path, ckpt);
  callbacks.onCheckpoint?.(path, state.step);
}

function checkLabels(data: ImageDataset, classes: number): void {
  const bad = data.labels!.findIndex((y) => y < 0 || y >= classes);
  if (bad >= 0) throw new Error(`${data.name}: image ${bad} has label ${data.labels![bad]}, but the model's class prior has ${classes} classes (0…${classes - 1})`);
}

function validate(o: TrainOptions): void {
  const positiveInt = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} = ${v} must be a positive integer`);
  };
  positiveInt('epochs', o.epochs);
  positiveInt('batch', o.batch);
  positiveInt('checkpointEvery', o.checkpointEvery);
  positiveInt('maxBadSteps', o.maxBadSteps);
  positiveInt('evalBatch', o.evalBatch);
  positiveInt('evalEvery', o.evalEvery);
  if (!(o.lr > 0) || !Number.isFinite(o.lr)) throw new Error(`lr = ${o.lr} must be a positive number`);
  if (!(o.decay > 0 && o.decay <= 1)) throw new Error(`decay = ${o.decay} must be in (0, 1]`);
  if (!(o.clip >= 0)) throw new Error(`clip = ${o.clip} must be ≥ 0 (0 disables clipping)`);
  if (!Number.isInteger(o.warmupSteps) || o.warmupSteps < 0) throw new Error(`warmupSteps = ${o.warmupSteps} must be a non-negative integer`);
}
