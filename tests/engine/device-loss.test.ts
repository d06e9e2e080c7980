/**
 * A lost WebGPU device (driver reset, unplugged GPU; here device.destroy() on SwiftShader) must give
 * one-line InflowErrors with a hint, never a plain Error, a hang or an unhandled rejection; an 'auto'
 * engine moves to wasm for new work, a 'webgpu' engine does not (src/engine/fallback.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { acquireNodeGPU } from '../../bindings/webgpu-node.js';
import { createWebGPUBackend, type WebGPUBackend } from '../../src/backends/webgpu/index.js';
import { Runtime } from '../../src/backends/webgpu/runtime.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { InflowError } from '../../src/engine/errors.js';
import { add, exp } from '../../src/ops/index.js';
import * as models from '../../src/models/index.js';

const acquired = await acquireNodeGPU();
const skipReason = 'error' in acquired
  ? `device-loss suite skipped: ${acquired.error} (install chromium and libvulkan1 for SwiftShader; INFLOW_REQUIRE_WEBGPU=1 makes this an error)`
  : null;
if (skipReason) {
  if (process.env.INFLOW_REQUIRE_WEBGPU === '1') throw new Error(skipReason);
  console.warn(skipReason);
}

const LOST = /^webgpu: GPU device lost \(destroyed: [^)]+\); tensors on it are gone — create a new engine \(an 'auto' engine moves to wasm/;

/** The one-line InflowError a call gave, for matching its message. */
async function failure(f: () => unknown): Promise<InflowError> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(InflowError);
    expect((e as Error).message).not.toMatch(/\n/);
    return e as InflowError;
  }
  throw new Error('expected a failure');
}

const device = (e: Engine): GPUDevice => (e.backend as WebGPUBackend).device;

