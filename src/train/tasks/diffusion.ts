import { fail } from '../../engine/errors.js';
import type { ImageDataset } from '../../data/dataset.js';
import type { Tensor } from '../../engine/tensor.js';
import { perExample, predictionTarget } from '../../models/diffusion/prediction.js';
import type { NoiseSchedule } from '../../models/diffusion/schedule.js';
import type { PredictionKind } from '../../models/diffusion/schema.js';
import type { Module } from '../../nn/module.js';
import { add, mul } from '../../ops/index.js';
import { Ema } from '../ema.js';
import { taskConfig, type ParamGroup, type StepContext, type StepOutcome, type TrainingTask } from '../loop.js';
import { Adam, type Optimizer } from '../optimizer.js';
import { isPairedData, type PairedTensorData } from '../paired-data.js';
import type { TensorData } from '../tensor-data.js';
import { mseLoss } from './autoencoder.js';
import type { DataParallel } from '../../parallel/data-parallel.js';

/** A denoiser: ε̂ = model(x_t, t[, labels[, cond]]) (the UNet of src/models/unet). */
export interface Denoiser extends Module {
  forward(x: Tensor, t: ArrayLike<number>, labels?: ArrayLike<number>, cond?: Tensor): Tensor;
}

export interface DiffusionTaskOptions {
  /** Default: Adam with the usual betas. */
  optimizer?: Optimizer;
  /** An average of the denoiser's weights, updated after every good step (DDPM samples from it). */
  ema?: Ema | null;
  /** Saved in checkpoints as the model config (default: the model's `config` property, if any). */
  config?: Record<string, unknown>;
  /**
   * Class-conditional training: the class of every training example (indexed like the data) and
   * the denoiser's class count. The label index `classes` is the "no label" of classifier-free
   * guidance, which the denoiser learns from the examples whose label is dropped.
   */
  conditioning?: { labels: ArrayLike<number>; classes: number; labelDropout?: number };
  /**
   * Image conditioning (the data are PairedTensorData, src/train/paired-data.ts): the share of
   * examples whose condition is replaced by zeros (default 0), drawn from the run's RNG after the
   * labels' dropout. It teaches the denoiser to work without the condition too; zeros are the
   * "no condition" to give it at sampling time.
   */
  condDropout?: number;
  /** What the denoiser learns to output (default 'epsilon'; 'v': v = √ᾱ_t ε − √(1 − ᾱ_t) x_0, src/models/diffusion/prediction.ts). */
  prediction?: PredictionKind;
  /** Replicas of the UNet on worker threads: each batch's gradients are summed over its shards (src/parallel), from the same draws. */
  parallel?: DataParallel | null;
}

/** Share of examples trained without their label (Ho & Salimans use 0.1–0.2): the unconditional model that guidance extrapolates from. */
export const DEFAULT_LABEL_DROPOUT = 0.1;

/**
 * DDPM training with ε-prediction (Ho et al. 2020): per example a timestep t ~ U{0 … T−1} and noise
 * ε ~ N(0, I) from the run's RNG (so a resumed run draws the same), x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε,
 * loss = mean((ε̂(x_t, t) − ε)²). Data are expected in [−1, 1]. With `conditioning`, the denoiser also
 * sees each example's class, replaced by the "no label" index with probability labelDropout (drawn
 * from the run's RNG after t and ε), so one network learns both ε̂(x, t, y) and ε̂(x, t, ∅). An
 * image-conditioned denoiser (condChannels > 0) trains on PairedTensorData: ε̂(x_t, t, cond) with
 * each example's condition. With prediction 'v' the target is v = √ᾱ_t ε − √(1 − ᾱ_t) x_0 instead
 * of ε (the same draws, so switching changes nothing else).
 */
export class DiffusionTask implements TrainingTask<TensorData> {
  readonly kind = 'diffusion';
  readonly groups: readonly ParamGroup[];
  readonly ema: Ema | null;
  private readonly ownsOptimizer: boolean;
  /** Channels of the denoiser's image condition (0: none); the data must then be PairedTensorData. */
  private readonly condChannels: number;

  constructor(readonly model: Denoiser, readonly schedule: NoiseSchedule, private readonly opts: DiffusionTaskOptions = {}) {
    const optimizer = opts.optimizer ?? new Adam(model.engine);
    this.ownsOptimizer = !opts.optimizer;
    this.groups = [{ name: '', params: () => model.parameters(), optimizer }];
    this.ema = opts.ema ?? null;
    const c = opts.conditioning;
    if (c) {
      if (!Number.isInteger(c.classes) || c.classes < 1) fail('DiffusionTask', `conditioning.classes = ${c.classes} must be a positive integer`);
      const p = c.labelDropout ?? DEFAULT_LABEL_DROPOUT;
      if (!(p >= 0 && p <= 1)) fail('DiffusionTask', `labelDropout = ${p} must be in [0, 1]`);
      for (let i = 0; i < c.labels.length; i++) {
        const y = c.labels[i]!;
        if (!Number.isInteger(y) || y < 0 || y >= c.classes) fail('DiffusionTask', `label ${y} of example ${i} is not one of the ${c.classes} classes`);
      }
    }
    const p = opts.condDropout ?? 0;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail('DiffusionTask', `condDropout = ${p} must be in [0, 1]`);
    if (opts.prediction !== undefined && opts.prediction !== 'epsilon' && opts.prediction !== 'v')
      fail('DiffusionTask', `prediction = ${String(opts.prediction)} must be 'epsilon' or 'v'`);
    this.condChannels = (model as { config?: { condChannels?: number } }).config?.condChannels ?? 0;
  }

