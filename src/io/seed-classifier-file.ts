import type { Engine } from '../engine/engine.js';
import { checkSeedClassifierConfigValue, type SeedClassifierConfig } from '../models/seed-classifier/config.js';
import { SeedClassifier } from '../models/seed-classifier/classifier.js';
import { seedClassifierActivationBytes, seedClassifierParamShapes } from '../models/seed-classifier/param-shapes.js';
import { writeFileAtomic } from './atomic-write.js';
import { formatEntry } from './model-bytes.js';
import { buildChecked, checkModuleBytes, moduleToBytes, type ModuleFileKind } from './module-file.js';
import { readRegularFile } from './model-file.js';

const FORMAT = 'inflow-seed-classifier-1';

const SEED_CLASSIFIER_FILE: ModuleFileKind<SeedClassifierConfig> = {
  format: FORMAT,
  otherFormat: (found) => `not an inflow seed-classifier file (${formatEntry(found)})`,
  check: (json) => checkSeedClassifierConfigValue(json),
  configName: 'seed-classifier',
  what: 'seed classifier',
  shapes: seedClassifierParamShapes,
  activationBytes: seedClassifierActivationBytes,
  activations: "one image's activations",
};

/** The weights and config as a safetensors file (written atomically); `extra` adds metadata entries such as class names. */
export async function saveSeedClassifier(model: SeedClassifier, path: string, extra: Record<string, string> = {}): Promise<void> {
  writeFileAtomic(path, await moduleToBytes(FORMAT, model.config, model.namedParams(), extra));
}

/**
 * Reads a seed-classifier file with the model files' rules (docs/model-files.md): a regular file,
 * exact coverage, checksums, the config against the schema, the tensors exactly the parameters it
 * implies, the memory budget, finite weights — all before the classifier is built.
 */
export function loadSeedClassifier(path: string, engine: Engine): { model: SeedClassifier; metadata: Record<string, string> } {
  const bytes = readRegularFile(path, 'seed classifier');
  const checked = checkModuleBytes(SEED_CLASSIFIER_FILE, bytes, path, engine.memoryBudget);
  return { model: buildChecked(checked, path, engine, (e, config) => new SeedClassifier(e, config)), metadata: checked.metadata };
}
