/**
 * The "hide faces in a photo" panel: a photo dropped or picked here is decoded in the page, sent to
 * the engine worker (web/anonymize-worker.ts: face-api's TinyFaceDetector, with "licence plates
 * too" inflow's plate detector, and the library's anonymize) and comes back with its faces (and
 * plates) filled; the page shows both, the boxes drawn on the result, and offers the result as a
 * PNG. The photo never leaves the device: the only downloads are the page itself and the
 * detectors' weights (web/vite.config.ts serves them).
 */
import { displaySize, downloadName, photoSizeProblem } from './anonymize-inputs.js';
import type { EngineClient } from './client.js';
import type { AnonymizeReply, PhotoFill } from './protocol.js';

const FILLS: readonly PhotoFill[] = ['telea', 'blur', 'pixelate', 'solid'];
const DETECTOR = 'face-api/tiny_face_detector_model-weights_manifest.json';
const PLATE_DETECTOR = 'models/plate-detector.safetensors';
const RECOGNIZER = 'face-api/face_recognition_model-weights_manifest.json';

interface Photo { name: string; width: number; height: number; rgba: Uint8ClampedArray }

export interface AnonymizeState {
  /** The photo being worked on (its pixels stay in the page). */
  photo: { name: string; width: number; height: number } | null;
  result: AnonymizeReply | null;
  runs: number;
  busy: boolean;
  error: string | null;
}

export interface AnonymizeHost {
  client: () => EngineClient | null;
  backend: () => string | null;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

export function setupAnonymizePanel(host: AnonymizeHost, params: URLSearchParams): { state: AnonymizeState; enable: (on: boolean) => void } {
  const state: AnonymizeState = { photo: null, result: null, runs: 0, busy: false, error: null };
  const panel = $('anon-panel');
  const fileInput = $<HTMLInputElement>('anon-file');
  const modeSelect = $<HTMLSelectElement>('anon-mode');
  const platesBox = $<HTMLInputElement>('anon-plates');
  const verifyBox = $<HTMLInputElement>('anon-verify');
  const runButton = $<HTMLButtonElement>('anon-run');
  const download = $<HTMLAnchorElement>('anon-download');
  const original = $<HTMLCanvasElement>('anon-original');
  const result = $<HTMLCanvasElement>('anon-result');
  const status = $('anon-status');
  const detectorUrl = new URL(params.get('face-api') ?? DETECTOR, document.baseURI).href;
  const plateDetectorUrl = new URL(params.get('plate-model') ?? PLATE_DETECTOR, document.baseURI).href;
  const recognizerUrl = new URL(params.get('face-recognition') ?? RECOGNIZER, document.baseURI).href;
  let photo: Photo | null = null;
  let enabled = false, again = false, downloadUrl: string | null = null;

  modeSelect.replaceChildren(...FILLS.map((m) => new Option(m, m)));
  const wanted = params.get('anon-mode');
  if (wanted && (FILLS as readonly string[]).includes(wanted)) modeSelect.value = wanted;
  platesBox.checked = params.get('anon-plates') === '1';
  verifyBox.checked = params.get('anon-verify') === '1';

  const say = (text: string, error = false): void => {
    status.textContent = text;
    status.classList.toggle('task-error', error);
    state.error = error ? text : null;
  };
  const refresh = (): void => { runButton.disabled = !enabled || state.busy || !photo; };
  const setDownload = (blob: Blob | null, name = ''): void => {
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    downloadUrl = blob ? URL.createObjectURL(blob) : null;
    download.hidden = !blob;
    if (downloadUrl) download.href = downloadUrl;
    else download.removeAttribute('href');
    download.download = name;
  };

  async function open(file: File): Promise<void> {
    photo = null;
    state.photo = state.result = null;
    setDownload(null);
    clear(original);
    clear(result);
    refresh();
    say(`reading ${file.name}…`);
    const size = await headerSize(file);
    if (!size) return say(`${file.name}: not an image this browser can read (choose a PNG, JPEG or WebP photo)`, true);
    const problem = photoSizeProblem(file.name, size.width, size.height);
    if (problem) return say(problem, true);
    let bitmap: ImageBitmap;
    try {
      // The bytes as stored: no colour-space conversion, no premultiplying, so untouched pixels come back exactly.
      bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    } catch {
      return say(`${file.name}: the image could not be decoded (a damaged or unsupported file)`, true);
    }
    const full = document.createElement('canvas');
    full.width = bitmap.width;
    full.height = bitmap.height;
    const ctx = full.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(bitmap, 0, 0);
    photo = { name: file.name, width: bitmap.width, height: bitmap.height, rgba: ctx.getImageData(0, 0, bitmap.width, bitmap.height).data };
    state.photo = { name: photo.name, width: photo.width, height: photo.height };
    show(original, full);
    bitmap.close();
    await run();
  }

  async function run(): Promise<void> {
    if (!photo) return say('choose or drop a photo first', true);
    const client = host.client();
    if (!enabled || !client) return say(`${photo.name}: ${photo.width}×${photo.height}; it is processed as soon as the engine is ready`);
    if (state.busy) {
      again = true;
      return;
    }
    state.busy = true;
    refresh();
    const mode = modeSelect.value as PhotoFill, p = photo, plates = platesBox.checked, verify = verifyBox.checked;
    try {
      say(`${p.name}: finding faces${plates ? ' and licence plates' : ''} and filling them (${mode}) on this device…`);
      // The worker takes the buffer over: it gets a copy, the page keeps the photo for another fill.
      const r = await client.anonymize({
        width: p.width, height: p.height, rgba: p.rgba.slice(), mode, detectorUrl, ...(plates ? { plates, plateDetectorUrl } : {}), ...(verify ? { recognizerUrl } : {}),
      });
      if (p !== photo) return;
      const full = document.createElement('canvas');
      full.width = p.width;
      full.height = p.height;
      full.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(r.rgba), p.width, p.height), 0, 0);
      const scale = show(result, full);
      const ctx = result.getContext('2d')!;
      ctx.strokeStyle = '#ffd400';
      ctx.lineWidth = 2;
      for (const b of r.boxes) ctx.strokeRect(b.x * scale, b.y * scale, b.width * scale, b.height * scale);
      ctx.strokeStyle = '#00c8ff';
      for (const b of r.plates) ctx.strokeRect(b.x * scale, b.y * scale, b.width * scale, b.height * scale);
      setDownload(await pngOf(full), downloadName(p.name));
      state.result = r;
      state.runs++;
      say(`${p.name}: ${p.width}×${p.height} · ${found(r.boxes.length, plates ? r.plates.length : null, mode)} ` +
        `in ${(r.ms / 1000).toFixed(2)} s on ${host.backend() ?? 'the engine'}${r.detectorMs ? ` (detectors loaded in ${(r.detectorMs / 1000).toFixed(2)} s)` : ''}` +
        (r.distances ? ` · ${identityVerdict(r.distances, r.samePersonDistance!)}` : ''));
    } catch (e) {
      say(`${p.name}: anonymising failed: ${(e as Error).message}`, true);
    } finally {
      state.busy = false;
      refresh();
    }
    if (again) {
      again = false;
      await run();
    }
  }

  fileInput.addEventListener('change', () => {
    const f = fileInput.files?.[0];
    if (f) void open(f);
  });
  panel.addEventListener('dragover', (e) => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    panel.classList.add('dropping');
  });
  panel.addEventListener('dragleave', () => panel.classList.remove('dropping'));
  panel.addEventListener('drop', (e) => {
    panel.classList.remove('dropping');
    const f = e.dataTransfer?.files[0];
    if (!f) return;
    e.preventDefault();
    void open(f);
  });
  modeSelect.addEventListener('change', () => { if (photo) void run(); });
  platesBox.addEventListener('change', () => { if (photo) void run(); });
  verifyBox.addEventListener('change', () => { if (photo) void run(); });
  runButton.addEventListener('click', () => void run());
  refresh();
  return {
    state,
    enable: (on: boolean) => {
      const was = enabled;
      enabled = on;
      refresh();
      // A photo picked while the engine was starting runs now.
      if (on && !was && photo && !state.result) void run();
    },
  };
}

