import type { Backend, BackendInfo, MemoryInfo } from '../backends/backend.js';
import type { KernelDef } from './kernel.js';
import type { Calibration } from '../backends/webgpu/calibration.js';
import { fillKernel } from '../ops/fill.js';
import { valueAndGrads, type ValueAndGrads } from './autograd.js';
import { DEFAULT_MEMORY_BUDGET } from './budget.js';
import { fail, shapeStr } from './errors.js';
import { BackendSwitch, runWithFallback, type DeviceLoss } from './fallback.js';
import { checkShape, numel, type Shape } from './shape.js';
import { StorageRef, Tensor } from './tensor.js';

/** Gradients of an op's inputs given the gradient of its output; null where an input gets none. */
export type GradFn = (dy: Tensor, inputs: readonly Tensor[], output: Tensor) => Array<Tensor | null>;

export interface TapeNode {
  inputIds: number[];
  outputId: number;
  /** Aliases of the inputs and output, holding their memory until the tape is released. */
  inputs: Tensor[];
  output: Tensor;
  grad: GradFn;
}

export interface Resolution {
  chosen: Backend['name'];
  why: string;
  /** Why each other backend was not chosen. */
  rejected: Partial<Record<Backend['name'], string>>;
  /** 'auto' on a hardware adapter: both measured times and the choice (src/backends/webgpu/calibration.ts). */
  calibration?: Calibration;
}

export interface EngineInfo {
  backend: Backend['name'];
  why: string;
  rejected: Resolution['rejected'];
  details: BackendInfo['details'];
  /** Kernels that ran on the reference backend because this backend declared it could not take them. */
  fallbacks: string[];
  /** Set once the GPU device was lost: the reason, and whether an 'auto' engine moved to wasm (fallback.ts). */
  deviceLoss: DeviceLoss | null;
  /** 'auto' on a hardware adapter: WebGPU and wasm times of the calibration workload and the choice; else null. */
  calibration: Calibration | null;
}

export interface KernelCall<A> {
  inputs: readonly Tensor[];
  outShape: Shape;
  attrs: A;
  /** Normalised shapes the kernel sees; defaults to the tensors' own. */
  kernelInputShapes?: readonly Shape[];
  kernelOutShape?: Shape;
  grad?: GradFn;
}

/**
 * Owns one backend and every tensor on it: creation, scopes, memory accounting and the gradient tape.
 * Ops (src/engine/ops) validate their arguments and call run(); the backend only computes.
 */
export class Engine {
  private readonly scopes: Set<Tensor>[] = [];
  private readonly tapes: TapeNode[][] = [];
  private recordingPaused = 0;
  private liveTensors = 0;
  private readonly fallbackLog = new Set<string>();
  private disposedEngine = false;

  private readonly switcher: BackendSwitch;

  /**
   * memoryBudget: bytes a model's weights plus one call's activations may take (engine/budget.ts).
   * replaceLost: for 'auto' engines, builds the backend that takes over when the GPU device is lost.
   */
  constructor(backend: Backend, readonly resolution: Resolution, readonly memoryBudget = DEFAULT_MEMORY_BUDGET,
    replaceLost?: () => Promise<Backend>) {
    this.switcher = new BackendSwitch(backend, replaceLost);
  }

  /** The backend new tensors and ops go to; an 'auto' engine replaces a lost GPU (fallback.ts). */
  get backend(): Backend { return this.switcher.backend; }

  get name(): Backend['name'] { return this.backend.name; }

  /** Settles once a switch away from a lost GPU device has finished (at once when there is none). */
  ready(): Promise<void> { return this.switcher.ready(); }

  // ---- creation -------------------------------------------------------------------------------

  /** Wraps freshly allocated storage in a tensor tracked by the innermost scope. */
  adopt(shape: Shape, ref: StorageRef): Tensor {
    const t = new Tensor(this, shape, ref);
    this.liveTensors++;
    const scope = this.scopes[this.scopes.length - 1];
    if (scope) scope.add(t);
    else t.watch();
    return t;
  }