describe.skipIf(!!skipReason)('WebGPU device loss', () => {
  const engines: Engine[] = [];
  afterEach(() => {
    for (const e of engines.splice(0)) e.dispose();
  });
  async function engine(backend: 'auto' | 'webgpu'): Promise<Engine> {
    // allowSoftwareGPU: 'auto' would otherwise prefer wasm over SwiftShader.
    const e = await createEngine({ backend, allowSoftwareGPU: true, threads: 1 });
    engines.push(e);
    expect(e.name).toBe('webgpu');
    return e;
  }

  it("'webgpu' engine: a pending read rejects naming the loss, then every call fails the same way (no switch)", async () => {
    const e = await engine('webgpu');
    const x = e.tensor([0, 1, 2, 3]);
    const pending = exp(x).data();
    device(e).destroy();
    expect((await failure(() => pending)).message).toMatch(LOST);

    expect((await failure(() => exp(x))).message).toMatch(LOST);
    expect((await failure(() => e.tensor([1, 2]))).message).toMatch(LOST);
    expect((await failure(() => x.data())).message).toMatch(LOST);
    expect((await failure(() => e.flush())).message).toMatch(LOST);
    expect(e.name).toBe('webgpu');
    const info = e.info();
    expect(info.deviceLoss).toMatchObject({ backend: 'webgpu', reason: expect.stringMatching(/^destroyed/), switchedTo: null });
    expect(info.deviceLoss!.action).toMatch(/'webgpu' was requested explicitly/);
    expect(info.why).toMatch(/requested 'webgpu'; then the webgpu device was lost \(destroyed/);
    await e.ready(); // no switch in progress: settles at once
    x.dispose();
  });

  it("'auto' engine: the pending read rejects, then new tensors and ops run on wasm; old tensors fail clearly", async () => {
    const e = await engine('auto');
    const x = e.tensor([0, 1, 2, 3]);
    const y = exp(x);
    const pending = y.data();
    device(e).destroy();
    expect((await failure(() => pending)).message).toMatch(LOST);

    // By the time the read rejected, the engine had switched: the very next call works.
    expect(e.name).toBe('wasm');
    const z = e.scope(() => add(exp(e.tensor([0, 1, 2, 3])), 1));
    expect(Array.from(await z.data())).toEqual(Array.from(Float32Array.from([0, 1, 2, 3], (v) => Math.exp(v) + 1)));
    const info = e.info();
    expect(info.backend).toBe('wasm');
    expect(info.why).toMatch(/^auto: .*; then the webgpu device was lost \(destroyed: .*\): switched to wasm/);
    expect(info.deviceLoss).toMatchObject({ backend: 'webgpu', reason: expect.stringMatching(/^destroyed/), switchedTo: 'wasm' });
    expect(e.memory().backend).toBe('wasm');

    // Tensors of the lost device: using one in an op, or reading one, is an error that says why.
    expect((await failure(() => add(x, z))).message)
      .toMatch(/^binary: Tensor#\d+\[4\]@webgpu lived on the webgpu device, which was lost \(destroyed: .*\); its values are gone — recreate it on this engine \(now wasm\)/);
    expect((await failure(() => y.data())).message).toMatch(LOST);
    for (const t of [x, y, z]) t.dispose();
    expect(e.memory().tensors).toBe(0);
  });

  it("'auto' engine: a call made while wasm is still starting says to await engine.ready()", async () => {
    const e = await engine('auto');
    const old = e.tensor([1, 2, 3]);
    device(e).destroy();
    await device(e).lost;
    expect((await failure(() => e.tensor([1]))).message)
      .toMatch(/^tensor: the webgpu device was lost \(destroyed: .*\); this 'auto' engine is switching to wasm: await engine\.ready\(\), then retry$/);
    await e.ready();
    expect(e.name).toBe('wasm');
    expect(Array.from(await exp(e.tensor([0])).data())).toEqual([1]);
    expect((await failure(() => exp(old))).message).toMatch(/^unary: Tensor#\d+\[3\]@webgpu lived on the webgpu device/);
  });

  it('a model whose parameters were on the lost device fails at once, with the reason', async () => {
    const e = await engine('auto');
    const flow = models.fincFlow({ inputShape: [1, 8, 8], levels: 2, steps: 2, width: 8 }, { engine: e, seed: 0 });
    await flow.prepare();
    device(e).destroy();
    await device(e).lost;
    await e.ready();
    expect(e.name).toBe('wasm');
    const batch = e.tensor(Float32Array.from({ length: 2 * 64 }, (_, i) => (i * 37) % 256), [2, 1, 8, 8]);
    expect((await failure(() => flow.bitsPerDim(batch))).message).toMatch(/@webgpu lived on the webgpu device, which was lost \(destroyed/);
    expect((await failure(() => flow.sample(2, { seed: 1 }))).message)
      .toMatch(/^conv2d: Tensor#\d+\[8, 4, 3, 3\]@webgpu lived on the webgpu device, .*; a model must be loaded again$/);
    flow.dispose();
    // The same model made again lives on wasm and works.
    const again = models.fincFlow({ inputShape: [1, 8, 8], levels: 2, steps: 2, width: 8 }, { engine: e, seed: 0 });
    const bpd = await e.scope(() => again.bitsPerDim(batch)).data();
    expect(bpd.length).toBe(2);
    expect(bpd.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    again.dispose();
    batch.dispose();
  });

  it('an uncaptured GPU error surfaces at the next read as a one-line InflowError', async () => {
    const e = await engine('webgpu');
    const x = e.tensor([1, 2]);
    // MAP_READ | STORAGE is invalid: Dawn reports it asynchronously, with " - While calling …" on a second line.
    device(e).createBuffer({ size: 4, usage: 0x1 | 0x80 });
    expect((await failure(() => x.data())).message).toMatch(/^webgpu: the device reported a WebGPU error: .*BufferUsage/);
    x.dispose();
  });

  it('a device already lost, or an adapter already used, is refused when the engine is created', async () => {
    const gpu = 'gpu' in acquired ? acquired.gpu : null;
    const adapter = (await gpu!.requestAdapter())!;
    const dead = await adapter.requestDevice();
    dead.destroy();
    expect((await failure(() => createWebGPUBackend({ device: dead }))).message)
      .toMatch(/^createWebGPUBackend: the device is already lost \(destroyed: .*\); request a new adapter and device$/);

    // The adapter made a device already: Dawn refuses a second one (a multi-line message, made one line).
    const usedUp = { requestAdapter: async () => adapter } as unknown as GPU;
    expect((await failure(() => createEngine({ backend: 'webgpu', gpu: usedUp }))).message)
      .toMatch(/^createEngine: no backend could be created \(webgpu: createWebGPUBackend: requestDevice\(\) failed: .*consumed.*request a new one\)\)$/);
    const e = await createEngine({ gpu: usedUp, allowSoftwareGPU: true, threads: 1 });
    engines.push(e);
    expect(e.name).toBe('wasm');
    expect(e.info().rejected.webgpu).toMatch(/requestDevice\(\) failed/);
  });
});

// No adapter needed: a device whose mapAsync never settles (a hung driver) must not hang a read once it is lost.
describe('a read pending when the device is lost', () => {
  it('rejects with the loss, even if the mapping never settles', async () => {
    let lose!: (info: { reason: string; message: string }) => void;
    const lost = new Promise<{ reason: string; message: string }>((resolve) => { lose = resolve; });
    const buffer = (size: number) => ({ size, destroy() {}, mapAsync: () => new Promise(() => {}), unmap() {} });
    const fake = {
      lost, limits: {}, addEventListener() {},
      createBuffer: ({ size }: { size: number }) => buffer(size),
      createCommandEncoder: () => ({ copyBufferToBuffer() {}, finish: () => ({}) }),
      queue: { submit() {}, writeBuffer() {} },
      destroy() {},
    } as unknown as GPUDevice;
    const rt = new Runtime(fake);
    const pending = rt.read(rt.alloc(4));
    lose({ reason: 'unknown', message: 'the driver stopped\nresponding' });
    const err = await failure(() => pending);
    expect(err.message).toMatch(/^webgpu: GPU device lost \(unknown: the driver stopped responding\); tensors on it are gone/);
  });
});
