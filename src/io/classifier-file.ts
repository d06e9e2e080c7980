import { readFileSync } from 'node:fs';
import type { Engine } from '../engine/engine.js';
import { DigitClassifier, type ClassifierConfig } from '../models/classifier.js';
import { writeFileAtomic } from './atomic-write.js';
import { decodeSafetensors, encodeSafetensors, ModelFileError, type NamedArray } from './safetensors.js';

const FORMAT = 'inflow-classifier-1';

export async function saveClassifier(model: DigitClassifier, path: string, extra: Record<string, string> = {}): Promise<void> {
  const tensors = new Map<string, NamedArray>();
  for (const [name, p] of model.namedParams()) tensors.set(name, { shape: [...p.shape], data: await p.value.data() });
  writeFileAtomic(path, encodeSafetensors(tensors, { ...extra, 'inflow.format': FORMAT, 'inflow.config': JSON.stringify(model.config) }));
}

export function loadClassifier(path: string, engine: Engine): { model: DigitClassifier; metadata: Record<string, string> } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new ModelFileError(`${path}: classifier file not found`);
  }
  const { tensors, metadata } = decodeSafetensors(bytes, path);
  if (metadata['inflow.format'] !== FORMAT) throw new ModelFileError(`${path}: not an inflow classifier file`);
  const model = new DigitClassifier(engine, JSON.parse(metadata['inflow.config']!) as ClassifierConfig);
  const params = model.namedParams();
  for (const [name, p] of params) {
    const t = tensors.get(name);
    if (!t || t.shape.join() !== p.shape.join()) throw new ModelFileError(`${path}: parameter '${name}' is missing or has the wrong shape`);
    p.value = engine.tensor(t.data, p.shape);
  }
  return { model, metadata };
}
