/**
 * Dynamic batching. Requests wait in one FIFO per model + endpoint. A queue is due when its
 * images reach the batch limit or its oldest request has waited --max-delay-ms; whenever a
 * worker is free, the due queue whose oldest request came first sends the worker as many of its
 * requests, in order, as fit the limit (at least one: a request larger than the limit runs alone).
 * While every worker is busy, requests keep collecting, so a loaded server batches more.
 * With batching off every request is its own batch, sent as soon as a worker is free.
 *
 * The queue is bounded: a request that finds --queue requests already waiting is refused (503,
 * Retry-After). A request cancelled while it waits (timeout, client gone) leaves the queue; one
 * already running finishes and its result is dropped.
 */
import { HttpError } from './http-error.js';
import type { Slot, WorkerPool } from './pool.js';
import type { Endpoint, Job, ServedModel } from './registry.js';

export interface BatcherOptions {
  /** Longest a request waits for others to share its batch. */
  maxDelayMs: number;
  /** Off: one request per batch. */
  batching: boolean;
  /** Most requests waiting (all models together) before new ones are refused. */
  queue: number;
}

export interface BatchEvent { model: string; endpoint: string; images: number; requests: number }

interface Waiting {
  model: ServedModel;
  endpoint: Endpoint;
  job: Job;
  arrived: number;
  resolve(result: unknown): void;
  reject(e: Error): void;
  /** Stops listening for cancellation (the request left the queue for a worker). */
  detach?(): void;
}

interface Queue { items: Waiting[]; images: number }

export class Batcher {
  private readonly queues = new Map<string, Queue>();
  private waiting = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;

  constructor(private readonly pool: WorkerPool, private readonly opts: BatcherOptions, private readonly onBatch: (e: BatchEvent) => void = () => {}) {}

  /** Requests waiting for a worker. */
  get depth(): number { return this.waiting; }

  /**
   * Queues a request; the promise settles with the worker's result for it. `signal` cancels it
   * while it waits (the promise then rejects with the signal's reason).
   */
  submit(model: ServedModel, endpoint: Endpoint, job: Job, signal?: AbortSignal): Promise<unknown> {
    if (this.waiting >= this.opts.queue)
      throw new HttpError(503, `the server is busy: ${this.waiting} requests are already waiting (--queue ${this.opts.queue}); retry shortly`, { 'retry-after': '1' });
    const key = `${model.name}\0${endpoint.name}`;
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = { items: [], images: 0 }));
    const queue = q;
    return new Promise((resolve, reject) => {
      const w: Waiting = { model, endpoint, job, arrived: performance.now(), resolve, reject };
      queue.items.push(w);
      queue.images += job.images;
      this.waiting++;
      if (signal) {
        const onAbort = (): void => {
          const i = queue.items.indexOf(w);
          if (i < 0) return;
          queue.items.splice(i, 1);
          queue.images -= job.images;
          this.waiting--;
          reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        w.detach = () => signal.removeEventListener('abort', onAbort);
      }
      this.pump();
    });
  }

  /** Sends due batches to free workers; arms a timer for the next queue that becomes due. */
  pump(): void {
    for (;;) {
      const slot = this.pool.idle();
      if (!slot) return;
      const now = performance.now();
      let best: Queue | null = null;
      let nextDue = Infinity;
      for (const q of this.queues.values()) {
        const head = q.items[0];
        if (!head) continue;
        const due = head.arrived + this.opts.maxDelayMs;
        if (this.single(head) || q.images >= head.model.maxBatch || now >= due) {
          if (!best || head.arrived < best.items[0]!.arrived) best = q;
        } else nextDue = Math.min(nextDue, due);
      }
      if (!best) return this.arm(nextDue);
      this.dispatch(slot, best);
    }
  }

  /** Whether a request runs alone: batching off, or an endpoint that does not batch. */
  private single(w: Waiting): boolean {
    return !this.opts.batching || !w.endpoint.batchable;
  }

  private dispatch(slot: Slot, q: Queue): void {
    const head = q.items[0]!;
    const limit = head.model.maxBatch;
    let images = head.job.images, count = 1;
    if (!this.single(head))
      while (count < q.items.length && images + q.items[count]!.job.images <= limit) images += q.items[count++]!.job.images;
    const batch = q.items.splice(0, count);
    for (const w of batch) w.detach?.();
    q.images -= images;
    this.waiting -= count;
    this.onBatch({ model: head.model.name, endpoint: head.endpoint.name, images, requests: count });
    const payloads = batch.map((w) => w.job.payload);
    const transfer = batch.flatMap((w) => w.job.transfer ?? []);
    this.pool.run(slot, head.model.name, head.endpoint.name, payloads, transfer).then(
      (results) => batch.forEach((w, i) => w.resolve(results[i])),
      (e: Error) => batch.forEach((w) => w.reject(e)),
    );
  }

  private arm(at: number): void {
    if (at === Infinity || (this.timer && at >= this.timerAt)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, at - performance.now()));
  }

  /** Refuses every waiting request (shutdown after the grace period, or the pool failed). */
  rejectAll(e: Error): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const q of this.queues.values()) for (const w of q.items.splice(0)) w.reject(e);
    for (const q of this.queues.values()) q.images = 0;
    this.waiting = 0;
  }
}
