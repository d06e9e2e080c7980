import type { AnyKernel, Backend, KernelTable, Storage, View } from '../backend.js';
import { opKernels, opWasmExports } from '../../../bindings/generated/ops.js';
import { orderArgs, type WasmContext } from '../../engine/kernel.js';
import { compileWasm, simdSupported, threadsUnavailableReason } from '../../../bindings/wasm-loader.js';
import { importNodeOnly } from '../../../bindings/node-only.js';
import { LinearAllocator } from './allocator.js';
import { CTL_BYTES, KernelRunner, startWorkers } from './pool.js';

class WasmStorage implements Storage {
  freed = false;
  constructor(readonly numel: number, readonly ptr: number) {}
}

/** Shared memory ceiling for the threaded module, in 64 KiB pages (2 GiB; matches asconfig.json). */
const THREADS_MAX_PAGES = 32768;
/** Largest byte offset a kernel can address: wasm32 pointers, kept below the threaded ceiling. */
const MAX_BYTES = THREADS_MAX_PAGES * 65536 - (1 << 20);

async function defaultThreads(): Promise<number> {
  if (typeof process === 'object' && process.versions?.node) {
    const os = await importNodeOnly<typeof import('node:os')>('node:os');
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  }
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}

/**
 * The AssemblyScript SIMD backend. With threads > 1 and SharedArrayBuffer it runs the threaded
 * module on a shared memory with threads − 1 workers; otherwise the single-thread module, and
 * info() says why.
 */
export async function createWasmBackend(opts: { threads?: number } = {}): Promise<Backend> {
  if (!simdSupported()) throw new Error('wasm backend needs WebAssembly SIMD (simd128), which this engine lacks');
  const requested = Math.max(1, Math.floor(opts.threads ?? (await defaultThreads())));
  let whySingle: string | null = requested === 1 ? 'threads = 1 requested' : threadsUnavailableReason();

  let memory: WebAssembly.Memory;
  let exports: WebAssembly.Exports;
  let runner: KernelRunner;
  let allocator: LinearAllocator;
  let threads = 1;
  if (!whySingle) {
    try {
      const module = await compileWasm('threads');
      memory = new WebAssembly.Memory({ initial: 64, maximum: THREADS_MAX_PAGES, shared: true });
      exports = (await WebAssembly.instantiate(module, { env: { memory } })).exports;
      allocator = new LinearAllocator(memory, (exports.heapBase as () => number)());
      const ctlPtr = allocator.alloc(CTL_BYTES);
      new Uint8Array(memory.buffer, ctlPtr, CTL_BYTES).fill(0);
      const workers = await startWorkers(module, memory, opWasmExports, ctlPtr, requested);
      runner = new KernelRunner(exports, opWasmExports, requested, workers, ctlPtr, memory);
      threads = requested;
    } catch (e) {
      whySingle = `starting ${requested} threads failed: ${(e as Error).message}`;
    }
  }
  if (whySingle) {
    const module = await compileWasm('single');
    exports = (await WebAssembly.instantiate(module, {})).exports;
    memory = exports.memory as WebAssembly.Memory;
    allocator = new LinearAllocator(memory, (exports.heapBase as () => number)());
    runner = new KernelRunner(exports, opWasmExports, 1);
  }
  const mem = memory!, alloc = allocator!, run = runner!;

  const live = new Set<WasmStorage>();
  let liveBytes = 0;
  const ptrOf = (s: Storage): number => {
    const w = s as WasmStorage;
    if (w.freed) throw new Error('wasm backend: use of a freed buffer');
    return w.ptr;
  };
  // Views are always made from memory.buffer at the moment of use: growth detaches (or, when shared, truncates) older ones.
  const f32 = (s: WasmStorage): Float32Array => new Float32Array(mem.buffer, s.ptr, s.numel);

  const opCtx: WasmContext = {
    ptr: ptrOf,
    scratch: (bytes) => alloc.alloc(bytes),
    scratchFree: (ptr, bytes) => alloc.free(ptr, bytes),
    writeInts: (ptr, values) => new Int32Array(mem.buffer, ptr, values.length).set(values),
    call: (fn, args, work) => run.run(fn.export, orderArgs(fn, args), work),
    query: (fn, args) => run.query(fn.export, orderArgs(fn, args)),
    threads,
  };
  const kernels: KernelTable = Object.fromEntries(opKernels.flatMap((k): Array<[string, AnyKernel]> => {
    const w = k.wasm;
    return w ? [[k.name, (i, o, a) => w.run(opCtx, i, o, a)]] : [];
  }));
  const opByName = new Map(opKernels.map((k) => [k.name, k]));

  return {
    name: 'wasm',
    kernels,
    supports(op: string, inputs: readonly View[], output: View, attrs: unknown): string | null {
      const def = opByName.get(op);
      if (def && !def.wasm) return `${op} has no wasm kernel yet`;
      const biggest = Math.max(output.storage.numel, ...inputs.map((v) => v.storage.numel));
      if (biggest * 4 > MAX_BYTES) return `${op}: a buffer of ${biggest} floats exceeds wasm32 memory`;
      return def?.wasm?.supports?.(inputs, output, attrs) ?? null;
    },
    alloc(numel) {
      if (numel * 4 > MAX_BYTES) throw new Error(`wasm backend: ${numel} floats exceed wasm32 memory`);
      const s = new WasmStorage(numel, alloc.alloc(numel * 4));
      live.add(s);
      liveBytes += numel * 4;
      return s;
    },
    free(s) {
      const w = s as WasmStorage;
      if (w.freed) return;
      w.freed = true;
      live.delete(w);
      liveBytes -= w.numel * 4;
      alloc.free(w.ptr, w.numel * 4);
    },
    write(s, data) {
      ptrOf(s);
      f32(s as WasmStorage).set(data);
    },
    read: async (s) => {
      ptrOf(s);
      return f32(s as WasmStorage).slice();
    },
    readSync(s) {
      ptrOf(s);
      return f32(s as WasmStorage).slice();
    },
    readInto(s, into) {
      const w = s as WasmStorage;
      ptrOf(w);
      into.set(new Float32Array(mem.buffer, w.ptr, into.length));
    },
    memory: () => ({ buffers: live.size, bytes: liveBytes }),
    info: () => ({
      name: 'wasm',
      details: {
        simd: true,
        threads,
        sharedMemory: threads > 1,
        ...(whySingle ? { singleThreadReason: whySingle } : {}),
        memoryBytes: mem.buffer.byteLength,
      },
    }),
    flush() {},
    dispose() {
      run.dispose();
      live.clear();
      liveBytes = 0;
    },
  };
}
