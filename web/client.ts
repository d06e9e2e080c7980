import type { BackendChoice, EngineSummary, Reply, Request, Samples, Score } from './protocol.js';

type Body = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

/**
 * The page's handle on the engine worker. Requests run one at a time: the engine is not re-entrant
 * and a slider dragged during a batch should not pile up work.
 */
export class EngineClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(onCrash: (message: string) => void) {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'inflow-engine' });
    this.worker.onmessage = (e: MessageEvent<Reply>) => {
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

  terminate(): void {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new Error('engine restarted'));
    this.pending.clear();
  }

  private call(body: Body): Promise<unknown> {
    const run = (): Promise<unknown> => new Promise<Reply>((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...body, id } as Request);
    }).then((r) => (r as Extract<Reply, { result: unknown }>).result);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
