import { BufferPool } from './pool.js';
import type { Storage } from '../backend.js';
import { fail } from '../../engine/errors.js';

/**
 * Dawn's messages span lines (" - While calling [Device].CreateBuffer(...)", "    at Adapter.cpp:305"):
 * one line, without the C++ source locations, so every error the backend raises stays one line.
 */
export function oneLine(message: string): string {
  return message.split('\n').map((l) => l.trim()).filter((l) => l && !/^at .*\)$/.test(l)).join(' ') || 'no message';
}

/** The error every call on a lost device gives: what happened, what is gone, what to do. */
export function lostMessage(reason: string): string {
  return `GPU device lost (${reason}); tensors on it are gone — create a new engine ` +
    `(an 'auto' engine moves to wasm by itself; tensors and models made before the loss must be recreated)`;
}

/** A storage buffer handed out by alloc(). The buffer may be larger than numel (pool bucket). */
export class WebGPUStorage implements Storage {
  freed = false;
  /** Bound or copied by work in the encoder that has not been submitted yet. */
  inEncoder = false;
  constructor(readonly numel: number, readonly buffer: GPUBuffer) {}
  get bytes(): number {
    return Math.max(4, this.numel * 4);
  }
}

export interface Binding {
  buffer: GPUBuffer;
  size: number;
}

export interface Dispatch {
  /** Contents of the dispatch's own uniform buffer (binding 0). */
  params: ArrayBuffer;
  /** Bindings 1, 2, ... in order. */
  bindings: readonly (WebGPUStorage | Binding)[];
  workgroups: number;
}

/**
 * GPUBufferUsage / GPUMapMode bits (fixed by the WebGPU spec), so that a GPU object injected from
 * dawn.node works even when its globals were never installed.
 */
const usage = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const MAP_MODE_READ = 0x1;

/** Dispatches per command encoder before it is submitted anyway, bounding queued uniform buffers. */
const DISPATCHES_PER_SUBMIT = 256;

/** A 2-D grid of workgroups: WebGPU allows at most 65535 per dimension. */
export function grid(workgroups: number): [number, number] {
  const x = Math.min(Math.max(1, workgroups), 65535);
  return [x, Math.ceil(Math.max(1, workgroups) / x)];
}

/**
 * The device and everything queued on it: buffer pools, the open command encoder, compiled
 * pipelines, and what went wrong (device loss, uncaptured errors).
 *
 * Hazard handled here: queue.writeBuffer runs at queue order, i.e. before commands still sitting in
 * an unsubmitted encoder. So a buffer used by unsubmitted work is neither rewritten nor recycled
 * until that encoder is submitted: writes flush first, and frees wait in `pendingRelease`.
 */
export class Runtime {
  readonly storagePool: BufferPool;
  readonly uniformPool: BufferPool;
  readonly stagingPool: BufferPool;
  private encoder: GPUCommandEncoder | null = null;
  private dispatches = 0;
  private pendingRelease: Array<[BufferPool, GPUBuffer]> = [];
  private touched: WebGPUStorage[] = [];
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly compiling = new Map<string, Promise<GPUComputePipeline>>();
  private errors: string[] = [];
  lostReason: string | null = null;
  /**
   * Resolves once the device is lost (or destroyed by dispose). Reads race it: Dawn rejects a pending
   * mapAsync on loss, but nothing in the spec promises that every pending promise settles.
   */
  readonly lost: Promise<void>;
  private lostHandlers: Array<(reason: string) => void> = [];
  disposed = false;
  submits = 0;
  /** Dispatches per kernel label since creation: which path a kernel took (solve tile / per diagonal). */
  readonly dispatchCounts: Record<string, number> = {};

