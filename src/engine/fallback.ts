import type { Backend, View } from '../backends/backend.js';
import { createReferenceBackend } from '../backends/reference/index.js';
import { fail } from './errors.js';

let reference: Backend | null = null;

/**
 * Runs a kernel the backend declared it cannot take on the reference backend, copying through host
 * memory. Only possible for backends that read synchronously (wasm); elsewhere the declared reason
 * becomes the error, so nothing is discovered by a throw inside a kernel.
 */
export function runWithFallback(backend: Backend, op: string, inputs: readonly View[], output: View,
  attrs: unknown, reason: string): void {
  const readSync = backend.readSync?.bind(backend);
  if (!readSync) fail(op, `the ${backend.name} backend cannot run this call: ${reason}`);
  reference ??= createReferenceBackend();
  const ref = reference;
  const refInputs = inputs.map((v) => {
    const s = ref.alloc(v.storage.numel);
    ref.write(s, readSync(v.storage));
    return { storage: s, shape: v.shape };
  });
  const refOut = { storage: ref.alloc(output.storage.numel), shape: output.shape };
  try {
    const kernel = ref.kernels[op];
    if (!kernel) fail(op, `no reference kernel '${op}'`);
    kernel(refInputs, refOut, attrs);
    backend.write(output.storage, ref.readSync!(refOut.storage));
  } finally {
    for (const v of refInputs) ref.free(v.storage);
    ref.free(refOut.storage);
  }
}

/** What an engine records when its backend's device is lost (engine.info().deviceLoss). */
export interface DeviceLoss {
  /** The backend whose device went ('webgpu'). */
  backend: Backend['name'];
  /** The driver's reason, e.g. 'destroyed: device was destroyed'. */
  reason: string;
  /** When the engine learnt of it (ISO 8601). */
  at: string;
  /** The backend new work runs on since then; null while switching, or when nothing replaced it. */
  switchedTo: Backend['name'] | null;
  /** What the engine did about it, in words. */
  action: string;
}

/**
 * The backend an engine runs new work on, and what happens when its GPU device is lost.
 *
 * Design: a lost device takes every buffer with it, so nothing can be carried over honestly. An
 * engine created with backend 'webgpu' stays on the lost backend: every call fails with the loss
 * error, and the caller decides (create a new engine). An 'auto' engine was promised "the best backend
 * this machine has", so on the loss event it builds a replacement (wasm, else reference) inside the
 * same Engine object: tensors created after the switch, and ops on them, run there. Tensors made before
 * it still point at the lost device and fail with one clear error when read or used — a model whose
 * parameters lived there fails at its first op instead of silently computing with zeros, and must be
 * reloaded. Building the replacement is asynchronous (wasm compiles and starts workers), so a read that
 * failed because of the loss rejects only once the switch has finished (Tensor.data awaits
 * engine.ready()); a synchronous call made in between fails and says to await engine.ready().
 */
export class BackendSwitch {
  private current: Backend;
  /** Lost backends kept until engine.dispose(): tensors made on them still free into them. */
  private readonly retired: Backend[] = [];
  private pending: Promise<void> | null = null;
  private disposed = false;
  loss: DeviceLoss | null = null;

  /** replace: builds the backend that takes over a lost device ('auto' engines); absent, loss is final. */
  constructor(initial: Backend, private readonly replace?: () => Promise<Backend>) {
    this.current = initial;
    initial.onLost?.((reason) => this.lost(initial, reason));
  }

  get backend(): Backend { return this.current; }

  private lost(backend: Backend, reason: string): void {
    if (backend !== this.current || this.loss || this.disposed) return;
    const loss: DeviceLoss = {
      backend: backend.name, reason, at: new Date().toISOString(), switchedTo: null,
      action: this.replace ? 'switching to wasm' : `none: '${backend.name}' was requested explicitly, so the engine does not switch`,
    };
    this.loss = loss;
    const replace = this.replace;
    if (!replace) return;
    this.pending = replace().then((next) => {
      if (this.disposed) {
        next.dispose();
        return;
      }
      this.retired.push(this.current);
      this.current = next;
      loss.switchedTo = next.name;
      loss.action = `switched to ${next.name}: new tensors and ops run there; tensors made before the loss are gone`;
    }, (e: unknown) => {
      loss.action = `switching failed: ${e instanceof Error ? e.message : String(e)}`;
    }).finally(() => {
      this.pending = null;
    });
  }

  /** Settles once no switch is in progress. */
  ready(): Promise<void> {
    return this.pending ?? Promise.resolve();
  }

  /** Before new work: refuses it while the replacement is still being built. */
  check(op: string): void {
    if (this.pending && this.loss) {
      fail(op, `the ${this.loss.backend} device was lost (${this.loss.reason}); this 'auto' engine is switching to wasm: await engine.ready(), then retry`);
    }
  }

  /** The error for a tensor whose memory is on another backend than the one new work runs on. */
  stale(op: string, t: { toString(): string }): never {
    const loss = this.loss;
    if (!loss) fail(op, `${t} is on a backend this engine no longer runs`);
    fail(op, `${t} lived on the ${loss.backend} device, which was lost (${loss.reason}); its values are gone — ` +
      `recreate it on this engine (now ${this.current.name}); a model must be loaded again`);
  }

  /** engine.info().why, with the switch if there was one. */
  why(initial: string): string {
    const loss = this.loss;
    if (!loss) return initial;
    return `${initial}; then the ${loss.backend} device was lost (${loss.reason}): ${loss.action}`;
  }

  dispose(): void {
    this.disposed = true;
    for (const b of this.retired) b.dispose();
    this.retired.length = 0;
    this.current.dispose();
  }
}
