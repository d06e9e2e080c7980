import * as z from 'zod/mini';
import { InflowError } from '../../engine/errors.js';
import { check, int, LIMITS, missingOr, oneOf, strict, type Checked } from '../schema.js';

/**
 * A seed-purity classifier: 'basic' is the paper's basic model (three conv stages and one fully
 * connected layer), 'resnet' a small pre-activation ResNet (a stem conv, three residual stages,
 * global average pooling). Both put dropout in front of the last layer, which MC dropout keeps on.
 */
export interface SeedClassifierConfig {
  kind: 'seed-classifier';
  arch: 'basic' | 'resnet';
  inputShape: [number, number, number];
  classes: number;
  /** Channels of the three stages. */
  widths: [number, number, number];
  /** Dropout probability before the fully connected layer. */
  dropout: number;
}

export const defaultSeedClassifier: SeedClassifierConfig = { kind: 'seed-classifier', arch: 'basic', inputShape: [3, 32, 32], classes: 4, widths: [16, 32, 64], dropout: 0.3 };

const width = int(1, LIMITS.classifierWidth);
const dropoutMsg = 'must be a number in [0, 1)';

/** The config as files and constructors must give it; H and W are multiples of 8 (the basic model halves them three times). */
export const seedClassifierConfigSchema = strict({
  kind: z.literal('seed-classifier', { error: missingOr("must be 'seed-classifier'") }),
  arch: oneOf(['basic', 'resnet']),
  inputShape: z.tuple([int(1, LIMITS.channels), int(8, LIMITS.side), int(8, LIMITS.side)],
    { error: missingOr(`must be [C, H, W] with C from 1 to ${LIMITS.channels} and H, W from 8 to ${LIMITS.side}`) }),
  classes: int(2, LIMITS.classes),
  widths: z.tuple([width, width, width], { error: missingOr(`must be three integers from 1 to ${LIMITS.classifierWidth}`) }),
  dropout: z.number({ error: missingOr(dropoutMsg) }).check(z.gte(0, { error: dropoutMsg }), z.lt(1, { error: dropoutMsg })),
}).check(z.superRefine((c, ctx) => {
  if (c.inputShape[1] % 8 || c.inputShape[2] % 8)
    ctx.addIssue({ code: 'custom', path: ['inputShape'], message: 'must have H and W divisible by 8 (the basic model halves them three times)' });
}));

export function checkSeedClassifierConfigValue(value: unknown, root = 'config'): Checked<SeedClassifierConfig> {
  return check(seedClassifierConfigSchema, value, root) as Checked<SeedClassifierConfig>;
}

/** Throws one line naming the first wrong field. */
export function checkSeedClassifierConfig(c: unknown): SeedClassifierConfig {
  const r = checkSeedClassifierConfigValue(c);
  if (!r.ok) throw new InflowError(`SeedClassifier: ${r.problem}`);
  return r.value;
}
