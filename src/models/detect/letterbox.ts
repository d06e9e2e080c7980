import { checkRgbImage, type RgbImage } from './image.js';

/** The network input of a square detector and what it takes to map its boxes back. */
export interface Letterboxed {
  /** [1, 3, S, S] planar float32, already normalised for the network. */
  data: Float32Array;
  size: number;
  /** The photo's size inside the square, rounded as face-api rounds it (docs/face-detection.md §1). */
  inner: { width: number; height: number };
}

/**
 * face-api's network input (docs/face-detection.md §1): the photo padded with black pixels to an
 * M × M square (M = the longer side), resized to S × S by bilinear interpolation with
 * TensorFlow's legacy sampling (source = output · M / S, no half-pixel offset), then
 * (v − mean[c]) / 255 per channel. The padding goes on the bottom or right (the detectors), or with
 * `centre` splits round(d/2) after and the rest before (the descriptor network). Padding before
 * normalising matters: the padded pixels enter the network as −mean / 255, not 0.
 */
export function letterbox(op: string, img: RgbImage, size: number, meanRgb: readonly [number, number, number], centre = false): Letterboxed {
  const ch = checkRgbImage(op, img);
  const { width: W, height: H, data: px } = img;
  const M = Math.max(W, H), ratio = M / size, plane = size * size;
  const diff = M - Math.min(W, H), before = centre ? diff - Math.round(diff / 2) : 0;
  const top = H < W ? before : 0, left = W < H ? before : 0;
  // One table per axis: the two source indices and the weight of the second, as TensorFlow's CPU kernel.
  const axis = (n: number) => {
    const lo = new Int32Array(n), hi = new Int32Array(n), frac = new Float64Array(n);
    for (let o = 0; o < n; o++) {
      const s = ratio * o;
      lo[o] = Math.max(0, Math.floor(s));
      hi[o] = Math.min(M - 1, Math.ceil(s));
      frac[o] = s - lo[o]!;
    }
    return { lo, hi, frac };
  };
  const t = axis(size);
  const out = new Float32Array(3 * plane);
  const at = (y: number, x: number, c: number): number => {
    const r = y - top, q = x - left;
    return r >= 0 && q >= 0 && r < H && q < W ? px[(r * W + q) * ch + c]! : 0;
  };
  for (let r = 0; r < size; r++) {
    const y0 = t.lo[r]!, y1 = t.hi[r]!, fy = t.frac[r]!;
    for (let q = 0; q < size; q++) {
      const x0 = t.lo[q]!, x1 = t.hi[q]!, fx = t.frac[q]!;
      for (let c = 0; c < 3; c++) {
        const tl = at(y0, x0, c), tr = at(y0, x1, c), bl = at(y1, x0, c), br = at(y1, x1, c);
        const top = tl + (tr - tl) * fx, bottom = bl + (br - bl) * fx;
        out[c * plane + r * size + q] = (Math.fround(top + (bottom - top) * fy) - meanRgb[c]!) / 255;
      }
    }
  }
  const scale = size / M;
  return { data: out, size, inner: { width: Math.round(W * scale), height: Math.round(H * scale) } };
}
