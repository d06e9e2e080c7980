import { readFileSync, statSync } from 'node:fs';
import type { Engine } from '../engine/engine.js';
import { fromConfig, type FlowModel, type FlowModelConfig } from '../models/index.js';
import { writeFileAtomic } from './atomic-write.js';
import { decodeSafetensors, encodeSafetensors, ModelFileError, type NamedArray } from './safetensors.js';

/** Metadata key holding the model's JSON config inside the safetensors file. */
const CONFIG_KEY = 'inflow.config';
const FORMAT_KEY = 'inflow.format';
const FORMAT = 'inflow-model-1';

/** Largest model file loadModel reads from a path (2 GiB): a guard against pointing it at a disk image. */
const MAX_FILE_BYTES = 2 ** 31;

/**
 * Serialises a model: safetensors weights named by their dotted paths, the architecture config in
 * the metadata. Returns the bytes; with a path, also writes them atomically.
 */
export async function saveModel(model: FlowModel, path?: string): Promise<Uint8Array> {
  const tensors = new Map<string, NamedArray>();
  for (const [name, p] of model.namedParams()) tensors.set(name, { shape: [...p.shape], data: await p.value.data() });
  const bytes = encodeSafetensors(tensors, { [FORMAT_KEY]: FORMAT, [CONFIG_KEY]: JSON.stringify(model.config) });
  if (path) writeFileAtomic(path, bytes);
  return bytes;
}

/** Reads a model file (path or bytes), checks every tensor against the architecture, and rebuilds the model on `engine`. */
export async function loadModel(source: string | Uint8Array, opts: { engine: Engine }): Promise<FlowModel> {
  const name = typeof source === 'string' ? source : 'model bytes';
  const bytes = typeof source === 'string' ? readModelFile(source) : source;
  const { tensors, metadata } = decodeSafetensors(bytes, name);
  if (metadata[FORMAT_KEY] !== FORMAT)
    throw new ModelFileError(`${name}: not an inflow model file (format ${JSON.stringify(metadata[FORMAT_KEY] ?? null)})`);
  let config: FlowModelConfig;
  try {
    config = JSON.parse(metadata[CONFIG_KEY] ?? '') as FlowModelConfig;
  } catch {
    throw new ModelFileError(`${name}: the model config in the metadata is not valid JSON`);
  }
  let model: FlowModel;
  try {
    model = fromConfig(opts.engine, config);
  } catch (e) {
    throw new ModelFileError(`${name}: cannot build the model it describes (${e instanceof Error ? e.message : String(e)})`);
  }
  const params = model.namedParams();
  try {
    for (const [key, t] of tensors) {
      const p = params.get(key);
      if (!p) throw new ModelFileError(`${name}: tensor '${key}' is not a parameter of this ${config.model?.kind ?? ''} model (unknown layer)`);
      if (p.shape.join() !== t.shape.join())
        throw new ModelFileError(`${name}: tensor '${key}' has shape [${t.shape}], the model expects [${p.shape}]`);
    }
    for (const key of params.keys()) if (!tensors.has(key)) throw new ModelFileError(`${name}: parameter '${key}' is missing`);
    model.loadParameters(new Map([...tensors].map(([k, v]) => [k, v.data])));
  } catch (e) {
    model.dispose();
    throw e;
  }
  await model.prepare();
  return model;
}

function readModelFile(path: string): Uint8Array {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw new ModelFileError(`${path}: model file not found`);
  }
  if (size > MAX_FILE_BYTES) throw new ModelFileError(`${path}: ${size} bytes is larger than any inflow model (limit ${MAX_FILE_BYTES})`);
  return readFileSync(path);
}

/** Config and tensor list of a model file without building the model (for `inflow inspect`). */
export function inspectModelFile(path: string): { config: FlowModelConfig; tensors: Array<{ name: string; shape: number[] }>; bytes: number; params: number } {
  const bytes = readModelFile(path);
  const { tensors, metadata } = decodeSafetensors(bytes, path);
  if (metadata[FORMAT_KEY] !== FORMAT) throw new ModelFileError(`${path}: not an inflow model file`);
  let config: FlowModelConfig;
  try {
    config = JSON.parse(metadata[CONFIG_KEY] ?? '') as FlowModelConfig;
  } catch {
    throw new ModelFileError(`${path}: the model config in the metadata is not valid JSON`);
  }
  const list = [...tensors].map(([n, t]) => ({ name: n, shape: t.shape }));
  return { config, tensors: list, bytes: bytes.length, params: list.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0) };
}
