import type { Backend, BackendName } from '../backends/backend.js';
import { createReferenceBackend } from '../backends/reference/index.js';
import { Engine, type Resolution } from './engine.js';
import { MAX_THREADS, resolveMemoryBudget } from './budget.js';
import { fail } from './errors.js';
import { importNodeOnly } from '../../bindings/node-only.js';
import { checkKernelSet, type WebGPUKernelSet } from '../backends/webgpu/tiled-choice.js';
import type { ChoiceStore } from '../backends/webgpu/calibration-store.js';

export interface EngineOptions {
  /** 'auto' (default) tries webgpu, then wasm, then reference, keeping every reason. */
  backend?: 'auto' | BackendName;
  /** The WebGPU entry point: `create([])` from the `webgpu` package in Node, navigator.gpu in browsers. */
  gpu?: GPU;
  /** Worker threads for wasm (default: all cores; 1 disables threads). */
  threads?: number;
  /** Use a software WebGPU adapter (SwiftShader, llvmpipe) even under 'auto'. Default false: wasm is far faster on a CPU. */
  allowSoftwareGPU?: boolean;
  /** Bytes a model's weights plus one call's activations may take (default 2 GiB; see budget.ts). */
  memoryBudget?: number;
  /**
   * WebGPU matmul / convolution kernels: 'tiled' (workgroup tiles) or 'simple' (one invocation per
   * output). Default: INFLOW_WEBGPU_KERNELS in Node, else simple on software adapters, tiled on hardware.
   */
  webgpuKernels?: WebGPUKernelSet;
  /**
   * Where 'auto' remembers, per adapter, whether WebGPU or wasm measured faster (default: a file in
   * the user's cache folder in Node, localStorage in a page); null measures every time.
   */
  backendChoiceStore?: ChoiceStore | null;
}

const backendNames: readonly BackendName[] = ['webgpu', 'wasm', 'reference'];

/** Creates an engine on the requested backend, or under 'auto' on the best one this machine has. */
export async function createEngine(opts: EngineOptions = {}): Promise<Engine> {
  const requested = opts.backend ?? 'auto';
  if (requested !== 'auto' && !backendNames.includes(requested))
    fail('createEngine', `unknown backend '${String(requested)}' (use auto, webgpu, wasm or reference)`);
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1))
    fail('createEngine', `threads = ${opts.threads} must be a positive integer`);
  if (opts.threads !== undefined && opts.threads > MAX_THREADS)
    fail('createEngine', `threads = ${opts.threads} is more than the ${MAX_THREADS} worker threads inflow starts`);
  const memoryBudget = resolveMemoryBudget(opts.memoryBudget);
  checkKernelSet('createEngine', opts.webgpuKernels);
  const store = opts.backendChoiceStore;
  if (store !== undefined && store !== null && (typeof store !== 'object' || typeof store.read !== 'function' || typeof store.write !== 'function'))
    fail('createEngine', 'backendChoiceStore must be null or an object with read() and write(text)');
  const rejected: Resolution['rejected'] = {};
  const order = requested === 'auto' ? backendNames : [requested];
  for (const name of order) {
    try {
      const made = await makeBackend(name, opts, requested === 'auto');
      if (typeof made === 'string') {
        rejected[name] = made;
        continue;
      }
      if (requested === 'auto' && name === 'webgpu') {
        const measured = await measure(made, opts);
        if (measured) {
          const onGPU = measured.backend === made;
          return new Engine(measured.backend, { chosen: measured.backend.name, why: measured.why, rejected: { ...rejected, ...measured.rejected },
            calibration: measured.calibration }, memoryBudget, onGPU ? () => replacement(opts) : undefined);
        }
      }
      const why = requested === 'auto' ? `auto: first usable of ${order.join(' → ')}` : `requested '${name}'`;
      // Only an 'auto' engine on a GPU moves on when the device is lost; 'webgpu' asked for means webgpu or an error.
      const replaceLost = requested === 'auto' && name === 'webgpu' ? () => replacement(opts) : undefined;
      return new Engine(made, { chosen: name, why, rejected }, memoryBudget, replaceLost);
    } catch (e) {
      rejected[name] = e instanceof Error ? e.message : String(e);
    }
  }
  const reasons = Object.entries(rejected).map(([n, r]) => `${n}: ${r}`).join('; ');
  fail('createEngine', `no backend could be created (${reasons})`);
}

