/**
 * A diffusion model: a UNet that predicts the noise (or the velocity v), its noise schedule and the sampler defaults,
 * saved as one inflow model file of its own format (docs/model-files.md, docs/diffusion.md). The
 * file follows the flows' rules: the config is checked by a schema before anything is built, the
 * tensors must be exactly the UNet's parameters, checksums are verified, the weights must be finite
 * and the model must fit the memory budget.
 */
import { checkBudget, resolveMemoryBudget } from '../../engine/budget.js';
import type { Engine } from '../../engine/engine.js';
import { describeValue, fail } from '../../engine/errors.js';
import type { Tensor } from '../../engine/tensor.js';
import { asFileProblem, bytesArgument, checkTensors, formatEntry, loadFailure, readModelFile, requireEngine, type CheckedFileBytes, type ModelFileKind } from '../../io/model-bytes.js';
import { encodeSafetensors, type NamedArray } from '../../io/safetensors.js';
import { checkCount, checkOptions, CORRUPT } from '../guards.js';
import { buildAutoencoder, type Autoencoder } from '../autoencoder/autoencoder-bytes.js';
import { UNet } from '../unet/unet.js';
import { autoencoderTensors, canonicalJson, diffusionActivationBytes, diffusionParamCount, diffusionParamShapes, splitTensors, withAutoencoderTensors } from './latent.js';
import { asEpsilonModel, epsilonOf } from './prediction.js';
import { sampleLoop, type EpsilonModel, type ReplicaDenoiser } from './sampler.js';
import { noiseSchedule, type NoiseSchedule } from './schedule.js';
import { repaintLoop } from './repaint.js';
import { checkSampling, imageArg, SAMPLING_KEYS, type SamplingArgs } from './sample-args.js';
import { checkDiffusionConfig, type DiffusionModelConfig, type ImageConditioning, type PredictionKind } from './schema.js';

/** The `inflow.format` of a diffusion model file (flows use inflow-model-1). */
export const DIFFUSION_FORMAT = 'inflow-diffusion-1';
const FORMAT_KEY = 'inflow.format';
const CONFIG_KEY = 'inflow.config';

/** Options of DiffusionModel.sample (src/models/diffusion/sample-args.ts documents the shared ones). */
export interface DiffusionSampleOptions extends SamplingArgs {
  /**
   * This model's UNet replicated on threads — `DataParallel.create(model.unet, { threads })` from
   * the Node entry: every step's batch is split between the replicas, the images are the same bits.
   */
  replicas?: { readonly model: unknown; denoise: ReplicaDenoiser['denoise'] };
}

export interface InpaintOptions extends SamplingArgs {
  /** Positions each resampling jump climbs (default min(10, steps − 1)); must be below steps when resampling. */
  jumpLength?: number;
  /** Times each jump point is passed (r; default 10): r − 1 jumps back there. 1 = no resampling. */
  resampleCount?: number;
}

const INPAINT_KEYS = [...SAMPLING_KEYS, 'jumpLength', 'resampleCount'];
/** Largest resampleCount: r multiplies the denoiser calls, and past ~20 the paper saw no gain. */
export const MAX_RESAMPLE = 100;

/** A config with the sampler defaults filled in and everything checked; throws one line naming the field. */
export function resolveDiffusionConfig(config: unknown, op = 'DiffusionModel'): DiffusionModelConfig {
  const checked = checkDiffusionConfig(config);
  if (!checked.ok) fail(op, checked.problem);
  return checked.value;
}

/** The weights (UNet and autoencoder) plus `images` images' activations (with guidance, twice the batch) must fit the budget. */
function checkDiffusionBudget(op: string, config: DiffusionModelConfig, images: number, budget: number): void {
  const params = diffusionParamCount(config), act = diffusionActivationBytes(config);
  const bytes = 4 * params + images * act;
  if (bytes <= budget) return;
  const fits = Math.floor((budget - 4 * params) / act);
  const u = config.unet;
  const what = config.autoencoder ? `a latent diffusion model (UNet and autoencoder) of ${params.toLocaleString('en')} parameters` : `a UNet of ${params.toLocaleString('en')} parameters`;
  checkBudget(op, `${images} ${u.inChannels}×${u.imageSize}×${u.imageSize} images through ${what}${images > 1 ? ` (${fits >= 1 ? `at most ${fits} fit` : 'not even one fits'})` : ''}`,
    bytes, budget);
}

export class DiffusionModel {
  readonly unet: UNet;
  readonly schedule: NoiseSchedule;
  readonly config: DiffusionModelConfig;
  /** A latent model's autoencoder (config.autoencoder), else null: samples are its decoded latents. */
  readonly autoencoder: Autoencoder | null;
  private prepared: Promise<void> | null = null;