  config(): Record<string, unknown> {
    return taskConfig(this.model, this.kind, this.opts.config);
  }

  async step(data: TensorData, ctx: StepContext): Promise<StepOutcome> {
    const engine = this.model.engine;
    const paired = isPairedData(data);
    if (this.condChannels > 0 && !paired)
      fail('DiffusionTask', `the denoiser takes a ${this.condChannels}-channel image condition: train it on paired data (pairedTensorData)`);
    if (paired && this.condChannels === 0) fail('DiffusionTask', 'the data carry image conditions, but the denoiser takes none (build it with condChannels)');
    const n = ctx.indices.length, per = data.shape.reduce((a, b) => a * b, 1);
    const t = Array.from({ length: n }, () => ctx.rng.below(this.schedule.steps));
    const noise = new Float32Array(n * per);
    for (let i = 0; i < noise.length; i++) noise[i] = ctx.rng.normal();
    const c = this.opts.conditioning;
    let labels: number[] | undefined;
    if (c) {
      const p = c.labelDropout ?? DEFAULT_LABEL_DROPOUT;
      labels = ctx.indices.map((i) => (ctx.rng.uniform() < p ? c.classes : c.labels[i]!));
    }
    const shape = [n, ...data.shape];
    const coef = (f: (a: number) => number) => perExample(engine, this.schedule, t, data.shape.length, f);
    const targets = data.values(ctx.indices);
    const condValues = paired ? this.conditions(data, targets, ctx) : null;
    const parallel = this.opts.parallel;
    if (parallel) {
      const batch = { x0: targets, shape, t, noise, ...(labels ? { labels } : {}), ...(condValues ? { cond: { data: condValues, shape: [n, ...(data as PairedTensorData).condShape] } } : {}) };
      const g = await parallel.diffusionGradients(batch, this.schedule, this.opts.prediction ?? 'epsilon');
      return { loss: (await ctx.apply(this.groups[0]!, g.loss, g.grads)).loss };
    }
    const cond = condValues ? engine.tensor(condValues, [n, ...(data as PairedTensorData).condShape]) : null;
    const x0 = engine.tensor(targets, shape), eps = engine.tensor(noise, shape);
    const a = coef(Math.sqrt), b = coef((ab) => Math.sqrt(1 - ab));
    try {
      const xt = engine.noGrad(() => engine.scope(() => add(mul(x0, a), mul(eps, b))));
      const target = engine.noGrad(() => engine.scope(() => predictionTarget(this.opts.prediction ?? 'epsilon', x0, eps, a, b)));
      try {
        const { loss } = await ctx.update(this.groups[0]!, () => mseLoss(cond ? this.model.forward(xt, t, labels, cond) : this.model.forward(xt, t, labels), target));
        return { loss };
      } finally {
        xt.dispose();
        if (target !== eps) target.dispose();
      }
    } finally {
      for (const v of [x0, eps, a, b, cond]) v?.dispose();
    }
  }

  /** The batch's image conditions (drawn after t, ε and the labels), with condDropout's zeros. */
  private conditions(data: PairedTensorData, targets: Float32Array, ctx: StepContext): Float32Array {
    const n = ctx.indices.length, p = this.opts.condDropout ?? 0;
    // A copy before zeroing: a conditioner may hand out an array it keeps.
    const values = p > 0 ? Float32Array.from(data.cond(ctx.indices, targets, ctx.rng)) : data.cond(ctx.indices, targets, ctx.rng);
    const per = values.length / n;
    if (p > 0) for (let i = 0; i < n; i++) if (ctx.rng.uniform() < p) values.fill(0, i * per, (i + 1) * per);
    return values;
  }

  dispose(): void {
    if (this.ownsOptimizer) this.groups[0]!.optimizer.dispose();
  }
}

/**
 * Images (0…255) as diffusion training data: scaled to [−1, 1] and, when `size` is larger than the
 * images, padded with −1 (black) around the centre, e.g. MNIST's 28×28 to 32×32.
 */
export function diffusionImageData(d: ImageDataset, size = d.shape[1]): TensorData {
  const [C, H, W] = d.shape;
  if (!Number.isInteger(size) || size < H || size < W) fail('diffusionImageData', `size ${size} is smaller than the ${H}×${W} images`);
  const top = (size - H) >> 1, left = (size - W) >> 1, per = C * size * size;
  return {
    count: d.count, shape: [C, size, size],
    values: (indices) => {
      const out = new Float32Array(indices.length * per).fill(-1);
      indices.forEach((src, n) => {
        const img = d.images.subarray(src * C * H * W, (src + 1) * C * H * W);
        for (let c = 0; c < C; c++)
          for (let y = 0; y < H; y++)
            for (let x = 0; x < W; x++) out[n * per + (c * size + top + y) * size + left + x] = img[(c * H + y) * W + x]! / 127.5 - 1;
      });
      return out;
    },
  };
}

/**
 * An EMA whose decay starts low: min(decay, (1 + k) / (10 + k)) at update k. A plain EMA starts
 * from the initial weights and keeps decay^k of them after k updates (5 % after 3 000 at 0.999):
 * a UNet's zero-initialised output layers then shrink ε̂, and samples keep visible noise.
 */
export class WarmEma extends Ema {
  override update(decay = Math.min(this.decay, (1 + this.updates) / (10 + this.updates))): void {
    super.update(decay);
  }
}
