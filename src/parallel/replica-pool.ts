/**
 * The worker side of data parallelism: N − 1 worker threads, each a replica of one model, plus
 * the calling thread as replica 0. Shards are dealt round-robin (replica r runs shards r, r + N, …),
 * the workers' messages go out before the calling thread starts its own shards, and results come
 * back in shard order. Weights follow the calling thread's model: before a run, any parameter or
 * buffer whose version changed since the last sync is sent to every worker.
 */
import type { Worker } from 'node:worker_threads';
import { fail, InflowError } from '../engine/errors.js';
import type { Module } from '../nn/module.js';
import type { TensorSlot } from '../nn/param.js';
import { startModuleWorker } from '../serve/module-worker.js';
import { replicaSpecOf, runProgram, type ProgramArgs, type ProgramName, type ShardResult } from './programs.js';
import type { FromReplica, StateEntries, ToReplica } from './protocol.js';

interface Pending { resolve(r: ShardResult): void; reject(e: Error): void }

class ReplicaWorker {
  readonly pending = new Map<number, Pending>();
  dead: string | null = null;
  /** Settles when the worker has built the model and loaded its weights, or stopped before. */
  readonly ready: Promise<void>;
  private started: { resolve(): void; reject(e: Error): void } | null = null;

  constructor(readonly worker: Worker, readonly index: number) {
    this.ready = new Promise<void>((resolve, reject) => { this.started = { resolve, reject }; });
    worker.on('message', (m: FromReplica) => {
      if (m.type === 'ready') {
        worker.unref();
        this.started?.resolve();
        this.started = null;
      } else if (m.type === 'done' || m.type === 'error') {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        // An idle replica must not keep the process alive (a script that forgets close() still exits).
        if (this.pending.size === 0) worker.unref();
        if (m.type === 'done') p?.resolve(m.result);
        else p?.reject(new InflowError(`dataParallel: replica ${index}: ${m.error}`));
      } else if (m.type === 'failed') this.stop(m.error);
    });
    worker.on('error', (e) => this.stop(e.message.split('\n')[0]!));
    worker.on('exit', (code) => this.stop(`exited with code ${code}`));
  }

  stop(reason: string): void {
    if (this.dead) return;
    this.dead = reason;
    this.started?.reject(new InflowError(`dataParallel: replica ${this.index} failed to start: ${reason}`));
    this.started = null;
    for (const p of this.pending.values()) p.reject(new InflowError(`dataParallel: replica ${this.index} stopped (${reason})`));
    this.pending.clear();
  }

  send(m: ToReplica): void {
    if (this.dead) fail('dataParallel', `replica ${this.index} stopped (${this.dead}); close this DataParallel and create another`);
    this.worker.postMessage(compact(m));
  }
}

export class ReplicaPool {
  private nextId = 1;
  private closed = false;
  /** Versions of the model's tensors the workers hold, by state-dict name. */
  private synced = new Map<string, number>();
  /** Each shard's time on its own thread in the last run (for benchmarks: the balance between replicas). */
  lastShardMs: number[] = [];

  private constructor(readonly model: Module, private readonly workers: ReplicaWorker[]) {}

