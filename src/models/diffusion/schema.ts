/**
 * The config of a diffusion model file (the UNet, its noise schedule and the sampler defaults),
 * checked by one schema before anything is built, as the flows' configs are (src/models/schema.ts:
 * the same helpers, so messages read the same: `config unet.groups = 12 must divide …`).
 */
import * as z from 'zod/mini';
import { DEGRADATION_KINDS, type DegradationKind } from '../../image/degrade/degrade.js';
import { checkAutoencoderConfig, latentShapeOf, type AutoencoderConfig } from '../autoencoder/config.js';
import { check, int, LIMITS, missingOr, oneOf, strict, type Checked } from '../schema.js';
import type { UNetConfig } from '../unet/config.js';
import { noiseSchedule } from './schedule.js';

/** Ranges of the diffusion config's fields: far above any CPU-sized model, small enough that no field alone asks for absurd memory. */
export const DIFFUSION_LIMITS = {
  imageSize: 1024,
  baseChannels: 1024,
  levels: 8,
  channelMult: 16,
  resBlocks: 16,
  heads: 64,
  groups: 1024,
  timesteps: 10000,
  guidance: 100,
} as const;

export type ScheduleKind = 'linear' | 'cosine';
export type SamplerKind = 'ddim' | 'ddpm';
/**
 * What the UNet's output is: the noise ε (Ho et al.), or the velocity v = √ᾱ_t ε − √(1 − ᾱ_t) x_0
 * (Salimans & Ho 2022), whose error reaches x̂_0 scaled by √(1 − ᾱ_t) ≤ 1 instead of ε's
 * √((1 − ᾱ_t)/ᾱ_t), which is large at high noise (docs/diffusion.md, "v-prediction").
 */
export type PredictionKind = 'epsilon' | 'v';
export const PREDICTION_KINDS: readonly [PredictionKind, ...PredictionKind[]] = ['epsilon', 'v'];

/** What `DiffusionModel.sample` uses when an option is not given (saved with the model, so a file samples as its trainer meant). */
export interface SamplerDefaults {
  /** 'ddim' (η, any number of steps) or 'ddpm' (ancestral; on a sub-sequence of steps, the respaced DDPM). */
  method: SamplerKind;
  steps: number;
  /** DDIM's noise scale: 0 deterministic, 1 the DDPM posterior variance. */
  eta: number;
  /** Classifier-free guidance scale w: ε̂ = ε̂(x, ∅) + w · (ε̂(x, y) − ε̂(x, ∅)); 1 = the conditional model alone. */
  guidance: number;
}

/** What an image-conditioned model is for: the CLI's messages and which command takes it. */
export type ConditioningTask = 'super-resolution' | 'restoration' | 'inpainting' | 'image';
export const CONDITIONING_TASKS: readonly [ConditioningTask, ...ConditioningTask[]] = ['super-resolution', 'restoration', 'inpainting', 'image'];

/**
 * An image condition: `channels` channels of x's height and width, concatenated to x_t at the UNet's
 * input (unet.condChannels equals it). The model does not know how the condition is made (an
 * upsampled low-resolution image, a degraded image, a masked image plus its mask, a latent of
 * either): `task` names the use, and the caller builds matching conditions for training and sampling.
 */
export interface ImageConditioning {
  kind: 'image';
  channels: number;
  task: ConditioningTask;
  /**
   * super-resolution only: the factor s of the low-resolution image (the high-resolution one box-averaged
   * over s × s blocks), which the tools need to make the condition as the trainer made it (src/models/diffusion/tasks.ts).
   */
  scale?: number;
  /** restoration only: the degradation kinds the model was trained on (src/image/degrade), in DEGRADATION_KINDS order. */
  degradations?: DegradationKind[];
}

/**
 * A latent diffusion model's autoencoder (docs/diffusion.md, "Latent super-resolution"): the UNet
 * denoises x = latentScale · encode(image) and samples are decode(x / latentScale). The autoencoder's
 * weights are in the same file under the `autoencoder.` prefix.
 */
export interface LatentAutoencoderEntry {
  /** The autoencoder's own config (src/models/autoencoder/config.ts), checked by its schema; its latent is the UNet's input. */
  config: AutoencoderConfig;
  /** 1 / the standard deviation of the training latents, so the UNet sees data of unit scale (Stable Diffusion's 0.18215). */
  latentScale: number;
}

