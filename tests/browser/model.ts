import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createEngine, models, saveModel } from '../../src/node.js';

const bundled = fileURLToPath(new URL('../../models/finc-mnist.safetensors', import.meta.url));

export interface TestModels {
  /** Sampled on both backends and in the screenshot: INFLOW_WEB_MODEL, else the bundled MNIST model, else `small`. */
  display: { bytes: Uint8Array; name: string };
  /** An untrained FInC flow (L 2, K 2, width 16) for the pages that only check plumbing: its samples are noise, but fast. */
  small: Uint8Array;
}

export async function modelsUnderTest(): Promise<TestModels> {
  const engine = await createEngine({ backend: 'wasm', threads: 1 });
  const model = models.fincFlow({ inputShape: [1, 28, 28], levels: 2, steps: 2, width: 16 }, { engine, seed: 1 });
  const x = engine.tensor(Float32Array.from({ length: 4 * 784 }, (_, i) => (i * 37) % 256 + 0.5), [4, 1, 28, 28]);
  model.initialize(x);
  const small = await saveModel(model);
  x.dispose();
  model.dispose();
  engine.dispose();
  const chosen = process.env.INFLOW_WEB_MODEL ?? (existsSync(bundled) ? bundled : null);
  const display = chosen
    ? { bytes: readFileSync(chosen), name: chosen }
    : { bytes: small, name: 'an untrained FInC flow (L 2, K 2, width 16) made by the test' };
  return { display, small };
}
