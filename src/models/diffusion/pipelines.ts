/**
 * The image tasks as one call each, pixels in and pixels out (docs/pipelines.md): `upscale` with a
 * super-resolution model, `restore` with a restoration model, `inpaint` with a mask-conditioned
 * inpainting model or, through RePaint, with any pixel model of the images alone. Each builds the
 * model's condition with the functions its trainer used (tasks.ts, inpaint-cond.ts), so a model
 * sees at run time what it saw in training. Nothing here reads files: it runs in Node and browsers.
 */
import { checkSeed } from '../../data/rng.js';
import { describeValue, fail } from '../../engine/errors.js';
import type { ImageBatch } from '../../image/batch.js';
import { pixelsToUnit, unitToPixels } from '../../image/range.js';
import { checkEnum, checkOptions } from '../guards.js';
import { MAX_RESAMPLE, type DiffusionModel } from './diffusion-model.js';
import { maskedImageCond } from './inpaint-cond.js';
import type { SamplerKind } from './schema.js';
import { lowResolution, superResolutionCond, superResolutionScale } from './tasks.js';

/** Images as 0…255 pixels, planar N × C × H × W (C = 1 grey or 3 RGB at the input). */
export interface PixelImages {
  data: ArrayLike<number>;
  shape: readonly [n: number, channels: number, height: number, width: number];
}

/** What the pipelines return: 0…255 pixels (float, clamped, not rounded), in the model's channels. */
export interface PixelResult {
  data: Float32Array;
  shape: [n: number, channels: number, height: number, width: number];
}

export interface PipelineOptions {
  /** Denoiser steps (default: the model file's sampler.steps). */
  steps?: number;
  /** Seed (0 … 2³² − 1) of the starting noise and the steps' noise (default 0): the same seed, the same output. */
  seed?: number;
  /** DDIM's noise scale in [0, 1] (default: the file's). */
  eta?: number;
  /** 'ddim' or 'ddpm' (default: the file's; RePaint defaults to 'ddpm', as in the paper). */
  method?: SamplerKind;
  /** A class-conditional model only: the class of each image (cycled). Without labels such a model runs unconditionally (guidance 0). */
  labels?: ArrayLike<number>;
  /** Classifier-free guidance scale (default: the file's when labels are given, else 0). */
  guidance?: number;
  /** Progress: (denoiser calls done, calls in all). */
  onStep?: (done: number, total: number) => void;
}

export interface InpaintPipelineOptions extends PipelineOptions {
  /** RePaint only: positions each resampling jump climbs (default min(10, steps − 1)). */
  jumpLength?: number;
  /** RePaint only: passes through each jump point (default 10; 1 = no resampling). */
  resampleCount?: number;
}

export interface InpaintResult extends PixelResult {
  /** How the region was filled: by a model trained for it, or by RePaint with a model of the images alone. */
  method: 'mask-conditioned' | 'repaint';
}

/** What the pipelines need of a model (a DiffusionModel; its methods do the sampling). */
export type PipelineModel = Pick<DiffusionModel, 'config' | 'imageShape' | 'condShape' | 'autoencoder' | 'classes' | 'sample' | 'inpaint'>;

const SAMPLE_KEYS = ['steps', 'seed', 'eta', 'method', 'labels', 'guidance', 'onStep'];
const INPAINT_KEYS = [...SAMPLE_KEYS, 'jumpLength', 'resampleCount'];

/** Pixels at or above this in a mask PNG (white) are filled; below (black) are kept. */
export const MASK_THRESHOLD = 128;

/**
 * A low-resolution image for a super-resolution model, 0…255 pixels in and out: each scale × scale
 * block averaged, as the trainer made its inputs (tasks.ts lowResolution). The image must be the
 * model's output size (e.g. 28×28 for a 28×28 ×4 model; the result is 7×7).
 */
export function lowResolutionFor(model: PipelineModel, image: PixelImages): PixelResult {
  const op = 'lowResolutionFor';
  checkModel(op, model);
  const scale = superResolutionScale(op, model.config);
  const [C, H, W] = model.imageShape;
  const img = checkPixels(op, 'image', image);
  if (img.shape[2] !== H || img.shape[3] !== W)
    fail(op, `the image is ${img.shape[3]}×${img.shape[2]} pixels; this ×${scale} model makes ${W}×${H} images (the low-resolution one is ${W / scale}×${H / scale})`);
  const lr = lowResolution(toUnit(op, img, C), scale);
  return { data: unitToPixels(lr), shape: [...lr.shape] };
}

/**
 * Super-resolution: `lowRes` must be exactly the model's low-resolution size (its image side / the
 * factor, e.g. 7×7 for a 28×28 ×4 model). The condition is made as in training (the LR image
 * bicubic-resized to the side the UNet denoises; a latent model whose latent has the LR side takes
 * the LR image itself), the model samples (a latent model decodes), and the result is its image size.
 */
