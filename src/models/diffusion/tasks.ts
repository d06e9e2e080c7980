/**
 * How the conditions of the image-conditioned tasks are made from images (docs/diffusion.md,
 * "Super-resolution, restoration and inpainting models"). The trainer (src/train/conditioners/)
 * and the evaluation (eval-*.ts) both call these, so a model is measured on conditions made
 * exactly as it was trained on them.
 */
import { fail } from '../../engine/errors.js';
import { checkBatch, type ImageBatch } from '../../image/batch.js';
import { bicubicResize, boxDownsample } from '../../image/resize.js';
import type { DiffusionModelConfig } from './schema.js';

/** The super-resolution setting's low-resolution image: the mean of each scale × scale block (MNIST 28 → 7 with scale 4). */
export const lowResolution = (hr: ImageBatch, scale: number): ImageBatch => boxDownsample(hr, scale);

/**
 * A super-resolution model's condition from a low-resolution image: the image brought to the
 * side of what the UNet denoises by bicubic resizing (unclamped, as the resize is linear) —
 * 7 → 28 for a pixel model; for a latent model whose latent is as large as the LR image (a 4×7×7
 * latent of 28×28 digits at scale 4) the LR image itself.
 */
export function superResolutionCond(lr: ImageBatch, side: number): ImageBatch {
  checkBatch('superResolutionCond', lr, 'low-resolution image');
  const [, , h, w] = lr.shape;
  if (h === side && w === side) return { data: Float32Array.from(lr.data), shape: lr.shape };
  return bicubicResize(lr, side, side);
}

/** The super-resolution factor of a model's config; one line if the model is not a super-resolution model that records it. */
export function superResolutionScale(op: string, config: DiffusionModelConfig): number {
  const c = config.conditioning;
  if (c?.task !== 'super-resolution') fail(op, `the model is not a super-resolution model (its conditioning task is ${c ? c.task : 'none'})`);
  if (c.scale === undefined) fail(op, 'the model config does not record its super-resolution factor (conditioning.scale)');
  return c.scale;
}
