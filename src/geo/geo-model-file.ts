/**
 * Pixel autoencoder model files (docs/geomap.md §8, the rules of docs/model-files.md): safetensors
 * with a CRC-32 per tensor and metadata entry, format 'inflow-pixel-autoencoder-1', the config
 * checked by its schema, the tensors exactly the parameters it implies, finite weights and the
 * memory budget — all before the model is built.
 */
import { resolveMemoryBudget } from '../engine/budget.js';
import type { Engine } from '../engine/engine.js';
import { InflowError } from '../engine/errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { formatEntry } from '../io/model-bytes.js';
import { checkModuleBytes, moduleFromBytes, moduleToBytes, type ModuleFileKind } from '../io/module-file.js';
import { readRegularFile } from '../io/model-file.js';
import type { NamedArray } from '../io/safetensors.js';
import { checkPixelAutoencoderConfig, PixelAutoencoder, pixelAutoencoderParamShapes, type PixelAutoencoderConfig } from './pixel-autoencoder.js';

export const PIXEL_AUTOENCODER_FORMAT = 'inflow-pixel-autoencoder-1';

const PIXEL_FILE: ModuleFileKind<PixelAutoencoderConfig> = {
  format: PIXEL_AUTOENCODER_FORMAT,
  otherFormat: (found) => `not an inflow pixel autoencoder file (${formatEntry(found)})`,
  check: (json) => checkPixelAutoencoderConfig(json),
  configName: 'pixel autoencoder',
  what: 'pixel autoencoder',
  shapes: pixelAutoencoderParamShapes,
  // One encode chunk (65 536 rows) of the widest layer, twice for temporaries.
  activationBytes: (c) => 2 * 4 * 65536 * Math.max(c.bands, ...c.encoder.map((l) => l.width), ...c.decoder.map((l) => l.width)),
  activations: "one chunk's activations",
};

/** The model's file: its config and every parameter by state-dict name. */
export function pixelAutoencoderToBytes(model: PixelAutoencoder): Promise<Uint8Array> {
  return moduleToBytes(PIXEL_AUTOENCODER_FORMAT, model.config, model.namedParams());
}

/** Every check of a pixel autoencoder file that needs no engine; nothing is built. */
export function checkPixelAutoencoderBytes(bytes: Uint8Array, name: string, memoryBudget = resolveMemoryBudget()): { config: PixelAutoencoderConfig; tensors: Map<string, NamedArray>; params: number } {
  const { config, tensors, values } = checkModuleBytes(PIXEL_FILE, bytes, name, memoryBudget);
  return { config, tensors, params: values };
}

/** Checks a pixel autoencoder file's bytes and rebuilds the model on `engine`. */
export function pixelAutoencoderFromBytes(bytes: Uint8Array | ArrayBuffer, opts: { engine: Engine; name?: string }): PixelAutoencoder {
  return moduleFromBytes(PIXEL_FILE, 'loadPixelAutoencoder', bytes, opts, (engine, config) => new PixelAutoencoder(engine, config)).eval();
}

/** Writes the model file atomically; returns its bytes. */
export async function savePixelAutoencoder(model: PixelAutoencoder, path: string): Promise<Uint8Array> {
  const bytes = await pixelAutoencoderToBytes(model);
  writeFileAtomic(path, bytes);
  return bytes;
}

/** Reads a pixel autoencoder file (a path, read only if it is a regular file, or its bytes), checks it and rebuilds the model on `engine`. */
export function loadPixelAutoencoder(source: string | Uint8Array, opts: { engine: Engine }): PixelAutoencoder {
  if (typeof source !== 'string') return pixelAutoencoderFromBytes(source, { engine: opts?.engine as Engine });
  return pixelAutoencoderFromBytes(readRegularFile(source, 'model'), { engine: opts?.engine as Engine, name: source });
}

/** The one line for a model whose input bands differ from the raster's (after any band selection). */
export function checkModelBands(model: PixelAutoencoder, bands: number, what = 'the raster'): void {
  if (model.bands !== bands)
    throw new InflowError(`geomap: the model was trained on ${model.bands} bands but ${what} has ${bands}${model.bands < bands ? ' (select bands to match)' : ''}`);
}