  /**
   * Builds the UNet with fresh weights (seeded); the config is checked first, and the model with one
   * image must fit the engine's budget. A latent model builds its autoencoder from config.autoencoder
   * too (fresh weights), or takes `autoencoder`, a trained one with exactly that config, and owns it.
   */
  constructor(readonly engine: Engine, config: DiffusionModelConfig, opts: { seed?: number; autoencoder?: Autoencoder } = {}) {
    if (!engine || typeof engine.tensor !== 'function') fail('DiffusionModel', 'needs an engine as its first argument');
    this.config = resolveDiffusionConfig(config);
    checkDiffusionBudget('DiffusionModel', this.config, 1, engine.memoryBudget);
    const entry = this.config.autoencoder;
    if (opts.autoencoder !== undefined) {
      if (!entry) fail('DiffusionModel', 'an autoencoder was given but the config has no autoencoder entry');
      if (opts.autoencoder.engine !== engine) fail('DiffusionModel', 'the autoencoder lives on another engine');
      if (canonicalJson(opts.autoencoder.config) !== canonicalJson(entry.config))
        fail('DiffusionModel', "the autoencoder's config differs from config.autoencoder.config");
    }
    this.schedule = noiseSchedule(this.config.schedule.kind, this.config.schedule.steps);
    this.unet = new UNet(engine, this.config.unet, { seed: opts.seed ?? 0 });
    this.autoencoder = entry ? opts.autoencoder ?? buildAutoencoder(engine, entry.config, { seed: opts.seed ?? 0 }) : null;
  }

  /**
   * Forms what the autoencoder computes on the host from its weights (the coupling autoencoder's
   * 1×1 inverses; a backend that reads asynchronously needs this before decoding). sample() calls
   * it; call it after loading to have a singular 1×1 weight refused at once. Nothing for a pixel model.
   */
  prepare(): Promise<void> {
    this.prepared ??= this.autoencoder ? this.autoencoder.prepare() : Promise.resolve();
    return this.prepared;
  }

  /** x = latentScale · encode(image) for a latent model (1 for a pixel model). */
  get latentScale(): number { return this.config.autoencoder?.latentScale ?? 1; }

  /** The image condition (channels and task) of an image-conditioned model, else null. */
  get conditioning(): ImageConditioning | null { return this.config.conditioning ?? null; }

  /** [c, H, W] of the image condition sample and inpaint take, else null. */
  get condShape(): [number, number, number] | null {
    const u = this.config.unet;
    return u.condChannels ? [u.condChannels, u.imageSize, u.imageSize] : null;
  }

  /** What the UNet predicts (config.prediction; absent in older files: ε). */
  get prediction(): PredictionKind { return this.config.prediction ?? 'epsilon'; }

  /** The UNet as the samplers see it: ε̂ = denoiser.forward(x_t, t, …), whatever the UNet predicts. */
  get denoiser(): EpsilonModel { return asEpsilonModel(this.unet, this.schedule, this.prediction); }

  /** Classes of a class-conditional model (0: unconditional). */
  get classes(): number { return this.config.unet.classes; }

  /** [C, H, W] of a sample: the autoencoder's image for a latent model, else what the UNet denoises. */
  get imageShape(): [number, number, number] {
    return this.autoencoder ? this.autoencoder.imageShape : this.latentShape;
  }

  /** [C, H, W] of what the UNet denoises (a latent model's scaled latents; a pixel model's images). */
  get latentShape(): [number, number, number] {
    const u = this.config.unet;
    return [u.inChannels, u.imageSize, u.imageSize];
  }

  /** The UNet's parameters plus the autoencoder's. */
  paramCount(): number { return this.unet.paramCount() + (this.autoencoder?.paramCount() ?? 0); }

