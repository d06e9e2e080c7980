import { fail } from '../../engine/errors.js';
import { iou, type Box, type Detection } from '../detect/box.js';

export interface PrecisionRecall {
  /** Area under the precision envelope over recall, 0…1. */
  ap: number;
  /** After each detection, best score first. */
  precision: number[];
  recall: number[];
  truePositives: number;
  falsePositives: number;
  groundTruths: number;
}

/**
 * Average precision of detections against ground truth over a set of images (docs/plates.md §6),
 * as PASCAL VOC since 2010: every detection of every image in one list by score, best first
 * (ties keep image order, then list order); each is a true positive when its best-IoU ground-truth
 * box in its image reaches iouThreshold and was not claimed by a better-scored detection, else a
 * false positive (duplicates included). Precision and recall after each detection; the precision
 * envelope p̂(r) = max of the precisions at recall ≥ r; AP = Σ (r_i − r_{i−1}) · p̂_i, the area
 * under the envelope. Undefined without ground truth: that is refused.
 */
export function averagePrecision(detections: readonly (readonly Detection[])[], truths: readonly (readonly Box[])[], iouThreshold = 0.5): PrecisionRecall {
  if (detections.length !== truths.length) fail('averagePrecision', `${detections.length} images of detections but ${truths.length} of ground truth`);
  if (!(iouThreshold > 0 && iouThreshold <= 1)) fail('averagePrecision', `iouThreshold = ${iouThreshold} must be in (0, 1]`);
  const groundTruths = truths.reduce((s, t) => s + t.length, 0);
  if (groundTruths === 0) fail('averagePrecision', 'there is no ground-truth box: average precision is undefined');
  const all = detections.flatMap((dets, image) => dets.map((d, k) => ({ d, image, k })));
  all.sort((a, b) => b.d.score - a.d.score || a.image - b.image || a.k - b.k);
  const claimed = truths.map((t) => new Uint8Array(t.length));
  const precision: number[] = [], recall: number[] = [];
  let tp = 0;
  all.forEach(({ d, image }, i) => {
    let best = -1, bestIou = -1;
    truths[image]!.forEach((g, j) => {
      const v = iou(d.box, g);
      if (v > bestIou) { bestIou = v; best = j; }
    });
    if (best >= 0 && bestIou >= iouThreshold && !claimed[image]![best]) {
      claimed[image]![best] = 1;
      tp++;
    }
    precision.push(tp / (i + 1));
    recall.push(tp / groundTruths);
  });
  let ap = 0, envelope = 0;
  for (let i = precision.length - 1; i >= 0; i--) {
    envelope = Math.max(envelope, precision[i]!);
    ap += (recall[i]! - (i > 0 ? recall[i - 1]! : 0)) * envelope;
  }
  return { ap, precision, recall, truePositives: tp, falsePositives: all.length - tp, groundTruths };
}