  alloc(op: string, shape: Shape): Tensor {
    if (this.disposedEngine) fail(op, 'the engine was disposed');
    this.switcher.check(op);
    checkShape(op, shape);
    return this.adopt(shape, new StorageRef(this.backend, this.backend.alloc(numel(shape))));
  }

  tensor(data: ArrayLike<number>, shape: Shape = [data.length]): Tensor {
    checkShape('tensor', shape);
    if (data.length !== numel(shape))
      fail('tensor', `${data.length} values do not fill shape ${shapeStr(shape)} (${numel(shape)} elements)`);
    const t = this.alloc('tensor', shape);
    const src = data instanceof Float32Array || data instanceof Float64Array ? data : Float64Array.from(data);
    this.backend.write(t.ref.storage, src);
    return t;
  }

  scalar(value: number): Tensor { return this.tensor([value], []); }
  fill(shape: Shape, value: number): Tensor { return this.run(fillKernel, { inputs: [], outShape: shape, attrs: { value } }); }
  zeros(shape: Shape): Tensor { return this.fill(shape, 0); }
  ones(shape: Shape): Tensor { return this.fill(shape, 1); }

  /** A new tensor sharing this one's memory under another shape (no copy). */
  share(t: Tensor, shape: Shape): Tensor {
    t.ref.retain();
    const out = this.adopt(shape, t.ref);
    out.inheritGuards([t]);
    return out;
  }

  // ---- running kernels ------------------------------------------------------------------------

  run<A>(kernel: KernelDef<A>, call: KernelCall<A>): Tensor {
    const op = kernel.name;
    for (const t of call.inputs) {
      t.assertLive(op);
      if (t.engine !== this) fail(op, `${t} belongs to another engine (${t.engine.name}); move it with engine.adoptFrom()`);
      if (t.ref.backend !== this.backend) this.switcher.stale(op, t);
    }
    const out = this.alloc(op, call.outShape);
    const inViews = call.inputs.map((t, i) => t.view(call.kernelInputShapes?.[i] ?? t.shape));
    const outView = out.view(call.kernelOutShape ?? call.outShape);
    const reason = this.backend.supports?.(op, inViews, outView, call.attrs) ?? null;
    if (reason === null) {
      const fn = this.backend.kernels[op];
      if (!fn) fail(op, `the ${this.backend.name} backend has no kernel '${op}' (run npm run asbuild to regenerate the op registry)`);
      fn(inViews, outView, call.attrs);
    } else {
      runWithFallback(this.backend, op, inViews, outView, call.attrs, reason);
      this.fallbackLog.add(`${op}: ${reason}`);
    }
    out.inheritGuards(call.inputs);
    if (call.grad && this.isRecording()) this.record(call.inputs, out, call.grad);
    return out;
  }

  // ---- scopes and memory ----------------------------------------------------------------------

  /**
   * Runs fn and disposes every tensor created inside it, except what fn returns (a tensor, or
   * tensors inside arrays / plain objects) and what was kept. Returned tensors belong to the outer scope.
   */
  scope<T>(fn: () => T): T {
    const created = new Set<Tensor>();
    this.scopes.push(created);
    let result: T;
    try {
      result = fn();
    } catch (e) {
      // Nothing escapes a scope that threw: free what it made, so a refused call leaks nothing.
      this.scopes.pop();
      for (const t of created) if (!t.kept) t.dispose();
      throw e;
    }
    this.scopes.pop();
    if (result instanceof Promise) fail('scope', 'the function returned a Promise: scopes are synchronous (await outside the scope)');
    const survivors = new Set<Tensor>();
    collectTensors(result, survivors);
    const outer = this.scopes[this.scopes.length - 1];
    for (const t of created) {
      if (survivors.has(t)) {
        if (outer) outer.add(t);
        else t.watch();
      } else if (!t.kept) t.dispose();
    }
    return result;
  }

