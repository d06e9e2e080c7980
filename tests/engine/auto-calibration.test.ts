import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backends/backend.js';
import { createReferenceBackend } from '../../src/backends/reference/index.js';
import { createWasmBackend } from '../../src/backends/wasm/index.js';
import { measuredChoice, type AdapterIdentity } from '../../src/backends/webgpu/calibration.js';
import { defaultCachePath, fileStore, memoryStore, MAX_STORE_BYTES } from '../../src/backends/webgpu/calibration-store.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import { acquireNodeGPU } from '../../bindings/webgpu-node.js';

// 'auto' on a hardware adapter measures WebGPU against wasm (src/backends/webgpu/calibration.ts).
// No GPU is needed: the "GPU" is a stub backend named webgpu that claims a hardware adapter. The slow
// stub waits 60 ms per read-back (one calibration run takes a few ms on wasm); the fast one computes
// nothing at all. The margins are a factor of ten or more either way, so the choice does not hinge on
// this machine's load.

const adapterA: AdapterIdentity = { vendor: 'stubvendor', architecture: 'stub-arch', device: 'stub-1', description: 'stub driver 1.0' };

function stubGPU(kind: 'slow' | 'fast', adapter: AdapterIdentity = adapterA, software = false): Backend {
  const ref = createReferenceBackend();
  const kernels = kind === 'fast' ? Object.fromEntries(Object.keys(ref.kernels).map((k) => [k, () => undefined])) : ref.kernels;
  return {
    ...ref,
    name: 'webgpu',
    kernels,
    readSync: undefined,
    read: async (s) => {
      if (kind === 'slow') await new Promise((r) => setTimeout(r, 60));
      return ref.read(s);
    },
    info: () => ({ name: 'webgpu', details: { adapter: { ...adapter, isFallbackAdapter: software }, software } }),
  };
}