  /** Starts `threads − 1` replicas of `model` and waits until each has built it and loaded its weights. */
  static async start(model: Module, threads: number): Promise<ReplicaPool> {
    const spec = replicaSpecOf(model);
    const { state, versions } = await snapshot(model, null);
    const workers = Array.from({ length: threads - 1 }, (_, i) => {
      const w = startModuleWorker(import.meta.url, 'replica-worker', { spec, state, index: i + 1 }, { type: 'failed' });
      return new ReplicaWorker(w, i + 1);
    });
    const pool = new ReplicaPool(model, workers);
    pool.synced = versions;
    try {
      await Promise.all(workers.map((r) => r.ready));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  get threads(): number { return this.workers.length + 1; }

  /** Sends every tensor of the model whose version moved since the last sync. */
  async sync(): Promise<void> {
    if (this.workers.length === 0) return;
    const { state, versions } = await snapshot(this.model, this.synced);
    if (state.length === 0) return;
    for (const w of this.workers) w.send({ type: 'state', state });
    this.synced = versions;
  }

  /**
   * Runs `program` on every shard (args[s] is shard s) and returns the results in shard order. The
   * model's train/eval mode is the replicas' mode for this run.
   */
  async run<K extends ProgramName>(program: K, args: ReadonlyArray<ProgramArgs[K]>): Promise<ShardResult[]> {
    if (this.closed) fail('dataParallel', 'this DataParallel was closed');
    await this.sync();
    const T = this.threads, training = this.model.training;
    const results: Array<Promise<ShardResult>> = new Array(args.length);
    for (let s = 0; s < args.length; s++) {
      if (s % T === 0) continue;
      const w = this.workers[(s % T) - 1]!, id = this.nextId++;
      results[s] = new Promise<ShardResult>((resolve, reject) => {
        w.pending.set(id, { resolve, reject });
        w.worker.ref();
        w.send({ type: 'run', id, program, args: args[s]!, training } as ToReplica);
      });
      // Rejections are awaited below, in order; this keeps an early one from being reported as unhandled.
      results[s]!.catch(() => undefined);
    }
    // The calling thread's own shards, one after another (started after every worker has its message).
    let previous: Promise<unknown> = Promise.resolve();
    for (let s = 0; s < args.length; s += T) {
      results[s] = previous.then(() => runProgram(this.model, program, args[s]!));
      previous = results[s]!.catch(() => undefined);
    }
    const out: ShardResult[] = [];
    for (const r of results) out.push(await r);
    this.lastShardMs = out.map((r) => r.ms ?? NaN);
    return out;
  }

  /** Stops every worker (their engines are freed); the model itself stays the caller's. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.workers.map((r) => new Promise<void>((resolve) => {
      if (r.dead) return resolve();
      r.worker.once('exit', () => resolve());
      r.worker.ref(); // keeps the process alive until the worker has exited (an idle one is unref'd)
      r.send({ type: 'close' });
      // A worker busy in a long shard still stops: terminate after a grace period.
      setTimeout(() => void r.worker.terminate(), 2000).unref();
    })));
  }
}

/**
 * The model's tensors whose version differs from `known` (all of them when null), read to the host
 * into one SharedArrayBuffer: each entry's data is a view into it, so every worker receives the same
 * memory without a copy (structured cloning shares a SharedArrayBuffer), and the read is one copy per
 * tensor out of the engine (docs/thread-scaling.md §6). A new buffer per sync: a worker may still be
 * loading the previous one.
 */
async function snapshot(model: Module, known: ReadonlyMap<string, number> | null): Promise<{ state: StateEntries; versions: Map<string, number> }> {
  const changed: Array<[string, TensorSlot]> = [];
  const versions = new Map<string, number>();
  let total = 0;
  for (const [name, slot] of model.namedState()) {
    versions.set(name, slot.version);
    if (known && known.get(name) === slot.version) continue;
    changed.push([name, slot]);
    total += slot.value.size;
  }
  // The usual case before an inference call: nothing moved, nothing to read or send.
  if (changed.length === 0) return { state: [], versions };
  const packed = new Float32Array(new SharedArrayBuffer(total * Float32Array.BYTES_PER_ELEMENT));
  const state: StateEntries = [];
  let at = 0;
  for (const [name, slot] of changed) {
    const view = packed.subarray(at, at + slot.value.size);
    state.push([name, { data: await slot.value.data(view), shape: [...slot.shape] }]);
    at += slot.value.size;
  }
  return { state, versions };
}

/**
 * A message with every typed-array view that covers part of its buffer replaced by a copy of just
 * that part: structured cloning copies a view's whole buffer, so a shard of a large batch would
 * otherwise carry the entire batch to the worker.
 */
function compact<T>(value: T, depth = 0): T {
  if (ArrayBuffer.isView(value)) {
    const v = value as unknown as Float32Array;
    // Shared memory is never copied by postMessage: its views go as they are.
    return (v.buffer instanceof ArrayBuffer && v.byteLength < v.buffer.byteLength ? v.slice() : v) as unknown as T;
  }
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((x) => compact(x, depth + 1)) as unknown as T;
  return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, compact(x, depth + 1)])) as T;
}
