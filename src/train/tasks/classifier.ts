import { batchValues, type ImageDataset } from '../../data/dataset.js';
import type { Rng } from '../../data/rng.js';
import { oneHot, type DigitClassifier } from '../../models/classifier.js';
import type { SeedClassifier } from '../../models/seed-classifier/classifier.js';
import type { ParamGroup, StepContext, StepOutcome, TrainingTask } from '../loop.js';
import type { Optimizer } from '../optimizer.js';

/** Copies each image shifted by a random (dy, dx) with zero fill: cheap augmentation against overfitting 9 000 digits. */
export function shiftImages(values: Float32Array, n: number, [C, H, W]: readonly number[], max: number, rng: Rng): Float32Array {
  if (max === 0) return values;
  const out = new Float32Array(values.length);
  for (let i = 0; i < n; i++) {
    const dy = rng.below(2 * max + 1) - max, dx = rng.below(2 * max + 1) - max;
    for (let c = 0; c < C!; c++)
      for (let y = 0; y < H!; y++) {
        const sy = y - dy;
        if (sy < 0 || sy >= H!) continue;
        for (let x = 0; x < W!; x++) {
          const sx = x - dx;
          if (sx >= 0 && sx < W!) out[((i * C! + c) * H! + y) * W! + x] = values[((i * C! + c) * H! + sy) * W! + sx]!;
        }
      }
  }
  return out;
}

export const argmax = (p: ArrayLike<number>): number => {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
  return best;
};

/** The classifiers this task trains: the same loss / predict surface. */
export type ImageClassifier = DigitClassifier | SeedClassifier;

/** Fraction of the labelled images whose most probable class is the label. */
export async function classifierAccuracy(model: ImageClassifier, data: ImageDataset, batch = 200): Promise<number> {
  let correct = 0;
  for (let s = 0; s < data.count; s += batch) {
    const idx = Array.from({ length: Math.min(batch, data.count - s) }, (_, i) => s + i);
    const x = model.engine.tensor(batchValues(data, idx), [idx.length, ...data.shape]);
    const probs = await model.predict(x);
    x.dispose();
    probs.forEach((p, i) => { if (argmax(p) === data.labels![idx[i]!]) correct++; });
  }
  return correct / data.count;
}

/** Cross-entropy of a classifier on labelled images, with random-shift augmentation from the run's RNG; evaluation is held-out accuracy. */
export class ClassifierTask implements TrainingTask<ImageDataset> {
  readonly kind = 'classifier';
  readonly groups: readonly ParamGroup[];

  constructor(readonly model: ImageClassifier, optimizer: Optimizer, private readonly test: ImageDataset | null, private readonly shift = 0) {
    this.groups = [{ name: '', params: () => model.parameters(), optimizer }];
  }

  config(): Record<string, unknown> { return { ...this.model.config }; }

  async step(data: ImageDataset, ctx: StepContext): Promise<StepOutcome> {
    const { model } = this, engine = model.engine, idx = ctx.indices;
    const x = engine.tensor(shiftImages(batchValues(data, idx), idx.length, data.shape, this.shift, ctx.rng), [idx.length, ...data.shape]);
    const y = oneHot(engine, idx.map((i) => data.labels![i]!), model.config.classes);
    try {
      const { loss } = await ctx.update(this.groups[0]!, () => model.loss(x, y));
      return { loss };
    } finally {
      x.dispose();
      y.dispose();
    }
  }

  async evaluate(): Promise<number | null> {
    return this.test ? classifierAccuracy(this.model, this.test) : null;
  }
}
