import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import { latentShapes } from '../layers/multiscale.js';
import { layerParamCount } from '../layers/registry.js';
import { presets, resolveConfig, type ModelConfig, type ModelKind } from './config.js';
import { FlowModel, type FlowModelConfig } from './flow-model.js';
import { planModel } from './plan.js';

export { FlowModel, type FlowModelConfig, type SampleOptions } from './flow-model.js';
export { presets, resolveConfig, type ModelConfig, type ModelKind } from './config.js';
export { planModel } from './plan.js';

export interface BuildOptions {
  /** The engine that holds the weights and runs the model (required). */
  engine: Engine;
  /** Seed of the host RNG for the initial weights (default 0): the same model on every backend. */
  seed?: number;
}

type Cfg = string | Partial<ModelConfig>;

function build(kind: ModelKind, cfg: Cfg, opts: BuildOptions): FlowModel {
  if (!opts?.engine) fail(`models.${kind}`, 'needs { engine } as its second argument: models.' + kind + "(cfg, { engine })");
  return new FlowModel(opts.engine, resolveConfig(kind, cfg), undefined, opts.seed ?? 0);
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

/** Rebuilds a model from `model.config` (e.g. read from a file's metadata); fill weights with loadParameters. */
export function fromConfig(engine: Engine, config: FlowModelConfig): FlowModel {
  if (config?.kind !== 'flow-model') fail('fromConfig', `not a flow-model config (kind '${String(config?.kind)}')`);
  const model = resolveConfig(config.model.kind, config.model);
  return new FlowModel(engine, model, config.architecture);
}

/** Parameters of a model kind and config, counted from the architecture alone: nothing is allocated. */
export function paramCount(kind: ModelKind, cfg: Cfg): number {
  const model = resolveConfig(kind, cfg);
  const arch = planModel(model);
  const flow = arch.levels.reduce((s, l) => s + l.steps.reduce((a, st) => a + layerParamCount(st), 0) + (l.split ? layerParamCount(l.split) : 0), 0);
  const [C, H, W] = latentShapes(arch).at(-1)!;
  return flow + (model.classes ? 2 * model.classes * C * H * W : 0);
}

export const presetNames = (): string[] => Object.keys(presets);

export { UNet } from './unet/unet.js';
export { defaultUNetConfig, resolveUNetConfig, type UNetConfig } from './unet/config.js';
export { noiseSchedule, type NoiseSchedule } from './diffusion/schedule.js';
