import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import { ActNorm, type ActNormConfig } from './actnorm.js';
import { AffineCoupling, affineCouplingParams, type AffineCouplingConfig } from './affine-coupling.js';
import { CIncConv, cincConvParams, type CIncConvConfig } from './cinc-conv.js';
import { Conv1x1, type Conv1x1Config } from './conv1x1.js';
import { Conv1x1LU, type Conv1x1LUConfig } from './conv1x1-lu.js';
import { EmergingConv, emergingConvParams, type EmergingConvConfig } from './emerging-conv.js';
import { FIncUnit, fincUnitParams, type FIncUnitConfig } from './finc-unit.js';
import { GlowSplit, glowSplitParams, type GlowSplitConfig } from './glow-split.js';
import { InverseConv, inverseConvParams, type InverseConvConfig } from './inverse-conv.js';
import type { FlowLayer, LayerConfig } from './layer.js';
import { Preprocess, type PreprocessConfig } from './preprocess.js';
import { QuadCoupling, quadCouplingParams, type QuadCouplingConfig } from './quad-coupling.js';
import { Rng } from '../data/rng.js';
import { FlowSequence, type SequenceConfig } from './sequence.js';
import type { SplitLayer } from './split.js';
import { SplitPrior, splitPriorParams, type SplitPriorConfig } from './split-prior.js';
import { Squeeze } from './squeeze.js';

const as = <T>(c: LayerConfig) => c as unknown as T;

/** Builds a layer from its config; weights are freshly initialised from rng (a loader overwrites them). */
export function layerFromConfig(engine: Engine, config: LayerConfig, rng = new Rng(0)): FlowLayer {
  switch (config.kind) {
    case 'squeeze': return new Squeeze(engine);
    case 'preprocess': return new Preprocess(engine, as<PreprocessConfig>(config));
    case 'actnorm': return new ActNorm(engine, as<ActNormConfig>(config));
    case 'conv1x1': return new Conv1x1(engine, as<Conv1x1Config>(config), rng);
    case 'conv1x1-lu': return new Conv1x1LU(engine, as<Conv1x1LUConfig>(config), rng);
    case 'affine-coupling': return new AffineCoupling(engine, as<AffineCouplingConfig>(config), rng);
    case 'quad-coupling': return new QuadCoupling(engine, as<QuadCouplingConfig>(config), rng);
    case 'finc-unit': return new FIncUnit(engine, as<FIncUnitConfig>(config), rng);
    case 'inverse-conv': return new InverseConv(engine, as<InverseConvConfig>(config), rng);
    case 'cinc-conv': return new CIncConv(engine, as<CIncConvConfig>(config), rng);
    case 'emerging-conv': return new EmergingConv(engine, as<EmergingConvConfig>(config), rng);
    case 'sequence':
      return new FlowSequence(engine, as<SequenceConfig>(config).layers.map(({ name, layer }) => [name, layerFromConfig(engine, layer, rng)]));
    default: return fail('layerFromConfig', `unknown layer kind '${config.kind}'`);
  }
}

export function splitFromConfig(engine: Engine, config: LayerConfig, rng = new Rng(0)): SplitLayer {
  switch (config.kind) {
    case 'split-prior': return new SplitPrior(engine, as<SplitPriorConfig>(config), rng);
    case 'glow-split': return new GlowSplit(engine, as<GlowSplitConfig>(config));
    default: return fail('splitFromConfig', `unknown split kind '${config.kind}'`);
  }
}

/** Parameter count of a layer from its config alone (building presets just to count would allocate GBs). */
export function layerParamCount(config: LayerConfig): number {
  const C = (config as unknown as { channels: number }).channels;
  switch (config.kind) {
    case 'squeeze': case 'preprocess': return 0;
    case 'actnorm': return 2 * C;
    case 'conv1x1': return C * C;
    case 'conv1x1-lu': return 2 * C * C + C;
    case 'affine-coupling': return affineCouplingParams(as<AffineCouplingConfig>(config));
    case 'quad-coupling': return quadCouplingParams(as<QuadCouplingConfig>(config));
    case 'finc-unit': return fincUnitParams(as<FIncUnitConfig>(config));
    case 'inverse-conv': return inverseConvParams(as<InverseConvConfig>(config));
    case 'cinc-conv': return cincConvParams(as<CIncConvConfig>(config));
    case 'emerging-conv': return emergingConvParams(as<EmergingConvConfig>(config));
    case 'split-prior': return splitPriorParams(as<SplitPriorConfig>(config));
    case 'glow-split': return glowSplitParams(as<GlowSplitConfig>(config));
    case 'sequence': return as<SequenceConfig>(config).layers.reduce((s, l) => s + layerParamCount(l.layer), 0);
    default: return fail('layerParamCount', `unknown layer kind '${config.kind}'`);
  }
}
