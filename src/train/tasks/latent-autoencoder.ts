import type { Tensor } from '../../engine/tensor.js';
import type { LatentAutoencoder, TrainableAutoencoder } from '../../models/autoencoder/latent-autoencoder.js';
import { batchPsnr, psnrOfMse, squaredPixelError } from '../../models/autoencoder/psnr.js';
import type { Module } from '../../nn/module.js';
import { affine } from '../../ops/index.js';
import { taskConfig, type ParamGroup, type StepContext, type StepOutcome, type TrainingTask } from '../loop.js';
import { Adam, type Optimizer } from '../optimizer.js';
import type { TensorData } from '../tensor-data.js';

/**
 * The regulariser weights `inflow autoencoder train` uses (docs/affine-stablesr.md §6 has the
 * sweeps): the coupling autoencoder's likelihood weight λ and the VAE's KL weight β (Stable
 * Diffusion's 1e-6).
 */
export const DEFAULT_REGULARIZER_WEIGHT = { 'coupling-autoencoder': 0.001, 'conv-vae': 1e-6 } as const;

export interface LatentAutoencoderTaskOptions {
  /** Default: Adam with the usual betas. */
  optimizer?: Optimizer;
  /** Weight of the regulariser: the coupling autoencoder's likelihood term λ, the VAE's KL β (docs/affine-stablesr.md). */
  weight: number;
  /** Held-out images in [−1, 1]: the evaluation is their mean reconstruction PSNR (dB). */
  test?: TensorData | null;
  evalBatch?: number;
  /** Saved in checkpoints as the model config (default: the model's `config`). */
  config?: Record<string, unknown>;
}

/**
 * Training of a latent autoencoder (src/models/autoencoder): each step draws the model's noise
 * (the coupling autoencoder's dequantisation, the VAE's ε) from the run's RNG, so a resumed run
 * draws the same, and minimises its loss, reconstruction plus `weight` × regulariser. A fresh run
 * first lets the model initialise from the first batch (the flow's actnorms). Logged per step: the
 * loss terms and the batch's reconstruction PSNR (of the mean squared error in [−1, 1], unclamped).
 */
export class LatentAutoencoderTask implements TrainingTask<TensorData> {
  readonly kind = 'latent-autoencoder';
  readonly groups: readonly ParamGroup[];
  readonly model: Module & TrainableAutoencoder;
  private readonly ownsOptimizer: boolean;

  constructor(model: Module & TrainableAutoencoder, private readonly opts: LatentAutoencoderTaskOptions) {
    this.model = model;
    const optimizer = opts.optimizer ?? new Adam(model.engine);
    this.ownsOptimizer = !opts.optimizer;
    this.groups = [{ name: '', params: () => model.parameters(), optimizer }];
  }

  config(): Record<string, unknown> {
    return taskConfig(this.model, this.kind, this.opts.config);
  }

  private batch(data: TensorData, indices: readonly number[]): Tensor {
    return this.model.engine.tensor(data.values(indices), [indices.length, ...data.shape]);
  }

  async init(data: TensorData, first: readonly number[]): Promise<void> {
    if (!this.model.initialize) return;
    const x = this.batch(data, first);
    try {
      this.model.initialize(x);
    } finally {
      x.dispose();
    }
  }

  async step(data: TensorData, ctx: StepContext): Promise<StepOutcome> {
    const engine = this.model.engine;
    // The coupling autoencoder's inverse reads its 1×1 inverses on the host: webgpu cannot do that synchronously inside the step.
    await this.model.prepare();
    const x = this.batch(data, ctx.indices);
    const noise = this.model.drawNoise(ctx.indices.length, ctx.rng);
    let terms: Record<string, Tensor> = {};
    try {
      const { loss } = await ctx.update(this.groups[0]!, () => {
        const r = this.model.trainingLoss(x, noise, this.opts.weight);
        // Copies of the terms outlive the loss function's scope, to be logged (a term may be the total itself, which update frees).
        terms = Object.fromEntries(Object.entries(r.terms).map(([k, t]) => [k, engine.noGrad(() => affine(t, 1, 0)).keep()]));
        return r.total;
      });
      const metrics: Record<string, number> = {};
      for (const [k, t] of Object.entries(terms)) metrics[k] = await t.item();
      if (metrics.rec !== undefined) metrics.recPsnr = 10 * Math.log10(4 / metrics.rec);
      return { loss, metrics };
    } finally {
      for (const t of Object.values(terms)) t.dispose();
      x.dispose();
      noise?.dispose();
    }
  }

  /** Mean reconstruction PSNR (dB) of the held-out images (null without them). */
  async evaluate(): Promise<number | null> {
    return this.opts.test ? (await reconstructionQuality(this.model, this.opts.test, { batch: this.opts.evalBatch })).psnr : null;
  }

  dispose(): void {
    if (this.ownsOptimizer) this.groups[0]!.optimizer.dispose();
  }
}

export interface ReconstructionQuality {
  images: number;
  /** Mean over the images of each one's PSNR (dB) on 0…255 pixels (src/models/autoencoder/psnr.ts). */
  psnr: number;
  /** PSNR of the squared error averaged over every pixel of every image. */
  psnrOfMeanMse: number;
  /** Mean squared error on 0…255 pixels. */
  mse: number;
  /** Mean and standard deviation of every latent value (a diffusion prior wants them near 0 and 1). */
  latentMean: number;
  latentStd: number;
  /** Seconds spent encoding and decoding. */
  encodeSeconds: number;
  decodeSeconds: number;
}

/** Encodes and decodes `data` (images in [−1, 1]) in batches, without gradients, and measures the reconstructions. */
export async function reconstructionQuality(model: LatentAutoencoder, data: TensorData,
  opts: { batch?: number; count?: number; onBatch?: (done: number, total: number) => void } = {}): Promise<ReconstructionQuality> {
  const engine = model.engine, batch = opts.batch ?? 100, count = Math.min(opts.count ?? data.count, data.count);
  const size = data.shape.reduce((a, b) => a * b, 1);
  await model.prepare();
  let psnrSum = 0, squared = 0, zSum = 0, zSquares = 0, zCount = 0, encodeSeconds = 0, decodeSeconds = 0;
  for (let s = 0; s < count; s += batch) {
    const idx = Array.from({ length: Math.min(batch, count - s) }, (_, i) => s + i);
    const values = data.values(idx);
    const x = engine.tensor(values, [idx.length, ...data.shape]);
    const t0 = performance.now();
    const z = engine.noGrad(() => model.encode(x));
    const zv = await z.data();
    const t1 = performance.now();
    const xHat = engine.noGrad(() => model.decode(z));
    const rv = await xHat.data();
    const t2 = performance.now();
    encodeSeconds += (t1 - t0) / 1000;
    decodeSeconds += (t2 - t1) / 1000;
    for (const p of batchPsnr(values, rv, idx.length, size)) psnrSum += p;
    squared += squaredPixelError(values, rv, 0, values.length);
    for (const v of zv) {
      zSum += v;
      zSquares += v * v;
    }
    zCount += zv.length;
    for (const t of [x, z, xHat]) t.dispose();
    opts.onBatch?.(s + idx.length, count);
  }
  const latentMean = zSum / zCount;
  return {
    images: count, psnr: psnrSum / count, psnrOfMeanMse: psnrOfMse(squared / (count * size)), mse: squared / (count * size),
    latentMean, latentStd: Math.sqrt(Math.max(0, zSquares / zCount - latentMean * latentMean)), encodeSeconds, decodeSeconds,
  };
}
