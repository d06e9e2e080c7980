import type { Engine } from '../../src/engine/engine.js';
import * as models from '../../src/models/index.js';
import type { FlowModel, ModelConfig, ModelKind } from '../../src/models/index.js';
import type { Bijection } from '../layers/contract.js';

export const kinds: ModelKind[] = ['finc', 'cinc', 'inverse', 'glow', 'emerging'];

export const builders = { finc: models.fincFlow, cinc: models.cincFlow, inverse: models.inverseFlow, glow: models.glow, emerging: models.emerging } as const;

export const build = (kind: ModelKind, cfg: string | Partial<ModelConfig>, engine: Engine, seed = 0): FlowModel =>
  builders[kind](cfg, { engine, seed });

/** The flow part of a model (logit space → latents) as a bijection for the contract helpers. */
export const modelBijection = (m: FlowModel): Bijection => ({
  module: m,
  encode: (x) => { const r = m.encode(x); return { outs: r.z, logdet: r.logdet }; },
  decode: (z) => m.decode(z),
});
