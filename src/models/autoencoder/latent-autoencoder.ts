/**
 * What latent diffusion needs of an autoencoder, whichever kind (docs/affine-stablesr.md), and
 * the argument and budget checks both kinds share.
 */
import { checkBudget } from '../../engine/budget.js';
import type { Engine } from '../../engine/engine.js';
import { fail, shapeStr } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import type { Rng } from '../../data/rng.js';
import { checkTensorArg } from '../guards.js';
import type { AutoencoderConfig } from './config.js';
import { autoencoderActivationBytes, autoencoderParamCount } from './shapes.js';

/**
 * Images are NCHW float32 in [−1, 1]; latents [N, c, h, w]. `encode` is deterministic (the
 * coupling autoencoder's kept channels, the VAE's posterior mean); `decode` maps any latent of the
 * right shape back to an image; `reconstruct` is decode(encode(x)). Each call checks its argument,
 * scopes its intermediates and returns one new tensor the caller owns.
 */
export interface LatentAutoencoder {
  readonly engine: Engine;
  readonly config: AutoencoderConfig;
  /** [C, H, W] of an image. */
  readonly imageShape: [number, number, number];
  /** [c, h, w] of a latent. */
  readonly latentShape: [number, number, number];
  encode(x: Tensor): Tensor;
  decode(z: Tensor): Tensor;
  reconstruct(x: Tensor): Tensor;
  paramCount(): number;
  /** Refreshes host-side values derived from the weights (the LU 1×1 inverses); needed on webgpu after the weights change. */
  prepare(): Promise<void>;
  /** The model file's bytes (format inflow-autoencoder-1, docs/affine-stablesr.md). */
  toBytes(): Promise<Uint8Array>;
  dispose(): void;
}

/** A training loss and its parts (each a scalar tensor), as a LatentAutoencoderTask logs them. */
export interface AutoencoderLoss {
  total: Tensor;
  terms: Record<string, Tensor>;
}

/** The training side of an autoencoder (src/train/tasks/latent-autoencoder.ts). */
export interface TrainableAutoencoder extends LatentAutoencoder {
  /** The noise one training step of n images takes, drawn from the run's RNG (null: none). */
  drawNoise(n: number, rng: Rng): Tensor | null;
  /** The loss of a batch x with its noise; `weight` scales the regulariser (likelihood or KL). */
  trainingLoss(x: Tensor, noise: Tensor | null, weight: number): AutoencoderLoss;
  /** Before the first step of a fresh run (data-dependent initialisation). */
  initialize?(x: Tensor): void;
}

/** x is a tensor [N, ...shape]; returns N. */
export function checkBatchArg(op: string, name: string, x: unknown, shape: readonly number[], what: string): number {
  const t = checkTensorArg(op, name, x);
  if (t.rank !== 4 || shape.some((d, i) => t.shape[i + 1] !== d))
    fail(op, `${name} ${shapeStr(t.shape)} must be ${what} [N, ${shape.join(', ')}]`);
  return t.shape[0]!;
}

/** The weights plus `images` images' activations must fit the budget. */
export function checkAutoencoderBudget(op: string, config: AutoencoderConfig, images: number, budget: number): void {
  const params = autoencoderParamCount(config), act = autoencoderActivationBytes(config);
  const bytes = 4 * params + images * act;
  if (bytes <= budget) return;
  const fits = Math.floor((budget - 4 * params) / act);
  checkBudget(op, `${images} ${config.imageShape.join('×')} image${images > 1 ? 's' : ''} through a ${config.kind} of ${params.toLocaleString('en')} parameters${images > 1 ? ` (${fits >= 1 ? `at most ${fits} fit` : 'not even one fits'})` : ''}`,
    bytes, budget);
}
