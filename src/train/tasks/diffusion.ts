import type { Tensor } from '../../engine/tensor.js';
import type { NoiseSchedule } from '../../models/diffusion/schedule.js';
import type { Module } from '../../nn/module.js';
import { add, mul } from '../../ops/index.js';
import type { Ema } from '../ema.js';
import { taskConfig, type ParamGroup, type StepContext, type StepOutcome, type TrainingTask } from '../loop.js';
import { Adam, type Optimizer } from '../optimizer.js';
import type { TensorData } from '../tensor-data.js';
import { mseLoss } from './autoencoder.js';

/** A denoiser: ε̂ = model(x_t, t[, labels]) (the UNet of src/models/unet). */
export interface Denoiser extends Module {
  forward(x: Tensor, t: ArrayLike<number>, labels?: ArrayLike<number>): Tensor;
}

export interface DiffusionTaskOptions {
  /** Default: Adam with the usual betas. */
  optimizer?: Optimizer;
  /** An average of the denoiser's weights, updated after every good step (DDPM samples from it). */
  ema?: Ema | null;
  /** Saved in checkpoints as the model config (default: the model's `config` property, if any). */
  config?: Record<string, unknown>;
}

/**
 * DDPM training with ε-prediction (Ho et al. 2020): per example a timestep t ~ U{0 … T−1} and noise
 * ε ~ N(0, I) from the run's RNG (so a resumed run draws the same), x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε,
 * loss = mean((ε̂(x_t, t) − ε)²). Data are expected in [−1, 1].
 */
export class DiffusionTask implements TrainingTask<TensorData> {
  readonly kind = 'diffusion';
  readonly groups: readonly ParamGroup[];
  readonly ema: Ema | null;
  private readonly ownsOptimizer: boolean;

  constructor(readonly model: Denoiser, readonly schedule: NoiseSchedule, private readonly opts: DiffusionTaskOptions = {}) {
    const optimizer = opts.optimizer ?? new Adam(model.engine);
    this.ownsOptimizer = !opts.optimizer;
    this.groups = [{ name: '', params: () => model.parameters(), optimizer }];
    this.ema = opts.ema ?? null;
  }

  config(): Record<string, unknown> {
    return taskConfig(this.model, this.kind, this.opts.config);
  }

  async step(data: TensorData, ctx: StepContext): Promise<StepOutcome> {
    const engine = this.model.engine;
    const n = ctx.indices.length, per = data.shape.reduce((a, b) => a * b, 1);
    const t = Array.from({ length: n }, () => ctx.rng.below(this.schedule.steps));
    const noise = new Float32Array(n * per);
    for (let i = 0; i < noise.length; i++) noise[i] = ctx.rng.normal();
    const shape = [n, ...data.shape];
    const coef = (f: (a: number) => number) => engine.tensor(Float64Array.from(t, (ti) => f(this.schedule.alphaBars[ti]!)), [n, ...data.shape.map(() => 1)]);
    const x0 = engine.tensor(data.values(ctx.indices), shape), eps = engine.tensor(noise, shape);
    const a = coef(Math.sqrt), b = coef((ab) => Math.sqrt(1 - ab));
    try {
      const xt = engine.noGrad(() => engine.scope(() => add(mul(x0, a), mul(eps, b))));
      try {
        const { loss } = await ctx.update(this.groups[0]!, () => mseLoss(this.model.forward(xt, t), eps));
        return { loss };
      } finally {
        xt.dispose();
      }
    } finally {
      for (const v of [x0, eps, a, b]) v.dispose();
    }
  }

  dispose(): void {
    if (this.ownsOptimizer) this.groups[0]!.optimizer.dispose();
  }
}
