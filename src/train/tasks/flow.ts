import { batchValues, type ImageDataset } from '../../data/dataset.js';
import { Rng } from '../../data/rng.js';
import type { FlowModel } from '../../models/flow-model.js';
import type { DataParallel } from '../../parallel/data-parallel.js';
import { mean } from '../../ops/index.js';
import type { Ema } from '../ema.js';
import { dequantize, evaluateBitsPerDim } from '../evaluate.js';
import type { ParamGroup, StepContext, StepOutcome, TrainingTask } from '../loop.js';
import type { Optimizer } from '../optimizer.js';

export interface FlowTaskOptions {
  /** Seed of the run: the ActNorm initialisation batch is dequantised with seed + 1. */
  seed: number;
  /** Batch size of held-out evaluation. */
  evalBatch: number;
  /** Replicas of the model on worker threads: each batch's gradients are summed over its shards (src/parallel). */
  parallel?: DataParallel | null;
}

/**
 * Maximum likelihood of a flow on 0…255 images: fresh uniform dequantisation noise per batch (from
 * the run's RNG), mean bits/dim as the loss (−log p(x | y) with labels for a class-conditional flow
 * on labelled data), data-dependent ActNorm initialisation on the first batch, held-out bits/dim.
 */
export class FlowTask implements TrainingTask<ImageDataset> {
  readonly kind = 'flow';
  readonly groups: readonly ParamGroup[];

  constructor(readonly model: FlowModel, optimizer: Optimizer, private readonly testSet: ImageDataset | null,
    private readonly opts: FlowTaskOptions, readonly ema: Ema | null = null) {
    this.groups = [{ name: '', params: () => model.parameters(), optimizer }];
  }

  config(): Record<string, unknown> { return this.model.config as unknown as Record<string, unknown>; }

  /** Data-dependent ActNorm initialisation from the first batch, outside the gradient tape. */
  async init(data: ImageDataset, first: readonly number[]): Promise<void> {
    const { model } = this, engine = model.engine;
    const x0 = dequantize(batchValues(data, first), new Rng(this.opts.seed + 1));
    await model.prepare();
    // range 'pixels': dequantised by construction, so a batch of very dark images is data, not a
    // normalised batch passed by mistake (FlowModel's default heuristic would refuse it).
    engine.noGrad(() => engine.scope(() => { model.bitsPerDim(engine.tensor(x0, [first.length, ...data.shape]), { range: 'pixels' }); }));
  }

  async step(data: ImageDataset, ctx: StepContext): Promise<StepOutcome> {
    const { model } = this, engine = model.engine, idx = ctx.indices;
    const x = dequantize(batchValues(data, idx), ctx.rng);
    await model.prepare();
    // A class prior learns one component per class from labels; unlabelled data trains the mixture as a whole.
    const labels = model.classes > 0 && data.labels ? idx.map((i) => data.labels![i]!) : undefined;
    const group = this.groups[0]!, shape = [idx.length, ...data.shape];
    if (this.opts.parallel) {
      const g = await this.opts.parallel.flowGradients(x, shape, labels);
      return { loss: (await ctx.apply(group, g.loss, g.grads)).loss };
    }
    const { loss } = await ctx.update(group, () => mean(model.bitsPerDim(engine.tensor(x, shape), { ...(labels ? { labels } : {}), range: 'pixels' })));
    return { loss };
  }

  async evaluate(): Promise<number | null> {
    return this.testSet ? evaluateBitsPerDim(this.model, this.testSet, this.opts.evalBatch) : null;
  }
}
