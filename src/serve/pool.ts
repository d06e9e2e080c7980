import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from './module-worker.js';
import type { EngineMemory, FromWorker, ToWorker, WorkerInit } from './protocol.js';

export interface PoolEvents {
  /** A worker reported its engine's memory (after warm-up and after every batch). */
  memory?(index: number, memory: EngineMemory): void;
  /** A worker became free: the batcher may send it the next batch. */
  idle?(): void;
  /** A worker stopped after it was ready (it is replaced); its batch failed. */
  crashed?(index: number, reason: string): void;
}

export interface Slot {
  index: number;
  worker: Worker;
  ready: boolean;
  busy: boolean;
  exited: boolean;
  /** The batch it runs: settled by 'done', or rejected if the worker dies. */
  job: { id: number; resolve(results: unknown[]): void; reject(e: Error): void } | null;
}

/** N inference workers, each with its own engine and models; one batch at a time per worker. */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closing = false;
  /** The backend the workers chose (all make the same choice: same options, same machine). */
  backend: string | null = null;

  constructor(private readonly init: Omit<WorkerInit, 'index'>, private readonly count: number, private readonly events: PoolEvents = {}) {}

  /** Starts every worker; resolves when all have loaded and warmed up their models, rejects with the first failure. */
  start(): Promise<void> {
    return Promise.all(Array.from({ length: this.count }, (_, i) => this.spawn(i))).then(() => undefined);
  }

  private spawn(index: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = startModuleWorker(import.meta.url, 'worker', { ...this.init, index } satisfies WorkerInit, { type: 'fatal' });
      const slot: Slot = { index, worker, ready: false, busy: false, exited: false, job: null };
      this.slots[index] = slot;
      let stopped = false;
      const stop = (reason: string): void => {
        if (stopped) return;
        stopped = true;
        const wasReady = slot.ready;
        slot.ready = false;
        slot.job?.reject(new Error(`worker ${index} stopped (${reason})`));
        slot.job = null;
        if (this.closing) return;
        if (!wasReady) return reject(new Error(reason));
        this.events.crashed?.(index, reason);
        // A replacement loads and warms up like the first; until then the pool is not ready.
        this.spawn(index).catch((e: Error) => this.events.crashed?.(index, `its replacement failed to start: ${e.message}`));
      };
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          slot.ready = true;
          this.backend ??= m.backend;
          this.events.memory?.(index, m.memory);
          resolve();
          this.events.idle?.();
        } else if (m.type === 'done') {
          const job = slot.job;
          slot.job = null;
          slot.busy = false;
          this.events.memory?.(index, m.memory);
          if (job && job.id === m.id) job.resolve(m.results);
          this.events.idle?.();
        } else if (m.type === 'fatal') {
          void worker.terminate();
          stop(m.error);
        }
      });
      worker.on('error', (e) => stop(e.message.split('\n')[0]!));
      worker.on('exit', (code) => {
        slot.exited = true;
        stop(`exit code ${code}`);
      });
    });
  }

  /** Workers that have loaded every model. */
  get readyCount(): number { return this.slots.filter((s) => s?.ready).length; }
  get size(): number { return this.count; }
  /** Workers running a batch. */
  get busyCount(): number { return this.slots.filter((s) => s?.busy).length; }
  /** Every worker has loaded every model and warmed up. */
  get ready(): boolean { return !this.closing && this.readyCount === this.count; }

  /** A ready worker with nothing to do, if any. */
  idle(): Slot | undefined {
    return this.closing ? undefined : this.slots.find((s) => s?.ready && !s.busy);
  }

  /** Runs one batch on `slot` (from idle()); resolves with one result per payload. */
  run(slot: Slot, model: string, endpoint: string, payloads: unknown[], transfer: ArrayBuffer[]): Promise<unknown[]> {
    const id = this.nextId++;
    slot.busy = true;
    return new Promise((resolve, reject) => {
      slot.job = { id, resolve, reject };
      slot.worker.postMessage({ type: 'run', id, model, endpoint, payloads } satisfies ToWorker, transfer);
    });
  }

  /**
   * Lets every ready worker finish its batch, free its engine and exit (terminated if it has not
   * within `graceMs`); a worker still loading has nothing to finish and is terminated at once.
   */
  async close(graceMs = 5000): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.filter((s) => s && !s.exited).map((s) => new Promise<void>((resolve) => {
      s.worker.once('exit', () => { clearTimeout(timer); resolve(); });
      const timer = setTimeout(() => void s.worker.terminate(), s.ready ? graceMs : 0);
      if (s.ready) s.worker.postMessage({ type: 'close' } satisfies ToWorker);
    })));
  }
}
