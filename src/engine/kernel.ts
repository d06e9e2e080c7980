import type { Storage, View } from '../backends/backend.js';

/**
 * One kernel, declared once: its float64 reference, its wasm glue and its WebGPU glue, plus the
 * typed contracts of the wasm exports and WGSL uniform blocks it calls. Op files (src/ops/*.ts)
 * export `kernels: KernelDef[]`; bindings/build-ops.mjs collects them into the generated registry
 * and checks every contract against assembly/<op>.ts and wgsl/<op>.wgsl (docs/adding-an-op.md).
 */

/** Argument types of a wasm export as the AssemblyScript signature spells them (ptr = usize). */
export type WasmArg = 'ptr' | 'i32' | 'f32' | 'f64';
export type WasmArgs = Readonly<Record<string, WasmArg>>;

/** A wasm export and its argument list, in order. Every export also takes `tid: i32, nt: i32` last. */
export interface WasmExport<A extends WasmArgs = WasmArgs> {
  readonly export: string;
  readonly args: A;
  /** The argument names in declaration order (Object.keys(args), read once: kernels are called per op). */
  readonly names: readonly string[];
  /** A query: returns an i32 and runs on the calling thread alone (no tid / nt arguments). */
  readonly query?: true;
}

export const wasmExport = <const A extends WasmArgs>(name: string, args: A): WasmExport<A> => ({ export: name, args, names: Object.keys(args) });

/** A wasm export the glue calls for a number (e.g. scratch bytes), declared and checked like a kernel. */
export const wasmQuery = <const A extends WasmArgs>(name: string, args: A): WasmExport<A> => ({ export: name, args, names: Object.keys(args), query: true });

/** Field types of a WGSL uniform block (`struct P`): scalars only, 4 bytes each, in declaration order. */
export type UniformField = 'u32' | 'i32' | 'f32';
export type Uniforms = Readonly<Record<string, UniformField>>;

/** A `// @kernel NAME` section of wgsl/<op>.wgsl and the layout of its `struct P`. */
export interface WgslKernel<U extends Uniforms = Uniforms> {
  readonly kernel: string;
  readonly uniforms: U;
  /** `{{NAME}}` placeholders the host fills in (compile-time variants). */
  readonly placeholders?: readonly string[];
}

export const wgslKernel = <const U extends Uniforms>(kernel: string, uniforms: U, placeholders?: readonly string[]): WgslKernel<U> =>
  ({ kernel, uniforms, ...(placeholders ? { placeholders } : {}) });

/** A value for every declared name: missing or misspelt names are type errors. */
export type Values<T> = { readonly [K in keyof T]: number };

/** What wasm glue gets from the backend. */
export interface WasmContext {
  ptr(s: Storage): number;
  /** Scratch block in wasm memory; release with scratchFree(ptr, bytes). */
  scratch(bytes: number): number;
  scratchFree(ptr: number, bytes: number): void;
  /** Writes int32 values at a byte offset. */
  writeInts(ptr: number, values: ArrayLike<number>): void;
  /** Calls a declared export with named arguments; `work` (≈ flops or bytes) decides whether threads pay off. */
  call<A extends WasmArgs>(fn: WasmExport<A>, args: Values<A>, work: number): void;
  /** Calls a declared query on the calling thread and returns its result. */
  query<A extends WasmArgs>(fn: WasmExport<A>, args: Values<A>): number;
  readonly threads: number;
}

/** A buffer bound without being a tensor (a small table for one dispatch). */
export interface GpuBinding {
  readonly buffer: GPUBuffer;
  readonly size: number;
}

export interface GpuDispatch<U extends Uniforms> {
  params: Values<U>;
  /** Storage bindings 1, 2, … in order (binding 0 is the uniform block). */
  bindings: readonly (Storage | GpuBinding)[];
  workgroups: number;
}

/** What WebGPU glue gets from the backend. */
/** Backend options some WebGPU kernels read. */
export interface GpuKernelOptions {
  /** 'diagonal' forces the one-dispatch-per-diagonal solve even when the tile fits (tests, benchmarks). */
  solvePath: 'auto' | 'diagonal';
}

