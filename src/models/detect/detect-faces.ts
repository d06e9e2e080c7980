import { describeValue, fail } from '../../engine/errors.js';
import type { TfjsWeight } from '../../io/tfjs-manifest.js';
import type { Engine } from '../../engine/engine.js';
import type { Detection } from './box.js';
import type { RgbImage } from './image.js';
import { letterbox } from './letterbox.js';
import { nonMaxSuppression } from './nms.js';
import { TINY_FACE, TinyFaceDetector } from './tiny-face-detector.js';
import { decodeYoloGrid } from './yolo-decode.js';
import { withTfjsWeights } from './from-tfjs.js';

export interface DetectFacesOptions {
  /** Side of the square network input, a multiple of 32 from 32 to 2048 (default 416, as face-api). */
  inputSize?: number;
  /** Keep faces scoring strictly above this, in (0, 1) (default 0.5, as face-api). */
  scoreThreshold?: number;
  /** NMS drops a box overlapping a better one by more than this IoU, in [0, 1] (default 0.4, as face-api). */
  iouThreshold?: number;
}

/** Largest network input: S = 2048 already needs ≈ 270 MB for the first activation. */
export const MAX_DETECT_INPUT = 2048;

function checkOptions(opts: unknown): Required<DetectFacesOptions> {
  if (opts === null || typeof opts !== 'object') fail('detectFaces', `options = ${describeValue(opts)} must be an object`);
  const o = opts as DetectFacesOptions;
  const known = new Set(['inputSize', 'scoreThreshold', 'iouThreshold']);
  const unknown = Object.keys(o).filter((k) => !known.has(k));
  if (unknown.length) fail('detectFaces', `unknown option '${unknown[0]}' (inputSize, scoreThreshold, iouThreshold)`);
  const inputSize = o.inputSize ?? 416, scoreThreshold = o.scoreThreshold ?? 0.5, iouThreshold = o.iouThreshold ?? TINY_FACE.iouThreshold;
  if (typeof inputSize !== 'number' || !Number.isInteger(inputSize) || inputSize < 32 || inputSize > MAX_DETECT_INPUT || inputSize % 32 !== 0)
    fail('detectFaces', `inputSize = ${describeValue(inputSize)} must be a multiple of 32 from 32 to ${MAX_DETECT_INPUT}`);
  if (typeof scoreThreshold !== 'number' || !(scoreThreshold > 0 && scoreThreshold < 1))
    fail('detectFaces', `scoreThreshold = ${describeValue(scoreThreshold)} must be a number between 0 and 1`);
  if (typeof iouThreshold !== 'number' || !(iouThreshold >= 0 && iouThreshold <= 1))
    fail('detectFaces', `iouThreshold = ${describeValue(iouThreshold)} must be a number from 0 to 1`);
  return { inputSize, scoreThreshold, iouThreshold };
}

/**
 * Faces in a photo with face-api's TinyFaceDetector run on the detector's engine
 * (docs/face-detection.md): letterbox to inputSize on the host, the network on the engine, then
 * box decoding and NMS on the host. Boxes are in the photo's pixels, best first, not clipped.
 */
export async function detectFaces(detector: TinyFaceDetector, image: RgbImage, opts: DetectFacesOptions = {}): Promise<Detection[]> {
  if (!(detector instanceof TinyFaceDetector)) fail('detectFaces', `detector = ${describeValue(detector)} must be a TinyFaceDetector (loadTinyFaceDetector)`);
  const { inputSize, scoreThreshold, iouThreshold } = checkOptions(opts);
  const input = letterbox('detectFaces', image, inputSize, TINY_FACE.meanRgb);
  const engine = detector.engine;
  const x = engine.tensor(input.data, [1, 3, inputSize, inputSize]);
  let grid: Float32Array;
  try {
    const out = detector.forward(x);
    try {
      grid = await out.data();
    } finally {
      out.dispose();
    }
  } finally {
    x.dispose();
  }
  const dets = decodeYoloGrid(grid, inputSize / 32, { anchors: TINY_FACE.anchors, scoreThreshold, input, image });
  return nonMaxSuppression(dets, iouThreshold);
}

/** A TinyFaceDetector on `engine` with face-api's weights, decoded from its tfjs manifest (src/io/tfjs-manifest.ts). */
export const tinyFaceDetectorFromTfjs = (engine: Engine, weights: ReadonlyMap<string, TfjsWeight>, source?: string): TinyFaceDetector =>
  withTfjsWeights(new TinyFaceDetector(engine), weights, source);
