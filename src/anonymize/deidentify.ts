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

/** Descriptor distance between `original` and `anonymised` for each box (both images the same size). */
export async function descriptorDistances(net: FaceRecognitionNet, original: RgbImage, anonymised: RgbImage, boxes: readonly Box[]): Promise<number[]> {
  const out: number[] = [];
  for (const box of boxes) out.push(descriptorDistance(await faceDescriptor(net, original, box), await faceDescriptor(net, anonymised, box)));
  return out;
}

/** Share of distances above SAME_PERSON_DISTANCE (faces no longer matched to their original); 1 when there are none. */
export const deidentifiedShare = (distances: readonly number[]): number =>
  distances.length ? distances.filter((d) => d > SAME_PERSON_DISTANCE).length / distances.length : 1;
