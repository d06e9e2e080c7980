import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveKernelSet } from '../../src/backends/webgpu/tiled-choice.js';
import { tileBytes, tileConfigs, tiledWgslKernels } from '../../src/backends/webgpu/tiled.js';

// The parts of the tiled kernels that need no GPU: block sizes from adapter limits, which kernel set
// runs, and the uniform blocks of wgsl/*-tiled.wgsl against their declarations in tiled.ts (the op
// build checks only wgsl/<op>.wgsl, so this is the check for these files).

const limits = (inv: number, bytes: number, x = inv) =>
  ({ maxComputeInvocationsPerWorkgroup: inv, maxComputeWorkgroupStorageSize: bytes, maxComputeWorkgroupSizeX: x });

describe('tiled kernels without a GPU', () => {
  it('takes the largest block the limits allow, and 32 × 32 for narrow products', () => {
    expect(tileConfigs(limits(256, 16384))).toEqual({ large: { TX: 16, TY: 16, BK: 16 }, small: { TX: 8, TY: 8, BK: 16 } });
    expect(tileConfigs(limits(128, 16384)).large).toEqual({ TX: 16, TY: 8, BK: 16 });
    expect(tileConfigs(limits(256, 16384, 128)).large).toEqual({ TX: 16, TY: 8, BK: 16 });
    expect(tileConfigs(limits(64, 16384))).toEqual({ large: { TX: 8, TY: 8, BK: 16 }, small: { TX: 8, TY: 8, BK: 16 } });
    expect(tileConfigs(limits(256, 3000)).large).toEqual({ TX: 8, TY: 8, BK: 8 });
    for (const inv of [16, 64, 128, 256, 1024]) for (const bytes of [1024, 4096, 16384, 32768]) {
      const { large, small } = tileConfigs(limits(inv, bytes));
      for (const c of bytes >= tileBytes({ TX: 4, TY: 4, BK: 8 }) ? [large, small] : []) {
        expect(c.TX * c.TY).toBeLessThanOrEqual(inv);
        expect(tileBytes(c)).toBeLessThanOrEqual(bytes);
      }
    }
  });

  it('runs the option, else INFLOW_WEBGPU_KERNELS, else simple on software and tiled on hardware', () => {
    const saved = process.env.INFLOW_WEBGPU_KERNELS;
    try {
      delete process.env.INFLOW_WEBGPU_KERNELS;
      expect(resolveKernelSet(undefined, true)).toEqual({ set: 'simple', why: 'software adapter' });
      expect(resolveKernelSet(undefined, false)).toEqual({ set: 'tiled', why: 'hardware adapter' });
      expect(resolveKernelSet(undefined, null).set).toBe('simple');
      expect(resolveKernelSet('tiled', true)).toEqual({ set: 'tiled', why: 'requested' });
      process.env.INFLOW_WEBGPU_KERNELS = 'tiled';
      expect(resolveKernelSet(undefined, true)).toEqual({ set: 'tiled', why: 'INFLOW_WEBGPU_KERNELS' });
      expect(resolveKernelSet('simple', false).set).toBe('simple');
      process.env.INFLOW_WEBGPU_KERNELS = 'fastest';
      expect(() => resolveKernelSet(undefined, false)).toThrow(/^createWebGPUBackend: INFLOW_WEBGPU_KERNELS = "fastest" must be 'tiled' or 'simple'$/);
      expect(() => resolveKernelSet('x' as never, false)).toThrow(/webgpuKernels = "x"/);
    } finally {
      if (saved === undefined) delete process.env.INFLOW_WEBGPU_KERNELS;
      else process.env.INFLOW_WEBGPU_KERNELS = saved;
    }
  });

  it('every tiled WGSL kernel has the struct P and placeholders its glue declares', () => {
    const sections = new Map<string, string>();
    for (const file of ['matmul-tiled', 'conv2d-tiled']) {
      const parts = readFileSync(`wgsl/${file}.wgsl`, 'utf8').split(/^\/\/ @kernel (\w+)[ \t]*$/m);
      const util = readFileSync('wgsl/util/tiled-gemm.wgsl', 'utf8');
      for (let i = 1; i < parts.length; i += 2) sections.set(parts[i]!, `${util}\n${parts[0]}\n${parts[i + 1]}`);
    }
    for (const k of tiledWgslKernels) {
      const src = sections.get(k.kernel);
      expect(src, k.kernel).toBeDefined();
      const struct = src!.match(/struct P\s*\{([^}]*)\}/)![1]!;
      const fields = struct.split(',').map((f) => f.trim()).filter(Boolean).map((f) => f.split(':').map((s) => s.trim()));
      expect(fields, k.kernel).toEqual(Object.entries(k.uniforms));
      const code = src!.split('\n').filter((l) => !l.trimStart().startsWith('//')).join('\n');
      expect([...new Set([...code.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]))].sort(), k.kernel).toEqual([...k.placeholders!].sort());
    }
  });
});
