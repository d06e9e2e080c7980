import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createEngine, models, saveModel } from '../../src/node.js';

const bundled = fileURLToPath(new URL('../../models/finc-mnist.safetensors', import.meta.url));

/**
 * The model the page loads: INFLOW_WEB_MODEL, else the bundled MNIST model, else a small untrained
 * FInC flow made here (its samples are noise, but every code path is the same).
 */
export async function modelUnderTest(): Promise<{ bytes: Uint8Array; name: string }> {
  const chosen = process.env.INFLOW_WEB_MODEL ?? (existsSync(bundled) ? bundled : null);
  if (chosen) return { bytes: readFileSync(chosen), name: chosen };
  const engine = await createEngine({ backend: 'wasm', threads: 1 });
  const model = models.fincFlow({ inputShape: [1, 28, 28], levels: 2, steps: 2, width: 16 }, { engine, seed: 1 });
  const x = engine.tensor(Float32Array.from({ length: 4 * 784 }, (_, i) => (i * 37) % 256 + 0.5), [4, 1, 28, 28]);
  model.initialize(x);
  const bytes = await saveModel(model);
  x.dispose();
  model.dispose();
  engine.dispose();
  return { bytes, name: 'an untrained FInC flow (L 2, K 2, width 16) made by the test' };
}
