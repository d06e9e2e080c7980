import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import { presets, resolveConfig, type ModelConfig, type ModelKind } from './config.js';
import { checkModelBudget, modelCost } from './cost.js';
import { FlowModel, type FlowModelConfig } from './flow-model.js';
import { checkFlowModelConfig } from './schema.js';

export { FlowModel, type FlowModelConfig, type SampleOptions, type ScoreOptions } from './flow-model.js';
export { MAX_TEMPERATURE, type PixelRange } from './guards.js';
export { presets, resolveConfig, type ModelConfig, type ModelKind } from './config.js';
export { planModel, planParamShapes } from './plan.js';
export { checkBatchBudget, checkModelBudget, modelCost, type ModelCost } from './cost.js';
export { checkFlowModelConfig, checkModelConfig, LIMITS as configLimits } from './schema.js';

export interface BuildOptions {
  /** The engine that holds the weights and runs the model (required). */
  engine: Engine;
  /** Seed of the host RNG for the initial weights (default 0): the same model on every backend. */
  seed?: number;
}

type Cfg = string | Partial<ModelConfig>;

function build(kind: ModelKind, cfg: Cfg, opts: BuildOptions): FlowModel {
  if (!opts?.engine) fail(`models.${kind}`, 'needs { engine } as its second argument: models.' + kind + "(cfg, { engine })");
  const model = resolveConfig(kind, cfg);
  checkModelBudget(`models.${kind}`, opts.engine, model);
  return new FlowModel(opts.engine, model, undefined, opts.seed ?? 0);
}

/**
 * FInC Flow (docs/flows.md §16): FInC unit → ActNorm → 1×1 → affine coupling, SplitPrior between levels.
 * @param cfg a preset name ('mnist', 'cifar10', 'cifar10-k28', 'imagenet32', 'imagenet64', 'mnist-small', 'cifar10-small', 'tiny') or a partial ModelConfig
 * @param opts `{ engine, seed? }`: the engine is always passed here, never inside cfg
 */
export const fincFlow = (cfg: Cfg, opts: BuildOptions): FlowModel => build('finc', cfg, opts);
/** CInC Flow (docs/flows.md §5, §16): ActNorm → CInC conv → Quad (or affine) coupling, Glow split. Same arguments as fincFlow. */
export const cincFlow = (cfg: Cfg, opts: BuildOptions): FlowModel => build('cinc', cfg, opts);
/** Inverse-Flow (docs/flows.md §6, §16): Inverse-Flow conv → ActNorm → 1×1 → coupling. Same arguments as fincFlow. */
export const inverseFlow = (cfg: Cfg, opts: BuildOptions): FlowModel => build('inverse', cfg, opts);
/** Glow: ActNorm → LU 1×1 → affine coupling σ(h+2), conditional split. Same arguments as fincFlow. */
export const glow = (cfg: Cfg, opts: BuildOptions): FlowModel => build('glow', cfg, opts);
/** Emerging-convolutions baseline: ActNorm → LU 1×1 → two-pass autoregressive conv (raster inverse) → coupling. */
export const emerging = (cfg: Cfg, opts: BuildOptions): FlowModel => build('emerging', cfg, opts);

/**
 * Rebuilds a model from `model.config` (e.g. read from a file's metadata); fill weights with
 * loadParameters. The config is checked first (src/models/schema.ts: the model config's fields, the
 * architecture against the one the model config implies) and its cost against engine.memoryBudget.
 */
export function fromConfig(engine: Engine, config: FlowModelConfig): FlowModel {
  if (!engine || typeof engine.tensor !== 'function') fail('fromConfig', 'needs an engine as its first argument: fromConfig(engine, config)');
  const checked = checkFlowModelConfig(config);
  if (!checked.ok) fail('fromConfig', checked.problem);
  const { model, architecture } = checked.value;
  checkModelBudget('fromConfig', engine, model, modelCost(model, architecture));
  return new FlowModel(engine, model, architecture);
}

/** Parameters of a model kind and config, counted from the architecture alone: nothing is allocated. */
export function paramCount(kind: ModelKind, cfg: Cfg): number {
  return modelCost(resolveConfig(kind, cfg)).params;
}

export const presetNames = (): string[] => Object.keys(presets);

export { UNet } from './unet/unet.js';
export { defaultUNetConfig, resolveUNetConfig, type UNetConfig } from './unet/config.js';
export { noiseSchedule, type NoiseSchedule } from './diffusion/schedule.js';
export { DiffusionModel, diffusionModelFromBytes, checkDiffusionBytes, DIFFUSION_FORMAT, type DiffusionSampleOptions, type InpaintOptions } from './diffusion/diffusion-model.js';
export { checkDiffusionConfig, type ConditioningTask, type DiffusionModelConfig, type ImageConditioning, type SamplerDefaults } from './diffusion/schema.js';
export { timestepSequence, posteriorCoefficients, posteriorVariance } from './diffusion/sampler.js';
export { repaintSchedule } from './diffusion/repaint.js';
export { maskedImageCond } from './diffusion/inpaint-cond.js';
export { inpaint, lowResolutionFor, MASK_THRESHOLD, restore, toChannels, upscale, type InpaintPipelineOptions, type InpaintResult, type PipelineOptions, type PixelImages, type PixelResult } from './diffusion/pipelines.js';
export { judgeSamples, type JudgeOptions, type JudgeResult } from './diffusion/judge.js';
export { evalSuperResolution, type SuperResolutionEval, type SuperResolutionEvalOptions } from './diffusion/eval-sr.js';
export { evalRestoration, type RestorationEval, type RestorationEvalOptions, type RestorationRow } from './diffusion/eval-restoration.js';
export { evalInpainting, type InpaintingEval, type InpaintingEvalOptions } from './diffusion/eval-inpaint.js';
export { type ImageScore } from './diffusion/eval-metrics.js';
export { type TaskEvalOptions, type TaskModel } from './diffusion/eval-sampling.js';
export { randomInpaintMask, maskCoverage, type MaskOptions } from './diffusion/masks.js';
export { blurFill, type BlurFillOptions } from './diffusion/blur-fill.js';
export { lowResolution, superResolutionCond } from './diffusion/tasks.js';
export { AUTOENCODER_PREFIX, encodeImages, latentScaleOf } from './diffusion/latent.js';
export { type LatentAutoencoderEntry } from './diffusion/schema.js';
