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
  inChannels: number;
  outChannels: number;
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
export function resolveUNetConfig(partial: Partial<UNetConfig>): UNetConfig {
  const c: UNetConfig = { ...defaultUNetConfig, ...partial, kind: 'unet' };
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
  return c;
}
