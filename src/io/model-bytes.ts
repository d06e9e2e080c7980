/**
 * Model files as bytes: the part of the model-file format that needs no file system, so browsers
 * (fetch → loadModel) and Node (model-file.ts, which adds paths) share it.
 */
import type { Engine } from '../engine/engine.js';
import { fromConfig, type FlowModel, type FlowModelConfig } from '../models/index.js';
import { decodeSafetensors, encodeSafetensors, ModelFileError, type NamedArray } from './safetensors.js';

/** Metadata key holding the model's JSON config inside the safetensors file. */
const CONFIG_KEY = 'inflow.config';
const FORMAT_KEY = 'inflow.format';
const FORMAT = 'inflow-model-1';

/** Serialises a model: safetensors weights named by their dotted paths, the architecture config in the metadata. */
export async function modelToBytes(model: FlowModel): Promise<Uint8Array> {
  const tensors = new Map<string, NamedArray>();
  for (const [name, p] of model.namedParams()) tensors.set(name, { shape: [...p.shape], data: await p.value.data() });
  return encodeSafetensors(tensors, { [FORMAT_KEY]: FORMAT, [CONFIG_KEY]: JSON.stringify(model.config) });
}

/** The config and tensors of a model file, checked to be an inflow model; `name` appears in errors. */
export function parseModelBytes(bytes: Uint8Array, name: string): { config: FlowModelConfig; tensors: Map<string, NamedArray> } {
  const { tensors, metadata } = decodeSafetensors(bytes, name);
  if (metadata[FORMAT_KEY] !== FORMAT)
    throw new ModelFileError(`${name}: not an inflow model file (format ${JSON.stringify(metadata[FORMAT_KEY] ?? null)})`);
  let config: FlowModelConfig;
  try {
    config = JSON.parse(metadata[CONFIG_KEY] ?? '') as FlowModelConfig;
  } catch {
    throw new ModelFileError(`${name}: the model config in the metadata is not valid JSON`);
  }
  return { config, tensors };
}

/** Checks every tensor of a model file against the architecture it describes and rebuilds the model on `engine`. */
export async function modelFromBytes(bytes: Uint8Array | ArrayBuffer, opts: { engine: Engine; name?: string }): Promise<FlowModel> {
  const name = opts.name ?? 'model bytes';
  const { config, tensors } = parseModelBytes(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), name);
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
