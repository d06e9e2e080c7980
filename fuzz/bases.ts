/**
 * The valid files every fuzz case starts from: the bundled flow (read, never written) and small
 * models of every kind saved by the current code, so the fuzzer follows the format as it changes
 * (a checksum added on save, for one, makes weight flips detectable and the generator knows it).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../src/engine/dispatcher.js';
import { saveModel } from '../src/io/model-file.js';
import { cincFlow, emerging, fincFlow, glow, inverseFlow, type FlowModel } from '../src/models/index.js';
import type { Engine } from '../src/engine/engine.js';
import { parseBase, type BaseFile } from './generate.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const bundledModelPath = join(repoRoot, 'models', 'finc-mnist.safetensors');

const tiny = { inputShape: [1, 8, 8] as [number, number, number], levels: 2, steps: 2, width: 8 };

/** name → builder of a small valid model; 'tiny-classes' covers the class prior and conditioned couplings. */
const builders: Record<string, (engine: Engine) => FlowModel> = {
  'tiny-finc': (engine) => fincFlow(tiny, { engine, seed: 1 }),
  'tiny-cinc': (engine) => cincFlow(tiny, { engine, seed: 2 }),
  'tiny-inverse': (engine) => inverseFlow({ ...tiny, inverseUnit: 'chained' }, { engine, seed: 3 }),
  'tiny-glow': (engine) => glow(tiny, { engine, seed: 4 }),
  'tiny-emerging': (engine) => emerging(tiny, { engine, seed: 5 }),
  'tiny-classes': (engine) => fincFlow({ ...tiny, classes: 3, classCouplings: true }, { engine, seed: 6 }),
};

/** The bundled model plus a freshly saved tiny model of each kind, in a fixed order (cases depend on it). */
export async function makeBases(): Promise<BaseFile[]> {
  const engine = await createEngine({ backend: 'reference' });
  try {
    const out: BaseFile[] = [parseBase('bundled', new Uint8Array(readFileSync(bundledModelPath)))];
    for (const [name, build] of Object.entries(builders)) {
      const model = build(engine);
      // A fresh model's ActNorms are uninitialised; the file marks them initialised on load anyway.
      out.push(parseBase(name, await saveModel(model)));
      model.dispose();
    }
    return out;
  } finally {
    engine.dispose();
  }
}
