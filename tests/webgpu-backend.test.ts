/**
 * Parity of every WebGPU kernel with the float64 reference, plus the backend's own machinery
 * (buffer pool hazards, memory accounting, device loss, error reporting). Small shapes: SwiftShader
 * runs at a fraction of a GFLOP/s.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backends/backend.js';
import { createReferenceBackend } from '../src/backends/reference/index.js';
import { createWebGPUBackend, type WebGPUBackend } from '../src/backends/webgpu/index.js';
import { acquireNodeGPU } from '../bindings/webgpu-node.js';
import { runKernel, type HostTensor } from './helpers/kernels.js';
import { numel, randomArray } from './helpers/random.js';
import { tolerance, worstMismatch } from './helpers/tolerance.js';
import type { SolveAttrs } from '../src/ops/solve.js';

const acquired = await acquireNodeGPU();
const skipReason = 'error' in acquired
  ? `WebGPU backend suite skipped: ${acquired.error} (install chromium and libvulkan1 for SwiftShader; INFLOW_REQUIRE_WEBGPU=1 makes this an error)`
  : null;
if (skipReason) {
  if (process.env.INFLOW_REQUIRE_WEBGPU === '1') throw new Error(skipReason);
  console.warn(skipReason);
}
const gpu = 'gpu' in acquired ? acquired.gpu : null;

const ref = createReferenceBackend();
let seed = 1;
const tensor = (shape: readonly number[], lo = -1, hi = 1): HostTensor => ({ shape, data: randomArray(numel(shape), seed++, lo, hi) });

const backends: WebGPUBackend[] = [];
async function make(opts: Omit<Parameters<typeof createWebGPUBackend>[0], 'gpu'> = {}): Promise<WebGPUBackend> {
  const b = await createWebGPUBackend({ gpu: gpu!, ...opts });
  backends.push(b);
  return b;
}
/** The default backend, and one forced onto the per-diagonal solve. */
const wg = gpu ? await make() : (null as unknown as WebGPUBackend);
const diagonal = gpu ? await make({ solvePath: 'diagonal' }) : (null as unknown as WebGPUBackend);