export async function upscale(model: PipelineModel, lowRes: PixelImages, opts: PipelineOptions = {}): Promise<PixelResult> {
  const op = 'upscale';
  checkModel(op, model);
  const scale = superResolutionScale(op, model.config);
  const [C, H, W] = model.imageShape;
  const img = checkPixels(op, 'image', lowRes);
  const [n, , h, w] = img.shape;
  if (h * scale !== H || w * scale !== W)
    fail(op, `the image is ${w}×${h} pixels; this ×${scale} model takes ${W / scale}×${H / scale} images and makes ${W}×${H}`);
  const o = checkPipelineOptions(op, model, opts, SAMPLE_KEYS);
  const [cc, side] = model.condShape!;
  if (cc !== C) fail(op, `the model's condition has ${cc} channels but its images ${C}: not a super-resolution model this pipeline knows`);
  const cond = superResolutionCond(toUnit(op, img, C), side);
  return sampleWith(model, n, cond, o);
}

/**
 * Restoration: `image` (degraded) must be the model's image size; it is the model's condition as it
 * was in training (the degraded image itself, in the model's units).
 */
export async function restore(model: PipelineModel, image: PixelImages, opts: PipelineOptions = {}): Promise<PixelResult> {
  const op = 'restore';
  checkModel(op, model);
  const c = model.config.conditioning;
  if (c?.task !== 'restoration') fail(op, `the model is not a restoration model (${taskOf(model)})`);
  const [C, H, W] = model.imageShape;
  const img = checkPixels(op, 'image', image);
  const [n, , h, w] = img.shape;
  if (h !== H || w !== W) fail(op, `the image is ${w}×${h} pixels; the model restores ${W}×${H} images`);
  const o = checkPipelineOptions(op, model, opts, SAMPLE_KEYS);
  const [cc, ch, cw] = model.condShape!;
  if (cc !== C || ch !== H || cw !== W) fail(op, `the model's condition is ${cc}×${ch}×${cw}, not the ${C}×${H}×${W} image it restores (a latent restoration model is not supported)`);
  return sampleWith(model, n, toUnit(op, img, C), o);
}

/**
 * Inpainting: fills the pixels where `mask` is white (≥ 128) and returns the known pixels exactly as
 * given (in the model's channels). mask: [n or 1, 1, H, W] pixels, the image's size. A model trained
 * for it (task 'inpainting') gets concat(masked image, mask) as its condition (maskedImageCond);
 * any other pixel model without an image condition (unconditional or class-conditional) fills by
 * RePaint (DiffusionModel.inpaint, with jumpLength and resampleCount).
 */
export async function inpaint(model: PipelineModel, image: PixelImages, mask: PixelImages, opts: InpaintPipelineOptions = {}): Promise<InpaintResult> {
  const op = 'inpaint';
  checkModel(op, model);
  const [C, H, W] = model.imageShape;
  const img = checkPixels(op, 'image', image);
  const [n, , h, w] = img.shape;
  if (h !== H || w !== W) fail(op, `the image is ${w}×${h} pixels; the model fills ${W}×${H} images`);
  const fill = maskValues(op, mask, n, h, w);
  const task = model.config.conditioning?.task;
  const conditioned = task === 'inpainting';
  if (!conditioned && task) fail(op, `the model is a ${task} model: inpainting needs a mask-conditioned inpainting model, or for RePaint a model of the images alone (unconditional or class-conditional)`);
  if (!conditioned && model.autoencoder) fail(op, 'the model is a latent model: RePaint keeps known pixels and needs a model of the pixels themselves');
  const given = checkOptions<InpaintPipelineOptions>(op, opts, INPAINT_KEYS);
  if (conditioned && (given.jumpLength !== undefined || given.resampleCount !== undefined))
    fail(op, 'jumpLength and resampleCount are RePaint\'s; this model is mask-conditioned (trained for inpainting) and fills in one pass');
  const o = checkPipelineOptions(op, model, given, INPAINT_KEYS);
  const px = toChannels(op, img, C);
  const unit = pixelsToUnit(px.data, px.shape);
  let out: PixelResult;
  if (conditioned) {
    const [cc, ch, cw] = model.condShape!;
    if (cc !== C + 1 || ch !== H || cw !== W) fail(op, `a mask-conditioned model of ${C}×${H}×${W} images takes a ${C + 1}×${H}×${W} condition (image and mask), this one ${cc}×${ch}×${cw}`);
    const cond = maskedImageCond(unit.data, fill, [n, C, H, W]);
    out = await sampleWith(model, n, { data: cond, shape: [n, C + 1, H, W] }, o);
  } else {
    const r = checkRepaint(op, given, o.steps ?? model.config.sampler.steps);
    const x = await model.inpaint(unit.data, fill, { ...o, ...r, output: 'pixels' });
    try {
      out = { data: (await x.data()).slice(0, x.size), shape: [n, C, H, W] };
    } finally {
      x.dispose();
    }
  }
  keepKnown(out.data, px.data, fill, n, C, H * W);
  return { ...out, method: conditioned ? 'mask-conditioned' : 'repaint' };
}

