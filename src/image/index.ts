/**
 * Host-side image tools on plain Float32Array batches (NCHW): metrics, resizing and the seeded
 * degradations the restoration and super-resolution models train on (docs/degradations.md).
 * Nothing here reads files, so it runs in browsers too.
 */
export { checkBatch, clampUnit, imageAt, type BatchShape, type ImageBatch } from './batch.js';
export { datasetBatch, pixelsToUnit, unitToPixels } from './range.js';
export { psnr, psnrPerImage } from './psnr.js';
export { ssim, ssimPerImage, SSIM_K1, SSIM_K2, SSIM_SIGMA, SSIM_WINDOW } from './ssim.js';
export { lumaBT601 } from './luma.js';
export { areaResize, bicubicResize, bicubicUpsample, boxDownsample, keysCubic } from './resize.js';
export { filter2d, type Kernel2d } from './convolve.js';
export type { RngOrSeed } from './rng-arg.js';
export * from './degrade/index.js';
