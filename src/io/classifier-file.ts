import type { Engine } from '../engine/engine.js';
import { checkBudget } from '../engine/budget.js';
import { DigitClassifier, type ClassifierConfig } from '../models/classifier.js';
import { checkClassifierConfig } from '../models/schema.js';
import { writeFileAtomic } from './atomic-write.js';
import { asFileProblem, readModelFile, type ModelFileKind } from './model-bytes.js';
import { readRegularFile } from './model-file.js';
import { encodeSafetensors, ModelFileError, type NamedArray } from './safetensors.js';

const FORMAT = 'inflow-classifier-1';

export async function saveClassifier(model: DigitClassifier, path: string, extra: Record<string, string> = {}): Promise<void> {
  const tensors = new Map<string, NamedArray>();
  for (const [name, p] of model.namedParams()) tensors.set(name, { shape: [...p.shape], data: await p.value.data() });
  writeFileAtomic(path, encodeSafetensors(tensors, { ...extra, 'inflow.format': FORMAT, 'inflow.config': JSON.stringify(model.config) }));
}

/** The classifier's parameters by name (src/models/classifier.ts), from the config alone. */
export function classifierParamShapes(c: ClassifierConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  let cin = c.inputShape[0];
  c.widths.forEach((w, i) => {
    out.set(`conv${i}.weight`, [w, cin, 3, 3]).set(`conv${i}.bias`, [w]);
    cin = i < 2 ? 4 * w : w;
  });
  out.set('fc.weight', [cin * (c.inputShape[1] / 4) * (c.inputShape[2] / 4), c.classes]).set('fc.bias', [c.classes]);
  return out;
}

/** Upper estimate of one image's live activations: each conv's output and ReLU at its resolution, ×2 for temporaries. */
const classifierActivationBytes = (c: ClassifierConfig): number => {
  const [, H, W] = c.inputShape;
  const [w0, w1, w2] = c.widths;
  return 4 * 2 * (2 * c.inputShape[0] * H * W + 3 * w0 * H * W + 3 * w1 * (H * W) / 4 + 3 * w2 * (H * W) / 16);
};

const CLASSIFIER_FILE: ModelFileKind<ClassifierConfig> = {
  format: FORMAT,
  otherFormat: () => 'not an inflow classifier file',
  check: (json) => checkClassifierConfig(json),
  configName: 'classifier',
};

/**
 * Reads a classifier file with the model files' rules (docs/model-files.md): a regular file,
 * exact coverage, checksums when present, the config against the schema, the tensors against the
 * parameters it implies, the memory budget, finite weights — all before the classifier is built.
 */
export function loadClassifier(path: string, engine: Engine): { model: DigitClassifier; metadata: Record<string, string> } {
  const bytes = readRegularFile(path, 'classifier');
  const { config, tensors, metadata } = readModelFile(bytes, path, CLASSIFIER_FILE, { finite: true });
  const want = classifierParamShapes(config);
  let params = 0, carried = 0;
  for (const s of want.values()) params += s.reduce((a, b) => a * b, 1);
  for (const t of tensors.values()) carried += t.data.length;
  for (const [name, t] of tensors)
    if (!want.has(name)) throw new ModelFileError(`${path}: tensor '${name.slice(0, 80)}' is not a parameter of the classifier`);
  for (const [name, shape] of want) {
    const t = tensors.get(name);
    if (!t || t.shape.join() !== shape.join()) throw new ModelFileError(`${path}: parameter '${name}' is missing or has the wrong shape`);
  }
  if (params !== carried) throw new ModelFileError(`${path}: the config declares ${params} parameters but the file carries ${carried}`);
  asFileProblem(() => checkBudget(path, `the classifier it describes (${params.toLocaleString('en')} parameters, with one image's activations)`,
    4 * params + classifierActivationBytes(config), engine.memoryBudget));
  const model = new DigitClassifier(engine, config);
  for (const [name, p] of model.namedParams()) p.value = engine.tensor(tensors.get(name)!.data, p.shape);
  return { model, metadata };
}