const wasm = () => createWasmBackend({ threads: 1 });
const opts = (store: ReturnType<typeof memoryStore> | null) => ({ threads: 1, store, budgetMs: 150 });
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe("'auto' measures before it chooses", () => {
  it('a WebGPU backend slower than wasm loses to wasm', async () => {
    const store = memoryStore();
    const got = (await measuredChoice(stubGPU('slow'), wasm, opts(store)))!;
    expect(got.backend.name).toBe('wasm');
    expect(got.calibration).toMatchObject({ chosen: 'wasm', cached: false, adapter: adapterA, store: 'memory' });
    expect(got.calibration.webgpuMs).toBeGreaterThan(got.calibration.wasmMs);
    expect(got.rejected.webgpu).toMatch(/slower than wasm/);
    expect(got.why).toMatch(/wasm is faster.*measured now/);
    got.backend.dispose();
  });

  it('a WebGPU backend faster than wasm wins, and the choice is remembered for that adapter', async () => {
    const store = memoryStore();
    const fast = stubGPU('fast');
    const first = (await measuredChoice(fast, wasm, opts(store)))!;
    expect(first.backend).toBe(fast);
    expect(first.calibration).toMatchObject({ chosen: 'webgpu', cached: false });
    expect(first.calibration.webgpuMs).toBeLessThan(first.calibration.wasmMs);
    expect(JSON.parse(store.text!).choices).toBeTypeOf('object');
    // Same adapter, now slow: the remembered result stands (nothing is measured again).
    const again = (await measuredChoice(stubGPU('slow'), wasm, opts(store)))!;
    expect(again.calibration).toMatchObject({ chosen: 'webgpu', cached: true, webgpuMs: first.calibration.webgpuMs });
    expect(again.why).toMatch(/remembered from/);
    first.backend.dispose();
    again.backend.dispose();
  });

  it('a changed adapter (a new driver) is measured again, and each adapter keeps its own result', async () => {
    const store = memoryStore();
    const a = (await measuredChoice(stubGPU('fast'), wasm, opts(store)))!;
    expect(a.calibration.chosen).toBe('webgpu');
    const newDriver = { ...adapterA, description: 'stub driver 2.0' };
    const b = (await measuredChoice(stubGPU('slow', newDriver), wasm, opts(store)))!;
    expect(b.calibration).toMatchObject({ chosen: 'wasm', cached: false, adapter: newDriver });
    const otherDevice = { ...adapterA, device: 'stub-2' };
    const c = (await measuredChoice(stubGPU('slow', otherDevice), wasm, opts(store)))!;
    expect(c.calibration).toMatchObject({ chosen: 'wasm', cached: false });
    const back = (await measuredChoice(stubGPU('slow'), wasm, opts(store)))!;
    expect(back.calibration).toMatchObject({ chosen: 'webgpu', cached: true });
    for (const r of [a, b, c, back]) r.backend.dispose();
  });

  it('a software adapter keeps the old rule (no measurement)', async () => {
    const gpu = stubGPU('slow', adapterA, true);
    expect(await measuredChoice(gpu, wasm, opts(memoryStore()))).toBeNull();
    gpu.dispose();
  });

  it('a damaged, foreign or oversized store is measured over, never trusted', async () => {
    for (const text of ['{not json', JSON.stringify({ version: 1, choices: { x: { chosen: 'gpu' } } }), 'x'.repeat(MAX_STORE_BYTES + 1)]) {
      const store = memoryStore(text);
      const got = (await measuredChoice(stubGPU('fast'), wasm, { ...opts(store), budgetMs: 40 }))!;
      expect(got.calibration.cached).toBe(false);
      expect(JSON.parse(store.text!).version).toBe(1);
      got.backend.dispose();
    }
  });

  it('in Node the result goes to $XDG_CACHE_HOME/inflow/backend-choice.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inflow-cal-'));
    dirs.push(dir);
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = dir;
    try {
      const path = await defaultCachePath();
      expect(path).toBe(join(dir, 'inflow', 'backend-choice.json'));
      const got = (await measuredChoice(stubGPU('fast'), wasm, { threads: 1, store: fileStore(path), budgetMs: 40 }))!;
      expect(got.calibration.store).toBe(path);
      expect(Object.values(JSON.parse(readFileSync(path, 'utf8')).choices)).toHaveLength(1);
      const again = (await measuredChoice(stubGPU('slow'), wasm, { threads: 1, store: fileStore(path) }))!;
      expect(again.calibration.cached).toBe(true);
      got.backend.dispose();
      again.backend.dispose();
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    }
  });

  it('createEngine checks the options and reports no calibration when none ran', async () => {
    await expect(createEngine({ backend: 'wasm', webgpuKernels: 'fast' as never })).rejects.toThrow(/^createEngine: webgpuKernels = "fast" must be 'tiled' or 'simple'$/);
    await expect(createEngine({ backend: 'wasm', backendChoiceStore: 5 as never })).rejects.toThrow(/^createEngine: backendChoiceStore must be null/);
    const e = await createEngine({ backend: 'reference' });
    expect(e.info().calibration).toBeNull();
    e.dispose();
  });

  it('createEngine on an adapter that claims to be hardware measures it (SwiftShader: wasm wins) and says so in info()', async (ctx) => {
    const acquired = await acquireNodeGPU();
    if (!('gpu' in acquired)) return ctx.skip(`no WebGPU adapter: ${acquired.error}`);
    // The real SwiftShader adapter, presenting itself as a hardware GPU to the adapter check.
    const info = { vendor: 'claimed', architecture: 'hardware', device: 'x', description: 'pretend driver', isFallbackAdapter: false };
    const disguise = <T extends object>(real: T, over: Record<string, unknown>): T => new Proxy(real, {
      get(t, k) {
        if (typeof k === 'string' && k in over) return over[k];
        const v = Reflect.get(t, k, t) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    const gpu = disguise(acquired.gpu, { requestAdapter: async () => disguise((await acquired.gpu.requestAdapter())!, { info }) });
    const store = memoryStore();
    const engine = await createEngine({ backend: 'auto', gpu, threads: 1, backendChoiceStore: store });
    const got = engine.info();
    engine.dispose();
    expect(got.calibration).toMatchObject({ chosen: 'wasm', cached: false, adapter: { vendor: 'claimed', description: 'pretend driver' } });
    expect(got.backend).toBe('wasm');
    expect(got.calibration!.webgpuMs).toBeGreaterThan(0);
    expect(got.rejected.webgpu).toMatch(/slower than wasm/);
  });
});