export interface DiffusionModelConfig {
  kind: 'diffusion-model';
  unet: UNetConfig;
  /** Absent: the model is not image-conditioned (class labels are unet.classes, independent of this). */
  conditioning?: ImageConditioning;
  /** Present: a latent diffusion model; the file then also carries the autoencoder's weights. */
  autoencoder?: LatentAutoencoderEntry;
  schedule: { kind: ScheduleKind; steps: number };
  /** Absent: 'epsilon' (every file written before v-prediction existed). */
  prediction?: PredictionKind;
  sampler: SamplerDefaults;
}

const finiteIn = (lo: number, hi: number, hiOpen = false) => {
  const msg = `must be a number from ${lo} to ${hiOpen ? `below ${hi}` : hi}`;
  return z.number({ error: missingOr(msg) }).check(z.gte(lo, { error: msg }), hiOpen ? z.lt(hi, { error: msg }) : z.lte(hi, { error: msg }));
};

const L = DIFFUSION_LIMITS;

export const unetConfigSchema = strict({
  kind: z.literal('unet', { error: missingOr("must be 'unet'") }),
  imageSize: int(1, L.imageSize),
  inChannels: int(1, LIMITS.channels),
  outChannels: int(1, LIMITS.channels),
  baseChannels: int(1, L.baseChannels),
  channelMults: z.array(int(1, L.channelMult), { error: missingOr(`must be a list of 1 to ${L.levels} integers`) })
    .check(z.minLength(1, { error: 'must list at least one level' }), z.maxLength(L.levels, { error: `must list at most ${L.levels} levels` })),
  resBlocks: int(1, L.resBlocks),
  attentionResolutions: z.array(int(1, L.imageSize), { error: missingOr('must be a list of feature-map sizes') })
    .check(z.maxLength(L.levels, { error: `must list at most ${L.levels} sizes` })),
  heads: int(1, L.heads),
  groups: int(1, L.groups),
  dropout: finiteIn(0, 1, true),
  classes: int(0, LIMITS.classes),
  condChannels: z.optional(int(0, LIMITS.channels)),
}).check(z.superRefine((c, ctx) => {
  const levels = c.channelMults.length;
  if (c.imageSize % 2 ** (levels - 1)) {
    ctx.addIssue({ code: 'custom', path: ['imageSize'], message: `must divide by 2^${levels - 1} for ${levels} levels` });
    return;
  }
  const sizes = c.channelMults.map((_, i) => c.imageSize / 2 ** i);
  c.channelMults.forEach((m, i) => {
    const ch = c.baseChannels * m;
    if (ch % c.groups) ctx.addIssue({ code: 'custom', path: ['groups'], message: `must divide every level's channels (level ${i} has ${ch})` });
    else if (ch % c.heads) ctx.addIssue({ code: 'custom', path: ['heads'], message: `must divide every level's channels (level ${i} has ${ch})` });
  });
  c.attentionResolutions.forEach((s, i) => {
    if (!sizes.includes(s)) ctx.addIssue({ code: 'custom', path: ['attentionResolutions', i], message: `is not a feature-map size of this UNet (${sizes.join(', ')})` });
  });
}));

