import type { Backend, Storage, View } from '../backends/backend.js';
import { fail, shapeStr } from './errors.js';
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

/** A float32 tensor of rank 0–6 (images NCHW), resident on its engine's backend. */
export class Tensor {
  readonly id = nextId++;
  readonly size: number;
  private disposed = false;
  /** Set by keep(): survives the end of the scope it was made in. */
  kept = false;

  constructor(readonly engine: Engine, readonly shape: Shape, readonly ref: StorageRef) {
    this.size = numel(shape);
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

  async data(): Promise<Float32Array> {
    this.assertLive('data');
    this.ref.backend.flush();
    const all = await this.ref.backend.read(this.ref.storage);
    return all.length === this.size ? all : all.slice(0, this.size);
  }

  /** Float64 contents: exact on the reference backend, widened from float32 elsewhere. */
  async data64(): Promise<Float64Array> {
    this.assertLive('data64');
    const b = this.ref.backend;
    return b.read64 ? b.read64(this.ref.storage) : Float64Array.from(await this.data());
  }

  /** Synchronous read, where the backend can (reference, wasm). */
  dataSync(): Float32Array {
    this.assertLive('dataSync');
    const b = this.ref.backend;
    if (!b.readSync) fail('dataSync', `the ${b.name} backend reads asynchronously: use await tensor.data()`);
    return b.readSync(this.ref.storage);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) fail('item', `tensor ${shapeStr(this.shape)} has ${this.size} elements, not 1`);
    return (await this.data())[0]!;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
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
