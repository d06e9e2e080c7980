import type { FlowModel } from '../models/index.js';
import { modelFromBytes, requireEngine, type ModelLoadOptions } from './model-bytes.js';
import { fetchBounded } from './fetch-bounded.js';

/** Largest model loadModel downloads (2 GiB), as for a path in Node (src/io/model-file.ts). */
const MAX_DOWNLOAD_BYTES = 2 ** 31;

/**
 * The browser's loadModel: bytes as in Node, or a URL to fetch (where Node takes a path), so
 * `loadModel(source, { engine })` reads the same on both. A download is refused as soon as its
 * declared or received size passes the limit, and then checked like any model file (docs/model-files.md).
 */
export async function loadModel(source: string | URL | Uint8Array | ArrayBuffer, opts: Omit<ModelLoadOptions, 'name'>): Promise<FlowModel> {
  requireEngine(opts);
  const load = { engine: opts.engine, allowNonFinite: opts.allowNonFinite === true };
  if (typeof source !== 'string' && !(source instanceof URL)) return modelFromBytes(source, load);
  const name = String(source);
  const bytes = await fetchBounded(source, name, MAX_DOWNLOAD_BYTES, 'model', (n, declared) => declared
    ? `${name}: ${n} bytes is larger than any inflow model (limit ${MAX_DOWNLOAD_BYTES})`
    : `${name}: the download passed ${MAX_DOWNLOAD_BYTES} bytes, larger than any inflow model`);
  return modelFromBytes(bytes, { ...load, name });
}
