import type { Detection } from './box.js';
import type { Letterboxed } from './letterbox.js';
import { nonMaxSuppression } from './nms.js';
import { SSD_MOBILENET } from './ssd-mobilenet.js';

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

export interface SsdDecodeOptions {
  /** Keep boxes whose face score is strictly above this. */
  minConfidence: number;
  maxResults: number;
  /** NMS drops a box overlapping a kept one by more than this IoU. */
  iouThreshold: number;
  /** The letterbox that made the network input, and the photo it came from. */
  input: Pick<Letterboxed, 'size' | 'inner'>;
  image: { width: number; height: number };
}

/**
 * Faces from one image's SSD outputs, as face-api's SsdMobilenetv1.locateFaces
 * (docs/face-detection.md §8): prior (y0, x0, y1, x1) with size h, w and centre cy, cx; encoding
 * (t_y, t_x, t_h, t_w) → centre (cy + t_y/10·h, cx + t_x/10·w), half-size (e^{t_h/5}·h/2,
 * e^{t_w/5}·w/2); score σ(face logit). NMS runs on the unclipped boxes, best first; afterwards
 * each box is clipped to the square [0, 1]², stretched so the photo's part spans [0, 1] and scaled
 * to the photo's pixels. `boxes` is [P·4], `classes` [P·3], `priors` [P·4].
 */
export function decodeSsd(boxes: Float32Array, classes: Float32Array, priors: Float32Array, opts: SsdDecodeOptions): Detection[] {
  const { minConfidence, maxResults, iouThreshold, input, image } = opts;
  const [vc, vs] = SSD_MOBILENET.variances;
  const P = priors.length / 4, K = SSD_MOBILENET.classes;
  const corners = new Map<Detection, [number, number, number, number]>();
  const found: Detection[] = [];
  // Scanned from the last prior to the first: nonMaxSuppression takes the later of equal scores
  // first, face-api's stable descending sort the earlier one.
  for (let p = P - 1; p >= 0; p--) {
    const score = sigmoid(classes[p * K + 1]!);
    if (!(score > minConfidence)) continue;
    const [y0, x0, y1, x1] = [priors[p * 4]!, priors[p * 4 + 1]!, priors[p * 4 + 2]!, priors[p * 4 + 3]!];
    const h = y1 - y0, w = x1 - x0, cy = y0 + h / 2, cx = x0 + w / 2;
    const [ty, tx, th, tw] = [boxes[p * 4]!, boxes[p * 4 + 1]!, boxes[p * 4 + 2]!, boxes[p * 4 + 3]!];
    const my = (ty / vc) * h + cy, mx = (tx / vc) * w + cx;
    const hh = (Math.exp(th / vs) * h) / 2, hw = (Math.exp(tw / vs) * w) / 2;
    const c: [number, number, number, number] = [my - hh, mx - hw, my + hh, mx + hw];
    const d: Detection = { box: { x: c[1], y: c[0], width: c[3] - c[1], height: c[2] - c[0] }, score };
    corners.set(d, c);
    found.push(d);
  }
  const fx = (input.size / input.inner.width) * image.width, fy = (input.size / input.inner.height) * image.height;
  return nonMaxSuppression(found, iouThreshold).slice(0, maxResults).map((d) => {
    const [y0, x0, y1, x1] = corners.get(d)!;
    const top = Math.max(0, y0) * fy, bottom = Math.min(1, y1) * fy, left = Math.max(0, x0) * fx, right = Math.min(1, x1) * fx;
    return { box: { x: left, y: top, width: right - left, height: bottom - top }, score: d.score };
  });
}
