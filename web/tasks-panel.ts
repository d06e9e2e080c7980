/**
 * The upscale / restore / inpaint panel: picks an image (the drawing pad, the first sample, or a
 * file), sends it to the engine worker with the task's settings, and shows the image, what the model
 * was given and its result, with progress over the denoiser calls. Models load on the first run
 * (or Load), so a page that never uses the panel downloads none of them.
 */
import type { EngineClient } from './client.js';
import { DrawingPad, drawPixels } from './images.js';
import type { ImageTask, Pixels, Samples, TaskResult, TaskRun, TaskSummary } from './protocol.js';
import { isGrey, MASK_PRESETS, rgbaToPixels } from './task-inputs.js';

/** Default model of each task: the repository's models/ (served at ./models/ by the demo). */
const DEFAULT_MODELS: Record<ImageTask, string> = {
  upscale: 'models/sr-mnist.safetensors',
  restore: 'models/restore-mnist.safetensors',
  inpaint: 'models/diffusion-mnist.safetensors',
};
/** Query parameters that override them (?sr=URL&restore=URL&inpaint=URL). */
const MODEL_PARAMS: Record<ImageTask, string> = { upscale: 'sr', restore: 'restore', inpaint: 'inpaint' };

export interface TaskState {
  summary: TaskSummary | null;
  result: TaskResult | null;
  runs: number;
  progress: { done: number; total: number } | null;
  error: string | null;
}

