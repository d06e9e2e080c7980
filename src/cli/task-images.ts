/**
 * What `inflow upscale | restore | inpaint` share: one image file in (PNG, JPEG or WebP, at its own
 * size), one PNG out, the bundled default models, and the library's messages as one-line errors.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type Metadata } from 'sharp';
import type { Engine } from '../engine/engine.js';
import { DEFAULT_MAX_IMAGE_PIXELS } from '../data/image-folder.js';
import { fsReason, kindOf, writeFileAtomic } from '../io/atomic-write.js';
import type { DiffusionModel } from '../models/diffusion/diffusion-model.js';
import type { PixelImages } from '../models/diffusion/pipelines.js';
import { openDiffusionModel, StepBar } from './commands/diffuse-shared.js';
import { UserError } from './user-error.js';

const IMAGE_FORMATS = new Set(['png', 'jpeg', 'webp']);

/**
 * An image file as 0…255 pixels [1, C, H, W] at its own size: C = 1 for a grey file (with or
 * without alpha), 3 for a colour one; alpha is dropped. The pipelines convert to the model's
 * channels. `what` names the file in messages (e.g. '--mask mask.png').
 */
export async function readImageFile(path: string, what = path): Promise<PixelImages> {
  const meta = await probeImage(path, what);
  const { width = 0, height = 0 } = meta;
  const grey = (meta.channels ?? 3) <= 2;
  let img = sharp(path, { failOn: 'error', limitInputPixels: DEFAULT_MAX_IMAGE_PIXELS }).removeAlpha();
  img = grey ? img.grayscale() : img.toColourspace('srgb');
  let data: Buffer, channels: number;
  try {
    ({ data, info: { channels } } = await img.raw().toBuffer({ resolveWithObject: true }));
  } catch {
    throw new UserError(`${what}: the ${meta.format!.toUpperCase()} image is corrupt or truncated`);
  }
  const C = grey ? 1 : 3;
  if (channels !== C) throw new UserError(`${what}: the image decoded to ${channels} channels, expected ${C}`);
  // sharp gives interleaved HWC; the pipelines take planar CHW.
  const chw = new Uint8Array(C * width * height), plane = width * height;
  for (let p = 0; p < plane; p++) for (let c = 0; c < C; c++) chw[c * plane + p] = data[p * C + c]!;
  return { data: chw, shape: [1, C, height, width] };
}

/**
 * An image file's header, checked before anything is decoded: a readable regular file, PNG, JPEG
 * or WebP, and at most DEFAULT_MAX_IMAGE_PIXELS pixels by its stated size.
 */
export async function probeImage(path: string, what = path): Promise<Metadata> {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new UserError(`${what}: cannot read this image (${fsReason(e)})`);
  }
  if (!st.isFile()) throw new UserError(`${what}: is ${kindOf(st)}, not an image file`);
  let meta: Metadata;
  try {
    meta = await sharp(path, { failOn: 'error', limitInputPixels: false }).metadata();
  } catch {
    throw new UserError(`${what}: not a readable PNG, JPEG or WebP image`);
  }
  if (!meta.format || !IMAGE_FORMATS.has(meta.format)) throw new UserError(`${what}: the file is ${meta.format ?? 'of an unknown format'}, not PNG, JPEG or WebP`);
  const { width = 0, height = 0 } = meta;
  if (width * height > DEFAULT_MAX_IMAGE_PIXELS) throw new UserError(`${what}: ${width}×${height} pixels is over the ${DEFAULT_MAX_IMAGE_PIXELS} pixels an input image may have`);
  return meta;
}

/** One image (0…255 floats, [1, C, H, W], C = 1 or 3) as an 8-bit PNG of exactly H × W pixels. */
export async function writePng(path: string, pixels: ArrayLike<number>, shape: readonly [number, number, number, number]): Promise<void> {
  const [, C, H, W] = shape, plane = H * W;
  const hwc = new Uint8Array(plane * C);
  for (let c = 0; c < C; c++) for (let p = 0; p < plane; p++) hwc[p * C + c] = Math.max(0, Math.min(255, Math.round(pixels[c * plane + p]!)));
  let img = sharp(hwc, { raw: { width: W, height: H, channels: C as 1 | 3 } });
  // Without this sharp writes one channel as an RGB PNG.
  if (C === 1) img = img.toColourspace('b-w');
  writeFileAtomic(path, new Uint8Array(await img.png().toBuffer()));
}

/** The output file when --out is not given: beside the input, `in.png` → `in-<suffix>.png`. */
export const defaultOut = (input: string, suffix: string): string =>
  join(dirname(input), `${basename(input, extname(input))}-${suffix}.png`);

/** A model file shipped in the package's models/ folder. */
export const bundledModel = (name: string): string => fileURLToPath(new URL(`../../models/${name}`, import.meta.url));

/**
 * The model file to open: --model, else the bundled one — which may not exist yet (it is trained
 * separately), and then the message says which kind of file to pass.
 */
export async function openTaskModel(given: string | undefined, bundled: string, kind: string, engine: () => Promise<Engine>): Promise<DiffusionModel> {
  if (given === undefined && !existsSync(bundled))
    throw new UserError(`no --model given and the bundled models/${basename(bundled)} is not in this installation: pass --model <file>, ${kind}`);
  return openDiffusionModel(given ?? bundled, await engine());
}

/** The model's conditioning task in words, for "X is a restoration model; upscale takes …". */
export function modelKind(model: DiffusionModel): string {
  const t = model.config.conditioning?.task;
  if (t) return `${model.autoencoder ? 'a latent ' : 'a '}${t} model`;
  return model.classes ? 'a class-conditional generation model' : 'an unconditional generation model';
}

/**
 * Runs a pipeline with a progress bar over the denoiser calls (its total comes with the first
 * call) and times it; the engine and model are freed whatever happens.
 */
export async function runWithProgress<T>(label: string, model: DiffusionModel, run: (onStep: (done: number, total: number) => void) => Promise<T>)
  : Promise<{ result: T; seconds: number; calls: number }> {
  let bar: StepBar | null = null, calls = 0;
  const t0 = performance.now();
  try {
    const result = await run((done, total) => {
      bar ??= new StepBar(label, total);
      bar.update(done);
      calls = total;
    });
    return { result, seconds: (performance.now() - t0) / 1000, calls };
  } finally {
    (bar as StepBar | null)?.end();
    const engine = model.engine;
    model.dispose();
    engine.dispose();
  }
}

/** A model the command cannot use: frees it and its engine, then the one-line reason. */
export function refuseModel(model: DiffusionModel, problem: string | false): void {
  if (!problem) return;
  const engine = model.engine;
  model.dispose();
  engine.dispose();
  throw new UserError(problem);
}
