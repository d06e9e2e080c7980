/**
 * Plate detector model files (docs/plates.md §4, the rules of docs/model-files.md): safetensors
 * with a CRC-32 per tensor and metadata entry, format 'inflow-plate-detector-1', the config checked
 * by its schema, the tensors exactly the parameters it implies, the memory budget — all before the
 * detector is built. Browser-safe; plate-file-node.ts adds paths.
 */
import { resolveMemoryBudget } from '../../engine/budget.js';
import type { Engine } from '../../engine/engine.js';
import { formatEntry } from '../../io/model-bytes.js';
import { checkModuleBytes, moduleFromBytes, moduleToBytes, type ModuleFileKind } from '../../io/module-file.js';
import type { NamedArray } from '../../io/safetensors.js';
import { checkPlateDetectorConfig, plateDetectorActivationBytes, plateDetectorParamShapes, type PlateDetectorConfig } from './config.js';
import { PlateDetector } from './plate-detector.js';

export const PLATE_DETECTOR_FORMAT = 'inflow-plate-detector-1';

const PLATE_FILE: ModuleFileKind<PlateDetectorConfig> = {
  format: PLATE_DETECTOR_FORMAT,
  otherFormat: (found) => `not an inflow plate detector file (${formatEntry(found)})`,
  check: (json) => checkPlateDetectorConfig(json),
  configName: 'plate detector',
  what: 'plate detector',
  shapes: plateDetectorParamShapes,
  activationBytes: plateDetectorActivationBytes,
  activations: "one image's activations",
};

/** The detector's file: its config and every parameter by state-dict name. */
export function plateDetectorToBytes(model: PlateDetector): Promise<Uint8Array> {
  return moduleToBytes(PLATE_DETECTOR_FORMAT, model.config, model.namedParams());
}

/** Every check of a plate detector file that needs no engine; nothing is built. */
export function checkPlateDetectorBytes(bytes: Uint8Array, name: string, memoryBudget = resolveMemoryBudget()): { config: PlateDetectorConfig; tensors: Map<string, NamedArray>; params: number } {
  const { config, tensors, values } = checkModuleBytes(PLATE_FILE, bytes, name, memoryBudget);
  return { config, tensors, params: values };
}

/** Checks a plate detector file's bytes and rebuilds the detector on `engine`. */
export function plateDetectorFromBytes(bytes: Uint8Array | ArrayBuffer, opts: { engine: Engine; name?: string }): PlateDetector {
  return moduleFromBytes(PLATE_FILE, 'loadPlateDetector', bytes, opts, (engine, config) => new PlateDetector(engine, config));
}