  /**
   * n images from the reverse process (src/models/diffusion/sampler.ts): [n, C, H, W], pixels
   * 0…255 by default. Every option is checked before anything runs, and the batch (doubled when
   * guidance needs both passes) against the memory budget.
   */
  async sample(n: number, opts: DiffusionSampleOptions = {}): Promise<Tensor> {
    const op = 'DiffusionModel.sample';
    if (this.unet.isDisposed) fail(op, 'the DiffusionModel was disposed: its weights are freed (build or load it again)');
    const count = checkCount(op, 'n', n);
    const given = checkOptions<DiffusionSampleOptions>(op, opts, [...SAMPLING_KEYS, 'replicas']), r = given.replicas;
    if (r !== undefined && (r === null || typeof r !== 'object' || r.model !== this.unet || typeof r.denoise !== 'function'))
      fail(op, 'replicas must be DataParallel.create(model.unet, …) of this very model');
    const o = await checkSampling(op, this.config, count, given);
    checkDiffusionBudget(op, this.config, o.batch, this.engine.memoryBudget);
    const shape = [count, ...this.latentShape] as [number, number, number, number];
    // Clamping x̂_0 to [−1, 1] assumes pixels; latents are not confined to it.
    const clip = o.clip ?? !this.autoencoder;
    const replicas: ReplicaDenoiser | undefined = r && {
      denoise: (x, dims, t, extra) => r.denoise(x, dims, t, extra),
      toEpsilon: (x, y, t) => epsilonOf(this.engine, this.schedule, this.prediction, x, y, t),
    };
    const x = await sampleLoop(this.denoiser, this.schedule, shape, { ...o, clip, nullLabel: this.classes, ...(replicas ? { replicas } : {}) });
    if (!this.autoencoder) return this.finish(op, x, shape, o.output);
    return this.finish(op, await this.decodeLatents(op, x, shape), [count, ...this.imageShape], o.output);
  }

  /** Scaled latents (what the UNet denoises, float64 on the host) → images in [−1, 1]: decode(x / latentScale). */
  private async decodeLatents(op: string, x: Float64Array, shape: [number, number, number, number]): Promise<Float64Array> {
    const ae = this.autoencoder!;
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) fail(op, `the model produced non-finite latents: ${CORRUPT}`);
    await this.prepare();
    const inv = 1 / this.latentScale;
    const z = this.engine.tensor(Float32Array.from(x, (v) => v * inv), shape);
    try {
      const img = this.engine.noGrad(() => ae.decode(z));
      try {
        return (await img.data64()).slice(0, img.size);
      } finally {
        img.dispose();
      }
    } finally {
      z.dispose();
    }
  }

  /**
   * RePaint inpainting (src/models/diffusion/repaint.ts): fills the pixels where `mask` is 1 so
   * that they agree with the rest of `image`, which the result keeps exactly (as float32). image:
   * [n, C, H, W] in the model's data units [−1, 1] (a Tensor, or n · C · H · W numbers); mask:
   * [n, 1, H, W] (one mask for all channels) or [n, C, H, W], every value 0 (keep) or 1 (fill). Works
   * with any model: labels and cond as for sample. method defaults to 'ddpm' (RePaint's stochastic
   * steps); jumpLength and resampleCount set the resampling (InpaintOptions).
   */
  async inpaint(image: Tensor | ArrayLike<number>, mask: Tensor | ArrayLike<number>, opts: InpaintOptions = {}): Promise<Tensor> {
    const op = 'DiffusionModel.inpaint';
    if (this.unet.isDisposed) fail(op, 'the DiffusionModel was disposed: its weights are freed (build or load it again)');
    if (this.autoencoder) fail(op, "this is a latent model (its UNet denoises autoencoder latents): RePaint keeps known pixels and needs a model of the pixels themselves");
    const [C, H, W] = this.imageShape;
    const known = await imageArg(op, 'image', image, null, [C], H, W);
    const count = known.shape[0];
    const given = checkOptions<InpaintOptions>(op, opts, INPAINT_KEYS);
    const o = await checkSampling(op, this.config, count, given, 'ddpm');
    if (o.clip !== false)
      for (let i = 0; i < known.values.length; i++)
        if (!(Math.abs(known.values[i]!) <= 1)) fail(op, `image[${i}] = ${known.values[i]} is outside [-1, 1], the model's data units (pixel p is p / 127.5 − 1)`);
    const m = await imageArg(op, 'mask', mask, count, C === 1 ? [1] : [1, C], H, W);
    const fill = new Uint8Array(count * C * H * W), plane = H * W;
    for (let i = 0; i < m.values.length; i++) {
      const v = m.values[i]!;
      if (v !== 0 && v !== 1) fail(op, `mask[${i}] = ${v} must be 0 (keep) or 1 (fill)`);
    }
    for (let k = 0; k < fill.length; k++) {
      const img = Math.floor(k / (C * plane)), c = Math.floor(k / plane) % C;
      fill[k] = m.values[(img * m.shape[1] + (m.shape[1] === 1 ? 0 : c)) * plane + (k % plane)]!;
    }
    const jumpLength = given.jumpLength ?? Math.max(1, Math.min(10, o.steps - 1));
    const resampleCount = given.resampleCount ?? 10;
    if (typeof resampleCount !== 'number' || !Number.isInteger(resampleCount) || resampleCount < 1 || resampleCount > MAX_RESAMPLE)
      fail(op, `resampleCount = ${describeValue(resampleCount)} must be an integer from 1 to ${MAX_RESAMPLE} (1: no resampling)`);
    if (typeof jumpLength !== 'number' || !Number.isInteger(jumpLength) || jumpLength < 1 || jumpLength > o.steps)
      fail(op, `jumpLength = ${describeValue(jumpLength)} must be an integer from 1 to steps (${o.steps})`);
    if (given.jumpLength !== undefined && resampleCount > 1 && jumpLength >= o.steps)
      fail(op, `jumpLength = ${jumpLength} must be below steps (${o.steps}) to resample: a jump climbs that many steps from at least the first`);
    checkDiffusionBudget(op, this.config, o.batch, this.engine.memoryBudget);
    const shape = [count, C, H, W] as [number, number, number, number];
    const x = await repaintLoop(this.denoiser, this.schedule, shape, { ...o, nullLabel: this.classes, known: known.values, fill, jumpLength, resampleCount });
    return this.finish(op, x, shape, o.output);
  }

  /** Refuses non-finite results, converts to pixels if asked, and uploads. */
  private finish(op: string, x: Float64Array, shape: [number, number, number, number], output: 'pixels' | 'data'): Tensor {
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) fail(op, `the model produced non-finite values: ${CORRUPT}`);
    if (output === 'pixels') for (let i = 0; i < x.length; i++) x[i] = Math.min(255, Math.max(0, (x[i]! + 1) * 127.5));
    return this.engine.tensor(x, shape);
  }

  /** The model file's bytes: the UNet's weights by name (a latent model's autoencoder's under `autoencoder.`), the config and checksums in the metadata. */
  async toBytes(): Promise<Uint8Array> {
    const tensors = new Map<string, NamedArray>();
    for (const [name, p] of this.unet.namedParams()) tensors.set(name, { shape: [...p.shape], data: await p.value.data() });
    return diffusionBytes(this.config, this.autoencoder ? withAutoencoderTensors(tensors, await autoencoderTensors(this.autoencoder)) : tensors);
  }

  dispose(): void {
    this.unet.dispose();
    this.autoencoder?.dispose();
  }
}

