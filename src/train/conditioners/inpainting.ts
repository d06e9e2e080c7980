import { maskedImageCond } from '../../models/diffusion/inpaint-cond.js';
import { randomInpaintMask, type MaskOptions } from '../../models/diffusion/masks.js';
import type { Conditioner } from '../paired-data.js';

/**
 * Mask-conditioned inpainting (Stable Diffusion's inpainting kind, in pixel space; docs/diffusion.md,
 * "Training the tasks"): per target a random mask (src/models/diffusion/masks.ts) from the run's
 * RNG, and the condition concat(target with the mask's pixels set to 0, mask): C + 1 channels.
 */
export function inpaintingConditioner(shape: readonly [number, number, number], mask: MaskOptions = {}): Conditioner {
  const [C, H, W] = shape;
  return {
    shape: [C + 1, H, W],
    make: (indices, targets, rng) => maskedImageCond(targets, randomInpaintMask(indices.length, H, W, rng, mask), [indices.length, C, H, W]),
  };
}
