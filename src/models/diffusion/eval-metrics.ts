/**
 * The numbers the task evaluations report (docs/diffusion.md, "Evaluating the tasks"), on the
 * 0…255 scale: images in [−1, 1] are mapped by (x + 1) · 127.5 and clamped (not rounded). PSNR is
 * taken from the MSE pooled over every value of the set — one image that comes out identical (a
 * crack that misses every stroke of a digit) then does not make the figure +∞ — and SSIM is the
 * mean over images of src/image's SSIM.
 */
import { fail } from '../../engine/errors.js';
import { checkBatch, checkSameShape, type ImageBatch } from '../../image/batch.js';
import { unitToPixels } from '../../image/range.js';
import { ssimPerImage } from '../../image/ssim.js';

export interface ImageScore {
  /** dB on 0…255 from the pooled MSE; +∞ when every value matches. */
  psnr: number;
  /** Mean SSIM (0…255, Gaussian window), 1 for identical images. */
  ssim: number;
}

const PIXEL_RANGE = 255;

/** PSNR in dB of a mean squared error on the 0…255 scale. */
export const psnrOfMse = (mse: number): number => 10 * Math.log10((PIXEL_RANGE * PIXEL_RANGE) / mse);

const asPixels = (img: ImageBatch): ImageBatch => ({ data: unitToPixels(img), shape: img.shape });

/** Collects squared errors and SSIMs batch by batch; result() is the set's ImageScore. */
export class ScoreAccumulator {
  private squares = 0;
  private values = 0;
  private ssimSum = 0;
  private images = 0;

  /** output and target in [−1, 1], the same shape. */
  add(output: ImageBatch, target: ImageBatch): void {
    checkBatch('score', output, 'output');
    checkBatch('score', target, 'target');
    checkSameShape('score', output, target);
    const a = asPixels(output), b = asPixels(target);
    for (let i = 0; i < a.data.length; i++) this.squares += (a.data[i]! - b.data[i]!) ** 2;
    this.values += a.data.length;
    for (const s of ssimPerImage(a, b, PIXEL_RANGE)) this.ssimSum += s;
    this.images += a.shape[0];
  }

  result(): ImageScore {
    if (!this.images) fail('score', 'no images were scored');
    return { psnr: psnrOfMse(this.squares / this.values), ssim: this.ssimSum / this.images };
  }
}

/**
 * Errors split by a mask (n · H · W values shared by the channels, 1 = the region to fill): the
 * PSNR over the filled region (0…255, pooled) and the largest change of the known region (in
 * the images' own [−1, 1] units, as RePaint's guarantee is stated).
 */
export class MaskedAccumulator {
  private squares = 0;
  private values = 0;
  private knownMax = 0;
  private filled = 0;
  private total = 0;

  add(output: ImageBatch, target: ImageBatch, mask: ArrayLike<number>): void {
    checkBatch('score', output, 'output');
    checkBatch('score', target, 'target');
    checkSameShape('score', output, target);
    const [n, C, H, W] = target.shape, plane = H * W;
    if (mask.length !== n * plane) fail('score', `mask has ${mask.length} values, [${n}, 1, ${H}, ${W}] needs ${n * plane}`);
    const a = unitToPixels(output), b = unitToPixels(target);
    for (let i = 0; i < n; i++)
      for (let c = 0; c < C; c++)
        for (let p = 0; p < plane; p++) {
          const k = (i * C + c) * plane + p;
          if (mask[i * plane + p]) {
            this.squares += (a[k]! - b[k]!) ** 2;
            this.values++;
          } else this.knownMax = Math.max(this.knownMax, Math.abs(output.data[k]! - target.data[k]!));
        }
    for (let k = 0; k < mask.length; k++) this.filled += mask[k] ? 1 : 0;
    this.total += mask.length;
  }

  /** psnr: inside the mask; knownMaxChange: max |output − target| outside it; coverage: the masks' share of the pixels. */
  result(): { psnr: number; knownMaxChange: number; coverage: number } {
    if (!this.total) fail('score', 'no images were scored');
    return { psnr: this.values ? psnrOfMse(this.squares / this.values) : NaN, knownMaxChange: this.knownMax, coverage: this.filled / this.total };
  }
}