/** What the identity check found: every face past the same-person distance, or which still match. */
function identityVerdict(distances: readonly number[], samePerson: number): string {
  if (!distances.length) return 'no face to check';
  const matching = distances.flatMap((d, i) => (d <= samePerson ? [`face ${i + 1} (${d.toFixed(2)})`] : []));
  return matching.length
    ? `still recognisable by face-api's recogniser: ${matching.join(', ')}; try solid or pixelate`
    : `no face matches its original for face-api's recogniser (closest ${Math.min(...distances).toFixed(2)})`;
}

/** "2 faces filled (telea)", "1 face and 3 plates filled (blur)", or what was not found. */
function found(faces: number, plates: number | null, mode: string): string {
  const n = (k: number, one: string) => `${k} ${one}${k === 1 ? '' : 's'}`;
  if (plates === null) return faces === 0 ? 'no face found: the photo is unchanged' : `${n(faces, 'face')} filled (${mode})`;
  return faces + plates === 0 ? 'no face or plate found: the photo is unchanged' : `${n(faces, 'face')} and ${n(plates, 'plate')} filled (${mode})`;
}

/**
 * The stated size, from the header: an <img> reads it without decoding the pixels, so a
 * 50 000 × 50 000 header is refused before anything that large is allocated. Null: not an image.
 */
async function headerSize(file: Blob): Promise<{ width: number; height: number } | null> {
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    const ok = await new Promise<boolean>((resolve) => {
      img.onload = () => resolve(true);
      img.onerror = () => resolve(false);
      img.src = url;
    });
    return ok ? { width: img.naturalWidth, height: img.naturalHeight } : null;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Draws `full` onto `canvas` at the display size; returns the scale used. */
function show(canvas: HTMLCanvasElement, full: HTMLCanvasElement): number {
  const d = displaySize(full.width, full.height);
  canvas.width = d.width;
  canvas.height = d.height;
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(full, 0, 0, d.width, d.height);
  return d.scale;
}

function clear(canvas: HTMLCanvasElement): void {
  canvas.width = canvas.height = 1;
}

function pngOf(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the browser could not write the PNG'))), 'image/png'));
}
