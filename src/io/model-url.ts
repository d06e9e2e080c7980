import type { FlowModel } from '../models/index.js';
import { modelFromBytes, requireEngine, type ModelLoadOptions } from './model-bytes.js';
import { ModelFileError } from './safetensors.js';

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
  let res: Response;
  try {
    res = await fetch(source);
  } catch (e) {
    throw new ModelFileError(`${name}: the model could not be downloaded (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!res.ok) throw new ModelFileError(`${name}: the model could not be downloaded (HTTP ${res.status} ${res.statusText})`);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > MAX_DOWNLOAD_BYTES) throw new ModelFileError(`${name}: ${declared} bytes is larger than any inflow model (limit ${MAX_DOWNLOAD_BYTES})`);
  return modelFromBytes(await readBody(res, name), { ...load, name });
}

/** The response body, read in chunks so an endless or oversized stream stops at the limit. */
async function readBody(res: Response, name: string): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > MAX_DOWNLOAD_BYTES) {
      await reader.cancel();
      throw new ModelFileError(`${name}: the download passed ${MAX_DOWNLOAD_BYTES} bytes, larger than any inflow model`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}
