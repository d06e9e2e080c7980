/**
 * Autoencoder model files as bytes (browser and Node): the flows' rules of docs/model-files.md in
 * their order — the container (coverage, checksums, finite weights), the format and the config
 * (schema, the LU fields required), the tensors against the parameters the config implies, the
 * memory budget — all before anything is built; then the 1×1 layers must invert on load.
 */
import { resolveMemoryBudget } from '../../engine/budget.js';
import type { Engine } from '../../engine/engine.js';
import { describeValue, fail, InflowError } from '../../engine/errors.js';
import { checkTensors } from '../../io/model-bytes.js';
import { decodeSafetensors, ModelFileError, parseBoundedJson, type NamedArray } from '../../io/safetensors.js';
import { MAX_JSON_DEPTH } from '../schema.js';
import { checkAutoencoderConfig, type AutoencoderConfig } from './config.js';
import { ConvVae } from './conv-vae.js';
import { CouplingAutoencoder } from './coupling-autoencoder.js';
import { AUTOENCODER_FORMAT, CONFIG_KEY, FORMAT_KEY } from './format.js';
import { checkAutoencoderBudget, type TrainableAutoencoder } from './latent-autoencoder.js';
import { autoencoderParamCount, autoencoderParamShapes } from './shapes.js';

export type Autoencoder = CouplingAutoencoder | ConvVae;

/** A new autoencoder of the config's kind, fresh weights from the seed. */
export function buildAutoencoder(engine: Engine, config: AutoencoderConfig, opts: { seed?: number } = {}): Autoencoder & TrainableAutoencoder {
  const checked = checkAutoencoderConfig(config);
  if (!checked.ok) fail('buildAutoencoder', checked.problem);
  return checked.value.kind === 'coupling-autoencoder' ? new CouplingAutoencoder(engine, checked.value, opts) : new ConvVae(engine, checked.value, opts);
}

export interface CheckedAutoencoderBytes {
  config: AutoencoderConfig;
  tensors: Map<string, NamedArray>;
  params: number;
  checksummed: boolean;
}

/** Every check of an autoencoder file that needs no engine; nothing is built. */
export function checkAutoencoderBytes(bytes: Uint8Array, name: string, opts: { memoryBudget?: number; allowNonFinite?: boolean } = {}): CheckedAutoencoderBytes {
  const { tensors, metadata, checksummed } = decodeSafetensors(bytes, name, { finite: !opts.allowNonFinite });
  if (metadata[FORMAT_KEY] !== AUTOENCODER_FORMAT) {
    const format = metadata[FORMAT_KEY];
    const hint = format === 'inflow-model-1' ? ' (a flow model: use `inflow sample`)' : format === 'inflow-diffusion-1' ? ' (a diffusion model: use `inflow diffuse`)' : '';
    throw new ModelFileError(`${name}: not an inflow autoencoder file (format ${JSON.stringify(format?.slice(0, 40) ?? null)})${hint}`);
  }
  const text = metadata[CONFIG_KEY];
  if (text === undefined) throw new ModelFileError(`${name}: the metadata has no model config ('${CONFIG_KEY}' is missing)`);
  let json: unknown;
  try {
    json = parseBoundedJson(text, MAX_JSON_DEPTH);
  } catch (e) {
    throw new ModelFileError(`${name}: the model config in the metadata is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  const checked = checkAutoencoderConfig(json);
  if (!checked.ok) throw new ModelFileError(`${name}: ${checked.problem}`);
  const config = checked.value;
  if (config.kind === 'coupling-autoencoder' && !config.lu)
    throw new ModelFileError(`${name}: config lu is missing (the 1×1 layers' permutations and signs; without them they would be re-drawn at random)`);
  const params = autoencoderParamCount(config);
  checkTensors(name, tensors, autoencoderParamShapes(config), params, config.kind);
  try {
    checkAutoencoderBudget(name, config, 1, opts.memoryBudget ?? resolveMemoryBudget());
  } catch (e) {
    if (e instanceof InflowError) throw new ModelFileError(e.message);
    throw e;
  }
  return { config, tensors, params, checksummed };
}

/** Checks an autoencoder file's bytes and rebuilds the model on `engine` (its 1×1 inverses formed, so a singular one is refused here). */
export async function autoencoderFromBytes(bytes: Uint8Array | ArrayBuffer,
  opts: { engine: Engine; name?: string; allowNonFinite?: boolean }): Promise<Autoencoder> {
  if (!opts?.engine || typeof opts.engine.tensor !== 'function') fail('loadAutoencoder', 'needs { engine }');
  const name = opts.name ?? 'model bytes';
  if (!(bytes instanceof Uint8Array) && !(bytes instanceof ArrayBuffer))
    throw new ModelFileError(`${name}: a model must be given as a Uint8Array or ArrayBuffer of the file's bytes, not ${describeValue(bytes)}`);
  const { config, tensors } = checkAutoencoderBytes(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), name,
    { memoryBudget: opts.engine.memoryBudget, ...(opts.allowNonFinite ? { allowNonFinite: true } : {}) });
  const model = buildAutoencoder(opts.engine, config);
  try {
    model.loadStateDict(tensors);
    await model.prepare();
  } catch (e) {
    model.dispose();
    if (e instanceof InflowError && !(e instanceof ModelFileError)) throw new ModelFileError(`${name}: ${e.message}`);
    throw e;
  }
  return model;
}
