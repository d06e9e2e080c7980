import { afterAll, describe, expect, it } from 'vitest';
import { enginesUnderTest } from '../helpers/engines.js';
import { directionalGradCheck, jacobianLogAbsDet, maxAbsDiff, paramGradients, perturb } from '../layers/contract.js';
import { build, kinds, modelBijection } from './build.js';
import type { ModelConfig, ModelKind } from '../../src/models/index.js';

// A whole small model (L 2, K 2, width 8; docs/testing.md §3) of every kind on every backend: round trip,
// accumulated log-det against the dense float64 Jacobian, and a gradient for every parameter.
const engines = await enginesUnderTest();
afterAll(() => { for (const e of engines) e.engine?.dispose(); });
const ref = engines[0]!.engine!;

const shapes: Array<[number, number, number]> = [[1, 8, 8], [4, 4, 4], [2, 8, 4]];
const cfgFor = (shape: [number, number, number]): Partial<ModelConfig> => ({ inputShape: shape, levels: 2, steps: 2, width: 8 });
const input = (n: number) => Float64Array.from(Float32Array.from({ length: n }, (_, i) => 1.5 * Math.sin(1.1 * i + 0.5)));

const truth = new Map<string, Promise<number>>();
function referenceLogdet(kind: ModelKind, shape: [number, number, number]): Promise<number> {
  const key = `${kind} ${shape}`;
  if (!truth.has(key)) truth.set(key, (async () => {
    const m = build(kind, cfgFor(shape), ref);
    await perturb(m, 0.05, 3);
    const D = shape[0] * shape[1] * shape[2];
    const v = await jacobianLogAbsDet(ref, (x) => m.encode(x).z, input(D), [1, ...shape]);
    m.dispose();
    return v;
  })());
  return truth.get(key)!;
}

describe.each(engines)('whole models on $name', ({ name, engine, skipReason }) => {
  if (!engine) {
    it.skip(`skipped: ${skipReason}`, () => {});
    return;
  }
  const f32 = name !== 'reference';
  describe.each(kinds)('%s', (kind) => {
    // SwiftShader runs ~0.3 GFLOP/s and compiles every pipeline: one shape is enough there.
    it.each(name === 'webgpu' ? shapes.slice(0, 1) : shapes)('L2 K2 width 8 at %i×%i×%i: round trip, log-det, gradients', async (...shape) => {
      const s = shape as [number, number, number];
      const D = s[0] * s[1] * s[2];
      const m = build(kind, cfgFor(s), engine);
      await perturb(m, 0.05, 3);
      const x = input(2 * D);
      const { back, ld } = engine.scope(() => {
        const r = m.encode(engine.tensor(x, [2, ...s]));
        return { back: m.decode(r.z), ld: r.logdet };
      });
      expect(maxAbsDiff(await back.data64(), x)).toBeLessThan(f32 ? 1e-4 : 1e-9);
      const got = (await ld.data64())[0]!;
      const want = await referenceLogdet(kind, s);
      expect(Math.abs(got - want)).toBeLessThan(f32 ? 1e-3 * Math.max(1, Math.abs(want)) : 1e-6);

      const x1 = engine.tensor(x.subarray(0, D), [1, ...s]);
      const g = await paramGradients(engine, modelBijection(m), x1);
      expect(g.finite).toBe(true);
      expect(g.weakest, `parameter ${g.weakestName} got no gradient`).toBeGreaterThan(0);
      // Every layer's gradients are checked weight by weight in the layer suite; here all at once.
      if (!f32) expect(await directionalGradCheck(engine, modelBijection(m), x1)).toBeLessThan(1e-6);
      m.dispose();
    });
  });
});
