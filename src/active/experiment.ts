import { Rng } from '../data/rng.js';
import type { Engine } from '../engine/engine.js';
import { describeValue, fail } from '../engine/errors.js';
import type { ImageDataset } from '../data/dataset.js';
import type { AcquisitionName } from './acquire.js';
import { ActiveLearner, type ActiveLearnerOptions } from './learner.js';
import type { HeldOutScores } from './scores.js';

/** One point of a learning curve: the classifier retrained on `labels` images. */
export interface CurvePoint extends HeldOutScores {
  labels: number;
  /** Pool positions acquired in the round that led here (the initial set for the first point). */
  acquired: number[];
  /** Labels per class among every labelled image so far. */
  labelledPerClass: number[];
  seconds: number;
}

export interface ExperimentOptions extends ActiveLearnerOptions {
  acquisition: AcquisitionName;
  /** Labelled images before the first acquisition; drawn balanced over the classes by initialLabels. */
  initial: number;
  /** Label counts to reach, increasing, each above `initial`; the curve has a point at each (and at initial). */
  budgets: number[];
  /** Most images acquired between two retrainings (default: each budget's whole step at once). */
  batch?: number;
}

export interface RoundEvent { acquisition: AcquisitionName; point: CurvePoint; round: number; rounds: number }
export interface StepEvent { round: number; done: number; total: number }

/**
 * `n` pool positions to label first, as balanced over the classes as the pool allows (the oracle's
 * labels decide the classes; a seeded draw decides which images), so no class starts unseen.
 */
export function initialLabels(labels: Int32Array, classes: number, n: number, seed: number): number[] {
  if (!Number.isSafeInteger(n) || n < 1) fail('initialLabels', `initial = ${describeValue(n)} must be a positive integer`);
  if (n > labels.length) fail('initialLabels', `initial = ${n} is more than the ${labels.length} images of the pool`);
  const rng = new Rng(seed);
  const byClass = Array.from({ length: classes }, (_, k) => rng.shuffle([...labels.keys()].filter((i) => labels[i] === k)));
  const out: number[] = [];
  for (let round = 0; out.length < n; round++)
    for (const list of byClass) if (round < list.length && out.length < n) out.push(list[round]!);
  return out;
}

/** The rounds' label counts: every budget, with steps of at most `batch` in between. */
export function labelSchedule(initial: number, budgets: readonly number[], batch?: number): number[] {
  if (!Array.isArray(budgets) || budgets.length === 0) fail('active learning', 'budgets must be a non-empty list of label counts');
  let prev = initial;
  const out: number[] = [];
  for (const b of budgets) {
    if (!Number.isSafeInteger(b) || b <= prev) fail('active learning', `budget ${describeValue(b)} must be an integer above ${prev} (budgets increase from the initial ${initial} labels)`);
    if (batch !== undefined) for (let n = prev + batch; n < b; n += batch) out.push(n);
    out.push(b);
    prev = b;
  }
  return out;
}

/**
 * An active-learning run with a simulated oracle (the pool's own labels answer every query): label
 * the initial set, train, evaluate; then each round acquire, label, retrain, evaluate, until the
 * last budget. Returns the learning curve, one point per retraining.
 */
export async function runActiveLearning(engine: Engine, pool: ImageDataset, test: ImageDataset, opts: ExperimentOptions,
  events: { onRound?: (e: RoundEvent) => void; onStep?: (e: StepEvent) => void } = {}): Promise<CurvePoint[]> {
  const oracle = pool.labels;
  if (!oracle) fail('runActiveLearning', 'the pool needs labels to play the oracle');
  const classes = opts.classifier.classes;
  const schedule = labelSchedule(opts.initial, opts.budgets, opts.batch);
  const last = schedule.at(-1)!;
  if (last > pool.count) fail('runActiveLearning', `budget ${last} is more than the ${pool.count} images of the pool`);
  const learner = new ActiveLearner(engine, pool, test, opts);
  const curve: CurvePoint[] = [];
  const perClass = new Array<number>(classes).fill(0);
  const label = (idx: number[]) => {
    learner.addLabels(idx, idx.map((i) => oracle[i]!));
    for (const i of idx) perClass[oracle[i]!]!++;
  };
  try {
    const rounds = schedule.length + 1;
    let acquired = initialLabels(oracle, classes, opts.initial, learner.seed);
    for (let round = 0; round < rounds; round++) {
      const t0 = performance.now();
      if (round > 0) acquired = (await learner.acquire(opts.acquisition, schedule[round - 1]! - learner.labelledCount)).indices;
      label(acquired);
      await learner.retrain(events.onStep ? (done, total) => events.onStep!({ round, done, total }) : undefined);
      const point: CurvePoint = { labels: learner.labelledCount, ...(await learner.evaluate()), acquired, labelledPerClass: [...perClass], seconds: (performance.now() - t0) / 1000 };
      curve.push(point);
      events.onRound?.({ acquisition: opts.acquisition, point, round, rounds });
    }
    return curve;
  } finally {
    learner.dispose();
  }
}