export const diffusionConfigSchema = strict({
  kind: z.literal('diffusion-model', { error: missingOr("must be 'diffusion-model'") }),
  unet: unetConfigSchema,
  conditioning: z.optional(strict({
    kind: z.literal('image', { error: missingOr("must be 'image'") }), channels: int(1, LIMITS.channels), task: oneOf(CONDITIONING_TASKS),
    scale: z.optional(int(2, 64)),
    degradations: z.optional(z.array(oneOf(DEGRADATION_KINDS as unknown as [DegradationKind, ...DegradationKind[]]), { error: 'must be a list of degradation kinds' })
      .check(z.minLength(1, { error: 'must list at least one kind' }))),
  })),
  // The autoencoder's config is checked by its own schema after this one (checkDiffusionConfig).
  autoencoder: z.optional(strict({ config: z.optional(z.unknown()), latentScale: finiteIn(1e-6, 1e6) })),
  schedule: strict({ kind: oneOf(['linear', 'cosine']), steps: int(2, L.timesteps) }),
  prediction: z.optional(oneOf(PREDICTION_KINDS)),
  sampler: strict({
    method: oneOf(['ddim', 'ddpm']),
    steps: int(1, L.timesteps),
    eta: finiteIn(0, 1),
    guidance: finiteIn(0, L.guidance),
  }),
}).check(z.superRefine((c, ctx) => {
  if (c.unet.inChannels !== c.unet.outChannels)
    ctx.addIssue({ code: 'custom', path: ['unet', 'outChannels'], message: `must equal unet.inChannels (${c.unet.inChannels}): the UNet predicts the noise of its input` });
  const cond = c.unet.condChannels ?? 0, declared = c.conditioning?.channels ?? 0;
  if (cond !== declared)
    ctx.addIssue({ code: 'custom', path: ['unet', 'condChannels'], message: c.conditioning
      ? `${c.unet.condChannels === undefined ? 'is missing: it ' : ''}must equal conditioning.channels (${declared}): the UNet's first convolution sees x_t and the condition`
      : 'needs a conditioning entry ({ kind: \'image\', channels, task }) describing the image condition' });
  // The linear schedule scales β by 1000/T: below 21 steps its last β reaches 1 and no signal is left to denoise.
  const betas = noiseSchedule(c.schedule.kind as ScheduleKind, c.schedule.steps).betas;
  if (betas.some((b) => !(b > 0 && b < 1)))
    ctx.addIssue({ code: 'custom', path: ['schedule', 'steps'], message: `is too few for the ${c.schedule.kind} schedule (its β reaches ${Math.max(...betas).toFixed(3)}; the linear one needs at least 21)` });
  if (c.sampler.steps > c.schedule.steps)
    ctx.addIssue({ code: 'custom', path: ['sampler', 'steps'], message: `must be at most schedule.steps (${c.schedule.steps})` });
  if (c.unet.classes === 0 && c.sampler.guidance !== 1)
    ctx.addIssue({ code: 'custom', path: ['sampler', 'guidance'], message: 'must be 1 for an unconditional UNet (classes 0): guidance needs labels' });
  const cd = c.conditioning;
  if (cd?.scale !== undefined && cd.task !== 'super-resolution')
    ctx.addIssue({ code: 'custom', path: ['conditioning', 'scale'], message: `is for super-resolution models only (this one's task is ${cd.task})` });
  if (cd?.degradations !== undefined && cd.task !== 'restoration')
    ctx.addIssue({ code: 'custom', path: ['conditioning', 'degradations'], message: `is for restoration models only (this one's task is ${cd.task})` });
  if (cd?.scale !== undefined && c.autoencoder === undefined && c.unet.imageSize % cd.scale)
    ctx.addIssue({ code: 'custom', path: ['conditioning', 'scale'], message: `must divide unet.imageSize (${c.unet.imageSize}): the low-resolution image is the image averaged over scale × scale blocks` });
  if (cd?.degradations && new Set(cd.degradations).size !== cd.degradations.length)
    ctx.addIssue({ code: 'custom', path: ['conditioning', 'degradations'], message: 'must not repeat a kind' });
}));

/**
 * Checks a whole diffusion model config (from a file or a caller); `root` prefixes field paths in the
 * message. A latent model's autoencoder config is checked by the autoencoders' schema, must carry the
 * LU fields a coupling autoencoder needs, and its latent must be the UNet's input.
 */
export function checkDiffusionConfig(value: unknown, root = 'config'): Checked<DiffusionModelConfig> {
  const checked = check(diffusionConfigSchema, value, root) as Checked<DiffusionModelConfig>;
  if (!checked.ok || !checked.value.autoencoder) return checked;
  const c = checked.value, entry = c.autoencoder!;
  const where = `${root} autoencoder.config`;
  if (entry.config === undefined) return { ok: false, problem: `${where} is missing (the autoencoder's config)` };
  const ae = checkAutoencoderConfig(entry.config, where);
  if (!ae.ok) return ae;
  if (ae.value.kind === 'coupling-autoencoder' && !ae.value.lu)
    return { ok: false, problem: `${where}.lu is missing (the 1×1 layers' permutations and signs; without them they would be re-drawn at random)` };
  const [lc, lh, lw] = latentShapeOf(ae.value), u = c.unet;
  if (lc !== u.inChannels || lh !== u.imageSize || lw !== u.imageSize)
    return { ok: false, problem: `${where}: its latent ${lc}×${lh}×${lw} must be the UNet's input (unet.inChannels ${u.inChannels}, unet.imageSize ${u.imageSize})` };
  if (c.conditioning?.scale !== undefined && ae.value.imageShape[1] % c.conditioning.scale)
    return { ok: false, problem: `${root} conditioning.scale = ${c.conditioning.scale} must divide the autoencoder's image side ${ae.value.imageShape[1]}` };
  return { ok: true, value: { ...c, autoencoder: { config: ae.value, latentScale: entry.latentScale } } };
}