export interface GpuContext {
  readonly device: GPUDevice;
  readonly options: GpuKernelOptions;
  /** Encodes the dispatches of one kernel (one pipeline) in order into the open command encoder. */
  dispatch<U extends Uniforms>(k: WgslKernel<U>, dispatches: readonly GpuDispatch<U>[],
    opts?: { subs?: Readonly<Record<string, string>>; label?: string }): void;
  /** A storage buffer holding `data` for the next dispatches, recycled after the next submit. */
  temporary(data: ArrayBufferView): GpuBinding;
}

/** The pipeline sources a kernel may need, so warmup() can compile them before first use. */
export interface GpuVariant {
  kernel: WgslKernel;
  subs?: Readonly<Record<string, string>>;
}

type Supports<A> = (inputs: readonly View[], out: View, attrs: A) => string | null;

export interface KernelDef<A = any> {
  /** Unique kernel name (the backend's kernel table key). */
  readonly name: string;
  /** Plain TypeScript over float64 storage: the oracle. */
  readonly reference: (inputs: readonly View[], out: View, attrs: A) => void;
  readonly wasm?: {
    readonly exports: readonly WasmExport[];
    readonly run: (ctx: WasmContext, inputs: readonly View[], out: View, attrs: A) => void;
    /** Null when the wasm kernel runs these shapes, else why not (the reference then runs it). */
    readonly supports?: Supports<A>;
  };
  readonly webgpu?: {
    readonly kernels: readonly WgslKernel[];
    readonly run: (ctx: GpuContext, inputs: readonly View[], out: View, attrs: A) => void;
    readonly supports?: Supports<A>;
    /** Every shape-independent pipeline variant; default: each kernel without substitutions. */
    readonly variants?: (device: GPUDevice) => readonly GpuVariant[];
  };
  /**
   * Function codes shared with the wasm kernels: the build writes assembly/generated/<op>.ts with
   * one constant per name (its index here) so the two sides cannot drift.
   */
  readonly enums?: Readonly<Record<string, readonly string[]>>;
}

export const defineKernel = <A>(def: KernelDef<A>): KernelDef<A> => def;

/** The code of `name` in one of a kernel's enums (the same number the generated AssemblyScript constant has). */
export function enumCode(def: KernelDef, enumName: string, name: string): number {
  const i = def.enums?.[enumName]?.indexOf(name) ?? -1;
  if (i < 0) throw new Error(`${def.name}: '${name}' is not in enum ${enumName}`);
  return i;
}

/** Packs a uniform block in its declared order (each field 4 bytes, the block padded to 16). */
export function packUniforms<U extends Uniforms>(k: WgslKernel<U>, values: Values<U>): ArrayBuffer {
  const fields = Object.entries(k.uniforms);
  const data = new ArrayBuffer(Math.max(16, Math.ceil(fields.length / 4) * 16));
  const view = new DataView(data);
  fields.forEach(([name, type], i) => {
    const v = (values as Record<string, number>)[name];
    if (v === undefined) throw new Error(`${k.kernel}: no value for uniform ${name}`);
    // Floats travel as bits, so constants reach the shader exactly, infinities included.
    if (type === 'f32') view.setFloat32(i * 4, v, true);
    else if (type === 'i32') view.setInt32(i * 4, v, true);
    else view.setUint32(i * 4, v >>> 0, true);
  });
  return data;
}

/** Orders named wasm arguments as the export declares them. */
export function orderArgs<A extends WasmArgs>(fn: WasmExport<A>, values: Values<A>): number[] {
  const names = fn.names, out = new Array<number>(names.length);
  for (let i = 0; i < names.length; i++) {
    const v = (values as Record<string, number>)[names[i]!];
    if (v === undefined) throw new Error(`${fn.export}: no value for argument ${names[i]}`);
    out[i] = v;
  }
  return out;
}