/**
 * Pixel images converted to the model's channels: grey → colour repeats the grey level; colour →
 * grey takes the luma Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601 weights, full range).
 */
export function toChannels(op: string, img: PixelImages, channels: number): PixelImages {
  const [n, c, h, w] = img.shape, plane = h * w;
  if (c === channels) return img;
  const out = new Float32Array(n * channels * plane);
  if (c === 1) {
    for (let b = 0; b < n; b++)
      for (let k = 0; k < channels; k++)
        for (let p = 0; p < plane; p++) out[(b * channels + k) * plane + p] = img.data[b * plane + p]!;
  } else if (c === 3 && channels === 1) {
    for (let b = 0; b < n; b++)
      for (let p = 0; p < plane; p++) {
        const o = b * 3 * plane + p;
        out[b * plane + p] = 0.299 * img.data[o]! + 0.587 * img.data[o + plane]! + 0.114 * img.data[o + 2 * plane]!;
      }
  } else fail(op, `the image has ${c} channels; the model takes ${channels} (grey images, 1 channel, and RGB, 3, are converted)`);
  return { data: out, shape: [n, channels, h, w] };
}

// ---- checks ---------------------------------------------------------------------------------

function checkModel(op: string, model: unknown): void {
  const m = model as Partial<PipelineModel> | null;
  if (!m || typeof m !== 'object' || typeof m.sample !== 'function' || !m.config || !Array.isArray(m.imageShape))
    fail(op, `model = ${describeValue(model)} must be a DiffusionModel (load one with loadDiffusionModel or models.diffusionModelFromBytes)`);
}

function taskOf(model: PipelineModel): string {
  const c = model.config.conditioning;
  if (c) return `it is a ${c.task} model`;
  return model.classes ? 'it is a class-conditional generation model' : 'it is an unconditional generation model';
}

/** A batch of 0…255 pixels: four positive sizes, 1 or 3 channels, that many finite values in range. */
function checkPixels(op: string, name: string, v: unknown): PixelImages {
  const b = v as Partial<PixelImages> | null;
  const isArray = (x: unknown) => Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));
  if (!b || typeof b !== 'object' || !isArray(b.data) || !Array.isArray(b.shape))
    fail(op, `${name} = ${describeValue(v)} must be { data: pixels 0…255, shape: [N, C, H, W] }`);
  const s = b.shape as readonly unknown[];
  if (s.length !== 4 || !s.every((d) => Number.isSafeInteger(d) && (d as number) > 0))
    fail(op, `${name} shape ${describeValue(s)} must be four positive integers [N, C, H, W]`);
  const [n, c, h, w] = s as [number, number, number, number];
  if (c !== 1 && c !== 3) fail(op, `${name} has ${c} channels; give grey (1) or RGB (3) pixels`);
  const data = b.data as ArrayLike<number>;
  if (data.length !== n * c * h * w) fail(op, `${name} has ${data.length} values, but shape [${n}, ${c}, ${h}, ${w}] needs ${n * c * h * w}`);
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (!(x >= 0 && x <= 255)) fail(op, `${name}[${i}] = ${describeValue(x)} is not a pixel value from 0 to 255`);
  }
  return { data, shape: [n, c, h, w] };
}

/** The mask as fill flags (n · H · W, 1 = fill), from [n or 1, 1, H, W] pixels; it must mark at least one pixel. */
function maskValues(op: string, mask: unknown, n: number, H: number, W: number): Float32Array {
  const m = mask as Partial<PixelImages> | null;
  if (!m || typeof m !== 'object' || !Array.isArray(m.shape) || m.data === undefined)
    fail(op, `mask = ${describeValue(mask)} must be { data: pixels 0…255 (white = fill), shape: [N, 1, H, W] }`);
  const s = m.shape as readonly number[];
  if (s.length === 4 && (s[2] !== H || s[3] !== W)) fail(op, `the mask is ${s[3]}×${s[2]} pixels, the image ${W}×${H}`);
  if (s.length !== 4 || s[1] !== 1 || (s[0] !== 1 && s[0] !== n))
    fail(op, `mask shape ${describeValue(s)} must be [${n === 1 ? 1 : `1 or ${n}`}, 1, ${H}, ${W}] (one grey mask per image, or one for all)`);
  const px = checkPixels(op, 'mask', mask), plane = H * W;
  const out = new Float32Array(n * plane);
  let filled = 0;
  for (let b = 0; b < n; b++)
    for (let p = 0; p < plane; p++) {
      const v = px.data[(px.shape[0] === 1 ? 0 : b) * plane + p]! >= MASK_THRESHOLD ? 1 : 0;
      out[b * plane + p] = v;
      filled += v;
    }
  if (!filled) fail(op, `the mask marks no pixel to fill: white (≥ ${MASK_THRESHOLD}) is filled and black kept (a 0/1 mask must be scaled to 0/255)`);
  return out;
}

