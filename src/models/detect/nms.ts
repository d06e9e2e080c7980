import { iou, type Detection } from './box.js';

/**
 * Greedy non-maximum suppression on the host (docs/face-detection.md §4): repeatedly keep the
 * highest-scoring detection left and drop every other whose IoU with it is above `iouThreshold`.
 * Equal scores keep the one found later in scan order first, as face-api's sort-then-pop does, so
 * both pick the same boxes. The result is in descending score order.
 */
export function nonMaxSuppression(dets: readonly Detection[], iouThreshold: number): Detection[] {
  // A stable ascending sort popped from the end: the same order face-api visits them in.
  let left = dets.map((d, i) => ({ d, i })).sort((a, b) => a.d.score - b.d.score || a.i - b.i).map((e) => e.d);
  const kept: Detection[] = [];
  while (left.length > 0) {
    const best = left.pop()!;
    kept.push(best);
    left = left.filter((d) => iou(best.box, d.box) <= iouThreshold);
  }
  return kept;
}
