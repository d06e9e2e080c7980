import { batchValues, subset, type ImageDataset } from '../data/dataset.js';
import { checkSeed } from '../data/rng.js';
import type { Engine } from '../engine/engine.js';
import { describeValue, fail } from '../engine/errors.js';
import { SeedClassifier } from '../models/seed-classifier/classifier.js';
import { checkSeedClassifierConfig, type SeedClassifierConfig } from '../models/seed-classifier/config.js';
import { defaultLoopOptions, runTraining } from '../train/loop.js';
import { Optimizer } from '../train/optimizer.js';
import { argmax, ClassifierTask } from '../train/tasks/classifier.js';
import { acquire, type AcquisitionName } from './acquire.js';
import type { Acquired } from './acquired.js';
import type { BatchBaldOptions } from './batch-bald.js';
import { randomPick } from './random.js';
import { scoresFromConfusion, type HeldOutScores } from './scores.js';

/** How each round's classifier is trained: from scratch, on the labelled images only. */
export interface RetrainOptions {
  /** Optimizer steps per round (default 300), however many images are labelled. */
  steps: number;
  /** Images per step (default 32; fewer while fewer are labelled). */
  batch: number;
  /** Peak learning rate (default 3e-3, after a short warm-up; then decaying to 1/20 of it by the last step). */
  lr: number;
  /** Random shift augmentation in pixels (default 2). */
  shift: number;
}

export const defaultRetrain: RetrainOptions = { steps: 300, batch: 32, lr: 3e-3, shift: 2 };

export interface ActiveLearnerOptions {
  classifier: SeedClassifierConfig;
  retrain?: Partial<RetrainOptions>;
  /** MC-dropout passes K per acquisition (default 20). */
  mcPasses?: number;
  /** Model initialisation, augmentation, MC masks and the random/BatchBALD draws (default 0). */
  seed?: number;
  batchBald?: Omit<BatchBaldOptions, 'seed'>;
}

/** Images per forward pass when scoring the pool or the held-out set. */
const CHUNK = 256;

/**
 * One active-learning session, in the steps an annotation page or an experiment drives:
 * acquire(b) names pool images to label → addLabels(them, labels) → retrain() → evaluate().
 * The pool's own labels are never read (the oracle is whoever calls addLabels); the held-out set
 * must be labelled. Every retrain starts a new classifier from the same seed, so the curves of two
 * acquisition functions differ only by the images they chose.
 */
export class ActiveLearner {
  private readonly labels = new Map<number, number>();
  private model: SeedClassifier | null = null;
  private rounds = 0;
  readonly retrainOptions: RetrainOptions;
  readonly mcPasses: number;
  readonly seed: number;

  constructor(readonly engine: Engine, readonly pool: ImageDataset, readonly test: ImageDataset | null, private readonly opts: ActiveLearnerOptions) {
    const c = checkSeedClassifierConfig(opts.classifier);
    if (pool.shape.join() !== c.inputShape.join()) fail('ActiveLearner', `pool images are [${pool.shape.join(', ')}], the classifier takes [${c.inputShape.join(', ')}]`);
    if (test && (test.shape.join() !== c.inputShape.join() || !test.labels)) fail('ActiveLearner', `the held-out set must be labelled [${c.inputShape.join(', ')}] images`);
    this.retrainOptions = { ...defaultRetrain, ...opts.retrain };
    for (const key of ['steps', 'batch'] as const) {
      const v = this.retrainOptions[key];
      if (!Number.isSafeInteger(v) || v < 1) fail('ActiveLearner', `retrain.${key} = ${describeValue(v)} must be a positive integer`);
    }
    if (!(this.retrainOptions.lr > 0)) fail('ActiveLearner', `retrain.lr = ${describeValue(this.retrainOptions.lr)} must be above 0`);
    this.mcPasses = opts.mcPasses ?? 20;
    if (!Number.isSafeInteger(this.mcPasses) || this.mcPasses < 1) fail('ActiveLearner', `mcPasses = ${describeValue(this.mcPasses)} must be a positive integer`);
    this.seed = checkSeed('ActiveLearner', opts.seed ?? 0);
  }

  get classes(): number { return this.opts.classifier.classes; }
  get labelledCount(): number { return this.labels.size; }

  /** Labelled pool positions and their labels, in the order they were given. */
  labelled(): { indices: number[]; labels: number[] } {
    return { indices: [...this.labels.keys()], labels: [...this.labels.values()] };
  }

  /** Pool positions still without a label, ascending. */
  unlabelled(): number[] {
    return [...Array(this.pool.count).keys()].filter((i) => !this.labels.has(i));
  }

  /** The oracle's answers; all checked before any is taken. */
  addLabels(indices: readonly number[], labels: readonly number[]): void {
    if (indices.length !== labels.length) fail('ActiveLearner.addLabels', `${indices.length} images but ${labels.length} labels`);
    const seen = new Set<number>();
    indices.forEach((i, n) => {
      if (!Number.isSafeInteger(i) || i < 0 || i >= this.pool.count) fail('ActiveLearner.addLabels', `image ${describeValue(i)} is not in the pool of ${this.pool.count}`);
      if (this.labels.has(i) || seen.has(i)) fail('ActiveLearner.addLabels', `image ${i} is already labelled`);
      const y = labels[n];
      if (!Number.isSafeInteger(y) || y! < 0 || y! >= this.classes) fail('ActiveLearner.addLabels', `label ${describeValue(y)} of image ${i} must be a class 0…${this.classes - 1}`);
      seen.add(i);
    });
    indices.forEach((i, n) => this.labels.set(i, labels[n]!));
  }

