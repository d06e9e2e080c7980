import { encodeSafetensors, type NamedArray } from '../../io/safetensors.js';
import type { AutoencoderConfig } from './config.js';

/** The `inflow.format` of an autoencoder model file (flows use inflow-model-1, diffusion models inflow-diffusion-1). */
export const AUTOENCODER_FORMAT = 'inflow-autoencoder-1';
export const FORMAT_KEY = 'inflow.format';
export const CONFIG_KEY = 'inflow.config';

/** A model file from a config and the weights by state-dict name, with CRC-32s of every tensor and metadata entry. */
export function encodeAutoencoder(config: AutoencoderConfig, tensors: ReadonlyMap<string, NamedArray>): Uint8Array {
  return encodeSafetensors(tensors, { [FORMAT_KEY]: AUTOENCODER_FORMAT, [CONFIG_KEY]: JSON.stringify(config) });
}