/** On a hardware adapter, 'auto' measures WebGPU against wasm (src/backends/webgpu/calibration.ts); null: WebGPU as before. */
async function measure(webgpu: Backend, opts: EngineOptions) {
  try {
    const { measuredChoice } = await import('../backends/webgpu/calibration.js');
    const { defaultStore } = await import('../backends/webgpu/calibration-store.js');
    const store = opts.backendChoiceStore !== undefined ? opts.backendChoiceStore : await defaultStore().catch(() => null);
    return await measuredChoice(webgpu, () => makeBackend('wasm', opts, true), { ...(opts.threads ? { threads: opts.threads } : {}), store });
  } catch {
    // Measuring is an optimisation: when it cannot run, the GPU backend already made is kept.
    return null;
  }
}

/** The backend an 'auto' engine moves to when its GPU device is lost: wasm, else reference. */
async function replacement(opts: EngineOptions): Promise<Backend> {
  const reasons: string[] = [];
  for (const name of ['wasm', 'reference'] as const) {
    try {
      const made = await makeBackend(name, opts, true);
      if (typeof made !== 'string') return made;
      reasons.push(`${name}: ${made}`);
    } catch (e) {
      reasons.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  fail('createEngine', `no backend could replace the lost GPU device (${reasons.join('; ')})`);
}

/** A backend, or the reason it was passed over. */
async function makeBackend(name: BackendName, opts: EngineOptions, auto: boolean): Promise<Backend | string> {
  switch (name) {
    case 'reference':
      return createReferenceBackend();
    case 'wasm': {
      const { createWasmBackend } = await import('../backends/wasm/index.js');
      return createWasmBackend(opts.threads === undefined ? {} : { threads: opts.threads });
    }
    case 'webgpu': {
      const found = await findGPU(opts.gpu, auto && !opts.allowSoftwareGPU);
      if (typeof found === 'string') return found;
      if (found.software && auto && !opts.allowSoftwareGPU)
        return `only a software adapter (${found.description}) is available: wasm is much faster on a CPU`;
      const { createWebGPUBackend } = await import('../backends/webgpu/index.js');
      return createWebGPUBackend({ gpu: found.gpu, adapter: found.adapter, webgpuKernels: opts.webgpuKernels });
    }
  }
}

interface FoundGPU {
  gpu: GPU;
  adapter: GPUAdapter;
  software: boolean;
  description: string;
}

/** An injected GPU, else Node's `webgpu` package, else navigator.gpu — read only now, never at import. */
async function findGPU(injected: GPU | undefined, hardwareOnly: boolean): Promise<FoundGPU | string> {
  let gpu = injected;
  if (!gpu) {
    if (typeof process !== 'undefined' && process.versions?.node) {
      const { acquireNodeGPU } = await importNodeOnly<typeof import('../../bindings/webgpu-node.js')>('./webgpu-node.js');
      const got = await acquireNodeGPU({ hardwareOnly });
      if ('error' in got) return got.error;
      return { gpu: got.gpu, adapter: got.adapter, software: got.software, description: describe(got.adapter) };
    }
    gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (!gpu) return 'this browser has no navigator.gpu (WebGPU not available or not enabled)';
  }
  const adapter = await gpu.requestAdapter();
  if (!adapter) return 'requestAdapter() returned null: no WebGPU adapter';
  return { gpu, adapter, software: isSoftwareAdapter(adapter), description: describe(adapter) };
}

export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`.toLowerCase();
  return !!info.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|software/.test(text);
}

const describe = (a: GPUAdapter): string =>
  [a.info.vendor, a.info.architecture, a.info.description].filter(Boolean).join(' ') || 'unknown adapter';
