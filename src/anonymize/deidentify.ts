/**
 * De-identification measured, not assumed (docs/anonymize.md §4): for each face, the Euclidean
 * distance between face-api's 128-d descriptors of the original and of the anonymised photo,
 * both cut at the same detected box. Above face-api's same-person threshold (0.6) the two no
 * longer match as one person.
 */
import type { Box } from '../models/detect/box.js';
import { descriptorDistance, faceDescriptor } from '../models/detect/face-descriptor.js';
import type { FaceRecognitionNet } from '../models/detect/face-recognition-net.js';
import type { RgbImage } from '../models/detect/image.js';

/** face-api's usual threshold: descriptors closer than this are taken for the same person. */
export const SAME_PERSON_DISTANCE = 0.6;

/** The descriptor of each box of `image`, in order. */
export async function faceDescriptors(net: FaceRecognitionNet, image: RgbImage, boxes: readonly Box[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const box of boxes) out.push(await faceDescriptor(net, image, box));
  return out;
}

/** Distance from each of `originals` to the descriptor of the same box of `image`. */
export async function distancesTo(net: FaceRecognitionNet, originals: readonly Float32Array[], image: RgbImage, boxes: readonly Box[]): Promise<number[]> {
  const now = await faceDescriptors(net, image, boxes);
  return now.map((d, i) => descriptorDistance(originals[i]!, d));
}

/** Descriptor distance between `original` and `anonymised` for each box (both images the same size). */
export const descriptorDistances = async (net: FaceRecognitionNet, original: RgbImage, anonymised: RgbImage, boxes: readonly Box[]): Promise<number[]> =>
  distancesTo(net, await faceDescriptors(net, original, boxes), anonymised, boxes);

/** Share of distances above SAME_PERSON_DISTANCE (faces no longer matched to their original); 1 when there are none. */
export const deidentifiedShare = (distances: readonly number[]): number =>
  distances.length ? distances.filter((d) => d > SAME_PERSON_DISTANCE).length / distances.length : 1;
