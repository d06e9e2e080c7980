/**
 * Latent diffusion (docs/diffusion.md, "Latent super-resolution"): the UNet denoises an
 * autoencoder's latents scaled to unit spread, and one model file carries both networks — the
 * UNet's parameters by their own names, the autoencoder's under `autoencoder.` — checked together
 * like any model file (names, shapes, the total, the memory budget).
 */
import { fail } from '../../engine/errors.js';
import type { Engine } from '../../engine/engine.js';
import type { NamedArray } from '../../io/safetensors.js';
import { autoencoderActivationBytes, autoencoderParamCount, autoencoderParamShapes } from '../autoencoder/shapes.js';
import type { LatentAutoencoder } from '../autoencoder/latent-autoencoder.js';
import type { Module } from '../../nn/module.js';
import { unetActivationBytes, unetParamCount, unetParamShapes } from '../unet/shapes.js';
import type { DiffusionModelConfig } from './schema.js';

/** Where a latent model file keeps the autoencoder's tensors. */
export const AUTOENCODER_PREFIX = 'autoencoder.';

/** Every tensor a diffusion model file must carry, by name: the UNet's, plus the autoencoder's under the prefix. */
export function diffusionParamShapes(config: DiffusionModelConfig): Map<string, number[]> {
  const out = unetParamShapes(config.unet);
  if (config.autoencoder) for (const [k, s] of autoencoderParamShapes(config.autoencoder.config)) out.set(AUTOENCODER_PREFIX + k, s);
  return out;
}

export function diffusionParamCount(config: DiffusionModelConfig): number {
  return unetParamCount(config.unet) + (config.autoencoder ? autoencoderParamCount(config.autoencoder.config) : 0);
}

/** One image's activations (upper estimates): the UNet's, plus the autoencoder's (decoding happens after sampling, but both may be alive). */
export function diffusionActivationBytes(config: DiffusionModelConfig): number {
  return unetActivationBytes(config.unet) + (config.autoencoder ? autoencoderActivationBytes(config.autoencoder.config) : 0);
}

/** A file's tensors split into the UNet's and the autoencoder's (prefix removed). */
export function splitTensors<T>(tensors: ReadonlyMap<string, T>): { unet: Map<string, T>; autoencoder: Map<string, T> } {
  const unet = new Map<string, T>(), autoencoder = new Map<string, T>();
  for (const [k, v] of tensors) {
    if (k.startsWith(AUTOENCODER_PREFIX)) autoencoder.set(k.slice(AUTOENCODER_PREFIX.length), v);
    else unet.set(k, v);
  }
  return { unet, autoencoder };
}

/** The UNet's weights (e.g. a checkpoint's EMA) and the autoencoder's, as one latent model file's tensors. */
export function withAutoencoderTensors(unet: ReadonlyMap<string, NamedArray>, autoencoder: ReadonlyMap<string, NamedArray>): Map<string, NamedArray> {
  const out = new Map(unet);
  for (const [k, v] of autoencoder) out.set(AUTOENCODER_PREFIX + k, v);
  return out;
}

/** An autoencoder's weights by name, read to the host (to store beside a UNet's). */
export async function autoencoderTensors(ae: Module): Promise<Map<string, NamedArray>> {
  const out = new Map<string, NamedArray>();
  for (const [name, p] of ae.namedParams()) out.set(name, { shape: [...p.shape], data: await p.value.data() });
  return out;
}

/**
 * Encodes images (n · C · H · W values in [−1, 1]) with the autoencoder, `batch` at a time;
 * returns the latents back to back (n · c · h · w). `onBatch(done, total)` after each batch.
 */
export async function encodeImages(ae: LatentAutoencoder, images: Float32Array, opts: { batch?: number; onBatch?: (done: number, total: number) => void } = {}): Promise<Float32Array> {
  const [C, H, W] = ae.imageShape, per = C * H * W;
  const [c, h, w] = ae.latentShape, lper = c * h * w;
  if (images.length % per) fail('encodeImages', `${images.length} values are not a whole number of ${C}×${H}×${W} images`);
  const n = images.length / per, batch = Math.max(1, Math.min(opts.batch ?? 100, n));
  const out = new Float32Array(n * lper);
  const engine: Engine = ae.engine;
  for (let start = 0; start < n; start += batch) {
    const count = Math.min(batch, n - start);
    const x = engine.tensor(images.subarray(start * per, (start + count) * per), [count, C, H, W]);
    try {
      const z = engine.noGrad(() => ae.encode(x));
      try {
        out.set((await z.data()).subarray(0, count * lper), start * lper);
      } finally {
        z.dispose();
      }
    } finally {
      x.dispose();
    }
    opts.onBatch?.(start + count, n);
  }
  return out;
}

/**
 * 1 / the standard deviation of all latent values (about their mean), the factor that brings
 * them to unit spread before diffusion (Rombach et al. 2022 use 1/σ of their VAE's latents, 0.18215).
 */
export function latentScaleOf(latents: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < latents.length; i++) sum += latents[i]!;
  const mean = sum / latents.length;
  let sq = 0;
  for (let i = 0; i < latents.length; i++) sq += (latents[i]! - mean) ** 2;
  const std = Math.sqrt(sq / latents.length);
  if (!(std > 0) || !Number.isFinite(std)) fail('latentScaleOf', `the latents' standard deviation is ${std}: the autoencoder maps every image to the same latent`);
  return 1 / std;
}

/** JSON with every object's keys sorted, so two configs compare equal whatever order their fields were written in. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, (x as Record<string, unknown>)[k]])) : x));
}
