import { readFileSync, statSync } from 'node:fs';
import type { Engine } from '../engine/engine.js';
import type { FlowModel, FlowModelConfig } from '../models/index.js';
import { writeFileAtomic } from './atomic-write.js';
import { modelFromBytes, modelToBytes, parseModelBytes } from './model-bytes.js';
import { ModelFileError } from './safetensors.js';

/** Largest model file loadModel reads from a path (2 GiB): a guard against pointing it at a disk image. */
const MAX_FILE_BYTES = 2 ** 31;

/**
 * Serialises a model: safetensors weights named by their dotted paths, the architecture config in
 * the metadata. Returns the bytes; with a path, also writes them atomically.
 */
export async function saveModel(model: FlowModel, path?: string): Promise<Uint8Array> {
  const bytes = await modelToBytes(model);
  if (path) writeFileAtomic(path, bytes);
  return bytes;
}

/** Reads a model file (path or bytes), checks every tensor against the architecture, and rebuilds the model on `engine`. */
export async function loadModel(source: string | Uint8Array, opts: { engine: Engine }): Promise<FlowModel> {
  if (typeof source !== 'string') return modelFromBytes(source, { engine: opts.engine });
  return modelFromBytes(readModelFile(source), { engine: opts.engine, name: source });
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
  let parsed: ReturnType<typeof parseModelBytes>;
  try {
    parsed = parseModelBytes(bytes, path);
  } catch (e) {
    // `inflow inspect` and its tests expect the short form of this message
    if (e instanceof ModelFileError && /not an inflow model file/.test(e.message)) throw new ModelFileError(`${path}: not an inflow model file`);
    throw e;
  }
  const list = [...parsed.tensors].map(([n, t]) => ({ name: n, shape: t.shape }));
  return { config: parsed.config, tensors: list, bytes: bytes.length, params: list.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0) };
}
