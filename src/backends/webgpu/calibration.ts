import type { Backend } from '../backend.js';
import { Engine } from '../../engine/engine.js';
import { reshape } from '../../engine/views.js';
import { conv2d } from '../../ops/conv2d.js';
import { matmul } from '../../ops/matmul.js';
import { MAX_STORE_BYTES, type ChoiceStore } from './calibration-store.js';

/**
 * What an 'auto' engine on a hardware adapter does before choosing: time one small workload shaped
 * like the models' hot path on WebGPU and on wasm, keep the faster, and remember the result per
 * adapter (calibration-store.ts) so later engines skip the measurement. A remembered result is used
 * only for the same adapter (vendor, architecture, device, driver description), the same wasm thread
 * count and the same workload; anything else is measured again.
 */

/** The identity a remembered choice belongs to. */
export interface AdapterIdentity { vendor: string; architecture: string; device: string; description: string }

/** engine.info().calibration: both times (median ms per run), the choice, and where it came from. */
export interface Calibration {
  webgpuMs: number;
  wasmMs: number;
  chosen: 'webgpu' | 'wasm';
  /** True when taken from the store instead of measured now. */
  cached: boolean;
  measuredAt: string;
  workload: string;
  adapter: AdapterIdentity;
  /** Where the result is remembered, or why it is not. */
  store: string;
}

/** Named in the store: a changed workload invalidates every remembered result. */
export const WORKLOAD = 'conv 3×3 32→32 @32×32, then matmul 64×32 · 32×1024 (v1)';

/** Measurement time for both backends together, pipeline compilation included. */
export const CALIBRATION_BUDGET_MS = 250;

const STORE_VERSION = 1;
/** Adapters remembered at most (the oldest are dropped): a machine has few. */
const MAX_ENTRIES = 16;

export function adapterIdentity(details: Record<string, unknown>): AdapterIdentity | null {
  const a = details.adapter as Partial<Record<keyof AdapterIdentity, unknown>> | undefined;
  if (!a || typeof a !== 'object' || typeof a.vendor !== 'string') return null;
  const s = (v: unknown): string => (typeof v === 'string' ? v : '');
  return { vendor: s(a.vendor), architecture: s(a.architecture), device: s(a.device), description: s(a.description) };
}

const keyOf = (a: AdapterIdentity, threads: number): string =>
  JSON.stringify([a.vendor, a.architecture, a.device, a.description, threads, WORKLOAD]);

interface Entry { webgpuMs: number; wasmMs: number; chosen: 'webgpu' | 'wasm'; measuredAt: string }

/** The remembered entries, or none when the text is missing, too large or not ours. */
function parseStore(text: string | null): Record<string, Entry> {
  if (!text || text.length > MAX_STORE_BYTES) return {};
  try {
    const data = JSON.parse(text) as { version?: unknown; choices?: unknown };
    if (data?.version !== STORE_VERSION || typeof data.choices !== 'object' || !data.choices) return {};
    const out: Record<string, Entry> = {};
    for (const [k, v] of Object.entries(data.choices as Record<string, Partial<Entry>>)) {
      if (v && (v.chosen === 'webgpu' || v.chosen === 'wasm') && Number.isFinite(v.webgpuMs) && Number.isFinite(v.wasmMs) &&
        typeof v.measuredAt === 'string') out[k] = { webgpuMs: v.webgpuMs!, wasmMs: v.wasmMs!, chosen: v.chosen, measuredAt: v.measuredAt };
    }
    return out;
  } catch {
    return {};
  }
}

/** Random-looking but fixed inputs: the result is never checked, only timed. */
function filled(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (((i * 2654435761 + seed) >>> 0) % 2001) / 1000 - 1;
  return a;
}

/**
 * Median milliseconds of one run (compute and read back) on this backend: one untimed run first
 * (pipelines compile, workers wake), then runs until `budgetMs` is spent, at least one, at most five.
 * The backend is borrowed: only the tensors made here are freed.
 */
export async function timeWorkload(backend: Backend, budgetMs: number, now: () => number = () => performance.now()): Promise<number> {
  const e = new Engine(backend, { chosen: backend.name, why: 'calibration', rejected: {} });
  const x = e.tensor(filled(32 * 32 * 32, 1), [1, 32, 32, 32]);
  const w = e.tensor(filled(32 * 32 * 9, 2).map((v) => v / 17), [32, 32, 3, 3]);
  const m = e.tensor(filled(64 * 32, 3), [64, 32]);
  const run = async (): Promise<void> => {
    const y = e.scope(() => matmul(m, reshape(conv2d(x, w, { pad: 'same' }), [32, 1024])));
    await y.data();
    y.dispose();
  };
  try {
    const start = now();
    await run();
    const times: number[] = [];
    do {
      const t0 = now();
      await run();
      times.push(now() - t0);
    } while (times.length < 5 && now() - start < budgetMs);
    times.sort((a, b) => a - b);
    return times[times.length >> 1]!;
  } finally {
    for (const t of [x, w, m]) t.dispose();
  }
}