interface SamplingChoice {
  steps?: number;
  seed: number;
  eta?: number;
  method?: SamplerKind;
  labels?: ArrayLike<number>;
  guidance?: number;
  onStep?: (done: number, total: number) => void;
}

function checkPipelineOptions(op: string, model: PipelineModel, opts: unknown, keys: readonly string[]): SamplingChoice {
  const o = checkOptions<InpaintPipelineOptions>(op, opts, keys);
  const T = model.config.schedule.steps;
  if (o.steps !== undefined && (typeof o.steps !== 'number' || !Number.isInteger(o.steps) || o.steps < 1 || o.steps > T))
    fail(op, `steps = ${describeValue(o.steps)} must be an integer from 1 to ${T} (the model's timesteps)`);
  if (o.eta !== undefined && (typeof o.eta !== 'number' || !(o.eta >= 0 && o.eta <= 1)))
    fail(op, `eta = ${describeValue(o.eta)} must be a number from 0 to 1`);
  const method = checkEnum(op, 'method', o.method, ['ddim', 'ddpm']);
  if (o.onStep !== undefined && typeof o.onStep !== 'function') fail(op, `onStep = ${describeValue(o.onStep)} must be a function`);
  if (!model.classes && (o.labels !== undefined || o.guidance !== undefined))
    fail(op, `${o.labels !== undefined ? 'labels' : 'guidance'} was given but the model is not class-conditional`);
  // Without labels a class-conditional model runs unconditionally: ε̂(x, ∅) is what label dropout taught it for "any class".
  const guidance = model.classes ? o.guidance ?? (o.labels === undefined ? 0 : undefined) : undefined;
  return {
    seed: checkSeed(op, o.seed ?? 0),
    ...(o.steps !== undefined ? { steps: o.steps } : {}), ...(o.eta !== undefined ? { eta: o.eta } : {}), ...(method ? { method } : {}),
    ...(o.labels !== undefined ? { labels: o.labels } : {}), ...(guidance !== undefined ? { guidance } : {}), ...(o.onStep ? { onStep: o.onStep } : {}),
  };
}

function checkRepaint(op: string, o: InpaintPipelineOptions, steps: number): { jumpLength?: number; resampleCount?: number } {
  const r = o.resampleCount, j = o.jumpLength;
  if (r !== undefined && (typeof r !== 'number' || !Number.isInteger(r) || r < 1 || r > MAX_RESAMPLE))
    fail(op, `resampleCount = ${describeValue(r)} must be an integer from 1 to ${MAX_RESAMPLE} (1: no resampling)`);
  if (j !== undefined && (typeof j !== 'number' || !Number.isInteger(j) || j < 1 || j > steps))
    fail(op, `jumpLength = ${describeValue(j)} must be an integer from 1 to steps (${steps})`);
  if (j !== undefined && (r ?? 10) > 1 && j >= steps)
    fail(op, `jumpLength = ${j} must be below steps (${steps}) to resample: a jump climbs that many steps from at least the first`);
  return { ...(j !== undefined ? { jumpLength: j } : {}), ...(r !== undefined ? { resampleCount: r } : {}) };
}

// ---- conversions ----------------------------------------------------------------------------

/** Pixels in the model's channels → the model's units [−1, 1] (p / 127.5 − 1). */
function toUnit(op: string, img: PixelImages, channels: number): ImageBatch {
  const c = toChannels(op, img, channels);
  return pixelsToUnit(c.data, c.shape);
}

/** The known pixels as given: a mask-conditioned model only learns to keep them, and RePaint keeps them up to float32 rounding. */
function keepKnown(out: Float32Array, given: ArrayLike<number>, fill: Float32Array, n: number, C: number, plane: number): void {
  for (let b = 0; b < n; b++)
    for (let c = 0; c < C; c++)
      for (let p = 0; p < plane; p++) if (!fill[b * plane + p]) out[(b * C + c) * plane + p] = given[(b * C + c) * plane + p]!;
}

async function sampleWith(model: PipelineModel, n: number, cond: ImageBatch, o: SamplingChoice): Promise<PixelResult> {
  const x = await model.sample(n, { ...o, cond: cond.data, output: 'pixels' });
  try {
    const [C, H, W] = model.imageShape;
    return { data: (await x.data()).slice(0, x.size), shape: [n, C, H, W] };
  } finally {
    x.dispose();
  }
}