  constructor(readonly device: GPUDevice) {
    this.storagePool = new BufferPool(device, usage.STORAGE | usage.COPY_SRC | usage.COPY_DST, 'inflow storage');
    this.uniformPool = new BufferPool(device, usage.UNIFORM | usage.COPY_DST, 'inflow uniform');
    this.stagingPool = new BufferPool(device, usage.MAP_READ | usage.COPY_DST, 'inflow staging');
    device.addEventListener('uncapturederror', (event) => {
      this.errors.push(oneLine((event as GPUUncapturedErrorEvent).error.message));
    });
    this.lost = device.lost.then((info) => {
      this.lostReason ??= this.disposed ? 'the backend was disposed' : `${info.reason}: ${oneLine(info.message || 'no message')}`;
      if (this.disposed) return;
      const handlers = this.lostHandlers;
      this.lostHandlers = [];
      for (const h of handlers) {
        // A failing handler must neither skip the others nor turn `lost`, which reads race, into a rejection.
        try { h(this.lostReason); } catch { /* the handler's own state says what went wrong */ }
      }
    });
  }

  /** Calls handler once when the device is lost (at once if it already is); never after dispose. */
  onLost(handler: (reason: string) => void): void {
    if (this.disposed) return;
    if (this.lostReason) handler(this.lostReason);
    else this.lostHandlers.push(handler);
  }

  /** Throws when the device can no longer run work. */
  check(): void {
    if (this.disposed) fail('webgpu', 'the backend was used after dispose(); create a new engine');
    if (this.lostReason) fail('webgpu', lostMessage(this.lostReason));
  }

  /** Throws (once) the first GPU error recorded since the last call. */
  throwRecordedErrors(): void {
    if (this.errors.length === 0) return;
    const all = this.errors;
    this.errors = [];
    fail('webgpu', `the device reported a WebGPU error: ${oneLine(all[0]!)}${all.length > 1 ? ` (and ${all.length - 1} more)` : ''}`);
  }

  pendingErrors(): readonly string[] {
    return this.errors;
  }

