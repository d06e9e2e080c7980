import { fail } from '../../engine/errors.js';
import { lowResolution, superResolutionCond } from '../../models/diffusion/tasks.js';
import type { Conditioner } from '../paired-data.js';
import { tensorData, type TensorData } from '../tensor-data.js';

/**
 * Pixel-space super-resolution (docs/diffusion.md, "Training the tasks"): the condition of a batch of
 * high-resolution targets [C, H, W] is their low-resolution image (scale × scale box means)
 * enlarged back to H × W by bicubic interpolation. It uses no randomness.
 */
export function superResolutionConditioner(shape: readonly [number, number, number], scale: number): Conditioner {
  const [C, H, W] = shape;
  if (!Number.isInteger(scale) || scale < 2 || H % scale || W % scale) fail('superResolutionConditioner', `scale ${scale} must be an integer ≥ 2 dividing the ${H}×${W} images`);
  if (H !== W) fail('superResolutionConditioner', `the images must be square, not ${H}×${W}`);
  return {
    shape: [C, H, W],
    make: (indices, targets) => superResolutionCond(lowResolution({ data: targets, shape: [indices.length, C, H, W] }, scale), H).data,
  };
}

/**
 * Latent super-resolution: the conditions of all training images at once (fixed, as the latents
 * are): the low-resolution image brought to the latent's side (the LR image itself when the sides
 * match). images: n · C · H · W values in [−1, 1].
 */
export function lowResolutionConditions(images: Float32Array, shape: readonly [number, number, number], scale: number, side: number): TensorData {
  const [C, H, W] = shape, n = images.length / (C * H * W);
  if (!Number.isInteger(n)) fail('lowResolutionConditions', `${images.length} values are not a whole number of ${C}×${H}×${W} images`);
  return tensorData(superResolutionCond(lowResolution({ data: images, shape: [n, C, H, W] }, scale), side).data, [C, side, side]);
}
