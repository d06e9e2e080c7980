/**
 * anonymize() for Node (the package's "node" entry): the same call, but without a `detector` one
 * is loaded onto `engine` from face-api's weights — `weights` (a folder or manifest) or the
 * installed @vladmandic/face-api — and with `plates: true` but no `plateDetector`, the bundled
 * plate detector (models/plate-detector.safetensors, or `plateWeights`); with `verify: true` but no
 * `recognizer`, face-api's recognition network from the same folder; all are freed afterwards.
 * For many photos load them once (loadTinyFaceDetector, loadPlateDetector, loadFaceRecognitionNet)
 * and pass them.
 */
import type { Engine } from '../engine/engine.js';
import { describeValue, fail } from '../engine/errors.js';
import type { RgbImage } from '../models/detect/image.js';
import { loadFaceRecognitionNet, loadSsdMobilenetV1, loadTinyFaceDetector, recognizerWeightsBeside } from '../models/detect/face-api-weights.js';
import type { FaceRecognitionNet } from '../models/detect/face-recognition-net.js';
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
  /** Check every hidden face with face-api's recognition network, loaded like the detector when no `recognizer` is passed (docs/anonymize.md §4.2). */
  verify?: boolean;
}

export async function anonymize(engine: Engine, image: RgbImage, opts: NodeAnonymizeOptions = {}): Promise<AnonymizeResult> {
  if (opts === null || typeof opts !== 'object') return anonymizeWith(engine, image, opts);
  const { weights, detectorKind, plateWeights, verify, ...rest } = opts;
  if (verify !== undefined && typeof verify !== 'boolean') fail('anonymize', `verify = ${describeValue(verify)} must be true or false`);
  if (verify && rest.recognizer !== undefined) fail('anonymize', 'verify was given but a recognizer was passed too');
  if (verify && rest.faces === false) fail('anonymize', 'verify was given but faces is false: it checks faces only');
  const needsDetector = rest.faces !== false && rest.detector === undefined;
  const needsRecognizer = verify === true;
  const needsPlates = rest.plates === true && rest.plateDetector === undefined;
  for (const [key, given] of [['weights', weights], ['detectorKind', detectorKind]] as const)
    if (given !== undefined && !needsDetector && !(key === 'weights' && needsRecognizer)) fail('anonymize', `${key} was given but ${rest.detector !== undefined ? 'a detector was passed too' : 'faces is false'}`);
  if (plateWeights !== undefined && !needsPlates) fail('anonymize', `plateWeights was given but ${rest.plateDetector !== undefined ? 'a plateDetector was passed too' : 'plates is not true'}`);
  if (plateWeights !== undefined && typeof plateWeights !== 'string') fail('anonymize', `plateWeights = ${describeValue(plateWeights)} must be a file path`);
  if (detectorKind !== undefined && detectorKind !== 'tiny' && detectorKind !== 'ssd') fail('anonymize', `detectorKind = ${describeValue(detectorKind)} must be 'tiny' or 'ssd'`);
  if (!needsDetector && !needsPlates && !needsRecognizer) return anonymizeWith(engine, image, rest);
  let plateDetector: PlateDetector | undefined, recognizer: FaceRecognitionNet | undefined;
  const load = detectorKind === 'ssd' ? loadSsdMobilenetV1 : loadTinyFaceDetector;
  const detector = needsDetector ? await load(engine, weights !== undefined ? { weights } : {}) : undefined;
  try {
    if (needsPlates) plateDetector = loadPlateDetector(plateWeights ?? BUNDLED_PLATE_DETECTOR, { engine });
    if (needsRecognizer) recognizer = await loadFaceRecognitionNet(engine, recognizerWeightsBeside(weights));
    return await anonymizeWith(engine, image, {
      ...rest, ...(detector ? { detector } : {}), ...(plateDetector ? { plateDetector } : {}), ...(recognizer ? { recognizer } : {}),
    });
  } finally {
    detector?.dispose();
    recognizer?.dispose();
    plateDetector?.dispose();
  }
}