/** Encodes a diffusion model file from a config and the UNet's weights (e.g. the EMA weights of a checkpoint). */
export function diffusionBytes(config: DiffusionModelConfig, tensors: ReadonlyMap<string, NamedArray>): Uint8Array {
  return encodeSafetensors(tensors, { [FORMAT_KEY]: DIFFUSION_FORMAT, [CONFIG_KEY]: JSON.stringify(config) });
}

export type CheckedDiffusionBytes = CheckedFileBytes<DiffusionModelConfig>;

const DIFFUSION_FILE: ModelFileKind<DiffusionModelConfig> = {
  format: DIFFUSION_FORMAT,
  otherFormat: (found) => `not an inflow diffusion model file (${formatEntry(found)})${found === 'inflow-model-1' ? ' (a flow model: use `inflow sample`)' : ''}`,
  check: (json) => checkDiffusionConfig(json),
};

/**
 * Every check of a diffusion model file that needs no engine, in the flows' order: the container
 * (coverage, checksums, finite weights), the format and config (schema), the tensors against the
 * UNet's parameters, the memory budget with one image.
 */
export function checkDiffusionBytes(bytes: Uint8Array, name: string, opts: { memoryBudget?: number; allowNonFinite?: boolean } = {}): CheckedDiffusionBytes {
  const { config, tensors, checksummed } = readModelFile(bytes, name, DIFFUSION_FILE, { finite: !opts.allowNonFinite });
  const params = diffusionParamCount(config);
  checkTensors(name, tensors, diffusionParamShapes(config), params, config.autoencoder ? 'latent diffusion' : 'diffusion');
  asFileProblem(() => checkDiffusionBudget(name, config, 1, opts.memoryBudget ?? resolveMemoryBudget()));
  return { config, tensors, params, checksummed };
}

/** Checks a diffusion model file's bytes and rebuilds the model on `engine`. */
export function diffusionModelFromBytes(bytes: Uint8Array | ArrayBuffer, opts: { engine: Engine; name?: string; allowNonFinite?: boolean }): DiffusionModel {
  requireEngine(opts, 'loadDiffusionModel', 'needs { engine }');
  const name = opts.name ?? 'model bytes';
  const { config, tensors } = checkDiffusionBytes(bytesArgument(bytes, name), name,
    { memoryBudget: opts.engine.memoryBudget, ...(opts.allowNonFinite ? { allowNonFinite: true } : {}) });
  const model = new DiffusionModel(opts.engine, config);
  const parts = splitTensors(tensors);
  try {
    model.unet.loadStateDict(parts.unet);
    model.autoencoder?.loadStateDict(parts.autoencoder);
  } catch (e) {
    throw loadFailure(name, model, e);
  }
  return model;
}