  keep(t: Tensor): void {
    t.kept = true;
    t.watch();
    for (const s of this.scopes) s.delete(t);
  }

  /** Called by Tensor.dispose. */
  untrack(t: Tensor): void {
    this.liveTensors--;
    this.scopes[this.scopes.length - 1]?.delete(t);
  }

  /** Called when the garbage collector reclaimed a tensor nobody disposed (src/engine/tensor.ts). */
  reclaim(ref: StorageRef): void {
    this.liveTensors--;
    if (!this.disposedEngine) ref.release();
  }

  memory(): MemoryInfo & { backend: Backend['name']; tensors: number } {
    return { backend: this.backend.name, tensors: this.liveTensors, ...this.backend.memory() };
  }

  info(): EngineInfo {
    return {
      backend: this.backend.name,
      why: this.switcher.why(this.resolution.why),
      rejected: this.resolution.rejected,
      details: this.backend.info().details,
      fallbacks: [...this.fallbackLog],
      deviceLoss: this.switcher.loss && { ...this.switcher.loss },
      calibration: this.resolution.calibration ?? null,
    };
  }

  /** Waits until queued work has been submitted (webgpu); reading any tensor also does this. */
  flush(): void { this.backend.flush(); }

  dispose(): void {
    this.disposedEngine = true;
    this.switcher.dispose();
  }

  /** Gradients of the scalar f() with respect to xs (see autograd.ts). */
  valueAndGrads(f: () => Tensor, xs: readonly Tensor[]): ValueAndGrads {
    return valueAndGrads(this, f, xs);
  }

  // ---- gradient tape --------------------------------------------------------------------------

  isRecording(): boolean {
    return this.tapes.length > 0 && this.recordingPaused === 0;
  }

  /** Aliases share memory but belong to no scope, so scopes inside a recorded function cannot free what backward needs. */
  private alias(t: Tensor): Tensor {
    t.ref.retain();
    const a = new Tensor(this, t.shape, t.ref);
    this.liveTensors++;
    return a;
  }

  /** Records an op that made its output without a kernel (a reshape sharing memory). */
  recordView(input: Tensor, output: Tensor, grad: GradFn): void {
    if (this.isRecording()) this.record([input], output, grad);
  }

  private record(inputs: readonly Tensor[], output: Tensor, grad: GradFn): void {
    this.tapes[this.tapes.length - 1]!.push({
      inputIds: inputs.map((t) => t.id),
      outputId: output.id,
      inputs: inputs.map((t) => this.alias(t)),
      output: this.alias(output),
      grad,
    });
  }

  /** Runs fn with a fresh tape; returns its result and the tape (release it with releaseTape). */
  withTape<T>(fn: () => T): { result: T; tape: TapeNode[] } {
    const tape: TapeNode[] = [];
    this.tapes.push(tape);
    try {
      return { result: fn(), tape };
    } finally {
      this.tapes.pop();
    }
  }

  releaseTape(tape: TapeNode[]): void {
    for (const n of tape) {
      for (const t of n.inputs) t.dispose();
      n.output.dispose();
    }
    tape.length = 0;
  }

  /** Runs fn without recording (gradient computations themselves are not differentiated). */
  noGrad<T>(fn: () => T): T {
    this.recordingPaused++;
    try {
      return fn();
    } finally {
      this.recordingPaused--;
    }
  }
}

function collectTensors(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  if (value instanceof Tensor) {
    into.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectTensors(v, into, depth + 1);
    return;
  }
  if (Object.getPrototypeOf(value) === Object.prototype || value instanceof Map) {
    const values = value instanceof Map ? [...value.values()] : Object.values(value);
    for (const v of values) collectTensors(v, into, depth + 1);
  }
}
