/**
 * Restoration measured on held-out images (docs/diffusion.md, "Evaluating the tasks"): for each
 * degradation kind, the clean images degraded by it alone at one fixed strength (default 0.5, the
 * middle of src/image's scale), and a random mixture as the model was trained on; the degraded
 * input and the model's restoration are each compared with the clean image. The degradations are
 * seeded from the evaluation's seed and the kind, not from which kinds are evaluated, so two models
 * (a unified one and a specialist) are measured on the very same degraded images.
 */
import { Rng } from '../../data/rng.js';
import { describeValue, fail } from '../../engine/errors.js';
import { checkBatch, type ImageBatch } from '../../image/batch.js';
import { degrade, DEGRADATION_KINDS, type DegradationKind } from '../../image/degrade/degrade.js';
import { randomDegradation } from '../../image/degrade/random.js';
import { ScoreAccumulator, type ImageScore } from './eval-metrics.js';
import { checkEvalOptions, checkImagesFit, firstImages, Progress, sampleAll, type TaskEvalOptions, type TaskModel } from './eval-sampling.js';

export interface RestorationEvalOptions extends TaskEvalOptions {
  n?: number;
  /** Kinds applied alone (default: the kinds the model was trained on, its conditioning.degradations, else all). */
  kinds?: readonly DegradationKind[];
  /** Strength of each kind alone (default 0.5). */
  strength?: number;
  /** Also a random mixture of the model's kinds, as in training (default: when it was trained on more than one). */
  mixture?: boolean;
}

export interface RestorationRow {
  /** A kind alone, or 'mixture' (randomDegradation of the model's kinds). */
  degradation: DegradationKind | 'mixture';
  input: ImageScore;
  model: ImageScore;
}

export interface RestorationEval {
  n: number;
  strength: number;
  /** The kinds the mixture drew from. */
  mixtureKinds: DegradationKind[];
  rows: RestorationRow[];
  secondsPerImage: number;
}

/** The seed of a kind's degraded set (index k in DEGRADATION_KINDS; the mixture after them). */
const degradationSeed = (seed: number, k: number): number => (seed + 0x9e3779b1 * (k + 1)) >>> 0;

export async function evalRestoration(model: TaskModel, images: ImageBatch, opts: RestorationEvalOptions = {}): Promise<RestorationEval> {
  const op = 'evalRestoration';
  const c = model.config.conditioning;
  if (c?.task !== 'restoration') fail(op, `the model is not a restoration model (its conditioning task is ${c ? c.task : 'none'})`);
  checkBatch(op, images, 'images');
  checkImagesFit(op, model, images);
  if (model.condShape![0] !== images.shape[1]) fail(op, `the model's condition has ${model.condShape![0]} channels, the images ${images.shape[1]}`);
  const clean = firstImages(op, images, opts.n);
  const o = checkEvalOptions(op, opts);
  const trained = [...(c.degradations ?? DEGRADATION_KINDS)];
  const kinds = opts.kinds ?? trained;
  if (!Array.isArray(kinds) || kinds.some((k) => !DEGRADATION_KINDS.includes(k)))
    fail(op, `kinds = ${describeValue(kinds)} must list degradation kinds (${DEGRADATION_KINDS.join(', ')})`);
  const strength = opts.strength ?? 0.5;
  if (typeof strength !== 'number' || !(strength > 0 && strength <= 1)) fail(op, `strength = ${describeValue(strength)} must be a number above 0, at most 1`);
  const mixture = opts.mixture ?? trained.length > 1;
  const n = clean.shape[0];
  const passes: Array<{ degradation: DegradationKind | 'mixture'; input: ImageBatch }> = kinds.map((kind) => ({
    degradation: kind, input: degrade(clean, kind, strength, degradationSeed(o.seed, DEGRADATION_KINDS.indexOf(kind))),
  }));
  if (mixture) passes.push({ degradation: 'mixture', input: randomDegradation(clean, new Rng(degradationSeed(o.seed, DEGRADATION_KINDS.length)), { kinds: trained }).image });
  if (!passes.length) fail(op, 'nothing to measure: give at least one kind or the mixture');
  const progress = new Progress(n * passes.length, opts.onBatch);
  const rows: RestorationRow[] = [];
  let seconds = 0;
  for (const pass of passes) {
    const inScore = new ScoreAccumulator(), outScore = new ScoreAccumulator();
    inScore.add(pass.input, clean);
    const restored = await sampleAll(model, pass.input, o, progress);
    outScore.add(restored.images, clean);
    seconds += restored.seconds;
    rows.push({ degradation: pass.degradation, input: inScore.result(), model: outScore.result() });
  }
  return { n, strength, mixtureKinds: trained, rows, secondsPerImage: seconds / (n * passes.length) };
}
