import { describeValue, fail } from '../../engine/errors.js';
import type { Detection } from '../detect/box.js';
import type { RgbImage } from '../detect/image.js';
import { letterbox, type Letterboxed } from '../detect/letterbox.js';
import { nonMaxSuppression } from '../detect/nms.js';
import { decodeYoloGrid } from '../detect/yolo-decode.js';
import { PlateDetector } from './plate-detector.js';

export interface DetectPlatesOptions {
  /** Keep boxes whose objectness is strictly above this, in (0, 1) (default 0.5). */
  scoreThreshold?: number;
  /** NMS drops a box overlapping a better one by more than this IoU, in [0, 1] (default 0.45). */
  iouThreshold?: number;
}

const DEFAULTS = { scoreThreshold: 0.5, iouThreshold: 0.45 };

function checkOptions(op: string, opts: unknown): Required<DetectPlatesOptions> {
  if (opts === null || typeof opts !== 'object') fail(op, `options = ${describeValue(opts)} must be an object`);
  const o = opts as DetectPlatesOptions;
  const unknown = Object.keys(o).filter((k) => !(k in DEFAULTS));
  if (unknown.length) fail(op, `unknown option '${unknown[0]}' (scoreThreshold, iouThreshold)`);
  const scoreThreshold = o.scoreThreshold ?? DEFAULTS.scoreThreshold, iouThreshold = o.iouThreshold ?? DEFAULTS.iouThreshold;
  if (typeof scoreThreshold !== 'number' || !(scoreThreshold > 0 && scoreThreshold < 1)) fail(op, `scoreThreshold = ${describeValue(scoreThreshold)} must be a number between 0 and 1`);
  if (typeof iouThreshold !== 'number' || !(iouThreshold >= 0 && iouThreshold <= 1)) fail(op, `iouThreshold = ${describeValue(iouThreshold)} must be a number from 0 to 1`);
  return { scoreThreshold, iouThreshold };
}

/**
 * Plates in a batch of network inputs [N, 3, S, S] in [−1, 1] (host values), as boxes in the
 * inputs' pixels, best first per image: the grid decoded as TinyFaceDetector's
 * (src/models/detect/yolo-decode.ts) with the detector's anchors, then greedy NMS.
 */
export async function detectPlatesInBatch(detector: PlateDetector, inputs: Float32Array, opts: DetectPlatesOptions = {}): Promise<Detection[][]> {
  const { scoreThreshold, iouThreshold } = checkOptions('detectPlatesInBatch', opts);
  const S = detector.config.inputSize, per = 3 * S * S, N = inputs.length / per;
  if (!Number.isInteger(N) || N < 1) fail('detectPlatesInBatch', `${inputs.length} values are not a whole number of 3×${S}×${S} images`);
  const engine = detector.engine;
  const x = engine.tensor(inputs, [N, 3, S, S]);
  let grid: Float32Array;
  try {
    const out = engine.noGrad(() => detector.forward(x));
    try { grid = await out.data(); } finally { out.dispose(); }
  } finally { x.dispose(); }
  const G = detector.gridSize, slab = grid.length / N;
  const square = { size: S, inner: { width: S, height: S } };
  return Array.from({ length: N }, (_, n) => nonMaxSuppression(
    decodeYoloGrid(grid.subarray(n * slab, (n + 1) * slab), G, { anchors: detector.config.anchors, scoreThreshold, input: square, image: { width: S, height: S } }),
    iouThreshold));
}

/**
 * Plates in a photo: letterboxed to the detector's input as face-api's detectors do
 * (src/models/detect/letterbox.ts, black padding bottom or right), scaled to [−1, 1], detected,
 * and mapped back to the photo's pixels. The detector was trained on plates 16–60 % as wide as its
 * input (docs/plates.md §7): in a large photo, detect on crops.
 */
export async function detectPlates(detector: PlateDetector, image: RgbImage, opts: DetectPlatesOptions = {}): Promise<Detection[]> {
  if (!(detector instanceof PlateDetector)) fail('detectPlates', `detector = ${describeValue(detector)} must be a PlateDetector (loadPlateDetector)`);
  const { scoreThreshold, iouThreshold } = checkOptions('detectPlates', opts);
  const S = detector.config.inputSize;
  // (v − 127.5) / 255 · 2 = v / 127.5 − 1: letterbox's normalisation with a mean of 127.5, doubled.
  const input: Letterboxed = letterbox('detectPlates', image, S, [127.5, 127.5, 127.5]);
  const x = input.data.map((v) => 2 * v);
  const [found] = await detectPlatesInBatch(detector, x, { scoreThreshold, iouThreshold });
  // The square holds the photo at S / M of its size from the top-left corner; NMS does not change under scaling.
  const scale = Math.max(image.width, image.height) / S;
  return found!.map((d) => ({ score: d.score, box: { x: d.box.x * scale, y: d.box.y * scale, width: d.box.width * scale, height: d.box.height * scale } }));
}
