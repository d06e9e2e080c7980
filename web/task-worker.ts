// The image-task half of the engine worker (worker.ts routes 'task-load' and 'task-run' here): the
// diffusion models of upscale, restore and inpaint, run through the library's pipelines.
import { image, models, type Engine } from 'inflow';
import type { ImageTask, Pixels, TaskResult, TaskRun, TaskSummary } from './protocol.js';
import { presetMask, showHole, type MaskPreset } from './task-inputs.js';

type DiffusionModel = models.DiffusionModel;

const loaded = new Map<ImageTask, { url: string; model: DiffusionModel; summary: TaskSummary }>();

/** Largest model file the demo downloads (the library's own limit for flows is 2 GiB; these models are a few MB). */
const MAX_BYTES = 512 * 2 ** 20;

export function disposeTasks(): void {
  for (const { model } of loaded.values()) model.dispose();
  loaded.clear();
}

export async function loadTask(engine: Engine, task: ImageTask, url: string): Promise<TaskSummary> {
  const have = loaded.get(task);
  if (have?.url === url) return have.summary;
  const t0 = performance.now();
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`${url}: the model could not be downloaded (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!res.ok) throw new Error(`${url}: the model could not be downloaded (HTTP ${res.status} ${res.statusText})`);
  if (Number(res.headers.get('content-length') ?? 0) > MAX_BYTES) throw new Error(`${url}: larger than the ${MAX_BYTES / 2 ** 20} MB the demo downloads`);
  const model = models.diffusionModelFromBytes(new Uint8Array(await res.arrayBuffer()), { engine, name: url });
  try {
    checkKind(task, model);
    await model.prepare();
  } catch (e) {
    model.dispose();
    throw e;
  }
  have?.model.dispose();
  const c = model.config.conditioning;
  const [C, H, W] = model.imageShape;
  const scale = c?.task === 'super-resolution' ? c.scale ?? null : null;
  const summary: TaskSummary = {
    task, imageShape: [C, H, W], scale, lowRes: scale ? [H / scale, W / scale] : null,
    degradations: c?.task === 'restoration' ? [...(c.degradations ?? image.DEGRADATION_KINDS)] : [],
    method: task === 'inpaint' ? (c?.task === 'inpainting' ? 'mask-conditioned' : 'repaint') : null,
    latent: !!model.autoencoder, classes: model.classes, steps: model.config.sampler.steps, params: model.paramCount(), loadMs: performance.now() - t0,
  };
  loaded.set(task, { url, model, summary });
  return summary;
}

/** The model must be of the task's kind: the same one-line reasons as the CLI. */
function checkKind(task: ImageTask, model: DiffusionModel): void {
  const t = model.config.conditioning?.task;
  const kind = `${model.autoencoder ? 'a latent' : 'a'} ${t ?? 'generation'} model`;
  if (task === 'upscale' && t !== 'super-resolution') throw new Error(`this is ${kind}; upscale takes a super-resolution model`);
  if (task === 'restore' && t !== 'restoration') throw new Error(`this is ${kind}; restore takes a restoration model`);
  if (task === 'inpaint' && (t ? t !== 'inpainting' : !!model.autoencoder))
    throw new Error(`this is ${kind}; inpaint takes a mask-conditioned inpainting model or a pixel generation model (RePaint)`);
}

export async function runTask(req: TaskRun, onStep: (done: number, total: number) => void): Promise<TaskResult> {
  const entry = loaded.get(req.task);
  if (!entry) throw new Error(`no model is loaded for ${req.task}`);
  const { model, summary } = entry;
  const [C, H, W] = summary.imageShape;
  const src = models.toChannels('demo', req.source, C) as Pixels;
  const opts = { seed: req.seed, onStep, ...(req.steps !== undefined ? { steps: req.steps } : {}) };
  const t0 = performance.now();
  let calls = 0;
  const counted = { ...opts, onStep: (d: number, t: number) => { calls = t; onStep(d, t); } };
  if (req.task === 'upscale') {
    const [h, w] = summary.lowRes!;
    const isLow = src.shape[2] === h && src.shape[3] === w;
    const reference = isLow ? null : resizeTo(src, H, W);
    const input = isLow ? src : asPixels(models.lowResolutionFor(model, reference!));
    const output = asPixels(await models.upscale(model, input, counted));
    return { task: req.task, reference, input, mask: null, output, calls, ms: performance.now() - t0 };
  }
  const reference = resizeTo(src, H, W);
  if (req.task === 'restore') {
    const input = req.degradation ? degraded(reference, req.degradation, req.strength ?? 0.5, req.seed) : reference;
    const output = asPixels(await models.restore(model, input, counted));
    return { task: req.task, reference, input, mask: null, output, calls, ms: performance.now() - t0 };
  }
  const mask = makeMask((req.mask ?? 'centre') as MaskPreset, req.drawnMask, H, W, req.seed);
  const output = asPixels(await models.inpaint(model, reference, { data: mask, shape: [1, 1, H, W] }, {
    ...counted, ...(req.jumpLength !== undefined ? { jumpLength: req.jumpLength } : {}), ...(req.resampleCount !== undefined ? { resampleCount: req.resampleCount } : {}),
  }));
  const input = { data: showHole(reference.data, mask, C), shape: reference.shape };
  return { task: req.task, reference, input, mask, output, calls, ms: performance.now() - t0 };
}

const asPixels = (p: { data: ArrayLike<number>; shape: readonly number[] }): Pixels =>
  ({ data: Float32Array.from(p.data), shape: [...p.shape] as Pixels['shape'] });

/** Pixels brought to H × W: area averaging to shrink, bicubic to enlarge (clamped to 0…255). */
function resizeTo(px: Pixels, H: number, W: number): Pixels {
  const [, , h, w] = px.shape;
  if (h === H && w === W) return asPixels(px);
  const unit = image.pixelsToUnit(px.data, px.shape);
  const r = H <= h && W <= w ? image.areaResize(unit, H, W) : image.bicubicResize(unit, H, W);
  return { data: image.unitToPixels(r), shape: [...r.shape] as Pixels['shape'] };
}

/** The library's degradation of that kind and strength, seeded by the run's seed. */
function degraded(px: Pixels, kind: string, strength: number, seed: number): Pixels {
  const unit = image.pixelsToUnit(px.data, px.shape);
  return { data: image.unitToPixels(image.degrade(unit, kind as image.DegradationKind, strength, seed)), shape: px.shape };
}

function makeMask(preset: MaskPreset, drawn: Pixels | undefined, H: number, W: number, seed: number): Float32Array {
  if (preset === 'random') return Float32Array.from(models.randomInpaintMask(1, H, W, seed), (v) => 255 * v);
  if (preset !== 'drawn') return presetMask(preset, H, W);
  if (!drawn) throw new Error('draw the region to fill on the mask pad first');
  const grey = resizeTo(models.toChannels('demo', drawn, 1) as Pixels, H, W);
  // A thin stroke shrunk to a few pixels is partly covering them: fill every pixel it touches a quarter of.
  return Float32Array.from(grey.data, (v) => (v >= 64 ? 255 : 0));
}