export interface PanelHost {
  client: () => EngineClient | null;
  /** The pad's drawing framed as an MNIST digit (28 × 28 pixels + ½), or null when empty. */
  padDigit: () => Float32Array | null;
  samples: () => Samples | null;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

export function setupTaskPanel(host: PanelHost, params: URLSearchParams): { state: TaskState; enable: (on: boolean) => void } {
  const state: TaskState = { summary: null, result: null, runs: 0, progress: null, error: null };
  const taskSelect = $<HTMLSelectElement>('task');
  const modelInput = $<HTMLInputElement>('task-model');
  const sourceSelect = $<HTMLSelectElement>('task-source');
  const fileInput = $<HTMLInputElement>('task-file');
  const degradation = $<HTMLSelectElement>('task-degradation');
  const strength = $<HTMLInputElement>('task-strength');
  const maskSelect = $<HTMLSelectElement>('task-mask');
  const steps = $<HTMLInputElement>('task-steps');
  const seed = $<HTMLInputElement>('task-seed');
  const jump = $<HTMLInputElement>('task-jump');
  const resample = $<HTMLInputElement>('task-resample');
  const loadButton = $<HTMLButtonElement>('task-load');
  const runButton = $<HTMLButtonElement>('task-run');
  const progress = $<HTMLProgressElement>('task-progress');
  const status = $('task-status');
  const maskPad = new DrawingPad($<HTMLCanvasElement>('task-mask-pad'), () => undefined);
  const urls: Record<ImageTask, string> = { ...DEFAULT_MODELS };
  for (const t of Object.keys(urls) as ImageTask[]) urls[t] = params.get(MODEL_PARAMS[t]) ?? urls[t];
  let file: Pixels | null = null;
  let enabled = false, busy = false;

  maskSelect.replaceChildren(...MASK_PRESETS.map((m) => new Option(m === 'drawn' ? 'drawn below' : m, m)));
  const initial = params.get('task');
  if (initial === 'upscale' || initial === 'restore' || initial === 'inpaint') taskSelect.value = initial;
  if (params.has('task-steps')) steps.value = params.get('task-steps')!;
  if (params.has('task-seed')) seed.value = params.get('task-seed')!;
  if (params.has('task-mask')) maskSelect.value = params.get('task-mask')!;
  if (params.has('task-resample')) resample.value = params.get('task-resample')!;
  if (params.has('task-jump')) jump.value = params.get('task-jump')!;

  const task = (): ImageTask => taskSelect.value as ImageTask;
  const say = (text: string, error = false): void => {
    status.textContent = text;
    status.classList.toggle('task-error', error);
    state.error = error ? text : null;
  };
  const refresh = (): void => {
    const t = task(), s = state.summary?.task === t ? state.summary : null;
    modelInput.value = urls[t];
    $('task-degradation-label').hidden = $('task-strength-label').hidden = t !== 'restore';
    $('task-mask-label').hidden = t !== 'inpaint';
    $('task-mask-pad-figure').hidden = t !== 'inpaint' || maskSelect.value !== 'drawn';
    $('task-repaint').hidden = t !== 'inpaint' || s?.method === 'mask-conditioned';
    if (t === 'restore') {
      const kinds = s?.degradations ?? [];
      const keep = degradation.value;
      degradation.replaceChildren(new Option('none (the image is damaged)', ''), ...kinds.map((k) => new Option(k, k)));
      degradation.value = kinds.includes(keep) ? keep : kinds[0] ?? '';
    }
    steps.placeholder = s ? String(s.steps) : 'model\'s';
    $('task-input-caption').textContent = t === 'upscale' ? 'model input (low resolution)' : t === 'restore' ? 'model input (damaged)' : 'model input (hole grey)';
    loadButton.disabled = runButton.disabled = !enabled || busy;
  };

  async function load(): Promise<TaskSummary | null> {
    const client = host.client();
    if (!client) return null;
    const t = task();
    const url = new URL(urls[t], document.baseURI).href;
    if (state.summary?.task === t && state.summary && loadedUrl === url) return state.summary;
    say(`loading ${urls[t]}…`);
    try {
      state.summary = await client.taskLoad(t, url);
      loadedUrl = url;
    } catch (e) {
      state.summary = null;
      say(`Could not load ${urls[t]}: ${(e as Error).message}`, true);
      return null;
    }
    const s = state.summary;
    say(`${t}: ${s.latent ? 'latent ' : ''}${s.method ?? ''}${s.method ? ' ' : ''}model ${s.imageShape.join('×')}${s.lowRes ? ` from ${s.lowRes.join('×')} (×${s.scale})` : ''}, ` +
      `${(s.params / 1e6).toFixed(2)}M parameters, ${s.steps} steps by default; loaded in ${Math.round(s.loadMs)} ms`);
    refresh();
    return s;
  }
  let loadedUrl = '';

  /** The chosen source image, or null with the reason shown. */
  function source(): Pixels | null {
    const from = sourceSelect.value;
    if (from === 'pad') {
      const d = host.padDigit();
      if (!d) return say('draw a digit on the pad first (or pick another image)', true), null;
      return { data: Float32Array.from(d, (v) => Math.min(255, Math.max(0, v - 0.5))), shape: [1, 1, 28, 28] };
    }
    if (from === 'sample') {
      const s = host.samples();
      if (!s) return say('no samples yet', true), null;
      const [, C, H, W] = s.shape;
      return { data: Float32Array.from(s.pixels.subarray(0, C * H * W), (v) => Math.min(255, v)), shape: [1, C, H, W] };
    }
    if (!file) return say('choose an image file first', true), null;
    return file;
  }

  async function run(): Promise<void> {
    const client = host.client();
    if (!client || busy) return;
    busy = true;
    refresh();
    try {
      const s = await load();
      const src = s && source();
      if (!s || !src) return;
      const t = task();
      const req: TaskRun = {
        task: t, source: { data: src.data.slice(), shape: src.shape }, seed: Math.floor(Number(seed.value)) || 0,
        ...(steps.value ? { steps: Math.floor(Number(steps.value)) } : {}),
      };
      if (t === 'restore') Object.assign(req, { degradation: degradation.value || null, strength: Number(strength.value) });
      if (t === 'inpaint') {
        req.mask = maskSelect.value;
        if (req.mask === 'drawn') {
          const m = maskPad.raw();
          req.drawnMask = { data: m.data, shape: [1, 1, m.height, m.width] };
        }
        if (s.method === 'repaint') Object.assign(req, jump.value ? { jumpLength: Math.floor(Number(jump.value)) } : {}, resample.value ? { resampleCount: Math.floor(Number(resample.value)) } : {});
      }
      progress.value = 0;
      state.progress = null;
      say(`${t}…`);
      const r = await client.taskRun(req, (done, total) => {
        state.progress = { done, total };
        progress.max = total;
        progress.value = done;
        status.textContent = `${t}: denoiser step ${done}/${total}`;
      });
      state.result = r;
      state.runs++;
      if (r.reference) drawPixels($<HTMLCanvasElement>('task-reference'), r.reference.data, r.reference.shape);
      drawPixels($<HTMLCanvasElement>('task-input'), r.input.data, r.input.shape);
      drawPixels($<HTMLCanvasElement>('task-output'), r.output.data, r.output.shape);
      $('task-reference').parentElement!.hidden = !r.reference;
      say(`${t}: ${r.input.shape[3]}×${r.input.shape[2]} → ${r.output.shape[3]}×${r.output.shape[2]}, ${r.calls} denoiser calls in ${(r.ms / 1000).toFixed(2)} s`);
    } catch (e) {
      say(`${task()} failed: ${(e as Error).message}`, true);
    } finally {
      busy = false;
      refresh();
    }
  }

  taskSelect.addEventListener('change', () => { state.summary = null; loadedUrl = ''; refresh(); });
  modelInput.addEventListener('change', () => { urls[task()] = modelInput.value; });
  maskSelect.addEventListener('change', refresh);
  $('task-mask-clear').addEventListener('click', () => maskPad.clear());
  sourceSelect.addEventListener('change', () => { if (sourceSelect.value === 'file' && !file) fileInput.click(); });
  fileInput.addEventListener('change', async () => {
    const f = fileInput.files?.[0];
    if (!f) return;
    try {
      const bitmap = await createImageBitmap(f);
      const canvas = document.createElement('canvas');
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(bitmap, 0, 0);
      const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
      const C = isGrey(rgba) ? 1 : 3;
      file = { data: rgbaToPixels(rgba, bitmap.width, bitmap.height, C), shape: [1, C, bitmap.height, bitmap.width] };
      sourceSelect.value = 'file';
      say(`${f.name}: ${bitmap.width}×${bitmap.height}, ${C === 1 ? 'grey' : 'colour'}`);
    } catch {
      say(`${f.name}: not an image the browser can read`, true);
    }
  });
  loadButton.addEventListener('click', () => void load());
  runButton.addEventListener('click', () => void run());
  refresh();
  return {
    state,
    enable: (on: boolean) => {
      enabled = on;
      if (!on) { state.summary = null; loadedUrl = ''; }
      refresh();
    },
  };
}