  /** Kernels are synchronous, so a cache miss compiles synchronously; warmup() avoids the stall. */
  pipeline(source: string, label: string): GPUComputePipeline {
    let p = this.pipelines.get(source);
    if (!p) {
      this.device.pushErrorScope('validation');
      const module = this.device.createShaderModule({ code: source, label });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label });
      this.recordScope(label);
      this.pipelines.set(source, p);
    }
    return p;
  }

  async compile(source: string, label: string): Promise<void> {
    if (this.pipelines.has(source)) return;
    let pending = this.compiling.get(source);
    if (!pending) {
      this.device.pushErrorScope('validation');
      const module = this.device.createShaderModule({ code: source, label });
      this.recordScope(label);
      pending = this.device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' }, label });
      this.compiling.set(source, pending);
    }
    try {
      const p = await pending;
      if (!this.pipelines.has(source)) this.pipelines.set(source, p);
    } catch (e) {
      this.errors.push(`${label}: ${oneLine((e as Error).message)}`);
    } finally {
      this.compiling.delete(source);
    }
  }

  get pipelineCount(): number {
    return this.pipelines.size;
  }

  private recordScope(label: string): void {
    this.device.popErrorScope().then((e) => {
      if (e) this.errors.push(`${label}: ${oneLine(e.message)}`);
    }, () => { /* the device is gone; lostReason already says so */ });
  }

  private getEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  private touch(s: WebGPUStorage): void {
    if (!s.inEncoder) {
      s.inEncoder = true;
      this.touched.push(s);
    }
  }

  /** A buffer owned by one dispatch (e.g. a small table), recycled after the next submit. */
  temporary(data: ArrayBufferView): Binding {
    const size = Math.max(4, data.byteLength);
    const buffer = this.storagePool.acquire(size);
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    this.pendingRelease.push([this.storagePool, buffer]);
    return { buffer, size };
  }

  /** Encodes the dispatches into one compute pass; storage effects of one are visible to the next. */
  run(source: string, label: string, dispatches: readonly Dispatch[]): void {
    this.check();
    const pipeline = this.pipeline(source, label);
    const layout = pipeline.getBindGroupLayout(0);
    const pass = this.getEncoder().beginComputePass({ label });
    pass.setPipeline(pipeline);
    for (const d of dispatches) {
      const ubuf = this.uniformPool.acquire(d.params.byteLength);
      this.device.queue.writeBuffer(ubuf, 0, d.params);
      this.pendingRelease.push([this.uniformPool, ubuf]);
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: ubuf, size: d.params.byteLength } }];
      d.bindings.forEach((b, i) => {
        if (b instanceof WebGPUStorage) {
          this.touch(b);
          entries.push({ binding: i + 1, resource: { buffer: b.buffer, size: b.bytes } });
        } else {
          entries.push({ binding: i + 1, resource: { buffer: b.buffer, size: b.size } });
        }
      });
      pass.setBindGroup(0, this.device.createBindGroup({ layout, entries }));
      const [x, y] = grid(d.workgroups);
      pass.dispatchWorkgroups(x, y);
    }
    pass.end();
    this.dispatches += dispatches.length;
    this.dispatchCounts[label] = (this.dispatchCounts[label] ?? 0) + dispatches.length;
    if (this.dispatches >= DISPATCHES_PER_SUBMIT) this.submit();
  }

  /** Submits the open encoder; only then may the buffers it used be recycled or rewritten. */
  submit(): void {
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
      this.dispatches = 0;
      this.submits++;
    }
    for (const [pool, buffer] of this.pendingRelease) pool.release(buffer);
    this.pendingRelease = [];
    for (const s of this.touched) s.inEncoder = false;
    this.touched = [];
  }

  alloc(numel: number): WebGPUStorage {
    this.check();
    return new WebGPUStorage(numel, this.storagePool.acquire(Math.max(4, numel * 4)));
  }

  free(s: WebGPUStorage): void {
    if (s.freed) return;
    s.freed = true;
    if (this.disposed) return;
    if (s.inEncoder) this.pendingRelease.push([this.storagePool, s.buffer]);
    else this.storagePool.release(s.buffer);
  }

  write(s: WebGPUStorage, data: Float32Array): void {
    this.check();
    if (s.inEncoder) this.submit();
    this.device.queue.writeBuffer(s.buffer, 0, data.buffer, data.byteOffset, Math.min(data.byteLength, s.numel * 4));
  }

  async read(s: WebGPUStorage): Promise<Float32Array> {
    this.check();
    const bytes = s.numel * 4;
    if (bytes === 0) {
      this.submit();
      return new Float32Array(0);
    }
    const staging = this.stagingPool.acquire(bytes);
    this.getEncoder().copyBufferToBuffer(s.buffer, 0, staging, 0, bytes);
    this.touch(s);
    this.submit();
    const mapping = staging.mapAsync(MAP_MODE_READ, 0, bytes);
    // When the loss ends the race first, a mapping rejected later must not be an unhandled rejection.
    mapping.catch(() => undefined);
    try {
      await Promise.race([mapping, this.lost]);
    } catch (e) {
      // Dawn rejects the mapping with an empty AbortError when the device goes: give the loss event a
      // moment to arrive so the error says why.
      if ((e as Error).name === 'AbortError' && !this.lostReason) await Promise.race([this.lost, delay(100)]);
      this.check();
      this.throwRecordedErrors();
      fail('webgpu', `reading a ${bytes}-byte buffer back failed: ${oneLine(String((e as Error).message || (e as Error).name))}`);
    }
    // The device went while the copy was queued: the race ended on the loss, not on the data.
    this.check();
    const out = new Float32Array(staging.getMappedRange(0, bytes).slice(0));
    staging.unmap();
    this.stagingPool.release(staging);
    this.throwRecordedErrors();
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.lostHandlers = [];
    this.encoder = null;
    this.pendingRelease = [];
    this.storagePool.destroyAll();
    this.uniformPool.destroyAll();
    this.stagingPool.destroyAll();
    this.pipelines.clear();
    this.device.destroy();
  }
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
