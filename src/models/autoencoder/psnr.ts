/**
 * Reconstruction PSNR as the tables report it: on 0…255 pixels of the image, the
 * reconstruction clamped to that range (as writing it to a PNG would, without rounding), per image:
 * PSNR = 10 · log10(255² / MSE). The MSE is floored at 1e-10 so two equal images score a finite
 * 148 dB instead of Infinity (no digit is reconstructed that well; the floor only keeps means finite).
 */
export const MSE_FLOOR = 1e-10;

/** A [−1, 1] value as a 0…255 pixel, clamped. */
export const toPixel = (v: number): number => Math.min(255, Math.max(0, (v + 1) * 127.5));

/** Squared error summed over `size` values from `offset`, both arrays in [−1, 1], measured in 0…255 pixels. */
export function squaredPixelError(reference: ArrayLike<number>, reconstruction: ArrayLike<number>, offset: number, size: number): number {
  let s = 0;
  for (let i = offset; i < offset + size; i++) {
    const d = toPixel(reference[i]!) - toPixel(reconstruction[i]!);
    s += d * d;
  }
  return s;
}

export const psnrOfMse = (mse: number): number => 10 * Math.log10((255 * 255) / Math.max(mse, MSE_FLOOR));

/** PSNR in dB of each of the n images (of `size` values each) in two batches. */
export function batchPsnr(reference: ArrayLike<number>, reconstruction: ArrayLike<number>, n: number, size: number): number[] {
  return Array.from({ length: n }, (_, i) => psnrOfMse(squaredPixelError(reference, reconstruction, i * size, size) / size));
}
