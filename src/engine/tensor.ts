import type { Backend, Storage, View } from '../backends/backend.js';
import { fail, InflowError, shapeStr } from './errors.js';
import { numel, type Shape } from './shape.js';
import type { Engine } from './engine.js';

/** Backend memory shared by a tensor and its reshapes / tape aliases; freed when the last holder lets go. */
export class StorageRef {
  private refs = 1;
  constructor(readonly backend: Backend, readonly storage: Storage) {}
  retain(): void { this.refs++; }
  release(): void {
    if (--this.refs === 0) this.backend.free(this.storage);
  }
}

let nextId = 1;

/**
 * A check on a result that could not be made when the result was computed, because the backend
 * reads asynchronously (WebGPU): it resolves to an error message, or null when the check passed.
 * data() / data64() / item() wait for it and throw the message as an InflowError, so on every backend
 * a bad result is refused before anyone sees its values (docs/memory-and-guards.md).
 */
export type Guard = Promise<string | null>;

/** More guards than this on one tensor are merged into one, so long chains of ops stay cheap. */
const MAX_GUARDS = 8;

/**
 * The backstop for tensors nobody disposes: when the garbage collector reclaims a Tensor object
 * that was never disposed, its share of the backend memory is released and the engine's live count
 * drops. It holds the storage and the engine, never the tensor, so it cannot keep one alive; scopes,
 * modules and tape nodes hold their tensors strongly, so nothing still in use is reclaimed.
 * Finalizers run as their own tasks, never inside a kernel or a scope, and each backend's free is
 * safe there (WebGPU defers buffers still referenced by queued work to the next submit).
 * Registering costs about a microsecond, so the engine watches only tensors that no scope will
 * free: made outside any scope, returned from the outermost one, or kept (Engine.adopt / scope /
 * keep). Tape aliases are not watched: valueAndGrads always releases its tape.
 */
interface Held { engine: Engine; ref: StorageRef }
const finalizer: FinalizationRegistry<Held> | null = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<Held>((h) => h.engine.reclaim(h.ref)) : null;

/** A float32 tensor of rank 0–6 (images NCHW), resident on its engine's backend. */
export class Tensor {
  readonly id = nextId++;
  readonly size: number;
  private disposed = false;
  /** Set by keep(): survives the end of the scope it was made in. */
  kept = false;

  /** Checks still to pass before the values are read (see Guard); inherited by tensors computed from this one. */
  guards: readonly Guard[] | null = null;
  private watched = false;

  constructor(readonly engine: Engine, readonly shape: Shape, readonly ref: StorageRef) {
    this.size = numel(shape);
  }

  /** Lets the garbage collector free this tensor if it is dropped without dispose() (see `finalizer`). */
  watch(): void {
    if (this.watched || this.disposed || !finalizer) return;
    this.watched = true;
    finalizer.register(this, { engine: this.engine, ref: this.ref }, this);
  }

  get rank(): number { return this.shape.length; }
  get isDisposed(): boolean { return this.disposed; }

  /** Throws the error every op gives for a disposed tensor. */
  assertLive(op: string): void {
    if (this.disposed) fail(op, `tensor #${this.id} ${shapeStr(this.shape)} was disposed and cannot be used`);
  }

  /** The buffer as a kernel sees it, under an optional normalised shape. */
  view(shape: Shape = this.shape): View {
    return { storage: this.ref.storage, shape };
  }

  /** Adds a check that data() / data64() / item() wait for (see Guard). */
  addGuard(g: Guard): void {
    this.setGuards([...(this.guards ?? []), g.catch(() => null)]);
  }

  /** Takes over the pending checks of the tensors this one was computed from. */
  inheritGuards(from: readonly Tensor[]): void {
    let list: Guard[] | null = null;
    for (const t of from) {
      if (!t.guards || t === this) continue;
      for (const g of t.guards) if (!(list ?? this.guards)?.includes(g)) (list ??= [...(this.guards ?? [])]).push(g);
    }
    if (list) this.setGuards(list);
  }

  private setGuards(list: Guard[]): void {
    this.guards = list.length <= MAX_GUARDS ? list
      : [Promise.all(list).then((msgs) => msgs.find((m) => m !== null) ?? null)];
  }

  /** Waits for the pending checks; the first that failed is thrown as an InflowError. */
  async verify(): Promise<void> {
    if (!this.guards) return;
    for (const g of this.guards) {
      const msg = await g;
      if (msg !== null) throw new InflowError(msg);
    }
  }

  /**
   * The float32 contents. With `into` (exactly size floats) they are copied into that array and it is
   * returned: reusing one array per output reads at memory speed (docs/thread-scaling.md).
   */
  async data(into?: Float32Array): Promise<Float32Array> {
    this.assertLive('data');
    if (into) this.checkInto('data', into);
    await this.verify();
    this.assertLive('data');
    let all: Float32Array;
    try {
      const b = this.ref.backend;
      b.flush();
      if (into && b.readInto) {
        b.readInto(this.ref.storage, into);
        return into;
      }
      all = await b.read(this.ref.storage);
    } catch (e) {
      // A read failed by a lost GPU rejects once an 'auto' engine has moved on, so the caller's next call works (fallback.ts).
      await this.engine.ready();
      throw e;
    }
    if (into) {
      into.set(all.length === this.size ? all : all.subarray(0, this.size));
      return into;
    }
    return all.length === this.size ? all : all.slice(0, this.size);
  }

  private checkInto(op: string, into: Float32Array): void {
    if (!(into instanceof Float32Array)) fail(op, 'into must be a Float32Array');
    if (into.length !== this.size)
      fail(op, `into has ${into.length} floats but tensor ${shapeStr(this.shape)} has ${this.size}`);
  }

  /** Float64 contents: exact on the reference backend, widened from float32 elsewhere. */
  async data64(): Promise<Float64Array> {
    this.assertLive('data64');
    const b = this.ref.backend;
    if (!b.read64) return new Float64Array(await this.data());
    await this.verify();
    this.assertLive('data64');
    return b.read64(this.ref.storage);
  }

  /** Synchronous read, where the backend can (reference, wasm); `into` as for data(). */
  dataSync(into?: Float32Array): Float32Array {
    this.assertLive('dataSync');
    const b = this.ref.backend;
    if (!b.readSync) fail('dataSync', `the ${b.name} backend reads asynchronously: use await tensor.data()`);
    // Guards are only ever pending where reads are asynchronous; a synchronous read cannot wait for one.
    if (this.guards) fail('dataSync', `tensor #${this.id} has checks still pending: use await tensor.data()`);
    if (!into) return b.readSync(this.ref.storage);
    this.checkInto('dataSync', into);
    if (b.readInto) b.readInto(this.ref.storage, into);
    else into.set(b.readSync(this.ref.storage).subarray(0, this.size));
    return into;
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) fail('item', `tensor ${shapeStr(this.shape)} has ${this.size} elements, not 1`);
    return (await this.data())[0]!;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.watched) finalizer!.unregister(this);
    this.ref.release();
    this.engine.untrack(this);
  }

  /** Keeps this tensor alive past the end of the current scope. */
  keep(): this {
    this.engine.keep(this);
    return this;
  }

  toString(): string {
    return `Tensor#${this.id}${shapeStr(this.shape)}@${this.ref.backend.name}${this.disposed ? ' (disposed)' : ''}`;
  }
}
