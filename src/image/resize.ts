import { describeValue, fail } from '../engine/errors.js';
import { checkBatch, type ImageBatch } from './batch.js';

/**
 * Separable resampling: each output index along an axis is a weighted sum of input indices.
 * Linear in the values and blind to their range; bicubic can overshoot the input's range, so a
 * caller that needs [−1, 1] clamps (clampUnit).
 */
interface AxisWeights {
  index: Int32Array[];
  weight: Float64Array[];
}

function checkSize(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) fail(op, `${name} = ${describeValue(v)} must be a positive integer`);
  return v;
}

/** Exact area averaging: output i covers input [i·L/M, (i+1)·L/M) and averages it by overlap (docs/degradations.md §3.1). */
function areaWeights(from: number, to: number): AxisWeights {
  const s = from / to, index: Int32Array[] = [], weight: Float64Array[] = [];
  for (let i = 0; i < to; i++) {
    const lo = i * s, hi = (i + 1) * s;
    const first = Math.floor(lo), last = Math.min(from - 1, Math.ceil(hi) - 1);
    const idx: number[] = [], wts: number[] = [];
    for (let j = first; j <= last; j++) {
      const overlap = Math.min(hi, j + 1) - Math.max(lo, j);
      if (overlap > 1e-12) { idx.push(j); wts.push(overlap / s); }
    }
    index.push(Int32Array.from(idx));
    weight.push(Float64Array.from(wts));
  }
  return { index, weight };
}

/** Keys' cubic convolution kernel with a = −0.5 (docs/degradations.md §3.2). */
export function keysCubic(d: number, a = -0.5): number {
  const x = Math.abs(d);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

/** Half-pixel centres: output i samples the input at (i + 0.5) · L/M − 0.5; taps beyond the edge repeat the edge pixel. */
function bicubicWeights(from: number, to: number): AxisWeights {
  const s = from / to, index: Int32Array[] = [], weight: Float64Array[] = [];
  for (let i = 0; i < to; i++) {
    const x = (i + 0.5) * s - 0.5, x0 = Math.floor(x), t = x - x0;
    const idx = new Int32Array(4), wts = new Float64Array(4);
    for (let k = 0; k < 4; k++) {
      idx[k] = Math.min(from - 1, Math.max(0, x0 - 1 + k));
      wts[k] = keysCubic(t - (k - 1));
    }
    index.push(idx);
    weight.push(wts);
  }
  return { index, weight };
}

/** Most values a resize may produce (4 GiB of float32): a mistyped size fails in one line, not in the allocator. */
const MAX_VALUES = 2 ** 30;

function resample(img: ImageBatch, height: number, width: number, wy: AxisWeights, wx: AxisWeights): ImageBatch {
  const [n, c, h, w] = img.shape;
  const tmp = new Float64Array(h * width), out = new Float32Array(n * c * height * width);
  for (let p = 0; p < n * c; p++) {
    const src = p * h * w;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < width; x++) {
        const idx = wx.index[x]!, wts = wx.weight[x]!;
        let s = 0;
        for (let k = 0; k < idx.length; k++) s += wts[k]! * img.data[src + y * w + idx[k]!]!;
        tmp[y * width + x] = s;
      }
    const dst = p * height * width;
    for (let y = 0; y < height; y++) {
      const idx = wy.index[y]!, wts = wy.weight[y]!;
      for (let x = 0; x < width; x++) {
        let s = 0;
        for (let k = 0; k < idx.length; k++) s += wts[k]! * tmp[idx[k]! * width + x]!;
        out[dst + y * width + x] = s;
      }
    }
  }
  return { data: out, shape: [n, c, height, width] };
}

function checkOutput(op: string, img: ImageBatch, height: number, width: number): void {
  const values = img.shape[0] * img.shape[1] * height * width;
  if (values > MAX_VALUES) fail(op, `a ${height}×${width} result would hold ${values} values, more than the ${MAX_VALUES} a resize may make`);
}

/** The arguments checked, then both axes resampled with the same kind of weights. */
function resize(op: string, weights: (from: number, to: number) => AxisWeights, img: ImageBatch, height: number, width: number): ImageBatch {
  checkBatch(op, img);
  checkSize(op, 'height', height);
  checkSize(op, 'width', width);
  checkOutput(op, img, height, width);
  return resample(img, height, width, weights(img.shape[2], height), weights(img.shape[3], width));
}

/** Area (box) resampling to height × width: each output pixel is the mean of the input area it covers. Meant for shrinking. */
export function areaResize(img: ImageBatch, height: number, width: number): ImageBatch {
  return resize('areaResize', areaWeights, img, height, width);
}

/** Bicubic (Keys, a = −0.5, half-pixel centres, edge pixels repeated) resampling to height × width. Meant for enlarging: it does not low-pass first. */
export function bicubicResize(img: ImageBatch, height: number, width: number): ImageBatch {
  return resize('bicubicResize', bicubicWeights, img, height, width);
}

/** Mean of each factor × factor block (MNIST's 28 → 7 with factor 4). The height and width must be multiples of factor. */
export function boxDownsample(img: ImageBatch, factor: number): ImageBatch {
  checkBatch('boxDownsample', img);
  checkSize('boxDownsample', 'factor', factor);
  const [, , h, w] = img.shape;
  if (h % factor || w % factor) fail('boxDownsample', `a ${h}×${w} image cannot be cut into ${factor}×${factor} blocks; height and width must be multiples of ${factor}`);
  return areaResize(img, h / factor, w / factor);
}

/** Bicubic enlargement by a whole factor (the classical SR baseline, 7 → 28 with factor 4). */
export function bicubicUpsample(img: ImageBatch, factor: number): ImageBatch {
  checkBatch('bicubicUpsample', img);
  checkSize('bicubicUpsample', 'factor', factor);
  return bicubicResize(img, img.shape[2] * factor, img.shape[3] * factor);
}
