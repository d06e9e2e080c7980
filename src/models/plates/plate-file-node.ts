/** Plate detector files on disk (Node): plate-file.ts's checks plus the model files' regular-file reading. */
import { fileURLToPath } from 'node:url';
import type { Engine } from '../../engine/engine.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { readRegularFile } from '../../io/model-file.js';
import { plateDetectorFromBytes, plateDetectorToBytes } from './plate-file.js';
import type { PlateDetector } from './plate-detector.js';

/** The committed detector (docs/plates.md §9); the package build copies it to the same place relative to this file. */
export const BUNDLED_PLATE_DETECTOR = fileURLToPath(new URL('../../../models/plate-detector.safetensors', import.meta.url));

/** Writes the model file atomically; returns its bytes. */
export async function savePlateDetector(model: PlateDetector, path: string): Promise<Uint8Array> {
  const bytes = await plateDetectorToBytes(model);
  writeFileAtomic(path, bytes);
  return bytes;
}

/** Reads a plate detector file (a path, read only if it is a regular file, or its bytes), checks it and rebuilds the detector on `engine`. */
export function loadPlateDetector(source: string | Uint8Array, opts: { engine: Engine }): PlateDetector {
  if (typeof source !== 'string') return plateDetectorFromBytes(source, { engine: opts?.engine as Engine });
  return plateDetectorFromBytes(readRegularFile(source, 'model'), { engine: opts?.engine as Engine, name: source });
}
