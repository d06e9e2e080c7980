// face-api 1.7.15 on tfjs-wasm as the detect suite's peer, in the bench's own process: the test
// oracle's loader (tests/helpers/face-api-oracle.ts), but with the input tensors made before the
// clock starts, so each side is timed from pixels already in its own memory.
import { faceApiOracle, faceApiSample } from '../tests/helpers/face-api-oracle.js';
import type { Box, Detection } from '../src/models/detect/box.js';
import { iou } from '../src/models/detect/box.js';
import type { RgbImage } from '../src/models/detect/image.js';
import { TINY_FACE } from '../src/models/detect/tiny-face-detector.js';
import { tf } from './tfjs.js';

export { faceApiSample };

export interface FaceApiPeer {
  /** An RGB photo as the int32 [H, W, 3] tensor face-api takes; dispose it when done. */
  input(img: RgbImage): tf.Tensor3D;
  /** TinyFaceDetector's raw grid for an S × S input (face-api's own normalisation included), NHWC. */
  forward(t: tf.Tensor3D, size: number): Promise<Float32Array>;
  /** detectAllFaces with TinyFaceDetectorOptions({ inputSize, scoreThreshold: 0.5 }). */
  detect(t: tf.Tensor3D, inputSize: number): Promise<Array<Box & { score: number }>>;
}

export async function faceApiPeer(): Promise<FaceApiPeer> {
  const oracle = await faceApiOracle('wasm');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const api = oracle.api as any;
  return {
    input: (img) => tf.tensor3d(Int32Array.from(img.data), [img.height, img.width, 3], 'int32'),
    async forward(t, size) {
      const out = await api.nets.tinyFaceDetector.forward(t, size) as tf.Tensor;
      try {
        return await out.data() as Float32Array;
      } finally {
        out.dispose();
      }
    },
    async detect(t, inputSize) {
      const dets = await api.detectAllFaces(t, new api.TinyFaceDetectorOptions({ inputSize, scoreThreshold: 0.5 }));
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return dets.map((d: any) => ({ x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height, score: d.score }));
    },
  };
}

/** inflow's grid [1, 25, G, G] in face-api's NHWC order [1, G, G, 25]. */
export function gridToNhwc(grid: Float32Array, G: number): Float32Array {
  const C = TINY_FACE.anchors.length * TINY_FACE.boxValues, out = new Float32Array(grid.length);
  for (let c = 0; c < C; c++) for (let p = 0; p < G * G; p++) out[p * C + c] = grid[c * G * G + p]!;
  return out;
}

/** Whether two detections agree: same count, and the least IoU of each inflow face with its best face-api match. */
export function agreement(ours: readonly Detection[], theirs: readonly Box[]): { same: boolean; minIou: number | null } {
  if (!ours.length) return { same: theirs.length === 0, minIou: null };
  const best = ours.map((d) => Math.max(0, ...theirs.map((b) => iou(d.box, b))));
  return { same: ours.length === theirs.length, minIou: Math.min(...best) };
}

/**
 * Multiply-adds × 2 of TinyFaceDetector at S × S (docs/face-detection.md §2): conv 3×3 'valid',
 * five separable blocks (depthwise 3×3 + pointwise), 'same' pools (stride 2, the last 1), conv 1×1.
 */
export function tinyFaceFlops(S: number): number {
  const ch = TINY_FACE.channels;
  let n = S - 2, macs = n * n * ch[1] * 27;
  n = Math.ceil(n / 2);
  for (let i = 1; i <= 5; i++) {
    macs += n * n * ch[i]! * (9 + ch[i + 1]!);
    if (i < 5) n = Math.ceil(n / 2);
  }
  macs += n * n * ch[6] * TINY_FACE.anchors.length * TINY_FACE.boxValues;
  return 2 * macs;
}
