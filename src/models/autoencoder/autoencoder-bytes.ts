/**
 * Autoencoder model files as bytes (browser and Node): the flows' rules of docs/model-files.md in
 * their order — the container (coverage, checksums, finite weights), the format and the config
 * (schema, the LU fields required), the tensors against the parameters the config implies, the
 * memory budget — all before anything is built; then the 1×1 layers must invert on load.
 */
import { resolveMemoryBudget } from '../../engine/budget.js';
import type { Engine } from '../../engine/engine.js';
import { fail } from '../../engine/errors.js';
import { asFileProblem, bytesArgument, checkTensors, formatEntry, loadFailure, readModelFile, requireEngine, type CheckedFileBytes, type ModelFileKind } from '../../io/model-bytes.js';
import { ModelFileError } from '../../io/safetensors.js';
import { checkAutoencoderConfig, type AutoencoderConfig } from './config.js';
import { ConvVae } from './conv-vae.js';
import { CouplingAutoencoder } from './coupling-autoencoder.js';
import { AUTOENCODER_FORMAT } from './format.js';
import { checkAutoencoderBudget, type TrainableAutoencoder } from './latent-autoencoder.js';
import { autoencoderParamCount, autoencoderParamShapes } from './shapes.js';

export type Autoencoder = CouplingAutoencoder | ConvVae;

/** A new autoencoder of the config's kind, fresh weights from the seed. */
export function buildAutoencoder(engine: Engine, config: AutoencoderConfig, opts: { seed?: number } = {}): Autoencoder & TrainableAutoencoder {
  const checked = checkAutoencoderConfig(config);
  if (!checked.ok) fail('buildAutoencoder', checked.problem);
  return checked.value.kind === 'coupling-autoencoder' ? new CouplingAutoencoder(engine, checked.value, opts) : new ConvVae(engine, checked.value, opts);
}

export type CheckedAutoencoderBytes = CheckedFileBytes<AutoencoderConfig>;

const AUTOENCODER_FILE: ModelFileKind<AutoencoderConfig> = {
  format: AUTOENCODER_FORMAT,
  otherFormat: (found) => `not an inflow autoencoder file (${formatEntry(found)})${
    found === 'inflow-model-1' ? ' (a flow model: use `inflow sample`)' : found === 'inflow-diffusion-1' ? ' (a diffusion model: use `inflow diffuse`)' : ''}`,
  check: (json) => checkAutoencoderConfig(json),
};

/** Every check of an autoencoder file that needs no engine; nothing is built. */
export function checkAutoencoderBytes(bytes: Uint8Array, name: string, opts: { memoryBudget?: number; allowNonFinite?: boolean } = {}): CheckedAutoencoderBytes {
  const { config, tensors, checksummed } = readModelFile(bytes, name, AUTOENCODER_FILE, { finite: !opts.allowNonFinite });
  if (config.kind === 'coupling-autoencoder' && !config.lu)
    throw new ModelFileError(`${name}: config lu is missing (the 1×1 layers' permutations and signs; without them they would be re-drawn at random)`);
  const params = autoencoderParamCount(config);
  checkTensors(name, tensors, autoencoderParamShapes(config), params, config.kind);
  asFileProblem(() => checkAutoencoderBudget(name, config, 1, opts.memoryBudget ?? resolveMemoryBudget()));
  return { config, tensors, params, checksummed };
}

/** Checks an autoencoder file's bytes and rebuilds the model on `engine` (its 1×1 inverses formed, so a singular one is refused here). */
export async function autoencoderFromBytes(bytes: Uint8Array | ArrayBuffer,
  opts: { engine: Engine; name?: string; allowNonFinite?: boolean }): Promise<Autoencoder> {
  requireEngine(opts, 'loadAutoencoder', 'needs { engine }');
  const name = opts.name ?? 'model bytes';
  const { config, tensors } = checkAutoencoderBytes(bytesArgument(bytes, name), name,
    { memoryBudget: opts.engine.memoryBudget, ...(opts.allowNonFinite ? { allowNonFinite: true } : {}) });
  const model = buildAutoencoder(opts.engine, config);
  try {
    model.loadStateDict(tensors);
    await model.prepare();
  } catch (e) {
    throw loadFailure(name, model, e);
  }
  return model;
}
