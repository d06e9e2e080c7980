import { EngineClient } from './client.js';
import { DrawingPad, drawGrid, drawImage } from './images.js';
import type { BackendChoice, EngineSummary, Samples, Score } from './protocol.js';
import { setupAnonymizePanel, type AnonymizeState } from './anonymize-panel.js';
import { setupTaskPanel, type TaskState } from './tasks-panel.js';

/**
 * Settings come from the query string so a link (or a test) can pick them:
 * ?backend=auto|webgpu|wasm&model=URL&n=16&seed=0&temperature=0.7&digit=3, and wasm=URL of a folder holding
 * inflow-single.wasm and inflow-threads.wasm to load the kernels from there instead of the build's assets.
 * The image-task panel (tasks-panel.ts) takes task=upscale|restore|inpaint, sr=URL, restore=URL, inpaint=URL,
 * task-steps, task-seed, task-mask, task-jump and task-resample. The photo panel (anonymize-panel.ts) takes
 * anon-mode=telea|blur|pixelate|solid, face-api=URL of the TinyFaceDetector manifest, anon-plates=1 (hide
 * licence plates too), plate-model=URL of the plate detector file, anon-verify=1 (the identity check) and
 * face-recognition=URL of face-api's recognition network manifest.
 */
const params = new URLSearchParams(location.search);
const DEFAULT_MODEL = 'models/finc-mnist.safetensors';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const backendSelect = $<HTMLSelectElement>('backend');
const modelInput = $<HTMLInputElement>('model-url');
const temperature = $<HTMLInputElement>('temperature');
const seedInput = $<HTMLInputElement>('seed');
const digitSelect = $<HTMLSelectElement>('digit');
const sampleButton = $<HTMLButtonElement>('sample');
const nextSeedButton = $<HTMLButtonElement>('next-seed');
const scoreButton = $<HTMLButtonElement>('score');
const errorBox = $<HTMLDivElement>('error');

const batchSize = Math.max(1, Math.min(64, Number(params.get('n') ?? 16) || 16));
backendSelect.value = ['auto', 'webgpu', 'wasm'].includes(params.get('backend') ?? '') ? params.get('backend')! : 'auto';
modelInput.value = params.get('model') ?? DEFAULT_MODEL;
if (params.has('seed')) seedInput.value = String(Number(params.get('seed')) || 0);
if (params.has('temperature')) temperature.value = params.get('temperature')!;
/** Applied once the model's classes are known. */
const digitParam = params.get('digit');

/** What the last operations produced, for anyone scripting the page (tests/browser reads it). */
const state: {
  info: EngineSummary | null;
  samples: Samples | null;
  score: Score | null;
  /** The pad as the model saw it (framed as MNIST digits, H × W pixels + ½), for comparing with score.reconstruction; null for an empty pad. */
  scoreInput: Float32Array | null;
  firstBatchMs: number | null;
  warmBatchMs: number | null;
  batches: number;
  error: string | null;
  /** The upscale / restore / inpaint panel. */
  task: TaskState | null;
  /** The photo panel (anonymize-panel.ts). */
  anonymize: AnonymizeState | null;
} = { info: null, samples: null, score: null, scoreInput: null, firstBatchMs: null, warmBatchMs: null, batches: 0, error: null, task: null, anonymize: null };
(window as unknown as { inflowDemo: typeof state }).inflowDemo = state;

let client: EngineClient | null = null;
let shape: [number, number, number] = [1, 28, 28];

const pad = new DrawingPad($<HTMLCanvasElement>('pad'), () => void score());
const taskPanel = setupTaskPanel({ client: () => (state.info ? client : null), padDigit: () => pad.toInput(28, 28), samples: () => state.samples }, params);
state.task = taskPanel.state;
const anonymizePanel = setupAnonymizePanel({ client: () => (state.info ? client : null), backend: () => state.info?.backend ?? null }, params);
state.anonymize = anonymizePanel.state;

function setBusy(busy: boolean): void {
  document.body.dataset.state = busy ? 'busy' : state.error ? 'error' : 'ready';
  const usable = !busy && !!state.info;
  for (const b of [sampleButton, nextSeedButton, scoreButton]) b.disabled = !usable;
}

function showError(message: string | null): void {
  state.error = message;
  errorBox.hidden = !message;
  errorBox.textContent = message ?? '';
  if (message) document.body.dataset.state = 'error';
}

async function start(): Promise<void> {
  client?.terminate();
  taskPanel.enable(false);
  anonymizePanel.enable(false);
  state.info = null;
  state.firstBatchMs = state.warmBatchMs = null;
  showError(null);
  setBusy(true);
  document.body.dataset.state = 'loading';
  $('engine-info').textContent = `starting the ${backendSelect.value} engine and loading ${modelInput.value}…`;
  client = new EngineClient((message) => {
    showError(message);
    setBusy(false);
  });
  try {
    const wasm = params.get('wasm');
    state.info = await client.init(backendSelect.value as BackendChoice, new URL(modelInput.value, document.baseURI).href,
      wasm ? new URL(wasm, document.baseURI).href : undefined);
  } catch (e) {
    const message = (e as Error).message;
    const hint = /could not be downloaded/.test(message) ? ' Pass ?model=URL (or edit Model URL above) to load another inflow model file.' : '';
    showError(`Could not start: ${message}.${hint}`);
    $('engine-info').textContent = 'no engine';
    setBusy(false);
    return;
  }
  shape = state.info.inputShape;
  showClasses(state.info.classes);
  $('engine-info').textContent = describe(state.info);
  setBusy(false);
  taskPanel.enable(true);
  anonymizePanel.enable(true);
  await sample();
}

