import type { Engine } from '../../engine/engine.js';
import { describeValue, fail } from '../../engine/errors.js';
import type { TfjsWeight } from '../../io/tfjs-manifest.js';
import type { Detection } from './box.js';
import type { RgbImage } from './image.js';
import { letterbox } from './letterbox.js';
import { decodeSsd } from './ssd-decode.js';
import { SSD_MOBILENET, SsdMobilenetV1 } from './ssd-mobilenet.js';
import { withTfjsWeights } from './from-tfjs.js';

export interface DetectFacesSsdOptions {
  /** Keep faces scoring strictly above this, in (0, 1) (default 0.5, as face-api). */
  minConfidence?: number;
  /** At most this many faces, a positive integer (default 100, as face-api). */
  maxResults?: number;
  /** NMS drops a box overlapping a better one by more than this IoU, in [0, 1] (default 0.5, face-api's fixed value). */
  iouThreshold?: number;
}

function checkOptions(opts: unknown): Required<DetectFacesSsdOptions> {
  if (opts === null || typeof opts !== 'object') fail('detectFacesSsd', `options = ${describeValue(opts)} must be an object`);
  const o = opts as DetectFacesSsdOptions;
  const unknown = Object.keys(o).filter((k) => !['minConfidence', 'maxResults', 'iouThreshold'].includes(k));
  if (unknown.length) fail('detectFacesSsd', `unknown option '${unknown[0]}' (minConfidence, maxResults, iouThreshold)`);
  const { minConfidence = SSD_MOBILENET.minConfidence, maxResults = SSD_MOBILENET.maxResults, iouThreshold = SSD_MOBILENET.iouThreshold } = o;
  if (typeof minConfidence !== 'number' || !(minConfidence > 0 && minConfidence < 1))
    fail('detectFacesSsd', `minConfidence = ${describeValue(minConfidence)} must be a number between 0 and 1`);
  if (typeof maxResults !== 'number' || !Number.isSafeInteger(maxResults) || maxResults < 1)
    fail('detectFacesSsd', `maxResults = ${describeValue(maxResults)} must be a positive integer`);
  if (typeof iouThreshold !== 'number' || !(iouThreshold >= 0 && iouThreshold <= 1))
    fail('detectFacesSsd', `iouThreshold = ${describeValue(iouThreshold)} must be a number from 0 to 1`);
  return { minConfidence, maxResults, iouThreshold };
}

/**
 * Faces in a photo with face-api's SSD-MobileNetV1 run on the detector's engine
 * (docs/face-detection.md §8): the photo padded bottom/right to a square, resized to 512 × 512 and
 * mapped to [−1, 1] on the host, the network on the engine, box decoding and NMS on the host.
 * Boxes are in the photo's pixels, best first, clipped to the padded square as face-api clips them.
 */
export async function detectFacesSsd(detector: SsdMobilenetV1, image: RgbImage, opts: DetectFacesSsdOptions = {}): Promise<Detection[]> {
  if (!(detector instanceof SsdMobilenetV1)) fail('detectFacesSsd', `detector = ${describeValue(detector)} must be an SsdMobilenetV1 (loadSsdMobilenetV1)`);
  const o = checkOptions(opts);
  const S = SSD_MOBILENET.inputSize;
  // letterbox with mean 0 gives fround(v/255); tfjs computes fround(v/127.5) − 1, and doubling is exact.
  const input = letterbox('detectFacesSsd', image, S, [0, 0, 0]);
  const px = input.data;
  for (let i = 0; i < px.length; i++) px[i] = px[i]! * 2 - 1;
  const x = detector.engine.tensor(px, [1, 3, S, S]);
  let boxes: Float32Array, classes: Float32Array;
  try {
    const out = detector.forward(x);
    try {
      [boxes, classes] = await Promise.all([out.boxes.data(), out.classes.data()]);
    } finally {
      out.boxes.dispose();
      out.classes.dispose();
    }
  } finally {
    x.dispose();
  }
  return decodeSsd(boxes, classes, detector.priors, { ...o, input, image });
}

/** An SsdMobilenetV1 on `engine` with face-api's weights, decoded from its tfjs manifest (src/io/tfjs-manifest.ts). */
export const ssdMobilenetV1FromTfjs = (engine: Engine, weights: ReadonlyMap<string, TfjsWeight>, source?: string): SsdMobilenetV1 =>
  withTfjsWeights(new SsdMobilenetV1(engine), weights, source);