describe.skipIf(!gpu)('webgpu backend', () => {
  afterAll(() => { for (const b of backends) b.dispose(); });

  async function parity(op: string, inputs: readonly HostTensor[], outShape: readonly number[],
    attrs: unknown, backend: Backend = wg): Promise<void> {
    const want = await runKernel(ref, op, inputs, outShape, attrs);
    const got = await runKernel(backend, op, inputs, outShape, attrs);
    const bad = worstMismatch(got, want, tolerance.webgpu);
    expect(bad, `${op} ${JSON.stringify(attrs)} worst mismatch`).toBeNull();
    expect(backend.memory()).toEqual({ buffers: 0, bytes: 0 });
  }

  // conv2d and its adjoints: tests/ops/conv2d.cases.ts.

  describe('solve', () => {
    const dispatches = (b: WebGPUBackend, label: string) =>
      ((b.info().details.dispatches as Record<string, number>)[label] ?? 0);
    /** K with a well-conditioned diagonal; the ignored upper centre entries hold garbage on purpose. */
    function kernel(C: number, Cg: number, k: number): HostTensor {
      const K = tensor([C, Cg, k, k], -0.3 / k, 0.3 / k);
      for (let c = 0; c < C; c++) K.data[((c * Cg + (c % Cg)) * k + k - 1) * k + k - 1] = 1 + 0.5 * ((c * 7) % 5) / 5;
      return K;
    }
    const cases: Array<{ shape: number[]; k: number; groups: number; flips: number[] }> = [
      { shape: [2, 6, 5, 7], k: 3, groups: 2, flips: [1, 2] },
      { shape: [1, 4, 6, 4], k: 2, groups: 4, flips: [0, 1, 2, 3] },
      { shape: [3, 3, 4, 5], k: 1, groups: 1, flips: [3] },
      { shape: [2, 5, 3, 8], k: 4, groups: 1, flips: [2] },
      { shape: [300, 2, 3, 4], k: 2, groups: 1, flips: [0] }, // more images than invocations of a workgroup
    ];
    for (const op of ['solve', 'solveTranspose'] as const) {
      for (const c of cases) {
        for (const unitDiag of [true, false]) {
          it(`${op} ${c.shape} k ${c.k} groups ${c.groups} unitDiag ${unitDiag}: tile and per-diagonal paths`, async () => {
            const y = tensor(c.shape);
            const K = kernel(c.shape[1]!, c.shape[1]! / c.groups, c.k);
            const before = { tile: dispatches(wg, `${op} tile`), diagonal: dispatches(diagonal, `${op} per diagonal`) };
            for (const algorithm of ['wavefront', 'raster'] as const) {
              const attrs: SolveAttrs = { groups: c.groups, unitDiag, flips: c.flips, algorithm };
              await parity(op, [y, K], c.shape, attrs);
              await parity(op, [y, K], c.shape, attrs, diagonal);
            }
            // One dispatch per solve on the tile path, one per anti-diagonal (not per channel) otherwise.
            const [, , H, W] = c.shape as [number, number, number, number];
            expect(dispatches(wg, `${op} tile`) - before.tile).toBe(2);
            expect(dispatches(diagonal, `${op} per diagonal`) - before.diagonal).toBe(2 * (H + W - 1));
          });
        }
      }
      it(`${op} on an image whose tile exceeds workgroup memory (auto falls back per diagonal)`, async () => {
        const shape = [1, 3, 61, 47];
        expect(3 * 61 * 47 * 4).toBeGreaterThan(wg.device.limits.maxComputeWorkgroupStorageSize);
        const attrs: SolveAttrs = { groups: 1, unitDiag: false, flips: [3], algorithm: 'wavefront' };
        const before = dispatches(wg, `${op} per diagonal`);
        await parity(op, [tensor(shape), kernel(3, 3, 2)], shape, attrs);
        expect(dispatches(wg, `${op} per diagonal`) - before).toBe(61 + 47 - 1);
      });
    }
  });

  describe('machinery', () => {
    it('a freed buffer is not recycled before the submit that used it', async () => {
      const n = 1000;
      const x1 = randomArray(n, 11), x2 = randomArray(n, 12);
      const view = (storage: ReturnType<Backend['alloc']>) => ({ storage, shape: [1, 1, 1, n] });
      const a = wg.alloc(n), b = wg.alloc(n);
      wg.write(a, x1);
      wg.kernels.unary!([view(a)], view(b), { fn: 'neg', alpha: 0, beta: 0 });
      wg.free(a); // still used by the unsubmitted dispatch
      const c = wg.alloc(n), d = wg.alloc(n);
      wg.write(c, x2);
      wg.kernels.unary!([view(c)], view(d), { fn: 'neg', alpha: 0, beta: 0 });
      wg.flush();
      expect(Array.from(await wg.read(b))).toEqual(Array.from(x1, (v) => -v));
      expect(Array.from(await wg.read(d))).toEqual(Array.from(x2, (v) => -v));
      // After the submit the buffers are recycled, and the reused one holds the new data.
      const created = wg.info().details.pooledBytes as number;
      expect(created).toBeGreaterThan(0);
      wg.free(c);
      const e = wg.alloc(n);
      wg.write(e, x1);
      expect(Array.from(await wg.read(e))).toEqual(Array.from(x1));
      // Writing a buffer that unsubmitted work reads waits for that work.
      wg.kernels.unary!([view(e)], view(d), { fn: 'square', alpha: 0, beta: 0 });
      wg.write(e, x2);
      expect(Array.from(await wg.read(d))).toEqual(Array.from(x1, (v) => Math.fround(v * v)));
      for (const s of [b, d, e]) wg.free(s);
      expect(wg.memory()).toEqual({ buffers: 0, bytes: 0 });
    });

    it('memory() counts live buffers and returns to zero', () => {
      const s = [wg.alloc(10), wg.alloc(1000), wg.alloc(1)];
      expect(wg.memory()).toEqual({ buffers: 3, bytes: 4 * 1011 });
      for (const x of s) wg.free(x);
      expect(wg.memory()).toEqual({ buffers: 0, bytes: 0 });
    });

    it('supports() gives a reason instead of throwing for an oversized buffer', () => {
      const huge = { storage: { numel: 2 ** 30 }, shape: [1, 1, 1, 2 ** 30] };
      const reason = wg.supports!('unary', [huge], huge, { fn: 'neg', alpha: 0, beta: 0 });
      expect(reason).toMatch(/maxStorageBufferBindingSize/);
      const small = { storage: { numel: 4 }, shape: [1, 1, 2, 2] };
      expect(wg.supports!('unary', [small], small, { fn: 'neg', alpha: 0, beta: 0 })).toBeNull();
    });

    it('warmup() compiles the pipeline variants ahead of use', async () => {
      const b = await make();
      await b.warmup(['unary', 'reduce']);
      expect(b.info().details.pipelines as number).toBeGreaterThanOrEqual(30 + 3); // 30 unary function codes; sum and mean share a reduce shader
    });

    it('info() names the adapter and the software flag', () => {
      const d = wg.info().details;
      expect(d.software).toBe('gpu' in acquired && acquired.software);
      expect(d.adapter).toBeTruthy();
    });

    it('an uncaptured GPU error surfaces at the next read()', async () => {
      const b = await make();
      const s = b.alloc(4);
      b.device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
      await expect(b.read(s)).rejects.toThrow(/WebGPU error/);
      b.free(s);
    });

    it('device loss gives a clear error on every later call', async () => {
      const b = await make();
      const s = b.alloc(4);
      b.device.destroy();
      await b.device.lost;
      expect(b.info().details.lost).toMatch(/destroyed/);
      expect(() => b.alloc(4)).toThrow(/device lost/);
      expect(() => b.kernels.fill!([], { storage: s, shape: [1, 1, 1, 4] }, { value: 1 })).toThrow(/device lost/);
      await expect(b.read(s)).rejects.toThrow(/device lost/);
    });
  });
});

afterAll(() => ref.dispose());
