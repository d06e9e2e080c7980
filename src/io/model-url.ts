import type { Engine } from '../engine/engine.js';
import type { FlowModel } from '../models/index.js';
import { modelFromBytes } from './model-bytes.js';
import { ModelFileError } from './safetensors.js';

/**
 * The browser's loadModel: bytes as in Node, or a URL to fetch (where Node takes a path), so
 * `loadModel(source, { engine })` reads the same on both.
 */
export async function loadModel(source: string | URL | Uint8Array | ArrayBuffer, opts: { engine: Engine }): Promise<FlowModel> {
  if (typeof source !== 'string' && !(source instanceof URL)) return modelFromBytes(source, { engine: opts.engine });
  const name = String(source);
  let res: Response;
  try {
    res = await fetch(source);
  } catch (e) {
    throw new ModelFileError(`${name}: the model could not be downloaded (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!res.ok) throw new ModelFileError(`${name}: the model could not be downloaded (HTTP ${res.status} ${res.statusText})`);
  return modelFromBytes(new Uint8Array(await res.arrayBuffer()), { engine: opts.engine, name });
}
