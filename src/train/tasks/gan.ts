import { InflowError } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Module } from '../../nn/module.js';
import { add, mean, mul, neg, relu, softplus } from '../../ops/index.js';
import type { Ema } from '../ema.js';
import { taskConfig, type ParamGroup, type StepContext, type StepOutcome, type TrainingTask } from '../loop.js';
import { Adam, type Optimizer } from '../optimizer.js';
import type { TensorData } from '../tensor-data.js';

/** z [N, latentDim] → samples [N, ...data shape]. */
export interface Generator extends Module {
  forward(z: Tensor): Tensor;
}

/** x [N, ...data shape] → one score per example ([N] or [N, 1]). */
export interface Discriminator extends Module {
  forward(x: Tensor): Tensor;
}

/** The root module of a GAN: both networks, so checkpoints hold both. */
export interface GanModel extends Module {
  readonly generator: Generator;
  readonly discriminator: Discriminator;
}

export type GanLoss = 'hinge' | 'non-saturating';

/** What every adversarial task takes besides its own options. */
export interface AdversarialOptions {
  /** Discriminator updates per generator update (default 1). */
  discriminatorSteps?: number;
  /** Defaults: Adam with β₁ = 0, β₂ = 0.999 for both, as BigGAN. */
  generatorOptimizer?: Optimizer;
  discriminatorOptimizer?: Optimizer;
  /** Learning-rate scale of the discriminator relative to the run's lr (default 1). */
  discriminatorLrScale?: number;
  /** An average of the weights (usually of the generator's), updated after every good step. */
  ema?: Ema | null;
  config?: Record<string, unknown>;
}

export interface GanTaskOptions extends AdversarialOptions {
  latentDim: number;
  /** Default 'hinge'. */
  loss?: GanLoss;
}

/**
 * The two parameter groups of adversarial training — the discriminator's first, then the
 * generator's — with BigGAN's Adam (β₁ = 0, β₂ = 0.999) for an optimizer not given; the ones made
 * here are pushed to `owned` for the task to dispose.
 */
export function adversarialGroups(task: string, model: Pick<GanModel, 'engine'> & { generator: Module; discriminator: Module }, opts: AdversarialOptions, owned: Optimizer[]): ParamGroup[] {
  const n = opts.discriminatorSteps ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new InflowError(`${task}: discriminatorSteps = ${n} must be a positive integer`);
  const make = (given: Optimizer | undefined) => {
    if (given) return given;
    const o = new Adam(model.engine, { beta1: 0, beta2: 0.999 });
    owned.push(o);
    return o;
  };
  return [
    { name: 'discriminator', params: () => model.discriminator.parameters(), optimizer: make(opts.discriminatorOptimizer), lrScale: opts.discriminatorLrScale ?? 1 },
    { name: 'generator', params: () => model.generator.parameters(), optimizer: make(opts.generatorOptimizer) },
  ];
}

/**
 * Adversarial training with two parameter groups: per step, `discriminatorSteps` updates of the
 * discriminator (each on a fresh z), then one of the generator. z ~ N(0, I) from the run's RNG, so
 * a resumed run draws the same. Losses, D the score:
 *  hinge:          L_D = E[relu(1 − D(x))] + E[relu(1 + D(G(z)))],   L_G = −E[D(G(z))]
 *  non-saturating: L_D = E[softplus(−D(x))] + E[softplus(D(G(z)))], L_G = E[softplus(−D(G(z)))]
 * The step's loss is the generator's; the discriminator's last loss is the metric 'discriminator'.
 */
export class GanTask implements TrainingTask<TensorData> {
  readonly kind = 'gan';
  readonly groups: readonly ParamGroup[];
  readonly ema: Ema | null;
  private readonly owned: Optimizer[] = [];

  constructor(readonly model: GanModel, private readonly opts: GanTaskOptions) {
    if (!Number.isInteger(opts.latentDim) || opts.latentDim < 1) throw new InflowError(`GanTask: latentDim = ${opts.latentDim} must be a positive integer`);
    this.groups = adversarialGroups('GanTask', model, opts, this.owned);
    this.ema = opts.ema ?? null;
  }

  config(): Record<string, unknown> {
    return taskConfig(this.model, this.kind, this.opts.config);
  }

  private latent(ctx: StepContext): Tensor {
    const n = ctx.indices.length * this.opts.latentDim;
    const z = new Float32Array(n);
    for (let i = 0; i < n; i++) z[i] = ctx.rng.normal();
    return this.model.engine.tensor(z, [ctx.indices.length, this.opts.latentDim]);
  }

  async step(data: TensorData, ctx: StepContext): Promise<StepOutcome> {
    const { generator: G, discriminator: D } = this.model;
    const hinge = (this.opts.loss ?? 'hinge') === 'hinge';
    const real = this.model.engine.tensor(data.values(ctx.indices), [ctx.indices.length, ...data.shape]);
    let dLoss = NaN;
    try {
      for (let i = 0; i < (this.opts.discriminatorSteps ?? 1); i++) {
        const z = this.latent(ctx);
        try {
          dLoss = (await ctx.update(this.groups[0]!, () => {
            const onReal = D.forward(real), onFake = D.forward(G.forward(z));
            return hinge
              ? add(mean(relu(add(neg(onReal), 1))), mean(relu(add(onFake, 1))))
              : add(mean(softplus(neg(onReal))), mean(softplus(onFake)));
          })).loss;
        } finally {
          z.dispose();
        }
      }
      const z = this.latent(ctx);
      try {
        const { loss } = await ctx.update(this.groups[1]!, () => {
          const score = D.forward(G.forward(z));
          return hinge ? mul(mean(score), -1) : mean(softplus(neg(score)));
        });
        return { loss, metrics: { discriminator: dLoss } };
      } finally {
        z.dispose();
      }
    } finally {
      real.dispose();
    }
  }

  dispose(): void {
    for (const o of this.owned) o.dispose();
  }
}
