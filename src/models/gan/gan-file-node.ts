/** GAN generator files on disk (Node): gan-file.ts's checks plus the model files' regular-file reading. */
import type { Engine } from '../../engine/engine.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { readRegularFile } from '../../io/model-file.js';
import type { Ema } from '../../train/ema.js';
import { ganGeneratorFromBytes, ganGeneratorToBytes } from './gan-file.js';
import type { ConditionalGenerator } from './generator.js';

/** Writes the generator file atomically (the EMA's weights when given); returns its bytes. */
export async function saveGanGenerator(generator: ConditionalGenerator, path: string, ema?: Ema | null): Promise<Uint8Array> {
  const bytes = await ganGeneratorToBytes(generator, ema);
  writeFileAtomic(path, bytes);
  return bytes;
}

/** Reads a generator file (a path, read only if it is a regular file, or its bytes), checks it and rebuilds the generator on `engine`. */
export function loadGanGenerator(source: string | Uint8Array, opts: { engine: Engine }): ConditionalGenerator {
  if (typeof source !== 'string') return ganGeneratorFromBytes(source, { engine: opts?.engine as Engine });
  return ganGeneratorFromBytes(readRegularFile(source, 'model'), { engine: opts?.engine as Engine, name: source });
}