/** The digit picker lists the model's classes; a model without a class prior hides it. */
function showClasses(classes: number): void {
  const wanted = digitSelect.value || digitParam || '';
  digitSelect.replaceChildren(new Option('any', ''), ...Array.from({ length: classes }, (_, y) => new Option(String(y), String(y))));
  const y = Number(wanted);
  digitSelect.value = wanted !== '' && Number.isInteger(y) && y >= 0 && y < classes ? String(y) : '';
  $('digit-label').hidden = classes === 0;
}

function describe(info: EngineSummary): string {
  const d = info.details;
  const bits = Object.entries(d).filter(([k]) => k !== 'memoryBytes').map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  const rejected = Object.entries(info.rejected).map(([k, v]) => `${k}: ${v}`);
  return `backend: ${info.backend} (${info.why})` + (bits.length ? ` · ${bits.join(', ')}` : '') +
    (rejected.length ? ` · passed over: ${rejected.join('; ')}` : '') + ` · model loaded in ${ms(info.loadMs)}`;
}

const ms = (t: number): string => (t >= 1000 ? `${(t / 1000).toFixed(2)} s` : `${t.toFixed(0)} ms`);

async function sample(): Promise<void> {
  if (!client || !state.info) return;
  setBusy(true);
  try {
    const labels = digitSelect.value === '' ? undefined : [Number(digitSelect.value)];
    const s = await client.sample(batchSize, Number(temperature.value), Math.floor(Number(seedInput.value)) || 0, labels);
    state.samples = s;
    state.batches++;
    if (state.firstBatchMs === null) state.firstBatchMs = s.ms;
    else state.warmBatchMs = s.ms;
    drawGrid($<HTMLCanvasElement>('samples'), s.pixels, s.shape, Math.ceil(Math.sqrt(s.shape[0])), s.shape[0] > 16 ? 2 : 3);
    $('timing').textContent = `${s.shape[0]} digits on ${state.info.backend}: first batch ${ms(state.firstBatchMs)} (includes compiling kernels)` +
      (state.warmBatchMs === null ? ' · sample again for the warm time' : ` · warm batch ${ms(state.warmBatchMs)}`);
  } catch (e) {
    showError(`Sampling failed: ${(e as Error).message}`);
  }
  setBusy(false);
}

/** Nothing drawn: nothing to score (an empty pad once read as a confident "1"). */
function showEmptyPad(): void {
  const [, H, W] = shape;
  state.score = state.scoreInput = null;
  $('bpd').textContent = '–';
  $('reading').hidden = true;
  $('pad-status').textContent = 'draw a digit';
  $('pad-status').hidden = false;
  $('score-timing').textContent = '';
  drawImage($<HTMLCanvasElement>('reconstruction'), new Float32Array(H * W), H, W);
}

async function score(): Promise<void> {
  if (!client || !state.info) return;
  const [, H, W] = shape;
  const input = pad.toInput(H, W);
  if (!input) {
    showEmptyPad();
    return;
  }
  setBusy(true);
  try {
    const s = await client.score(input.slice());
    state.scoreInput = input;
    state.score = s;
    $('pad-status').textContent = '';
    $('pad-status').hidden = true;
    $('bpd').textContent = s.bitsPerDim.toFixed(3);
    if (s.classProbs.length) {
      const best = s.classProbs.indexOf(Math.max(...s.classProbs));
      $('reading-digit').textContent = `${best} (p ${s.classProbs[best]!.toFixed(2)})`;
    }
    $('reading').hidden = !s.classProbs.length;
    drawImage($<HTMLCanvasElement>('reconstruction'), s.reconstruction, H, W);
    $('score-timing').textContent = `scored in ${ms(s.ms)}`;
  } catch (e) {
    showError(`Scoring failed: ${(e as Error).message}`);
  }
  setBusy(false);
}

temperature.addEventListener('input', () => { $('temperature-value').textContent = Number(temperature.value).toFixed(2); });
temperature.dispatchEvent(new Event('input'));
temperature.addEventListener('change', () => void sample());
seedInput.addEventListener('change', () => void sample());
digitSelect.addEventListener('change', () => void sample());
sampleButton.addEventListener('click', () => void sample());
nextSeedButton.addEventListener('click', () => {
  seedInput.value = String((Math.floor(Number(seedInput.value)) || 0) + 1);
  void sample();
});
scoreButton.addEventListener('click', () => void score());
$('clear').addEventListener('click', () => {
  pad.clear();
  showEmptyPad();
});
backendSelect.addEventListener('change', () => void start());
$('load').addEventListener('click', () => void start());

void start();
