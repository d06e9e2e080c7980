/** Diffusion model files on disk (Node): the bytes-level rules of diffusion-model.ts plus the flows' regular-file reading. */
import type { Engine } from '../../engine/engine.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { readRegularFile } from '../../io/model-file.js';
import { diffusionModelFromBytes, type DiffusionModel } from './diffusion-model.js';

/** Writes the model file atomically; returns its bytes. */
export async function saveDiffusionModel(model: DiffusionModel, path: string): Promise<Uint8Array> {
  const bytes = await model.toBytes();
  writeFileAtomic(path, bytes);
  return bytes;
}

/** Reads a diffusion model file (a path, read only if it is a regular file, or its bytes), checks it, and rebuilds the model on `engine`. */
export function loadDiffusionModel(source: string | Uint8Array, opts: { engine: Engine; allowNonFinite?: boolean }): DiffusionModel {
  const allowNonFinite = opts?.allowNonFinite === true;
  if (typeof source !== 'string') return diffusionModelFromBytes(source, { engine: opts?.engine as Engine, allowNonFinite });
  return diffusionModelFromBytes(readRegularFile(source, 'model'), { engine: opts?.engine as Engine, name: source, allowNonFinite });
}
