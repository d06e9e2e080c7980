// What the detector parity tests share: a face-api demo photo as an RgbImage, and the match of
// inflow's faces to the oracle's.
import sharp from 'sharp';
import { iou, type Detection } from '../../src/models/detect/box.js';
import type { RgbImage } from '../../src/models/detect/image.js';
import { faceApiSample, type OracleFace } from './face-api-oracle.js';

/** face-api's demo photo `sample<i>.jpg`, decoded (optionally resized to `width` pixels wide). */
export async function demoPhoto(i: number, width?: number): Promise<RgbImage> {
  let s = sharp(faceApiSample(i)).removeAlpha();
  if (width) s = s.resize({ width });
  const { data, info } = await s.raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Each oracle face matched to inflow's best-overlapping unused one; the worst IoU and score difference. */
export function compareFaces(ours: Detection[], theirs: OracleFace[]): { worstIou: number; worstScore: number } {
  let worstIou = 1, worstScore = 0;
  const used = new Set<number>();
  for (const t of theirs) {
    const ious = ours.map((d, j) => (used.has(j) ? -1 : iou(d.box, t)));
    const j = ious.indexOf(Math.max(...ious));
    used.add(j);
    worstIou = Math.min(worstIou, ious[j] ?? 0);
    worstScore = Math.max(worstScore, Math.abs((ours[j]?.score ?? Infinity) - t.score));
  }
  return { worstIou, worstScore };
}
