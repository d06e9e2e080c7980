/**
 * Plate detector model files (docs/plates.md §4, the rules of docs/model-files.md): safetensors
 * with a CRC-32 per tensor and metadata entry, format 'inflow-plate-detector-1', the config checked
 * by its schema, the tensors exactly the parameters it implies, the memory budget — all before the
 * detector is built. Browser-safe; plate-file-node.ts adds paths.
 */
import { checkBudget, resolveMemoryBudget } from '../../engine/budget.js';
import type { Engine } from '../../engine/engine.js';
import { asFileProblem, bytesArgument, checkTensors, formatEntry, loadFailure, readModelFile, requireEngine, type ModelFileKind } from '../../io/model-bytes.js';
import { encodeSafetensors, type NamedArray } from '../../io/safetensors.js';
import { checkPlateDetectorConfig, plateDetectorActivationBytes, plateDetectorParamCount, plateDetectorParamShapes, type PlateDetectorConfig } from './config.js';
import { PlateDetector } from './plate-detector.js';

export const PLATE_DETECTOR_FORMAT = 'inflow-plate-detector-1';

const PLATE_FILE: ModelFileKind<PlateDetectorConfig> = {
  format: PLATE_DETECTOR_FORMAT,
  otherFormat: (found) => `not an inflow plate detector file (${formatEntry(found)})`,
  check: (json) => checkPlateDetectorConfig(json),
  configName: 'plate detector',
};

/** The detector's file: its config and every parameter by state-dict name. */
export async function plateDetectorToBytes(model: PlateDetector): Promise<Uint8Array> {
  const tensors = new Map<string, NamedArray>();
  for (const [name, p] of model.namedParams()) tensors.set(name, { shape: [...p.shape], data: await p.value.data() });
  return encodeSafetensors(tensors, { 'inflow.format': PLATE_DETECTOR_FORMAT, 'inflow.config': JSON.stringify(model.config) });
}

/** Every check of a plate detector file that needs no engine; nothing is built. */
export function checkPlateDetectorBytes(bytes: Uint8Array, name: string, memoryBudget = resolveMemoryBudget()): { config: PlateDetectorConfig; tensors: Map<string, NamedArray>; params: number } {
  const { config, tensors } = readModelFile(bytes, name, PLATE_FILE, { finite: true });
  const params = plateDetectorParamCount(config);
  checkTensors(name, tensors, plateDetectorParamShapes(config), params, 'plate detector');
  asFileProblem(() => checkBudget(name, `the plate detector it describes (${params.toLocaleString('en')} parameters, with one image's activations)`,
    4 * params + plateDetectorActivationBytes(config), memoryBudget));
  return { config, tensors, params };
}

/** Checks a plate detector file's bytes and rebuilds the detector on `engine`. */
export function plateDetectorFromBytes(bytes: Uint8Array | ArrayBuffer, opts: { engine: Engine; name?: string }): PlateDetector {
  requireEngine(opts, 'loadPlateDetector', 'needs { engine }');
  const name = opts.name ?? 'model bytes';
  const { config, tensors } = checkPlateDetectorBytes(bytesArgument(bytes, name), name, opts.engine.memoryBudget);
  const model = new PlateDetector(opts.engine, config);
  try {
    model.loadStateDict(tensors);
  } catch (e) {
    throw loadFailure(name, model, e);
  }
  return model;
}
