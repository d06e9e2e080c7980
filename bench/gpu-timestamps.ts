// GPU-side time of inflow's tiled kernels from WebGPU timestamp queries, where the adapter offers
// 'timestamp-query'. Wall-clock times (bench/gpu.ts) include the submit, the read-back and the host's
// work; the sum of the compute passes' timestamps is what the kernels themselves took. The engine
// has no hook for timestamps, so this gives it a device that adds timestampWrites to each compute
// pass (a bench-only wrapper; the backend is not changed).
import { acquireNodeGPU } from '../bindings/webgpu-node.js';
import { createWebGPUBackend } from '../src/backends/webgpu/index.js';
import { Engine } from '../src/engine/engine.js';
import { conv2d, matmul, type Tensor } from '../src/index.js';
import type { Deadline } from './lib/deadline.js';
import { uniform } from './lib/random.js';
import { round3 } from './lib/timing.js';

/** Compute passes timed per call; later ones are counted but not timed. */
const MAX_PASSES = 1024;

interface Probe { what: string; flops: number; make: (e: Engine) => { inputs: Tensor[]; f: () => Tensor } }

const probes = (smoke: boolean): Probe[] => {
  const n = smoke ? 64 : 2048;
  const [N, C, H] = smoke ? [2, 8, 8] : [16, 128, 32];
  return [
    { what: `matmul ${n}×${n}·${n}×${n} [tiled]`, flops: 2 * n ** 3,
      make: (e) => { const a = e.tensor(uniform(n * n, 1), [n, n]).keep(), b = e.tensor(uniform(n * n, 2, 0.05), [n, n]).keep(); return { inputs: [a, b], f: () => matmul(a, b) }; } },
    { what: `conv 3×3 ${C}→${C} @${H}×${H} batch ${N} [tiled]`, flops: 2 * N * H * H * C * C * 9,
      make: (e) => {
        const x = e.tensor(uniform(N * C * H * H, 3), [N, C, H, H]).keep(), w = e.tensor(uniform(C * C * 9, 4, 0.05), [C, C, 3, 3]).keep();
        return { inputs: [x, w], f: () => conv2d(x, w, { pad: 'same' }) };
      } },
  ];
};

/** A method-bound view of a native object with some methods replaced (Dawn's objects need their own `this`). */
function wrap<T extends object>(target: T, over: Partial<Record<keyof T, unknown>>): T {
  return new Proxy(target, {
    get(t, k) {
      if (k in over) return over[k as keyof T];
      const v = Reflect.get(t, k, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

export async function gpuTimestamps(deadline: Deadline, smoke = false): Promise<Record<string, unknown>> {
  const acquired = await acquireNodeGPU();
  if ('error' in acquired) return { available: false, why: acquired.error };
  const adapter = await acquired.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { available: false, why: 'requestAdapter() returned null' };
  if (!adapter.features.has('timestamp-query')) return { available: false, why: "the adapter does not offer 'timestamp-query'" };
  const requiredLimits: Record<string, number> = {};
  for (const name of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize'] as const) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredFeatures: ['timestamp-query'], requiredLimits, label: 'inflow timestamps' });
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 * MAX_PASSES });
  const resolved = device.createBuffer({ size: 16 * MAX_PASSES, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const readable = device.createBuffer({ size: 16 * MAX_PASSES, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  let passes = 0;
  const timed = wrap(device, {
    createCommandEncoder: (d?: GPUCommandEncoderDescriptor) => {
      const enc = device.createCommandEncoder(d);
      return wrap(enc, {
        beginComputePass: (p: GPUComputePassDescriptor = {}) => {
          const i = passes++;
          return enc.beginComputePass(i < MAX_PASSES ? { ...p, timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } } : p);
        },
      });
    },
  });
  /** Sum over the timed passes of end − begin, in ms (a pass whose stamps are out of order counts 0). */
  const gpuMs = async (): Promise<number> => {
    const n = Math.min(passes, MAX_PASSES);
    const enc = device.createCommandEncoder();
    enc.resolveQuerySet(querySet, 0, 2 * n, resolved, 0);
    enc.copyBufferToBuffer(resolved, 0, readable, 0, 16 * n);
    device.queue.submit([enc.finish()]);
    await readable.mapAsync(GPUMapMode.READ, 0, 16 * n);
    const t = new BigUint64Array(readable.getMappedRange(0, 16 * n).slice(0));
    readable.unmap();
    let ns = 0;
    for (let i = 0; i < n; i++) { const d = Number(t[2 * i + 1]! - t[2 * i]!); if (d > 0) ns += d; }
    return ns / 1e6;
  };
  const engine = new Engine(await createWebGPUBackend({ device: timed, adapter, webgpuKernels: 'tiled' }), { chosen: 'webgpu', why: 'timestamp probe', rejected: {} });
  const rows = [];
  try {
    for (const p of probes(smoke)) {
      if (deadline.passed()) break;
      const { inputs, f } = p.make(engine);
      const call = async () => { const y = engine.scope(f); await y.data(); y.dispose(); };
      await call(); // compiles the pipelines
      passes = 0;
      const t0 = performance.now();
      await call();
      const wallMs = performance.now() - t0, counted = passes, ms = await gpuMs();
      rows.push({ what: p.what, passes: counted, timedPasses: Math.min(counted, MAX_PASSES), gpuMs: round3(ms), wallMs: round3(wallMs),
        gpuGflops: ms > 0 ? round3(p.flops / ms / 1e6) : null });
      for (const t of inputs) t.dispose();
    }
  } finally {
    querySet.destroy();
    resolved.destroy();
    readable.destroy();
    engine.dispose();
  }
  return { available: true, rows };
}
