/** Messages between the server (src/serve/pool.ts) and its inference workers (src/serve/worker.ts). */
import type { EngineOptions } from '../engine/dispatcher.js';

export interface WorkerInit {
  /** The worker's number, 0…workers − 1 (metrics label it). */
  index: number;
  engine: EngineOptions;
  models: Array<{ name: string; path: string; kind: string }>;
}

/** What the engine holds: bytes of live tensors on its backend, and how many tensors. */
export interface EngineMemory { bytes: number; tensors: number }

export type ToWorker =
  | { type: 'run'; id: number; model: string; endpoint: string; payloads: unknown[] }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; backend: string; memory: EngineMemory }
  | { type: 'done'; id: number; results: unknown[]; memory: EngineMemory }
  | { type: 'fatal'; error: string };
