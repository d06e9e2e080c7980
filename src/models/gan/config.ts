/**
 * The conditional GAN's config (docs/gan.md §6), checked by one zod/mini schema before anything is
 * built, with the flows' helpers (src/models/schema.ts).
 */
import * as z from 'zod/mini';
import { fail } from '../../engine/errors.js';
import { check, int, missingOr, strict, type Checked } from '../schema.js';

export const GAN_LIMITS = { resolution: 256, imageChannels: 4, classes: 1000, zDim: 1024, ch: 256, multiplier: 32, blocks: 8, sharedDim: 1024 } as const;

export type GanLossKind = 'hinge' | 'multi-hinge';

export interface GanConfig {
  kind: 'conditional-gan';
  /** Side of the square images: 4·2^(gWidths.length − 1). */
  resolution: number;
  imageChannels: number;
  classes: number;
  zDim: number;
  /** Base width; every layer's width is ch × a multiplier. */
  ch: number;
  /** Generator widths / ch: the 4×4 input, then each up-block's output (one block per doubling). */
  gWidths: number[];
  /** Discriminator widths / ch, one per down-block; the first log₂(resolution/4) blocks halve the size. */
  dWidths: number[];
  /** 0: the generator's condition is the one-hot class; else a learned class embedding of this width shared by every CBN. */
  sharedDim: number;
  /** 'hinge': the projection head has K outputs; 'multi-hinge': K + 1 (the last one "fake"). */
  loss: GanLossKind;
}

const L = GAN_LIMITS;
const widths = (what: string) => z.array(int(1, L.multiplier), { error: missingOr(`must be a list of 1 to ${L.blocks + 1} ${what} multipliers from 1 to ${L.multiplier}`) })
  .check(z.minLength(1, { error: 'must not be empty' }), z.maxLength(L.blocks + 1, { error: `must list at most ${L.blocks + 1} multipliers` }));

export const ganConfigSchema = strict({
  kind: z.literal('conditional-gan', { error: missingOr("must be 'conditional-gan'") }),
  resolution: int(8, L.resolution),
  imageChannels: int(1, L.imageChannels),
  classes: int(2, L.classes),
  zDim: int(1, L.zDim),
  ch: int(1, L.ch),
  gWidths: widths('generator'),
  dWidths: widths('discriminator'),
  sharedDim: int(0, L.sharedDim),
  loss: z.union([z.literal('hinge'), z.literal('multi-hinge')], { error: missingOr("must be 'hinge' or 'multi-hinge'") }),
}).check(z.superRefine((c, ctx) => {
  const ups = Math.log2(c.resolution / 4);
  if (!Number.isInteger(ups)) ctx.addIssue({ code: 'custom', path: ['resolution'], message: 'must be 4 times a power of 2 (8, 16, 32, 64, …)' });
  else {
    if (c.gWidths.length !== ups + 1) ctx.addIssue({ code: 'custom', path: ['gWidths'], message: `must list ${ups + 1} multipliers at resolution ${c.resolution} (the 4×4 input and ${ups} up-blocks)` });
    if (c.dWidths.length < ups) ctx.addIssue({ code: 'custom', path: ['dWidths'], message: `must list at least ${ups} multipliers at resolution ${c.resolution} (one down-block per halving)` });
  }
}));

export function checkGanConfig(value: unknown, root = 'config'): Checked<GanConfig> {
  return check(ganConfigSchema, value, root) as Checked<GanConfig>;
}

/** The checked config (a copy), or one line naming the bad field, from `where`. */
export function resolveGanConfig(value: unknown, where: string): GanConfig {
  const checked = checkGanConfig(value);
  if (!checked.ok) fail(where, checked.problem);
  return structuredClone(checked.value);
}

/** The small presets (BigGAN's layouts at ch 32; docs/gan.md §6). */
export function ganPreset(resolution: 32 | 64, opts: { classes: number; imageChannels?: number; loss?: GanLossKind; ch?: number; zDim?: number; sharedDim?: number }): GanConfig {
  return resolveGanConfig({
    kind: 'conditional-gan', resolution, imageChannels: opts.imageChannels ?? 3, classes: opts.classes,
    zDim: opts.zDim ?? 64, ch: opts.ch ?? 32, sharedDim: opts.sharedDim ?? 0, loss: opts.loss ?? 'multi-hinge',
    gWidths: resolution === 32 ? [4, 4, 4, 4] : [8, 8, 4, 2, 1],
    dWidths: resolution === 32 ? [4, 4, 4, 4] : [1, 2, 4, 8, 8],
  }, 'ganPreset');
}

/** Width of the generator's condition vector. */
export const condDim = (c: GanConfig): number => (c.sharedDim > 0 ? c.sharedDim : c.classes);

/** Outputs of the projection head: K, or K + 1 with the "fake" class. */
export const headOutputs = (c: GanConfig): number => c.classes + (c.loss === 'multi-hinge' ? 1 : 0);

/** Every generator state tensor (parameters and buffers) by name and shape: what its model file carries exactly. */
export function generatorStateShapes(c: GanConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const w = c.gWidths.map((m) => m * c.ch), cd = condDim(c);
  const sn = (p: string, weight: number[], bias: boolean) => {
    out.set(`${p}.module.weight`, weight);
    if (bias) out.set(`${p}.module.bias`, [weight[0]!]);
  };
  const snConv = (p: string, i: number, o: number, k: number) => { sn(p, [o, i, k, k], true); out.set(`${p}.u`, [o]).set(`${p}.v`, [i * k * k]); };
  const cbn = (p: string, ch: number) => {
    out.set(`${p}.gain.weight`, [cd, ch]).set(`${p}.bias.weight`, [cd, ch]);
    out.set(`${p}.bn.running_mean`, [ch]).set(`${p}.bn.running_var`, [ch]);
  };
  if (c.sharedDim > 0) out.set('embed.weight', [c.classes, c.sharedDim]);
  out.set('input.module.weight', [c.zDim, 16 * w[0]!]).set('input.module.bias', [16 * w[0]!]).set('input.u', [c.zDim]).set('input.v', [16 * w[0]!]);
  for (let b = 0; b + 1 < w.length; b++) {
    cbn(`blocks.${b}.norm1`, w[b]!);
    snConv(`blocks.${b}.conv1`, w[b]!, w[b + 1]!, 3);
    cbn(`blocks.${b}.norm2`, w[b + 1]!);
    snConv(`blocks.${b}.conv2`, w[b + 1]!, w[b + 1]!, 3);
    snConv(`blocks.${b}.skip`, w[b]!, w[b + 1]!, 1);
  }
  const last = w.at(-1)!;
  out.set('outNorm.weight', [last]).set('outNorm.bias', [last]).set('outNorm.running_mean', [last]).set('outNorm.running_var', [last]);
  snConv('out', last, c.imageChannels, 3);
  return out;
}