  /** A new classifier trained on every label so far; `onStep(done, total)` reports progress. */
  async retrain(onStep?: (done: number, total: number) => void): Promise<void> {
    if (this.labels.size === 0) fail('ActiveLearner.retrain', 'no labelled images yet');
    const { indices, labels } = this.labelled();
    const data = subset(this.pool, indices, `${this.pool.name}-labelled`);
    data.labels = Int32Array.from(labels);
    const r = this.retrainOptions, batch = Math.min(r.batch, data.count);
    const perEpoch = Math.floor(data.count / batch);
    // The rate falls to 1/20 of its peak by the last step: on a few dozen images a constant rate
    // leaves the final weights wherever the last noisy steps put them, and the curve jumps.
    const warmupSteps = Math.min(20, Math.ceil(r.steps / 10));
    const decay = 0.05 ** (1 / Math.max(1, r.steps - warmupSteps));
    this.model?.dispose();
    this.model = null;
    const model = new SeedClassifier(this.engine, this.opts.classifier, this.seed);
    const optimizer = new Optimizer(this.engine);
    try {
      await runTraining(new ClassifierTask(model, optimizer, null, r.shift), data, {
        ...defaultLoopOptions, epochs: Math.ceil(r.steps / perEpoch), maxSteps: r.steps, batch, lr: r.lr,
        warmupSteps, decay, clip: 0, seed: this.seed + this.rounds, evalEvery: Number.MAX_SAFE_INTEGER,
      }, onStep ? { onStep: (m) => onStep(m.step, m.totalSteps) } : {});
      model.eval();
      this.model = model;
      this.rounds++;
    } catch (e) {
      model.dispose();
      throw e;
    } finally {
      optimizer.dispose();
    }
  }

  /** Accuracy, macro-F1 and recall of the current classifier on the held-out set. */
  async evaluate(): Promise<HeldOutScores> {
    const model = this.trained('evaluate');
    if (!this.test) fail('ActiveLearner.evaluate', 'there is no held-out set');
    const test = this.test;
    const confusion = Array.from({ length: this.classes }, () => new Array<number>(this.classes).fill(0));
    for (let s = 0; s < test.count; s += CHUNK) {
      const idx = Array.from({ length: Math.min(CHUNK, test.count - s) }, (_, i) => s + i);
      const x = this.engine.tensor(batchValues(test, idx), [idx.length, ...test.shape]);
      try {
        (await model.predict(x)).forEach((p, i) => confusion[test.labels![idx[i]!]!]![argmax(p)]!++);
      } finally {
        x.dispose();
      }
    }
    return scoresFromConfusion(confusion);
  }

  /**
   * b unlabelled images picked by `name` from the current classifier's consistent MC-dropout passes
   * (random needs no classifier). Returns pool positions; nothing is labelled until addLabels.
   */
  async acquire(name: AcquisitionName, b: number): Promise<Acquired> {
    const free = this.unlabelled();
    if (!Number.isSafeInteger(b) || b < 1) fail('ActiveLearner.acquire', `batch = ${describeValue(b)} must be a positive integer`);
    if (b > free.length) fail('ActiveLearner.acquire', `batch = ${b} is more than the ${free.length} unlabelled images of the pool`);
    // A new draw every round, kept within the 32-bit seeds the generators take.
    const seed = (this.seed + this.rounds * 7919) >>> 0;
    const picked = name === 'random' ? randomPick(free.length, b, seed) : acquire(name, await this.mcProbs(free), b, { ...this.opts.batchBald, seed });
    return { ...picked, indices: picked.indices.map((j) => free[j]!) };
  }

  /** K consistent MC-dropout passes over the given pool images, [K, N, C]; pass k uses the same mask on every chunk. */
  async mcProbs(indices: readonly number[]): Promise<{ passes: number; classes: number; probs: Float32Array }> {
    const model = this.trained('acquire');
    const K = this.mcPasses, C = this.classes, N = indices.length;
    const probs = new Float32Array(K * N * C);
    // Mask seeds change every round, so each round sees new weight samples.
    const maskSeed = this.seed * 1009 + this.rounds * K;
    for (let s = 0; s < N; s += CHUNK) {
      const idx = indices.slice(s, s + CHUNK);
      const x = this.engine.tensor(batchValues(this.pool, idx), [idx.length, ...this.pool.shape]);
      try {
        const mc = await model.mcPredict(x, K, { seed: maskSeed });
        for (let k = 0; k < K; k++) probs.set(mc.probs.subarray(k * idx.length * C, (k + 1) * idx.length * C), (k * N + s) * C);
      } finally {
        x.dispose();
      }
    }
    return { passes: K, classes: C, probs };
  }

  private trained(what: string): SeedClassifier {
    if (!this.model) fail(`ActiveLearner.${what}`, 'no classifier yet: call retrain() after the first labels');
    return this.model;
  }

  dispose(): void {
    this.model?.dispose();
    this.model = null;
  }
}
