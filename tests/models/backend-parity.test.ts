import { afterAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.js';
import type { ModelConfig, ModelKind } from '../../src/models/index.js';
import { enginesUnderTest } from '../helpers/engines.js';
import { tolerance, worstMismatch } from '../helpers/tolerance.js';
import { maxAbsDiff, perturb } from '../layers/contract.js';
import { build, kinds } from './build.js';

// Whole models at 32×32 on the float32 backends (docs/testing.md §3 gate: round trip ≤ 1e-4 max abs),
// and the same seed giving the same samples on every backend within the tolerance table.
const engines = await enginesUnderTest();
afterAll(() => { for (const e of engines) e.engine?.dispose(); });
const byName = Object.fromEntries(engines.map((e) => [e.name, e]));

const input = (n: number) => Float64Array.from(Float32Array.from({ length: n }, (_, i) => 1.5 * Math.sin(0.37 * i) + 0.5 * Math.cos(1.9 * i)));

async function roundTrip(engine: Engine, kind: ModelKind, cfg: Partial<ModelConfig>): Promise<number> {
  const m = build(kind, cfg, engine);
  // Realistic weights: the papers' kernel init plus a small perturbation that makes every coupling act.
  // (Larger ones blow latents up to |z| ~ 1e4 at L3 K4, where f32 round trips lose 1e-2 absolute.)
  await perturb(m, 0.01, 8);
  const [C, H, W] = cfg.inputShape!;
  const x = input(2 * C * H * W);
  const back = await engine.scope(() => m.decode(m.encode(engine.tensor(x, [2, C, H, W])).z)).data64();
  m.dispose();
  return maxAbsDiff(back, x);
}

describe('whole-model round trip at 32×32', () => {
  const wasm = byName.wasm!.engine!;
  it.each(kinds)('%s L3 K4 width 16 on wasm', async (kind) => {
    const err = await roundTrip(wasm, kind, { inputShape: [3, 32, 32], levels: 3, steps: 4, width: 16 });
    console.log(`round trip ${kind} 3×32×32 L3 K4 w16 on wasm: ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-4);
  });

  const gpu = byName.webgpu!;
  it.skipIf(!gpu.engine).each(kinds)('%s L2 K1 width 8 on webgpu ≤ 1e-4', async (kind) => {
    const err = await roundTrip(gpu.engine!, kind, { inputShape: [3, 32, 32], levels: 2, steps: 1, width: 8 });
    console.log(`round trip ${kind} 3×32×32 L2 K1 w8 on webgpu: ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-4);
  });
});

describe('same seed → same samples on every backend', () => {
  const cfg: Partial<ModelConfig> = { inputShape: [3, 16, 16], levels: 2, steps: 2, width: 8 };
  it.each(kinds)('%s', async (kind) => {
    const out: Record<string, Float32Array> = {};
    for (const { name, engine } of engines) {
      if (!engine) continue;
      const m = build(kind, cfg, engine, 21);
      await perturb(m, 0.05, 22);
      out[name] = await (await m.sample(2, { seed: 5, temperature: 0.8, output: 'flow' })).data();
      m.dispose();
    }
    for (const name of ['wasm', 'webgpu'] as const) {
      if (!out[name]) continue;
      expect(worstMismatch(out[name], out.reference!, tolerance[name])).toBeNull();
    }
    if (out.webgpu) expect(worstMismatch(out.webgpu, out.wasm!, tolerance.webgpu)).toBeNull();
  });
});
