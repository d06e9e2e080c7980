import { fail } from '../engine/errors.js';
import { checkModelConfig } from './schema.js';

/** 'emerging' is the Emerging-convolutions baseline (docs/flows.md §7) the others are timed against. */
export type ModelKind = 'finc' | 'cinc' | 'inverse' | 'glow' | 'emerging';

/** Everything that determines a model's architecture (docs/flows.md §16–§17). */
export interface ModelConfig {
  kind: ModelKind;
  /** [C, H, W] of the data. */
  inputShape: [number, number, number];
  /** L: levels (squeezes). */
  levels: number;
  /** K: flow steps per level. */
  steps: number;
  /** Hidden width of every coupling network (and of SplitPrior's coupling). */
  width: number;
  /** k of the FInC / CInC / Inverse-Flow convolutions. */
  kernelSize: number;
  /** 'affine' uses the model's own form (FInC 2·tanh(h/2) for finc/inverse, σ(h+2) for glow/cinc). */
  coupling: 'affine' | 'quad' | 'additive';
  /** 'prior' = SNF/FInC SplitPrior (coupling + N(0, I)); 'glow' = conditional split. */
  split: 'prior' | 'glow';
  /** The step's invertible 1×1 (finc, inverse, glow). */
  conv1x1: 'dense' | 'lu';
  /** α of the logit preprocessing. */
  alpha: number;
  /**
   * Inverse-Flow's conv unit: 'parallel' = one inverse conv over 4 corner groups (FInC's layout,
   * the paper figure); 'chained' = four inverse convs over all channels, TL → TR → BL → BR (the
   * reference code's Inv_FlowUnit). Ignored by the other kinds.
   */
  inverseUnit?: 'parallel' | 'chained';
  /**
   * A class-conditional Gaussian on the top latent with this many classes (absent: N(0, I)).
   * p(x) is the equal-weight mixture over classes; labelled data trains one component per class.
   */
  classes?: number;
  /**
   * With `classes`: every coupling network also sees the label (a conditional flow). p(x) then takes
   * one pass per class; with a label, one pass.
   */
  classCouplings?: boolean;
}

const defaults: Record<ModelKind, Omit<ModelConfig, 'inputShape' | 'levels' | 'steps'>> = {
  finc: { kind: 'finc', width: 512, kernelSize: 3, coupling: 'affine', split: 'prior', conv1x1: 'dense', alpha: 1e-6 },
  inverse: { kind: 'inverse', width: 512, kernelSize: 3, coupling: 'affine', split: 'prior', conv1x1: 'dense', alpha: 1e-6 },
  cinc: { kind: 'cinc', width: 512, kernelSize: 3, coupling: 'quad', split: 'glow', conv1x1: 'lu', alpha: 1e-6 },
  glow: { kind: 'glow', width: 512, kernelSize: 3, coupling: 'affine', split: 'glow', conv1x1: 'lu', alpha: 1e-6 },
  emerging: { kind: 'emerging', width: 512, kernelSize: 3, coupling: 'affine', split: 'glow', conv1x1: 'lu', alpha: 1e-6 },
};

type PresetShape = Pick<ModelConfig, 'inputShape' | 'levels' | 'steps'> & Partial<ModelConfig>;

/**
 * The papers' configurations (docs/flows.md §17) and small ones that train on a 2-core CPU in minutes.
 * 'cifar10' is K 32 (code, Alg-1/2 table, CInC); 'cifar10-k28' the MaCow comparison's [28, 28, 28].
 */
export const presets: Record<string, PresetShape> = {
  mnist: { inputShape: [1, 28, 28], levels: 2, steps: 16, width: 512 },
  cifar10: { inputShape: [3, 32, 32], levels: 3, steps: 32, width: 512 },
  'cifar10-k28': { inputShape: [3, 32, 32], levels: 3, steps: 28, width: 512 },
  'cifar10-k32': { inputShape: [3, 32, 32], levels: 3, steps: 32, width: 512 },
  imagenet32: { inputShape: [3, 32, 32], levels: 3, steps: 48, width: 512 },
  imagenet64: { inputShape: [3, 64, 64], levels: 4, steps: 48, width: 512 },
  'mnist-small': { inputShape: [1, 28, 28], levels: 2, steps: 4, width: 32 },
  'cifar10-small': { inputShape: [3, 32, 32], levels: 2, steps: 4, width: 32 },
  /** The whole-model Jacobian test size (docs/testing.md §3). */
  tiny: { inputShape: [1, 8, 8], levels: 2, steps: 2, width: 8 },
};

/**
 * A preset name or a partial config, completed with the kind's defaults and checked by the one
 * schema every model config passes (src/models/schema.ts): types, ranges, unknown keys, and the
 * input shape against the levels. Errors read `models.<kind>: config <field> = <value> <rule>`.
 */
export function resolveConfig(kind: ModelKind, cfg: string | Partial<ModelConfig>): ModelConfig {
  const where = `models.${String(kind)}`;
  if (!Object.prototype.hasOwnProperty.call(defaults, kind)) fail(where, `unknown model kind '${String(kind)}' (known: ${Object.keys(defaults).join(', ')})`);
  let base: Partial<ModelConfig>;
  if (typeof cfg === 'string') {
    const p = Object.prototype.hasOwnProperty.call(presets, cfg) ? presets[cfg] : undefined;
    if (!p) fail(where, `unknown preset '${cfg}' (known: ${Object.keys(presets).join(', ')})`);
    base = p;
  } else if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) {
    return fail(where, `the config must be a preset name or an object, not ${cfg === null ? 'null' : Array.isArray(cfg) ? 'an array' : typeof cfg}`);
  } else base = cfg;
  // Keys set to undefined mean "the default" (e.g. { ...cfg, classes: undefined }).
  const given = Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined));
  const checked = checkModelConfig({ ...defaults[kind], ...given, kind });
  if (!checked.ok) fail(where, checked.problem);
  return checked.value;
}
