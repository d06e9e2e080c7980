import type { AnonymizeReply, AnonymizeRun, BackendChoice, EngineSummary, ImageTask, Reply, Request, Samples, Score, TaskResult, TaskRun, TaskSummary } from './protocol.js';

type Body = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

/**
 * The page's handle on the engine worker. Requests run one at a time: the engine is not re-entrant
 * and a slider dragged during a batch should not pile up work.
 */
export class EngineClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; progress?: (done: number, total: number) => void }>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(onCrash: (message: string) => void) {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'inflow-engine' });
    this.worker.onmessage = (e: MessageEvent<Reply>) => {
      if (e.data.type === 'progress') {
        this.pending.get(e.data.id)?.progress?.(e.data.done, e.data.total);
        return;
      }
      const p = this.pending.get(e.data.id);
      this.pending.delete(e.data.id);
      if (!p) return;
      if (e.data.type === 'error') p.reject(new Error(e.data.message));
      else p.resolve(e.data);
    };
    this.worker.onerror = (e) => {
      e.preventDefault();
      const message = `the engine worker failed: ${e.message || 'script error (see the browser console)'}`;
      for (const p of this.pending.values()) p.reject(new Error(message));
      this.pending.clear();
      onCrash(message);
    };
  }

  init(backend: BackendChoice, modelUrl: string, wasmBase?: string): Promise<EngineSummary> {
    return this.call({ type: 'init', backend, modelUrl, ...(wasmBase ? { wasmBase } : {}) }) as Promise<EngineSummary>;
  }

  sample(n: number, temperature: number, seed: number, labels?: number[]): Promise<Samples> {
    return this.call({ type: 'sample', n, temperature, seed, ...(labels ? { labels } : {}) }) as Promise<Samples>;
  }

  score(pixels: Float32Array): Promise<Score> {
    return this.call({ type: 'score', pixels }) as Promise<Score>;
  }

  /** Loads the diffusion model of an image task in the worker (kept until another URL or a new engine). */
  taskLoad(task: ImageTask, modelUrl: string): Promise<TaskSummary> {
    return this.call({ type: 'task-load', task, modelUrl }) as Promise<TaskSummary>;
  }

  /** Runs an image task; `onProgress` hears every denoiser call. */
  taskRun(run: TaskRun, onProgress?: (done: number, total: number) => void): Promise<TaskResult> {
    return this.call({ type: 'task-run', ...run }, onProgress) as Promise<TaskResult>;
  }

  /** Hides the faces of one photo in the worker; `run.rgba`'s buffer is handed over (transferred), not copied. */
  anonymize(run: AnonymizeRun): Promise<AnonymizeReply> {
    return this.call({ type: 'anonymize', ...run }, undefined, [run.rgba.buffer]) as Promise<AnonymizeReply>;
  }

  terminate(): void {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new Error('engine restarted'));
    this.pending.clear();
  }

  private call(body: Body, progress?: (done: number, total: number) => void, transfer: Transferable[] = []): Promise<unknown> {
    const run = (): Promise<unknown> => new Promise<Reply>((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject, ...(progress ? { progress } : {}) });
      this.worker.postMessage({ ...body, id } as Request, transfer);
    }).then((r) => (r as Extract<Reply, { result: unknown }>).result);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
