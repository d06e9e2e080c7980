import type { Engine } from '../../engine/engine.js';
import { describeValue, fail } from '../../engine/errors.js';
import type { TfjsWeight } from '../../io/tfjs-manifest.js';
import type { Box } from './box.js';
import { cropBox } from './crop.js';
import { FACE_RECOGNITION, FaceRecognitionNet } from './face-recognition-net.js';
import type { RgbImage } from './image.js';
import { letterbox } from './letterbox.js';
import { withTfjsWeights } from './from-tfjs.js';

/**
 * face-api's 128-d descriptor of a face (docs/face-detection.md §7): the face cut out of `image`
 * (`box` in its pixels, clipped and floored as face-api cuts it; the whole image when no box),
 * padded to a square around its centre, resized to 150 × 150, normalised, run through the network.
 * Two faces of the same person lie within Euclidean distance ≈ 0.6 (face-api's usual threshold).
 */
export async function faceDescriptor(net: FaceRecognitionNet, image: RgbImage, box?: Box): Promise<Float32Array> {
  if (!(net instanceof FaceRecognitionNet)) fail('faceDescriptor', `net = ${describeValue(net)} must be a FaceRecognitionNet (loadFaceRecognitionNet)`);
  const face = box === undefined ? image : cropBox('faceDescriptor', image, box);
  if (!face) fail('faceDescriptor', `box ${JSON.stringify(box)} lies outside the ${image.width}×${image.height} image`);
  const S = FACE_RECOGNITION.inputSize;
  const x = net.engine.tensor(letterbox('faceDescriptor', face, S, FACE_RECOGNITION.meanRgb, true).data, [1, 3, S, S]);
  try {
    const y = net.forward(x);
    try {
      return await y.data();
    } finally {
      y.dispose();
    }
  } finally {
    x.dispose();
  }
}

/** Euclidean distance between two descriptors (face-api's match measure). */
export function descriptorDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) fail('descriptorDistance', `descriptors of ${a.length} and ${b.length} values`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}

/** A FaceRecognitionNet on `engine` with face-api's weights, decoded from its tfjs manifest. */
export const faceRecognitionNetFromTfjs = (engine: Engine, weights: ReadonlyMap<string, TfjsWeight>, source?: string): FaceRecognitionNet =>
  withTfjsWeights(new FaceRecognitionNet(engine), weights, source);
