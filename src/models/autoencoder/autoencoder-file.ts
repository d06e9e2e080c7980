/** Autoencoder model files on disk (Node): the bytes-level rules of autoencoder-bytes.ts plus the flows' regular-file reading. */
import type { Engine } from '../../engine/engine.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { readRegularFile } from '../../io/model-file.js';
import { autoencoderFromBytes, type Autoencoder } from './autoencoder-bytes.js';
import type { LatentAutoencoder } from './latent-autoencoder.js';

/** Writes the model file atomically; returns its bytes. */
export async function saveAutoencoder(model: LatentAutoencoder, path: string): Promise<Uint8Array> {
  const bytes = await model.toBytes();
  writeFileAtomic(path, bytes);
  return bytes;
}

/** Reads an autoencoder file (a path, read only if it is a regular file, or its bytes), checks it, and rebuilds the model on `engine`. */
export async function loadAutoencoder(source: string | Uint8Array, opts: { engine: Engine; allowNonFinite?: boolean }): Promise<Autoencoder> {
  const allowNonFinite = opts?.allowNonFinite === true;
  if (typeof source !== 'string') return autoencoderFromBytes(source, { engine: opts?.engine as Engine, allowNonFinite });
  return autoencoderFromBytes(readRegularFile(source, 'model'), { engine: opts?.engine as Engine, name: source, allowNonFinite });
}
