import { fetchBounded as fetchAtMost } from './fetch-bounded.js';
import { ModelFileError } from './safetensors.js';
import { loadTfjsWeights, MAX_MANIFEST_BYTES, type DecodeTfjsOptions, type TfjsWeight } from './tfjs-manifest.js';

/** `url`'s body, at most `maxBytes` (src/io/fetch-bounded.ts). */
const fetchBounded = (url: URL, maxBytes: number, what: string): Promise<Uint8Array> =>
  fetchAtMost(url, String(url), maxBytes, what, (n) => `${url}: ${n} bytes is more than the ${maxBytes} the ${what} may hold`);

/**
 * Downloads a tfjs weights manifest and its shards (named relative to the manifest's URL) and
 * decodes them (src/io/tfjs-manifest.ts; docs/tfjs-weights.md). Works wherever fetch does.
 */
export async function fetchTfjsWeights(manifestUrl: string | URL, opts: DecodeTfjsOptions = {}): Promise<Map<string, TfjsWeight>> {
  let url: URL;
  try {
    url = new URL(manifestUrl, typeof location !== 'undefined' ? location.href : undefined);
  } catch {
    throw new ModelFileError(`${String(manifestUrl)}: not a URL (in Node, pass a folder or file path to readTfjsWeights instead)`);
  }
  const manifest = await fetchBounded(url, MAX_MANIFEST_BYTES, 'weights manifest');
  return loadTfjsWeights(manifest, (p, maxBytes) => fetchBounded(new URL(p, url), maxBytes, 'weights shard'), url.href, opts);
}
