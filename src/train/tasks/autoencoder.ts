import type { Tensor } from '../../engine/tensor.js';
import type { Module } from '../../nn/module.js';
import { mean, square, sub } from '../../ops/index.js';
import type { Ema } from '../ema.js';
import { taskConfig, type ParamGroup, type StepContext, type StepOutcome, type TrainingTask } from '../loop.js';
import { Adam, type Optimizer } from '../optimizer.js';
import type { TensorData } from '../tensor-data.js';

/** Any module with a tensor encoder and decoder (a stacked autoencoder, a VAE's mean path, …). */
export interface Autoencoder extends Module {
  encode(x: Tensor): Tensor;
  decode(z: Tensor): Tensor;
}

/** Mean squared error over every element. */
export const mseLoss = (prediction: Tensor, target: Tensor): Tensor => mean(square(sub(prediction, target)));

export interface AutoencoderTaskOptions {
  /** Default: Adam with the usual betas. */
  optimizer?: Optimizer;
  /** Held-out data: the evaluation is its mean reconstruction MSE. */
  test?: TensorData | null;
  evalBatch?: number;
  ema?: Ema | null;
  /** Saved in checkpoints as the model config (default: the model's `config` property, if any). */
  config?: Record<string, unknown>;
}

/** Reconstruction training: loss = mean((decode(encode(x)) − x)²) over the batch. */
export class AutoencoderTask implements TrainingTask<TensorData> {
  readonly kind = 'autoencoder';
  readonly groups: readonly ParamGroup[];
  readonly ema: Ema | null;
  private readonly ownsOptimizer: boolean;

  constructor(readonly model: Autoencoder, private readonly opts: AutoencoderTaskOptions = {}) {
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
    const x = engine.tensor(data.values(ctx.indices), [ctx.indices.length, ...data.shape]);
    try {
      const { loss } = await ctx.update(this.groups[0]!, () => mseLoss(this.model.decode(this.model.encode(x)), x));
      return { loss };
    } finally {
      x.dispose();
    }
  }

  /** Mean reconstruction MSE of the held-out data (null without it). */
  async evaluate(): Promise<number | null> {
    return this.opts.test ? reconstructionError(this.model, this.opts.test, this.opts.evalBatch) : null;
  }

  dispose(): void {
    if (this.ownsOptimizer) this.groups[0]!.optimizer.dispose();
  }
}

/** Mean squared reconstruction error over a data set, in batches, without gradients. */
export async function reconstructionError(model: Autoencoder, data: TensorData, batch = 100): Promise<number> {
  const engine = model.engine;
  let total = 0;
  for (let s = 0; s < data.count; s += batch) {
    const idx = Array.from({ length: Math.min(batch, data.count - s) }, (_, i) => s + i);
    const e = engine.noGrad(() => engine.scope(() => {
      const x = engine.tensor(data.values(idx), [idx.length, ...data.shape]);
      return mseLoss(model.decode(model.encode(x)), x);
    }));
    total += (await e.item()) * idx.length;
    e.dispose();
  }
  return total / data.count;
}
