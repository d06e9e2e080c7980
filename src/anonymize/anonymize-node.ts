/**
 * anonymize() for Node (the package's "node" entry): the same call, but without a `detector` one
 * is loaded onto `engine` from face-api's weights — `weights` (a folder or manifest) or the
 * installed @vladmandic/face-api — and freed afterwards. For many photos load it once
 * (loadTinyFaceDetector) and pass it.
 */
import type { Engine } from '../engine/engine.js';
import { describeValue, fail } from '../engine/errors.js';
import type { RgbImage } from '../models/detect/image.js';
import { loadSsdMobilenetV1, loadTinyFaceDetector } from '../models/detect/face-api-weights.js';
import { anonymize as anonymizeWith, type AnonymizeOptions, type AnonymizeResult } from './anonymize.js';

export interface NodeAnonymizeOptions extends AnonymizeOptions {
  /** face-api's model folder or the detector's manifest (default: the installed package's model/). */
  weights?: string;
  /** Which of face-api's detectors to load when none is passed: 'tiny' (TinyFaceDetector, default) or 'ssd' (SSD-MobileNetV1). */
  detectorKind?: 'tiny' | 'ssd';
}

export async function anonymize(engine: Engine, image: RgbImage, opts: NodeAnonymizeOptions = {}): Promise<AnonymizeResult> {
  if (opts === null || typeof opts !== 'object') return anonymizeWith(engine, image, opts);
  const { weights, detectorKind, ...rest } = opts;
  const needsDetector = rest.faces !== false && rest.detector === undefined;
  for (const [key, given] of [['weights', weights], ['detectorKind', detectorKind]] as const)
    if (given !== undefined && !needsDetector) fail('anonymize', `${key} was given but ${rest.detector !== undefined ? 'a detector was passed too' : 'faces is false'}`);
  if (detectorKind !== undefined && detectorKind !== 'tiny' && detectorKind !== 'ssd') fail('anonymize', `detectorKind = ${describeValue(detectorKind)} must be 'tiny' or 'ssd'`);
  if (!needsDetector) return anonymizeWith(engine, image, rest);
  const load = detectorKind === 'ssd' ? loadSsdMobilenetV1 : loadTinyFaceDetector;
  const detector = await load(engine, weights !== undefined ? { weights } : {});
  try {
    return await anonymizeWith(engine, image, { ...rest, detector });
  } finally {
    detector.dispose();
  }
}
