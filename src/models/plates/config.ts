/**
 * The plate detector's config (docs/plates.md §4), checked by one zod/mini schema before anything
 * is built, with the flows' helpers (src/models/schema.ts), so a bad field reads the same from a
 * file or a constructor: `config inputSize = 100 must be a multiple of the stride 16`.
 */
import * as z from 'zod/mini';
import { check, int, missingOr, strict, type Checked } from '../schema.js';

export const PLATE_DETECTOR_LIMITS = { inputSize: 1024, width: 512, layers: 8, anchors: 9, anchorCells: 64 } as const;

export interface PlateDetectorConfig {
  kind: 'plate-detector';
  /** Side S of the square input; a multiple of the stride. */
  inputSize: number;
  /** Output channels of conv0 then of each separable block. */
  widths: number[];
  /** Input pixels per grid cell: a 2×2 max-pool follows each of the first log₂(stride) layers. */
  stride: 8 | 16 | 32;
  /** Anchor (width, height) per box slot, in grid cells. */
  anchors: [number, number][];
}

const L = PLATE_DETECTOR_LIMITS;
const positive = z.number({ error: missingOr(`must be a number above 0 and at most ${L.anchorCells}`) })
  .check(z.gt(0, { error: `must be a number above 0 and at most ${L.anchorCells}` }), z.lte(L.anchorCells, { error: `must be a number above 0 and at most ${L.anchorCells}` }));

export const plateDetectorConfigSchema = strict({
  kind: z.literal('plate-detector', { error: missingOr("must be 'plate-detector'") }),
  inputSize: int(8, L.inputSize),
  widths: z.array(int(1, L.width), { error: missingOr(`must be a list of 1 to ${L.layers} integers from 1 to ${L.width}`) })
    .check(z.minLength(1, { error: 'must list at least one layer' }), z.maxLength(L.layers, { error: `must list at most ${L.layers} layers` })),
  stride: z.union([z.literal(8), z.literal(16), z.literal(32)], { error: missingOr('must be 8, 16 or 32') }),
  anchors: z.array(z.tuple([positive, positive], { error: 'must be a [width, height] pair of grid cells' }), { error: missingOr(`must be a list of 1 to ${L.anchors} [width, height] pairs`) })
    .check(z.minLength(1, { error: 'must list at least one anchor' }), z.maxLength(L.anchors, { error: `must list at most ${L.anchors} anchors` })),
}).check(z.superRefine((c, ctx) => {
  if (c.inputSize % c.stride) ctx.addIssue({ code: 'custom', path: ['inputSize'], message: `must be a multiple of the stride ${c.stride}` });
  const pools = Math.log2(c.stride);
  if (c.widths.length < pools) ctx.addIssue({ code: 'custom', path: ['widths'], message: `must list at least ${pools} layers: a stride of ${c.stride} pools after ${pools} of them` });
}));

export function checkPlateDetectorConfig(value: unknown, root = 'config'): Checked<PlateDetectorConfig> {
  return check(plateDetectorConfigSchema, value, root) as Checked<PlateDetectorConfig>;
}

/** Values per box slot: x, y, w, h, objectness (as face-api's TinyYolov2, docs/face-detection.md §3). */
export const BOX_VALUES = 5;

/** Every parameter's name and shape, from the config alone (what a model file must carry exactly). */
export function plateDetectorParamShapes(c: PlateDetectorConfig): Map<string, number[]> {
  const out = new Map<string, number[]>();
  out.set('conv0.weight', [c.widths[0]!, 3, 3, 3]).set('conv0.bias', [c.widths[0]!]);
  for (let i = 1; i < c.widths.length; i++) {
    const ci = c.widths[i - 1]!, co = c.widths[i]!;
    out.set(`conv${i}.depthwise.weight`, [ci, 1, 3, 3]).set(`conv${i}.pointwise.weight`, [co, ci, 1, 1]).set(`conv${i}.pointwise.bias`, [co]);
  }
  const heads = c.anchors.length * BOX_VALUES;
  out.set('head.weight', [heads, c.widths.at(-1)!, 1, 1]).set('head.bias', [heads]);
  return out;
}

export const plateDetectorParamCount = (c: PlateDetectorConfig): number =>
  [...plateDetectorParamShapes(c).values()].reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0);

/**
 * Upper bound of one image's activations in bytes: every layer's output and its LeakyReLU at its
 * resolution, ×2 for temporaries (the memory budget's estimate, as the classifier's).
 */
export function plateDetectorActivationBytes(c: PlateDetectorConfig): number {
  let side = c.inputSize, values = 3 * side * side;
  c.widths.forEach((w, i) => {
    values += 3 * w * side * side;
    if (i < Math.log2(c.stride)) side /= 2;
  });
  return 4 * 2 * values;
}

/**
 * The default detector (docs/plates.md §4): TinyFaceDetector's layout (docs/face-detection.md §2)
 * with its widths 16…512 capped at 128, stride 16 instead of 32 (plates are small and flat),
 * input 128, three anchors fitted to the training plates by fitAnchors (scripts/plates.ts anchors).
 */
export const DEFAULT_PLATE_DETECTOR: PlateDetectorConfig = {
  kind: 'plate-detector',
  inputSize: 128,
  widths: [16, 32, 64, 128, 128, 128],
  stride: 16,
  anchors: [[1.66, 0.46], [2.66, 0.76], [3.91, 1.19]],
};