export interface ChooseOptions {
  /** The adapter the WebGPU backend runs on. */
  adapter: AdapterIdentity;
  /** wasm worker threads (part of what a remembered result is valid for). */
  threads: number;
  /** Where results are remembered; null: measure every time. */
  store: ChoiceStore | null;
  budgetMs?: number;
  now?: () => number;
}

/**
 * Times both backends (or takes the remembered result for this adapter) and says which is faster.
 * Both backends stay open; the caller keeps the winner and disposes the other.
 */
export async function calibrate(webgpu: Backend, wasm: Backend, o: ChooseOptions): Promise<Calibration> {
  const key = keyOf(o.adapter, o.threads);
  const stored = o.store ? parseStore(await o.store.read().catch(() => null)) : {};
  const hit = stored[key];
  const store = o.store?.where ?? 'not remembered (no store)';
  if (hit) return { ...hit, cached: true, workload: WORKLOAD, adapter: o.adapter, store };
  const half = (o.budgetMs ?? CALIBRATION_BUDGET_MS) / 2;
  const webgpuMs = round(await timeWorkload(webgpu, half, o.now));
  const wasmMs = round(await timeWorkload(wasm, half, o.now));
  const entry: Entry = { webgpuMs, wasmMs, chosen: webgpuMs < wasmMs ? 'webgpu' : 'wasm', measuredAt: new Date().toISOString() };
  let where = store;
  if (o.store) {
    const kept = Object.entries(stored).filter(([k]) => k !== key).slice(-(MAX_ENTRIES - 1));
    try {
      await o.store.write(JSON.stringify({ version: STORE_VERSION, choices: Object.fromEntries([...kept, [key, entry]]) }));
    } catch (e) {
      where = `not remembered (${o.store.where}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
    }
  }
  return { ...entry, cached: false, workload: WORKLOAD, adapter: o.adapter, store: where };
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/** What an 'auto' engine runs on after measuring, and the record engine.info() shows. */
export interface MeasuredChoice {
  backend: Backend;
  calibration: Calibration;
  why: string;
  /** Why the slower one was not taken. */
  rejected: Partial<Record<'webgpu' | 'wasm', string>>;
}

/**
 * The choice of an 'auto' engine whose WebGPU backend sits on a hardware adapter: the faster of it
 * and wasm, measured or remembered. Null leaves today's rule (WebGPU first) in force: a software
 * adapter (only reachable with allowSoftwareGPU), an adapter that cannot be identified, no wasm, or a
 * measurement that failed. The backend not chosen is disposed.
 */
export async function measuredChoice(webgpu: Backend, makeWasm: () => Promise<Backend | string>,
  o: { threads?: number; store: ChoiceStore | null; budgetMs?: number }): Promise<MeasuredChoice | null> {
  const details = webgpu.info().details;
  const adapter = adapterIdentity(details);
  if (details.software !== false || !adapter) return null;
  let wasm: Backend | string;
  try {
    wasm = await makeWasm();
  } catch {
    return null;
  }
  if (typeof wasm === 'string') return null;
  let calibration: Calibration;
  try {
    const threads = o.threads ?? Number(wasm.info().details.threads ?? 0);
    calibration = await calibrate(webgpu, wasm, { adapter, threads, store: o.store, ...(o.budgetMs ? { budgetMs: o.budgetMs } : {}) });
  } catch {
    wasm.dispose();
    return null;
  }
  const { webgpuMs, wasmMs, chosen } = calibration;
  const times = `webgpu ${webgpuMs} ms, wasm ${wasmMs} ms per run of the calibration workload`;
  const source = calibration.cached ? `remembered from ${calibration.measuredAt}` : 'measured now';
  if (chosen === 'webgpu') {
    wasm.dispose();
    return { backend: webgpu, calibration, why: `auto: webgpu is faster here (${times}; ${source})`, rejected: { wasm: `slower than webgpu (${times})` } };
  }
  webgpu.dispose();
  return { backend: wasm, calibration, why: `auto: wasm is faster here (${times}; ${source})`, rejected: { webgpu: `slower than wasm on this adapter (${times})` } };
}
