import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { createWebGPUBackend, type WebGPUBackend } from '../../src/backends/webgpu/index.js';
import { acquireNodeGPU } from '../../bindings/webgpu-node.js';
import { conv2d, conv2dGradFilter, conv2dGradInput, convTranspose2d, matmul, type ConvOptions } from '../../src/ops/index.js';
import { numel, randomArray } from '../helpers/random.js';
import { tolerance, worstMismatch } from '../helpers/tolerance.js';

// The tiled WebGPU kernels (wgsl/matmul-tiled.wgsl, wgsl/conv2d-tiled.wgsl) against the float64
// reference, forced on whatever adapter this machine has (SwiftShader in CI): shapes that are not
// multiples of the 4×4 register tile nor of the 32- and 64-wide blocks, both load paths, every transpose.
let ref: Engine;
let gpu: Engine | null = null;
let skip = '';
beforeAll(async () => {
  ref = await createEngine({ backend: 'reference' });
  try {
    gpu = await createEngine({ backend: 'webgpu', webgpuKernels: 'tiled' });
  } catch (e) {
    skip = `tiled WebGPU kernels skipped: ${e instanceof Error ? e.message : String(e)}`;
    if (process.env.INFLOW_REQUIRE_WEBGPU === '1') throw new Error(skip);
    console.warn(skip);
  }
});
afterAll(() => {
  ref?.dispose();
  gpu?.dispose();
});

type Build = (ts: Tensor[]) => Tensor;

/** Runs build on both engines with the same inputs; true once the WebGPU result matches the reference. */
async function agree(shapes: readonly (readonly number[])[], build: Build): Promise<void> {
  const data = shapes.map((s, i) => randomArray(numel(s), 17 + i, -1, 1));
  const run = async (e: Engine): Promise<Float32Array> => {
    const y = e.scope(() => build(data.map((d, i) => e.tensor(d, shapes[i]!))));
    const v = await y.data();
    y.dispose();
    return v;
  };
  const want = await run(ref), got = await run(gpu!);
  expect(got.length).toBe(want.length);
  expect(worstMismatch(got, want, tolerance.webgpu)).toBeNull();
}

const dispatches = (): Record<string, number> => (gpu!.info().details as { dispatches: Record<string, number> }).dispatches;

