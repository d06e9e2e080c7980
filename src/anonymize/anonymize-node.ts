/**
 * anonymize() for Node (the package's "node" entry): the same call, but without a `detector` one
 * is loaded onto `engine` from face-api's weights — `weights` (a folder or manifest) or the
 * installed @vladmandic/face-api — and freed afterwards. For many photos load it once
 * (loadTinyFaceDetector) and pass it.
 */
import type { Engine } from '../engine/engine.js';
import { fail } from '../engine/errors.js';
import type { RgbImage } from '../models/detect/image.js';
import { loadTinyFaceDetector } from '../models/detect/face-api-weights.js';
import { anonymize as anonymizeWith, type AnonymizeOptions, type AnonymizeResult } from './anonymize.js';

export interface NodeAnonymizeOptions extends AnonymizeOptions {
  /** face-api's model folder or the TinyFaceDetector manifest (default: the installed package's model/). */
  weights?: string;
}

export async function anonymize(engine: Engine, image: RgbImage, opts: NodeAnonymizeOptions = {}): Promise<AnonymizeResult> {
  if (opts === null || typeof opts !== 'object') return anonymizeWith(engine, image, opts);
  const { weights, ...rest } = opts;
  const needsDetector = rest.faces !== false && rest.detector === undefined;
  if (weights !== undefined && !needsDetector) fail('anonymize', `weights was given but ${rest.detector !== undefined ? 'a detector was passed too' : 'faces is false'}`);
  if (!needsDetector) return anonymizeWith(engine, image, rest);
  const detector = await loadTinyFaceDetector(engine, weights !== undefined ? { weights } : {});
  try {
    return await anonymizeWith(engine, image, { ...rest, detector });
  } finally {
    detector.dispose();
  }
}
