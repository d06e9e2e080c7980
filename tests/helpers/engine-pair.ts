import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';

/** The float64 reference engine and a one-thread wasm engine: the pair the model tests compare and run on. */
export async function referenceAndWasm(): Promise<{ ref: Engine; wasm: Engine }> {
  return { ref: await createEngine({ backend: 'reference' }), wasm: await createEngine({ backend: 'wasm', threads: 1 }) };
}
