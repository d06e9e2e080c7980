import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readRegularFile } from './model-file.js';
import { ModelFileError } from './safetensors.js';
import { loadTfjsWeights, MAX_MANIFEST_BYTES, type DecodeTfjsOptions, type TfjsWeight } from './tfjs-manifest.js';

/** A file's bytes after checking its size against `maxBytes`, so an oversized file is never read. */
function readBounded(path: string, maxBytes: number, what: string, why: string): Uint8Array {
  let size: number | undefined;
  try {
    size = statSync(path).size;
  } catch {
    // readRegularFile names a missing or unreadable file in its own words.
  }
  if (size !== undefined && size > maxBytes) throw new ModelFileError(`${path}: ${size} bytes is more than the ${maxBytes} ${why}`);
  return readRegularFile(path, what);
}

/**
 * Reads a tfjs weights manifest from disk and its shards from the manifest's folder, then decodes
 * them (src/io/tfjs-manifest.ts; docs/tfjs-weights.md). Node only.
 */
export async function readTfjsWeights(manifestPath: string, opts: DecodeTfjsOptions = {}): Promise<Map<string, TfjsWeight>> {
  const manifest = readBounded(manifestPath, MAX_MANIFEST_BYTES, 'weights manifest', 'any weights manifest needs');
  const dir = dirname(manifestPath);
  return loadTfjsWeights(manifest, async (p, maxBytes) =>
    readBounded(join(dir, p), maxBytes, 'weights shard', "that the manifest's weights still need (wrong manifest for this shard?)"), manifestPath, opts);
}
