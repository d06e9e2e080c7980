import { CTL_BYTES, CTL_INTS, MAX_ARGS, TASK_COUNTER, workerSource } from './worker-source.js';
import { importNodeOnly } from '../../../bindings/node-only.js';

type KernelFn = (...args: number[]) => void;

/** Work (≈ flops or bytes touched) below which a job runs on the calling thread alone: waking workers costs more. */
export const PARALLEL_MIN_WORK = 1 << 18;

interface WorkerLike {
  postMessage(m: unknown): void;
  terminate(): unknown;
}

/**
 * Runs kernel exports either on the calling thread or split over the calling thread plus
 * threads−1 workers sharing the same memory. Synchronous for the caller: the calling thread
 * claims tasks alongside the workers (assembly/common.ts), then waits on the done counter.
 */
export class KernelRunner {
  private readonly fns: KernelFn[];
  private readonly index = new Map<string, number>();
  private ctl: Int32Array | null = null;
  private args: Float64Array | null = null;
  private canBlock = true;
  private disposed = false;

  constructor(exports: WebAssembly.Exports, readonly names: readonly string[], readonly threads: number,
    private readonly workers: readonly WorkerLike[] = [], ctlPtr = 0, memory?: WebAssembly.Memory) {
    this.fns = names.map((n, i) => {
      this.index.set(n, i);
      return exports[n] as KernelFn;
    });
    if (threads > 1 && memory) {
      this.ctl = new Int32Array(memory.buffer, ctlPtr, CTL_INTS);
      this.args = new Float64Array(memory.buffer, ctlPtr + CTL_INTS * 4, MAX_ARGS);
      (exports.setTaskCounter as (p: number) => void)(ctlPtr + TASK_COUNTER * 4);
      try {
        Atomics.wait(this.ctl, 15, 1, 0); // browsers' main threads refuse to block: spin there instead
      } catch {
        this.canBlock = false;
      }
    }
  }

  /** Calls export `name`(...args, tid, nthreads) on every thread; `work` decides whether threads pay off. */
  run(name: string, args: readonly number[], work: number): void {
    // After dispose the workers are gone: waiting for them would hang.
    if (this.disposed) throw new Error('wasm backend used after dispose()');
    const op = this.lookup(name);
    const fn = this.fns[op]!;
    const ctl = this.ctl;
    if (!ctl || work < PARALLEL_MIN_WORK) {
      fn(...args, 0, 1);
      return;
    }
    const nt = this.threads;
    this.args!.set(args);
    ctl[2] = op;
    ctl[3] = args.length;
    ctl[5] = nt;
    Atomics.store(ctl, 4, 0);
    Atomics.store(ctl, TASK_COUNTER, 0);
    Atomics.store(ctl, 1, 0);
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    let failure: unknown = null;
    try {
      fn(...args, 0, nt);
    } catch (e) {
      failure = e;
    }
    for (let done = Atomics.load(ctl, 1); done < nt - 1; done = Atomics.load(ctl, 1)) {
      if (this.canBlock) Atomics.wait(ctl, 1, done, 1000);
    }
    if (failure) throw failure;
    if (ctl[4]) throw new Error(`wasm kernel ${name} trapped in a worker thread`);
  }

  /** Calls export `name` on the calling thread alone and returns its result (queries, not kernels). */
  query(name: string, args: readonly number[]): number {
    if (this.disposed) throw new Error('wasm backend used after dispose()');
    return (this.fns[this.lookup(name)] as unknown as (...a: number[]) => number)(...args);
  }

  /** The index of export `name`; a name the compiled module lacks means the build is stale. */
  private lookup(name: string): number {
    const op = this.index.get(name);
    if (op === undefined || typeof this.fns[op] !== 'function')
      throw new Error(`wasm kernel ${name} is not in the compiled module (a stale build: run npm run asbuild)`);
    return op;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.ctl) {
      this.ctl[2] = -1;
      Atomics.add(this.ctl, 0, 1);
      Atomics.notify(this.ctl, 0);
    }
    for (const w of this.workers) w.terminate();
  }
}

/** Starts threads−1 workers on the shared memory and resolves when all have instantiated the module. */
export async function startWorkers(module: WebAssembly.Module, memory: WebAssembly.Memory, names: readonly string[],
  ctlPtr: number, threads: number): Promise<WorkerLike[]> {
  const workers: WorkerLike[] = [];
  const ready: Promise<void>[] = [];
  const isNode = typeof process === 'object' && !!process.versions?.node;
  if (isNode) {
    const { Worker } = await importNodeOnly<typeof import('node:worker_threads')>('node:worker_threads');
    for (let tid = 1; tid < threads; tid++) {
      const w = new Worker(workerSource, { eval: true });
      w.unref(); // idle workers blocked in Atomics.wait must not keep the process alive
      ready.push(new Promise((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
      }));
      w.postMessage({ module, memory, names, ctlPtr, tid });
      workers.push(w);
    }
  } else {
    const url = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
    for (let tid = 1; tid < threads; tid++) {
      const w = new Worker(url);
      ready.push(new Promise((resolve, reject) => {
        w.onmessage = () => resolve();
        w.onerror = (e) => reject(new Error(e.message));
      }));
      w.postMessage({ module, memory, names, ctlPtr, tid });
      workers.push(w);
    }
  }
  try {
    await Promise.all(ready);
  } catch (e) {
    for (const w of workers) w.terminate();
    throw e;
  }
  return workers;
}

export { CTL_BYTES };
