/**
 * The kernel contract every backend implements.
 *
 * Kernels are pure: they read input buffers and write one pre-allocated output buffer.
 * The engine validates shapes, allocates the output, and normalises shapes before calling a kernel,
 * so a kernel never needs to check its arguments. Every kernel is declared once in an op file
 * (src/ops/*.ts, collected by the generated registry), with its gradient rule written there in
 * terms of ops, so every backend gets the same gradient rules; a backend's table maps each kernel
 * name to its implementation.
 *
 * Layout: float32 (float64 on the reference backend, the oracle), row-major, NCHW. Each op file in
 * src/ops/ states the shapes its kernels see.
 */

export type BackendName = 'reference' | 'wasm' | 'webgpu';

/** Opaque handle to backend memory holding `numel` float32 values. */
export interface Storage {
  readonly numel: number;
}

/** A buffer plus the (normalised) shape the kernel should see it as. */
export interface View {
  readonly storage: Storage;
  readonly shape: readonly number[];
}

export interface Pad4 {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/** A kernel as a backend stores it; its attributes are typed by its KernelDef (src/engine/kernel.ts). */
export type AnyKernel = (inputs: readonly View[], output: View, attrs: any) => void;

/** Kernel name → implementation, built from the op registry by each backend. */
export type KernelTable = { readonly [name: string]: AnyKernel };

export interface MemoryInfo {
  buffers: number;
  bytes: number;
}

export interface BackendInfo {
  name: BackendName;
  /** Free text facts: adapter, SIMD, threads. */
  details: Record<string, unknown>;
}

export interface Backend {
  readonly name: BackendName;
  readonly kernels: KernelTable;
  /**
   * Capability check: null when the backend can run this kernel at these shapes, otherwise the reason.
   * The dispatcher asks before calling, so kernels never have to throw for unsupported shapes.
   */
  supports?(op: string, inputs: readonly View[], output: View, attrs: unknown): string | null;
  alloc(numel: number): Storage;
  free(s: Storage): void;
  /** Float64 data is rounded to float32, except on reference, which stores float64. */
  write(s: Storage, data: Float32Array | Float64Array): void;
  read(s: Storage): Promise<Float32Array>;
  /** Synchronous read where the backend can (reference, wasm); undefined otherwise. */
  readSync?(s: Storage): Float32Array;
  /**
   * Copies the first into.length floats into a caller-owned array (reference, wasm). Reading into a
   * reused array skips the page faults of a fresh multi-megabyte result, which cost more than the copy.
   */
  readInto?(s: Storage, into: Float32Array): void;
  /** Exact float64 contents (reference only): the oracle's own precision for gradient checks. */
  read64?(s: Storage): Float64Array;
  memory(): MemoryInfo;
  info(): BackendInfo;
  /** Submit queued work (webgpu); a no-op elsewhere. */
  flush(): void;
  /**
   * webgpu: calls handler once with the reason when the device is lost (at once if it already is), so
   * the engine can act before the next call (src/engine/fallback.ts). Absent where memory cannot be lost.
   */
  onLost?(handler: (reason: string) => void): void;
  dispose(): void;
}
