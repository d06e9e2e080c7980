import type { AnyKernel, Backend, KernelTable, Storage, View } from '../backend.js';
import { opKernels } from '../../../bindings/generated/ops.js';
import { packUniforms, type GpuContext, type GpuKernelOptions, type GpuVariant } from '../../engine/kernel.js';
import { acquireDevice, adapterFacts } from './device.js';
import { Runtime, WebGPUStorage, type Binding } from './runtime.js';
import { fail } from '../../engine/errors.js';
import { shader } from './shaders.js';
import { supports } from './supports.js';
import { isSoftwareAdapter } from '../../../bindings/webgpu-browser.js';
import { resolveKernelSet, type WebGPUKernelSet } from './tiled-choice.js';
import { tileConfigs, tiledKernels, tiledVariants } from './tiled.js';

export interface WebGPUBackendOptions {
  gpu?: GPU;
  adapter?: GPUAdapter;
  device?: GPUDevice;
  /** 'diagonal' forces the one-dispatch-per-diagonal solve even when the tile fits (tests, benchmarks). */
  solvePath?: GpuKernelOptions['solvePath'];
  /** matmul and convolution kernels: default simple on a software adapter, tiled on a hardware one (tiled-choice.ts). */
  webgpuKernels?: WebGPUKernelSet;
}

export interface WebGPUBackend extends Backend {
  readonly device: GPUDevice;
  /** Compiles, asynchronously, every shape-independent pipeline variant of these kernels (all by default). */
  warmup(kernels?: readonly string[]): Promise<void>;
}

const opByName = new Map(opKernels.map((k) => [k.name, k]));

/** Every pipeline source a kernel can use, as far as it does not depend on shapes. */
function variants(op: string, device: GPUDevice, tiled: boolean): string[] {
  const g = opByName.get(op)?.webgpu;
  if (!g) fail('warmup', `no WebGPU kernel named '${op}'`);
  const list: readonly GpuVariant[] = (tiled ? tiledVariants(op, device.limits) : null) ??
    g.variants?.(device) ?? g.kernels.map((kernel) => ({ kernel }));
  return list.map((v) => shader(v.kernel.kernel, v.subs));
}

const kernelNames: readonly string[] = opKernels.filter((k) => k.webgpu).map((k) => k.name);

/**
 * The WebGPU backend: WGSL kernels from wgsl/, one command encoder batching many dispatches, a
 * size-bucketed buffer pool. Throws, naming the reason, when no adapter or device can be had.
 *
 * Device loss (driver reset, device.destroy(), a lost adapter) is final for this backend: every later
 * call, and every read still pending, fails with one InflowError naming the reason (runtime.ts). The
 * engine decides what happens next (src/engine/fallback.ts): an 'auto' engine moves to wasm.
 */
export async function createWebGPUBackend(opts: WebGPUBackendOptions): Promise<WebGPUBackend> {
  const { adapter, device } = await acquireDevice(opts);
  const rt = new Runtime(device);
  const software = adapter ? isSoftwareAdapter(adapter) : false;
  // A device passed in without its adapter still names the adapter (device.adapterInfo) where the host supports it.
  const info = adapter?.info ?? (device as Partial<GPUDevice>).adapterInfo;
  const kernelSet = resolveKernelSet(opts.webgpuKernels, info ? isSoftwareAdapter({ info } as GPUAdapter) : null);
  const solvePath = opts.solvePath ?? 'auto';
  const live = new Set<WebGPUStorage>();

  const ctx: GpuContext = {
    device,
    options: { solvePath },
    dispatch(k, dispatches, opts) {
      rt.run(shader(k.kernel, opts?.subs), opts?.label ?? k.kernel, dispatches.map((d) => ({
        params: packUniforms(k, d.params),
        bindings: d.bindings as readonly (WebGPUStorage | Binding)[],
        workgroups: d.workgroups,
      })));
    },
    temporary: (data) => rt.temporary(data),
  };
  const all: Record<string, AnyKernel> = {};
  for (const k of opKernels) {
    const g = k.webgpu;
    if (g) all[k.name] = (i, o, a) => g.run(ctx, i, o, a);
  }
  if (kernelSet.set === 'tiled') for (const [name, run] of Object.entries(tiledKernels(device.limits))) all[name] = (i, o, a) => run(ctx, i, o, a);
  // Every kernel first refuses to run on a lost or disposed device, with the reason.
  const kernels = Object.fromEntries(Object.entries(all).map(([name, fn]) => [name,
    (i: readonly View[], o: View, a: unknown) => { rt.check(); fn(i, o, a); }],
  )) as KernelTable;

  return {
    name: 'webgpu',
    device,
    kernels,
    supports(op, inputs, output, attrs) {
      const def = opByName.get(op);
      if (def && !def.webgpu) return `${op} has no WebGPU kernel yet`;
      return supports(device, inputs, output) ?? def?.webgpu?.supports?.(inputs, output, attrs) ?? null;
    },
    alloc(numel) {
      const bytes = numel * 4;
      if (bytes > device.limits.maxBufferSize) {
        fail('webgpu', `a ${bytes}-byte tensor exceeds this device's maxBufferSize (${device.limits.maxBufferSize})`);
      }
      const s = rt.alloc(numel);
      live.add(s);
      return s;
    },
    free(s: Storage) {
      const g = s as WebGPUStorage;
      live.delete(g);
      rt.free(g);
    },
    write(s, data) {
      rt.write(s as WebGPUStorage, data instanceof Float32Array ? data : Float32Array.from(data));
    },
    read: (s) => rt.read(s as WebGPUStorage),
    memory() {
      let bytes = 0;
      for (const s of live) bytes += s.numel * 4;
      return { buffers: live.size, bytes };
    },
    info() {
      const l = device.limits;
      return {
        name: 'webgpu',
        details: {
          adapter: adapterFacts(adapter),
          software,
          lost: rt.lostReason,
          pendingErrors: [...rt.pendingErrors()],
          limits: {
            maxStorageBufferBindingSize: l.maxStorageBufferBindingSize, maxBufferSize: l.maxBufferSize,
            maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
          },
          pipelines: rt.pipelineCount,
          submits: rt.submits,
          dispatches: { ...rt.dispatchCounts },
          pooledBytes: rt.storagePool.pooledBytes,
          solvePath,
          kernels: kernelSet.set,
          kernelsWhy: kernelSet.why,
          ...(kernelSet.set === 'tiled' ? { tiles: tileConfigs(device.limits) } : {}),
        },
      };
    },
    flush() {
      rt.check();
      rt.submit();
    },
    async warmup(names = kernelNames) {
      rt.check();
      const sources = new Map<string, string>();
      for (const op of names) for (const src of variants(op, device, kernelSet.set === 'tiled')) sources.set(src, op);
      await Promise.race([Promise.all([...sources].map(([src, op]) => rt.compile(src, op))), rt.lost]);
      rt.check();
      rt.throwRecordedErrors();
    },
    onLost: (handler) => rt.onLost(handler),
    dispose() {
      live.clear();
      rt.dispose();
    },
  };
}
