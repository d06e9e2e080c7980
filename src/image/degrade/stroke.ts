import { Rng } from '../../data/rng.js';
import type { ImageBatch } from '../batch.js';
import { toRng, type RngOrSeed } from '../rng-arg.js';
import { checkCount, checkInput, checkNumber, checkOptions } from './check.js';

/**
 * A thin curve to paint: points (x, y) in pixel units, pixel (x, y)'s centre at (x, y), and the
 * full width at each point, interpolated linearly along each segment (a taper is widths going to 0).
 */
export interface Stroke {
  xs: number[];
  ys: number[];
  widths: number[];
}

/**
 * How much of each pixel of an h × w image the stroke covers, 0…1: at distance d from the curve
 * where its half-width is hw, clamp(hw + ½ − d, 0, 1), a one-pixel linear ramp that anti-aliases
 * the edge and lets a stroke thinner than a pixel paint a faint line (docs/degradations.md §4.5).
 * Where segments overlap, the larger coverage counts, so a joint is not painted twice.
 */
export function strokeCoverage(stroke: Stroke, h: number, w: number, into = new Float32Array(h * w)): Float32Array {
  const { xs, ys, widths } = stroke;
  for (let s = 0; s + 1 < xs.length; s++) {
    const ax = xs[s]!, ay = ys[s]!, bx = xs[s + 1]!, by = ys[s + 1]!, wa = widths[s]!, wb = widths[s + 1]!;
    const reach = Math.max(wa, wb) / 2 + 1;
    const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - reach)), x1 = Math.min(w - 1, Math.ceil(Math.max(ax, bx) + reach));
    const y0 = Math.max(0, Math.floor(Math.min(ay, by) - reach)), y1 = Math.min(h - 1, Math.ceil(Math.max(ay, by) + reach));
    const ex = bx - ax, ey = by - ay, len2 = ex * ex + ey * ey;
    for (let y = y0; y <= y1; y++)
      for (let x = x0; x <= x1; x++) {
        const t = len2 > 0 ? Math.min(1, Math.max(0, ((x - ax) * ex + (y - ay) * ey) / len2)) : 0;
        const d = Math.hypot(x - ax - t * ex, y - ay - t * ey);
        const cover = Math.min(1, Math.max(0, (wa + t * (wb - wa)) / 2 + 0.5 - d));
        const o = y * w + x;
        if (cover > into[o]!) into[o] = cover;
      }
  }
  return into;
}

/**
 * Paints coverage · opacity of `target` (1 white, −1 black) over every channel of one image:
 * x + α (target − x), α = coverage · opacity.
 */
export function paint(data: Float32Array, offset: number, channels: number, plane: number, coverage: Float32Array, target: number, opacity: number): void {
  for (let c = 0; c < channels; c++) {
    const base = offset + c * plane;
    for (let p = 0; p < plane; p++) {
      const a = coverage[p]! * opacity;
      if (a > 0) data[base + p] = data[base + p]! + a * (target - data[base + p]!);
    }
  }
}

/**
 * What the stroke degradations (scratches, cracks) share: the input and the count, width and
 * opacity options checked; then each image draws from its own generator seeded from `rng`, and
 * `count` times `draw` gives a coverage and a target that are painted at `opacity`.
 */
export function paintStrokes(op: string, img: ImageBatch, opts: { count: number; width: number; opacity: number }, rng: RngOrSeed,
  draw: (own: Rng, h: number, w: number, width: number) => { coverage: Float32Array; target: number }): ImageBatch {
  checkInput(op, img);
  checkOptions(op, opts);
  const count = checkCount(op, 'count', opts.count, 1000);
  const width = checkNumber(op, 'width', opts.width, 0, 64);
  const opacity = checkNumber(op, 'opacity', opts.opacity, 0, 1);
  const r = toRng(op, rng);
  const [n, c, h, w] = img.shape, plane = h * w;
  const data = img.data.slice();
  for (let i = 0; i < n; i++) {
    const own = new Rng(r.nextUint32());
    for (let k = 0; k < count; k++) {
      const { coverage, target } = draw(own, h, w, width);
      paint(data, i * c * plane, c, plane, coverage, target, opacity);
    }
  }
  return { data, shape: img.shape };
}
