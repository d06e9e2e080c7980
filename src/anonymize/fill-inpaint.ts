/**
 * Learned fill: diffusion inpainting of a crop around each region (docs/anonymize.md §2.5). The
 * crop — a square 1.6 times the region's longer side, moved inside the photo where it fits — is
 * resized to the model's image size, the model fills the resized hole (models.inpaint: a
 * mask-conditioned model in one pass, any pixel generation model by RePaint), and the result is
 * resized back and written into the region's hole pixels only. Memory: a few crops at a time.
 */
import { describeValue, fail } from '../engine/errors.js';
import type { ImageBatch } from '../image/batch.js';
import { areaResize, bicubicResize } from '../image/resize.js';
import { inpaint, type InpaintPipelineOptions, type PipelineModel } from '../models/diffusion/pipelines.js';
import { forEachHolePixel, toByte, type Canvas } from './canvas.js';
import type { Rect, Region } from './mask.js';

/** Crop side over the region's longer side: the hole is ≈ (1/1.6)² ≈ 40 % of the crop, inside the 10–50 % the inpainting masks are drawn from in training. */
export const CONTEXT = 1.6;
/** Crops sent to the model together (one sampler batch). */
export const LEARNED_BATCH = 8;

/** The square crop around `g` (clipped only when the photo is smaller than it). */
export function contextRect(g: Rect, width: number, height: number): Rect {
  const side = Math.ceil(Math.max(g.x1 - g.x0, g.y1 - g.y0) * CONTEXT);
  const place = (lo: number, hi: number, size: number): [number, number] => {
    if (side >= size) return [0, size];
    const start = Math.min(size - side, Math.max(0, Math.round((lo + hi - side) / 2)));
    return [start, start + side];
  };
  const [x0, x1] = place(g.x0, g.x1, width), [y0, y1] = place(g.y0, g.y1, height);
  return { x0, y0, x1, y1 };
}

/** Area averaging when shrinking on both axes (no aliasing), bicubic otherwise; clamped to 0…255. */
function resizePixels(img: ImageBatch, h: number, w: number): Float32Array {
  const [, , ih, iw] = img.shape;
  const out = (h <= ih && w <= iw ? areaResize : bicubicResize)(img, h, w).data;
  for (let i = 0; i < out.length; i++) out[i] = Math.min(255, Math.max(0, out[i]!));
  return out;
}

export type LearnedFillOptions = InpaintPipelineOptions;

/**
 * The model and settings checked before any detection runs, as models.inpaint would check them
 * later: a photo without faces must not hide a model that could never fill one.
 */
export function checkLearnedModel(op: string, model: unknown, o: { steps?: unknown; jumpLength?: unknown; resampleCount?: unknown }): PipelineModel {
  const m = model as Partial<PipelineModel> | null;
  if (!m || typeof m !== 'object' || typeof m.inpaint !== 'function' || !m.config || !Array.isArray(m.imageShape))
    fail(op, `model = ${describeValue(model)} must be a DiffusionModel (loadDiffusionModel or models.diffusionModelFromBytes)`);
  const task = m.config.conditioning?.task;
  if (task && task !== 'inpainting')
    fail(op, `the model is a ${task} model: inpainting needs a mask-conditioned inpainting model, or for RePaint a model of the images alone (unconditional or class-conditional)`);
  if (!task && m.autoencoder) fail(op, 'the model is a latent model: RePaint keeps known pixels and needs a model of the pixels themselves');
  if (task && (o.jumpLength !== undefined || o.resampleCount !== undefined))
    fail(op, 'jumpLength and resampleCount are RePaint\'s; this model is mask-conditioned (trained for inpainting) and fills in one pass');
  const T = m.config.schedule.steps;
  if (o.steps !== undefined && (typeof o.steps !== 'number' || !Number.isInteger(o.steps) || o.steps < 1 || o.steps > T))
    fail(op, `steps = ${describeValue(o.steps)} must be an integer from 1 to ${T} (the model's timesteps)`);
  return m as PipelineModel;
}

/** Every region of `img` filled by the model (in batches of LEARNED_BATCH crops); `seed` + batch index seeds each batch. */
export async function fillLearned(model: PipelineModel, img: Canvas, regions: readonly Region[], opts: LearnedFillOptions = {}): Promise<void> {
  const [, H, W] = model.imageShape, ch = img.channels, plane = H * W;
  const batches = Math.ceil(regions.length / LEARNED_BATCH);
  for (let b = 0; b < batches; b++) {
    const part = regions.slice(b * LEARNED_BATCH, (b + 1) * LEARNED_BATCH), n = part.length;
    const crops = part.map((g) => contextRect(g, img.width, img.height));
    const pixels = new Float32Array(n * 3 * plane), masks = new Float32Array(n * plane);
    crops.forEach((r, i) => {
      const cw = r.x1 - r.x0, chh = r.y1 - r.y0, cp = cw * chh, g = part[i]!, gw = g.x1 - g.x0;
      const rgb = new Float32Array(3 * cp), hole = new Float32Array(cp);
      for (let y = 0; y < chh; y++)
        for (let x = 0; x < cw; x++) {
          const s = ((r.y0 + y) * img.width + r.x0 + x) * ch;
          for (let c = 0; c < 3; c++) rgb[c * cp + y * cw + x] = img.data[s + c]!;
          const gx = r.x0 + x - g.x0, gy = r.y0 + y - g.y0;
          if (gx >= 0 && gy >= 0 && gx < gw && gy < g.y1 - g.y0) hole[y * cw + x] = g.hole[gy * gw + gx]!;
        }
      pixels.set(resizePixels({ data: rgb, shape: [1, 3, chh, cw] }, H, W), i * 3 * plane);
      // Any model pixel that covers some hole pixel is filled, so the pasted-back fill never carries the original.
      const m = areaResize({ data: hole, shape: [1, 1, chh, cw] }, H, W).data;
      for (let p = 0; p < plane; p++) masks[i * plane + p] = m[p]! > 0 ? 255 : 0;
    });
    const onStep = opts.onStep;
    const out = await inpaint(model, { data: pixels, shape: [n, 3, H, W] }, { data: masks, shape: [n, 1, H, W] }, {
      ...opts, seed: ((opts.seed ?? 0) + b) >>> 0,
      ...(onStep ? { onStep: (done: number, total: number) => onStep(b * total + done, batches * total) } : {}),
    });
    const C = out.shape[1];
    crops.forEach((r, i) => {
      const cw = r.x1 - r.x0, chh = r.y1 - r.y0, cp = cw * chh;
      const back = resizePixels({ data: out.data.slice(i * C * plane, (i + 1) * C * plane), shape: [1, C, H, W] }, chh, cw);
      // A grey model fills luma only: its value goes to R, G and B alike.
      forEachHolePixel(img, part[i]!, (x, y, j) => {
        const k = (y - r.y0) * cw + x - r.x0;
        for (let c = 0; c < 3; c++) img.data[j * ch + c] = toByte(back[(C === 1 ? 0 : c) * cp + k]!);
      });
    });
  }
}
