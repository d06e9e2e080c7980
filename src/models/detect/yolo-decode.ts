import type { Detection } from './box.js';
import type { Letterboxed } from './letterbox.js';

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

export interface YoloDecodeOptions {
  anchors: readonly (readonly [number, number])[];
  /** Keep slots whose objectness σ(t_o) is strictly above this. */
  scoreThreshold: number;
  /** The letterbox that made the network input, and the photo it came from. */
  input: Pick<Letterboxed, 'size' | 'inner'>;
  image: { width: number; height: number };
}

/**
 * Boxes from a TinyYolov2 output grid (docs/face-detection.md §3): `grid` is one image's
 * [A·5, G, G] planar values, slot a of cell (row, col) holding (t_x, t_y, t_w, t_h, t_o). Centre
 * ((col + σ(t_x)) / G, (row + σ(t_y)) / G), size (anchor_w · e^{t_w} / G, anchor_h · e^{t_h} / G) in
 * the square's units, stretched by S / inner so the photo's part of the square spans [0, 1], then
 * scaled to the photo's pixels. Scanned row, column, slot, as face-api does. Boxes are not clipped
 * to the photo.
 */
export function decodeYoloGrid(grid: Float32Array, cells: number, opts: YoloDecodeOptions): Detection[] {
  const { anchors, scoreThreshold, input, image } = opts;
  const plane = cells * cells;
  const fx = (input.size / input.inner.width) * image.width, fy = (input.size / input.inner.height) * image.height;
  const out: Detection[] = [];
  const at = (a: number, k: number, cell: number): number => grid[(a * 5 + k) * plane + cell]!;
  for (let row = 0; row < cells; row++)
    for (let col = 0; col < cells; col++)
      for (let a = 0; a < anchors.length; a++) {
        const cell = row * cells + col;
        const score = sigmoid(at(a, 4, cell));
        if (!(score > scoreThreshold)) continue;
        const cx = (col + sigmoid(at(a, 0, cell))) / cells, cy = (row + sigmoid(at(a, 1, cell))) / cells;
        const w = (Math.exp(at(a, 2, cell)) * anchors[a]![0]) / cells, h = (Math.exp(at(a, 3, cell)) * anchors[a]![1]) / cells;
        out.push({ box: { x: (cx - w / 2) * fx, y: (cy - h / 2) * fy, width: w * fx, height: h * fy }, score });
      }
  return out;
}
