/**
 * The configs of the two latent autoencoders (docs/affine-stablesr.md), checked by one zod/mini
 * schema before anything is built, with the flows' helpers (src/models/schema.ts), so a bad field
 * reads the same from a file, a constructor or a CLI flag: `config width = 0 must be an integer …`.
 */
import * as z from 'zod/mini';
import { check, int, LIMITS, missingOr, oneOf, strict, type Checked } from '../schema.js';

/** Ranges of the fields: far above a CPU-sized autoencoder, small enough that no field alone asks for absurd memory. */
export const AUTOENCODER_LIMITS = {
  side: 1024,
  steps: 64,
  width: 4096,
  baseChannels: 1024,
  levels: 4,
  channelMult: 16,
  resBlocks: 8,
  groups: 1024,
  latentChannels: 1024,
} as const;

/** The invertible 1×1 convolution's free fields (an LU factorisation's row permutation and U's diagonal signs). */
export interface LuFields { perm: number[]; sign: number[] }

/**
 * The coupling-layer autoencoder: squeeze, `steps` flow steps at C·4 channels, squeeze, `steps`
 * more at C·16 channels; the first `latentChannels` of the result are the latent, the rest are
 * predicted from it on decode.
 */
export interface CouplingAutoencoderConfig {
  kind: 'coupling-autoencoder';
  /** [C, H, W] of the images; H and W divisible by 4. */
  imageShape: [number, number, number];
  /** Channels kept at H/4 × W/4: 1 … 16C − 1. */
  latentChannels: number;
  /** Flow steps (actnorm, LU 1×1, affine coupling) per level. */
  steps: number;
  /** Hidden channels of the coupling networks. */
  width: number;
  /** Hidden channels of the network that predicts the factored channels' mean and log-scale from the latent. */
  priorWidth: number;
  /**
   * The 2·steps LU 1×1 layers' permutations and signs (level 0's steps, then level 1's): drawn from
   * the seed when a new model is built, required in a file (they are not weights, and a model
   * re-drawn without them would be another model).
   */
  lu?: LuFields[];
}

/**
 * The convolutional KL-regularised VAE of Stable Diffusion's kind: conv in, per level `resBlocks`
 * residual blocks (GroupNorm, SiLU) then a stride-2 downsample (not after the last level), a middle
 * block, GroupNorm, SiLU and a conv to the latent's mean and log-variance; the decoder mirrors it
 * with resBlocks + 1 blocks per level and nearest-neighbour upsampling.
 */
export interface ConvVaeConfig {
  kind: 'conv-vae';
  imageShape: [number, number, number];
  latentChannels: number;
  /** Channels of level i: baseChannels · channelMults[i]; levels − 1 downsamples. */
  baseChannels: number;
  channelMults: number[];
  resBlocks: number;
  /** GroupNorm groups (must divide every level's channels). */
  groups: number;
}

export type AutoencoderConfig = CouplingAutoencoderConfig | ConvVaeConfig;
export type AutoencoderKind = AutoencoderConfig['kind'];

const L = AUTOENCODER_LIMITS;

const imageShape = z.tuple([int(1, LIMITS.channels), int(1, L.side), int(1, L.side)],
  { error: missingOr(`must be [C, H, W] with C from 1 to ${LIMITS.channels} and H, W from 1 to ${L.side}`) });

const luFields = strict({
  perm: z.array(z.int({ error: 'must be an array of integers' }), { error: missingOr('must be an array of integers') }),
  sign: z.array(z.number({ error: 'must be an array of 1 and -1' }), { error: missingOr('must be an array of 1 and -1') }),
});

/** Channels of the flow's two levels for C image channels. */
export const levelChannels = (C: number): [number, number] => [4 * C, 16 * C];