describe('tiled WebGPU kernels', () => {
  it('the engine reports the tiled set and block sizes within the adapter limits', (ctx) => {
    if (!gpu) return ctx.skip(skip);
    const d = gpu.info().details as { kernels: string; tiles: { large: { TX: number; TY: number; BK: number } }; limits: Record<string, number> };
    expect(d.kernels).toBe('tiled');
    const { TX, TY, BK } = d.tiles.large;
    expect(BK * 4 * (TX + TY) * 4).toBeLessThanOrEqual(d.limits.maxComputeWorkgroupStorageSize!);
  });

  it('a device passed in without its adapter gets the set its device.adapterInfo implies', async (ctx) => {
    if (!gpu) return ctx.skip(skip);
    const acquired = await acquireNodeGPU();
    if (!('gpu' in acquired)) return ctx.skip(acquired.error);
    const device = await acquired.adapter.requestDevice();
    if (!device.adapterInfo) return ctx.skip('this WebGPU host has no device.adapterInfo');
    // The default is under test, so a suite-wide INFLOW_WEBGPU_KERNELS must not decide it.
    const saved = process.env.INFLOW_WEBGPU_KERNELS;
    delete process.env.INFLOW_WEBGPU_KERNELS;
    const backend = await createWebGPUBackend({ device }).finally(() => {
      if (saved !== undefined) process.env.INFLOW_WEBGPU_KERNELS = saved;
    });
    const d = backend.info().details as { software: boolean; kernels: string; kernelsWhy: string };
    backend.dispose();
    const software = acquired.software;
    expect(d).toMatchObject({ kernels: software ? 'simple' : 'tiled', kernelsWhy: software ? 'software adapter' : 'hardware adapter' });
  });

  it('warmup compiles every tiled pipeline variant without a WebGPU error', async (ctx) => {
    if (!gpu) return ctx.skip(skip);
    const backend = gpu.backend as WebGPUBackend;
    const before = (gpu.info().details as { pipelines: number }).pipelines;
    await backend.warmup(['matmul', 'conv2d', 'conv2dGradInput', 'conv2dGradFilter']);
    // Per block size: matmul's two load paths and one kernel per convolution.
    const { tiles } = gpu.info().details as { tiles: { large: object; small: object } };
    const sizes = JSON.stringify(tiles.large) === JSON.stringify(tiles.small) ? 1 : 2;
    expect((gpu.info().details as { pipelines: number }).pipelines - before).toBe(5 * sizes);
  });

  // [Ba, Bb, M, K, N]: above 32 rows and columns the large block runs, below it the small one;
  // K and N multiples of 4 take the vec4 loads for some transposes, the rest the scalar ones.
  const shapes: Array<[number, number, number, number, number]> = [
    [1, 1, 37, 19, 45], [2, 1, 5, 8, 12], [1, 3, 40, 16, 36], [2, 2, 1, 1, 1], [1, 1, 67, 33, 70], [3, 3, 4, 20, 8],
  ];
  for (const [Ba, Bb, M, K, N] of shapes) for (const tA of [false, true]) for (const tB of [false, true]) {
    it(`matmul ${Ba}×${M}×${K}${tA ? 'ᵀ' : ''} · ${Bb}×${K}×${N}${tB ? 'ᵀ' : ''}`, async (ctx) => {
      if (!gpu) return ctx.skip(skip);
      await agree([tA ? [Ba, K, M] : [Ba, M, K], tB ? [Bb, N, K] : [Bb, K, N]],
        ([a, b]) => matmul(a!, b!, { transposeA: tA, transposeB: tB }));
    });
  }

  it('both load paths ran', (ctx) => {
    if (!gpu) return ctx.skip(skip);
    expect(dispatches().matmulTiled).toBeGreaterThan(0);
    expect(dispatches().matmulTiledVec4).toBeGreaterThan(0);
    expect(dispatches().matmul ?? 0).toBe(0);
  });

  // [x, w, options]: stride, dilation, groups (depthwise too), asymmetric padding, channel counts that
  // are not multiples of 4, a batch of several images.
  const convs: Array<[number[], number[], ConvOptions]> = [
    [[1, 3, 5, 7], [5, 3, 3, 3], { pad: 'same' }],
    [[2, 4, 6, 5], [6, 2, 2, 3], { pad: 'tl', groups: 2 }],
    [[1, 3, 7, 6], [4, 3, 3, 3], { stride: 2, pad: [1, 0, 1, 2] }],
    [[1, 2, 9, 8], [3, 2, 2, 2], { stride: 3, dilation: 2, pad: 1 }],
    [[1, 5, 6, 5], [5, 1, 3, 3], { groups: 5, pad: 'same' }],
    [[3, 6, 9, 11], [37, 6, 3, 3], { pad: 1 }],
  ];
  for (const [xs, ws, opts] of convs) {
    const name = `x ${xs.join('×')} w ${ws.join('×')} ${JSON.stringify(opts)}`;
    it(`conv2d with bias, ${name}`, async (ctx) => {
      if (!gpu) return ctx.skip(skip);
      await agree([xs, ws, [ws[0]!]], ([x, w, b]) => conv2d(x!, w!, { ...opts, bias: b! }));
    });
    it(`conv2d gradients (input and filter), ${name}`, async (ctx) => {
      if (!gpu) return ctx.skip(skip);
      const y = ref.scope(() => conv2d(ref.tensor(new Float32Array(numel(xs)), xs), ref.tensor(new Float32Array(numel(ws)), ws), opts));
      const ys = y.shape;
      y.dispose();
      const geometry = { pad: opts.pad ?? 0, stride: opts.stride, dilation: opts.dilation, groups: opts.groups };
      await agree([ys, ws], ([dy, w]) => conv2dGradInput(dy!, w!, xs, geometry));
      await agree([xs, ys], ([x, dy]) => conv2dGradFilter(x!, dy!, ws, geometry));
    });
  }

  it('transposed convolution with bias (the input adjoint plus a bias)', async (ctx) => {
    if (!gpu) return ctx.skip(skip);
    await agree([[2, 4, 3, 5], [4, 3, 3, 3], [3]], ([x, w, b]) => convTranspose2d(x!, w!, { stride: 2, padding: 1, outputPadding: 1, bias: b! }));
  });

  it('the convolutions ran on the tiled kernels only', (ctx) => {
    if (!gpu) return ctx.skip(skip);
    const d = dispatches();
    for (const k of ['conv2dTiled', 'conv2dGradInputTiled', 'conv2dGradFilterTiled']) expect(d[k]).toBeGreaterThan(0);
    for (const k of ['conv2d', 'conv2dGradInput', 'conv2dGradFilter']) expect(d[k] ?? 0).toBe(0);
  });

  it('a dilated kernel taller than the tap table can hold runs on the simple kernel, still correct', async (ctx) => {
    if (!gpu) return ctx.skip(skip);
    const before = dispatches().conv2d ?? 0;
    await agree([[1, 2, 40001, 2], [3, 2, 2, 2]], ([x, w]) => conv2d(x!, w!, { dilation: [40000, 1] }));
    expect(dispatches().conv2d).toBe(before + 1);
  });
});
