import { fail } from '../../engine/errors.js';

/**
 * The condition of a mask-conditioned inpainting model (Stable Diffusion's inpainting kind, in
 * pixel space): per image, the image with the region to fill set to 0 (mid-grey in data units, so
 * nothing of it leaks), then the mask itself (1 = fill, 0 = keep) as one more channel. image: n · C ·
 * H · W values in data units; mask: n · H · W values, each 0 or 1. Returns n · (C + 1) · H · W
 * values: the model's conditioning.channels is C + 1. (A latent model instead concatenates the
 * masked image's latent and the mask resized to the latent's size, built by its caller.)
 */
export function maskedImageCond(image: ArrayLike<number>, mask: ArrayLike<number>, shape: readonly [number, number, number, number]): Float32Array {
  const [n, C, H, W] = shape, plane = H * W;
  if (image.length !== n * C * plane) fail('maskedImageCond', `image has ${image.length} values, [${shape.join(', ')}] needs ${n * C * plane}`);
  if (mask.length !== n * plane) fail('maskedImageCond', `mask has ${mask.length} values, [${n}, 1, ${H}, ${W}] needs ${n * plane}`);
  const out = new Float32Array(n * (C + 1) * plane);
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < plane; p++) {
      const m = mask[b * plane + p]!;
      if (m !== 0 && m !== 1) fail('maskedImageCond', `mask[${b * plane + p}] = ${m} must be 0 (keep) or 1 (fill)`);
      for (let c = 0; c < C; c++) out[(b * (C + 1) + c) * plane + p] = m ? 0 : image[(b * C + c) * plane + p]!;
      out[(b * (C + 1) + C) * plane + p] = m;
    }
  }
  return out;
}
