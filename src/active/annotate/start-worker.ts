import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../serve/module-worker.js';
import type { AnnotateWorkerInit } from './protocol.js';

/** Starts worker.ts (source checkout) or worker.js (the compiled package), as `inflow serve` starts its workers. */
export function startAnnotateWorker(init: AnnotateWorkerInit): Worker {
  return startModuleWorker(import.meta.url, 'worker', init, { type: 'failed', id: null });
}
