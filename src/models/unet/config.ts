import { fail } from '../../engine/errors.js';

/**
 * A UNet's architecture, saved as JSON beside its weights: the denoiser of DDPM/latent diffusion
 * (Ho et al. 2020; the residual blocks, GroupNorm, attention and timestep embedding of its
 * improved variants).
 */
export interface UNetConfig {
  kind: 'unet';
  /** Square input size; every level halves it, so it must divide by 2^(levels − 1). */
  imageSize: number;
  /** Channels of x_t (the data); the UNet predicts ε for these, so outChannels equals it in a diffusion model. */
  inChannels: number;
  outChannels: number;
  /**
   * Channels of an image condition concatenated to x_t before the first convolution (an upsampled
   * low-resolution image, a degraded image, a masked image and its mask, a latent). Absent or 0:
   * unconditioned on images; configs written before it existed have no such key and build the same UNet.
   */
  condChannels?: number;
  /** Channels of the first level; level i has baseChannels · channelMults[i]. */
  baseChannels: number;
  channelMults: number[];
  /** Residual blocks per level on the way down (the way up has one more, for the extra skip). */
  resBlocks: number;
  /** Feature-map sizes with a self-attention block after each residual block (e.g. [8]). */
  attentionResolutions: number[];
  heads: number;
  /** GroupNorm groups (must divide every level's channels). */
  groups: number;
  dropout: number;
  /** Class-conditional with this many classes (0: unconditional); index `classes` is the "no label" of classifier-free guidance. */
  classes: number;
}

export const defaultUNetConfig: UNetConfig = {
  kind: 'unet', imageSize: 32, inChannels: 3, outChannels: 3, baseChannels: 64, channelMults: [1, 2, 2], resBlocks: 2,
  attentionResolutions: [8], heads: 4, groups: 32, dropout: 0, classes: 0,
};

/** Fills defaults and refuses a config the UNet cannot be built from, in one line. */
export function resolveUNetConfig(partial: Partial<UNetConfig>): UNetConfig & { condChannels: number } {
  const c = { ...defaultUNetConfig, condChannels: 0, ...partial, kind: 'unet' } as UNetConfig & { condChannels: number };
  if (partial.condChannels === undefined) c.condChannels = 0;
  const positive = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) fail('unet', `${name} = ${v} must be a positive integer`);
  };
  for (const k of ['imageSize', 'inChannels', 'outChannels', 'baseChannels', 'resBlocks', 'heads', 'groups'] as const) positive(k, c[k]);
  if (!Array.isArray(c.channelMults) || c.channelMults.length === 0) fail('unet', 'channelMults must list at least one level');
  c.channelMults.forEach((m, i) => positive(`channelMults[${i}]`, m));
  const levels = c.channelMults.length;
  if (c.imageSize % 2 ** (levels - 1) !== 0)
    fail('unet', `imageSize ${c.imageSize} must divide by 2^${levels - 1} for ${levels} levels`);
  for (const m of c.channelMults) {
    const ch = c.baseChannels * m;
    if (ch % c.groups !== 0) fail('unet', `groups = ${c.groups} must divide every level's channels (${ch} does not)`);
    if (ch % c.heads !== 0) fail('unet', `heads = ${c.heads} must divide every level's channels (${ch} does not)`);
  }
  if (!(c.dropout >= 0 && c.dropout < 1)) fail('unet', `dropout = ${c.dropout} must be in [0, 1)`);
  if (!Number.isInteger(c.classes) || c.classes < 0) fail('unet', `classes = ${c.classes} must be a non-negative integer`);
  if (!Number.isInteger(c.condChannels) || c.condChannels < 0) fail('unet', `condChannels = ${c.condChannels} must be a non-negative integer`);
  return c;
}
