import type { Box } from '../detect/box.js';
import { BOX_VALUES, type PlateDetectorConfig } from './config.js';

/** The loss's weights (docs/plates.md §5): objectness of responsible slots, of empty ones, and the box terms. */
export interface YoloLossWeights {
  object: number;
  noObject: number;
  box: number;
  /** An empty slot whose anchor, centred on its cell, overlaps a plate by more than this IoU is left out of the no-object term. */
  ignoreIou: number;
}

export const DEFAULT_LOSS_WEIGHTS: YoloLossWeights = { object: 1, noObject: 1, box: 2, ignoreIou: 0.5 };

/**
 * Host arrays shaped like the network's output [N, A·5, G, G]: per value a weight and a target.
 * Only one of the three weights is non-zero at any position: objectness values (k = 4) take
 * `obj`, x and y (k = 0, 1) `xy`, w and h (k = 2, 3) `wh`.
 */
export interface YoloTargets {
  shape: [number, number, number, number];
  objWeight: Float32Array;
  objTarget: Float32Array;
  xyWeight: Float32Array;
  xyTarget: Float32Array;
  whWeight: Float32Array;
  whTarget: Float32Array;
  /** Plates assigned to a slot (a later plate with the same cell and anchor replaces an earlier one). */
  positives: number;
}

/** IoU of two boxes of these sizes placed on the same centre. */
export const centredIou = (w1: number, h1: number, w2: number, h2: number): number => {
  const inter = Math.min(w1, w2) * Math.min(h1, h2);
  return inter / (w1 * h1 + w2 * h2 - inter);
};

const boxIou = (ax: number, ay: number, aw: number, ah: number, b: { x: number; y: number; w: number; h: number }): number => {
  const iw = Math.max(0, Math.min(ax + aw / 2, b.x + b.w / 2) - Math.max(ax - aw / 2, b.x - b.w / 2));
  const ih = Math.max(0, Math.min(ay + ah / 2, b.y + b.h / 2) - Math.max(ay - ah / 2, b.y - b.h / 2));
  const inter = iw * ih;
  return inter / (aw * ah + b.w * b.h - inter);
};

/**
 * YOLOv2's assignment (docs/plates.md §5): each plate belongs to the cell holding its centre and to
 * the anchor whose shape fits it best (centred IoU); that slot learns objectness 1, the offsets
 * t_x* = g_x − col, t_y* = g_y − row (for σ(t_x), σ(t_y)) and t_w* = ln(w / a_w), t_h* = ln(h / a_h),
 * all in grid cells. Every other slot learns objectness 0, unless its anchor box centred on its
 * cell overlaps a plate by more than ignoreIou (a near miss is not punished). Boxes in input pixels.
 */
export function yoloTargets(boxes: readonly (readonly Box[])[], config: Pick<PlateDetectorConfig, 'inputSize' | 'stride' | 'anchors'>,
  weights: YoloLossWeights = DEFAULT_LOSS_WEIGHTS): YoloTargets {
  const N = boxes.length, A = config.anchors.length, G = config.inputSize / config.stride, plane = G * G;
  const size = N * A * BOX_VALUES * plane;
  const t: YoloTargets = {
    shape: [N, A * BOX_VALUES, G, G], positives: 0,
    objWeight: new Float32Array(size), objTarget: new Float32Array(size), xyWeight: new Float32Array(size),
    xyTarget: new Float32Array(size), whWeight: new Float32Array(size), whTarget: new Float32Array(size),
  };
  const at = (n: number, a: number, k: number, cell: number) => ((n * A + a) * BOX_VALUES + k) * plane + cell;
  for (let n = 0; n < N; n++) {
    const gts = boxes[n]!.map((b) => ({ x: (b.x + b.width / 2) / config.stride, y: (b.y + b.height / 2) / config.stride, w: b.width / config.stride, h: b.height / config.stride }))
      .filter((g) => g.w > 0 && g.h > 0);
    for (let cell = 0; cell < plane; cell++) {
      const cx = (cell % G) + 0.5, cy = Math.floor(cell / G) + 0.5;
      config.anchors.forEach(([aw, ah], a) => {
        const ignored = gts.some((g) => boxIou(cx, cy, aw, ah, g) > weights.ignoreIou);
        t.objWeight[at(n, a, 4, cell)] = ignored ? 0 : weights.noObject;
      });
    }
    for (const g of gts) {
      const col = Math.min(G - 1, Math.max(0, Math.floor(g.x))), row = Math.min(G - 1, Math.max(0, Math.floor(g.y)));
      let best = 0;
      config.anchors.forEach(([aw, ah], a) => { if (centredIou(g.w, g.h, aw, ah) > centredIou(g.w, g.h, ...config.anchors[best]!)) best = a; });
      const cell = row * G + col, [aw, ah] = config.anchors[best]!;
      if (t.objTarget[at(n, best, 4, cell)] !== 1) t.positives++;
      t.objWeight[at(n, best, 4, cell)] = weights.object;
      t.objTarget[at(n, best, 4, cell)] = 1;
      t.xyWeight[at(n, best, 0, cell)] = t.xyWeight[at(n, best, 1, cell)] = weights.box;
      t.xyTarget[at(n, best, 0, cell)] = Math.min(1, Math.max(0, g.x - col));
      t.xyTarget[at(n, best, 1, cell)] = Math.min(1, Math.max(0, g.y - row));
      t.whWeight[at(n, best, 2, cell)] = t.whWeight[at(n, best, 3, cell)] = weights.box;
      t.whTarget[at(n, best, 2, cell)] = Math.log(g.w / aw);
      t.whTarget[at(n, best, 3, cell)] = Math.log(g.h / ah);
    }
  }
  return t;
}
