import type { ImageDataset } from '../data/dataset.js';
import { InflowError } from '../engine/errors.js';
import type { Engine } from '../engine/engine.js';
import type { DigitClassifier } from '../models/classifier.js';
import type { Checkpoint } from './checkpoint.js';
import { defaultLoopOptions, runTraining } from './loop.js';
import { Optimizer } from './optimizer.js';
import { ClassifierTask } from './tasks/classifier.js';

export { argmax, classifierAccuracy, shiftImages } from './tasks/classifier.js';

export interface ClassifierTrainOptions {
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  /** Random translation of up to this many pixels per image (augmentation). */
  shift: number;
  /** Folder for checkpoint.safetensors (resumable with `resume`); none = no checkpoints. */
  checkpointDir?: string;
  checkpointEvery?: number;
  /** JSONL log of every step. */
  logPath?: string;
}

/**
 * Adam on cross-entropy with shift augmentation (the classifier task on the generic loop): 50
 * warm-up steps, then decay to a tenth of lr over the run; held-out accuracy after each epoch.
 * Returns the last accuracy.
 */
export async function trainClassifier(engine: Engine, model: DigitClassifier, train: ImageDataset, test: ImageDataset,
  opts: ClassifierTrainOptions, onEpoch?: (epoch: number, accuracy: number, loss: number) => void, resume?: Checkpoint): Promise<number> {
  if (!train.labels || !test.labels) throw new InflowError('classifier training needs labelled data');
  if (model.engine !== engine) throw new InflowError('trainClassifier: the model lives on another engine');
  // Checked here as well as in the loop: the decay below is derived from the step count.
  if (!(opts.batch <= train.count)) throw new InflowError(`trainClassifier: batch ${opts.batch} is more than the ${train.count} training images`);
  const optimizer = new Optimizer(engine);
  const steps = Math.floor(train.count / opts.batch);
  const task = new ClassifierTask(model, optimizer, test, opts.shift);
  let accuracy = 0;
  try {
    await runTraining(task, train, {
      ...defaultLoopOptions, epochs: opts.epochs, batch: opts.batch, lr: opts.lr, seed: opts.seed, warmupSteps: 50,
      decay: Math.pow(0.1, 1 / (steps * opts.epochs)), clip: 0, evalEvery: 1,
      checkpointEvery: opts.checkpointEvery ?? defaultLoopOptions.checkpointEvery,
      ...(opts.checkpointDir ? { checkpointDir: opts.checkpointDir } : {}), ...(opts.logPath ? { logPath: opts.logPath } : {}),
      shift: opts.shift,
    }, {
      onEpoch: (epoch, acc, { meanLoss }) => {
        accuracy = acc ?? NaN;
        onEpoch?.(epoch, accuracy, meanLoss);
      },
    }, resume);
  } finally {
    optimizer.dispose();
  }
  return accuracy;
}