export const couplingConfigSchema = strict({
  kind: z.literal('coupling-autoencoder', { error: missingOr("must be 'coupling-autoencoder'") }),
  imageShape,
  latentChannels: int(1, L.latentChannels),
  steps: int(1, L.steps),
  width: int(1, L.width),
  priorWidth: int(1, L.width),
  lu: z.optional(z.array(luFields, { error: 'must be an array of { perm, sign }' })),
}).check(z.superRefine((c, ctx) => {
  const [C, H, W] = c.imageShape;
  if (H % 4 || W % 4) ctx.addIssue({ code: 'custom', path: ['imageShape'], message: 'must have H and W divisible by 4 (the flow squeezes twice)' });
  const [c0, c1] = levelChannels(C);
  if (c.latentChannels >= c1)
    ctx.addIssue({ code: 'custom', path: ['latentChannels'], message: `must be below the ${c1} channels at H/4 × W/4 (16 × ${C}): some must be factored out` });
  if (!c.lu) return;
  if (c.lu.length !== 2 * c.steps) {
    ctx.addIssue({ code: 'custom', path: ['lu'], message: `must hold one entry per 1×1 layer (2 × steps = ${2 * c.steps}), got ${c.lu.length}` });
    return;
  }
  c.lu.forEach((f, i) => {
    const ch = i < c.steps ? c0 : c1;
    if (f.perm.length !== ch || f.perm.some((v) => v < 0 || v >= ch) || new Set(f.perm).size !== ch)
      ctx.addIssue({ code: 'custom', path: ['lu', i, 'perm'], message: `must be a permutation of 0…${ch - 1}` });
    else if (f.sign.length !== ch || f.sign.some((v) => v !== 1 && v !== -1))
      ctx.addIssue({ code: 'custom', path: ['lu', i, 'sign'], message: `must hold ${ch} entries of 1 or -1` });
  });
}));

export const convVaeConfigSchema = strict({
  kind: z.literal('conv-vae', { error: missingOr("must be 'conv-vae'") }),
  imageShape,
  latentChannels: int(1, L.latentChannels),
  baseChannels: int(1, L.baseChannels),
  channelMults: z.array(int(1, L.channelMult), { error: missingOr(`must be a list of 1 to ${L.levels} integers`) })
    .check(z.minLength(1, { error: 'must list at least one level' }), z.maxLength(L.levels, { error: `must list at most ${L.levels} levels` })),
  resBlocks: int(1, L.resBlocks),
  groups: int(1, L.groups),
}).check(z.superRefine((c, ctx) => {
  const [, H, W] = c.imageShape, f = 2 ** (c.channelMults.length - 1);
  if (H % f || W % f)
    ctx.addIssue({ code: 'custom', path: ['imageShape'], message: `must have H and W divisible by ${f} (${c.channelMults.length} levels halve them ${c.channelMults.length - 1} times)` });
  c.channelMults.forEach((m, i) => {
    const ch = c.baseChannels * m;
    if (ch % c.groups) ctx.addIssue({ code: 'custom', path: ['groups'], message: `must divide every level's channels (level ${i} has ${ch})` });
  });
}));

const kindOnly = z.object({ kind: oneOf(['coupling-autoencoder', 'conv-vae']) });

/** Checks either kind's config; `root` prefixes the field paths in the message. */
export function checkAutoencoderConfig(value: unknown, root = 'config'): Checked<AutoencoderConfig> {
  const kind = check(kindOnly, value, root);
  if (!kind.ok) return kind;
  return (kind.value.kind === 'coupling-autoencoder'
    ? check(couplingConfigSchema, value, root) : check(convVaeConfigSchema, value, root)) as Checked<AutoencoderConfig>;
}

/** The latent [c, h, w] of a config (the coupling autoencoder's is always H/4 × W/4). */
export function latentShapeOf(c: AutoencoderConfig): [number, number, number] {
  const [, H, W] = c.imageShape;
  const f = c.kind === 'coupling-autoencoder' ? 4 : 2 ** (c.channelMults.length - 1);
  return [c.latentChannels, H / f, W / f];
}

/**
 * The defaults `inflow autoencoder train` builds (docs/affine-stablesr.md §5): for 1×28×28 a 4×7×7
 * latent, for 3×32×32 a 12×8×8 one — a quarter of the pixels' values either way. The coupling
 * autoencoder's channels grow with C by construction (4C and 16C); the VAE's base width is doubled
 * for colour images, as its first level otherwise holds barely more channels than the image.
 */
export function defaultCouplingConfig(imageShape: [number, number, number], latentChannels = imageShape[0] * 4): CouplingAutoencoderConfig {
  return { kind: 'coupling-autoencoder', imageShape: [...imageShape], latentChannels, steps: 4, width: 48, priorWidth: 64 };
}

export function defaultConvVaeConfig(imageShape: [number, number, number], latentChannels = imageShape[0] * 4): ConvVaeConfig {
  return { kind: 'conv-vae', imageShape: [...imageShape], latentChannels, baseChannels: imageShape[0] > 1 ? 32 : 16, channelMults: [1, 2, 2], resBlocks: 1, groups: 8 };
}
