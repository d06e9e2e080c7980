/**
 * anonymize() for Node (the package's "node" entry): the same call, but without a `detector` one
 * is loaded onto `engine` from face-api's weights — `weights` (a folder or manifest) or the
 * installed @vladmandic/face-api — and with `plates: true` but no `plateDetector`, the bundled
 * plate detector (models/plate-detector.safetensors, or `plateWeights`); both are freed
 * afterwards. For many photos load them once (loadTinyFaceDetector, loadPlateDetector) and pass them.
 */
import type { Engine } from '../engine/engine.js';
import { describeValue, fail } from '../engine/errors.js';
import type { RgbImage } from '../models/detect/image.js';
import { loadSsdMobilenetV1, loadTinyFaceDetector } from '../models/detect/face-api-weights.js';
import { BUNDLED_PLATE_DETECTOR, loadPlateDetector } from '../models/plates/plate-file-node.js';
import type { PlateDetector } from '../models/plates/plate-detector.js';
import { anonymize as anonymizeWith, type AnonymizeOptions, type AnonymizeResult } from './anonymize.js';

export interface NodeAnonymizeOptions extends AnonymizeOptions {
  /** face-api's model folder or the detector's manifest (default: the installed package's model/). */
  weights?: string;
  /** Which of face-api's detectors to load when none is passed: 'tiny' (TinyFaceDetector, default) or 'ssd' (SSD-MobileNetV1). */
  detectorKind?: 'tiny' | 'ssd';
  /** A plate detector file to load when plates is true and no plateDetector is passed (default: the bundled one). */
  plateWeights?: string;
}

export async function anonymize(engine: Engine, image: RgbImage, opts: NodeAnonymizeOptions = {}): Promise<AnonymizeResult> {
  if (opts === null || typeof opts !== 'object') return anonymizeWith(engine, image, opts);
  const { weights, detectorKind, plateWeights, ...rest } = opts;
  const needsDetector = rest.faces !== false && rest.detector === undefined;
  const needsPlates = rest.plates === true && rest.plateDetector === undefined;
  for (const [key, given] of [['weights', weights], ['detectorKind', detectorKind]] as const)
    if (given !== undefined && !needsDetector) fail('anonymize', `${key} was given but ${rest.detector !== undefined ? 'a detector was passed too' : 'faces is false'}`);
  if (plateWeights !== undefined && !needsPlates) fail('anonymize', `plateWeights was given but ${rest.plateDetector !== undefined ? 'a plateDetector was passed too' : 'plates is not true'}`);
  if (plateWeights !== undefined && typeof plateWeights !== 'string') fail('anonymize', `plateWeights = ${describeValue(plateWeights)} must be a file path`);
  if (detectorKind !== undefined && detectorKind !== 'tiny' && detectorKind !== 'ssd') fail('anonymize', `detectorKind = ${describeValue(detectorKind)} must be 'tiny' or 'ssd'`);
  if (!needsDetector && !needsPlates) return anonymizeWith(engine, image, rest);
  let plateDetector: PlateDetector | undefined;
  const load = detectorKind === 'ssd' ? loadSsdMobilenetV1 : loadTinyFaceDetector;
  const detector = needsDetector ? await load(engine, weights !== undefined ? { weights } : {}) : undefined;
  try {
    if (needsPlates) plateDetector = loadPlateDetector(plateWeights ?? BUNDLED_PLATE_DETECTOR, { engine });
    return await anonymizeWith(engine, image, { ...rest, ...(detector ? { detector } : {}), ...(plateDetector ? { plateDetector } : {}) });
  } finally {
    detector?.dispose();
    plateDetector?.dispose();
  }
}
