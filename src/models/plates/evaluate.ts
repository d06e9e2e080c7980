import type { PlateSceneSet } from '../../data/plates/dataset.js';
import { fail } from '../../engine/errors.js';
import type { Detection } from '../detect/box.js';
import { averagePrecision, type PrecisionRecall } from './average-precision.js';
import { detectPlatesInBatch } from './detect-plates.js';
import type { PlateDetector } from './plate-detector.js';

/** Detections down to this score enter the precision–recall curve (a higher cut would end the curve early). */
export const AP_SCORE_FLOOR = 0.01;

/**
 * AP at an IoU threshold (default 0.5) of a detector on the first `count` scenes of a set (all by
 * default), detected in batches (docs/plates.md §6). The set's image side must be the detector's input.
 */
export async function plateDetectorAp(detector: PlateDetector, set: PlateSceneSet, opts: { count?: number; batch?: number; iouThreshold?: number } = {}): Promise<PrecisionRecall> {
  const S = detector.config.inputSize, count = opts.count ?? set.count, batch = opts.batch ?? 32;
  if (set.size !== S) fail('plateDetectorAp', `the scenes are ${set.size}×${set.size} but the detector takes ${S}×${S}`);
  if (!Number.isInteger(count) || count < 1 || count > set.count) fail('plateDetectorAp', `count = ${count} must be from 1 to the set's ${set.count} scenes`);
  const dets: Detection[][] = [], truths = [];
  for (let s = 0; s < count; s += batch) {
    const scenes = Array.from({ length: Math.min(batch, count - s) }, (_, i) => set.scene(s + i));
    const x = new Float32Array(scenes.length * 3 * S * S);
    scenes.forEach((sc, i) => x.set(sc.image.data, i * 3 * S * S));
    dets.push(...await detectPlatesInBatch(detector, x, { scoreThreshold: AP_SCORE_FLOOR, iouThreshold: 0.45 }));
    truths.push(...scenes.map((sc) => sc.plates.map((p) => p.box)));
  }
  return averagePrecision(dets, truths, opts.iouThreshold ?? 0.5);
}
