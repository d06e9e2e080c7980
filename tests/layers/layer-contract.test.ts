import { afterAll, describe, expect, it } from 'vitest';
import { enginesUnderTest } from '../helpers/engines.js';
import { reshape, slice } from '../../src/ops/index.js';
import { jacobianLogAbsDet, maxAbsDiff, paramGradients, perturb, flatConcat } from './contract.js';
import { inputFor, layerCases, type LayerCase } from './cases.js';

// The layer contract (docs/testing.md §1), every layer × every backend: round trip, log-det against the
// dense float64 Jacobian of the reference engine, a gradient for every parameter, and (reference)
// gradients against finite differences.
const engines = await enginesUnderTest();
afterAll(() => { for (const e of engines) e.engine?.dispose(); });
const ref = engines[0]!.engine!;

/** log|det J| of the encode at the case's input, by central differences in float64 on reference. */
const truth = new Map<string, Promise<{ enc: number; dec: number; reported: number }>>();
function referenceLogdets(c: LayerCase, shape: [number, number, number]) {
  const key = `${c.name} ${shape}`;
  if (!truth.has(key)) truth.set(key, (async () => {
    const b = c.make(ref);
    await perturb(b.module, c.scale ?? 0.05, 1);
    const x0 = inputFor(c, shape, 1);
    const full = [1, ...shape];
    const enc = await jacobianLogAbsDet(ref, (x) => b.encode(x).outs, x0, full);
    const r = ref.scope(() => { const o = b.encode(ref.tensor(x0, full)); return { y: flatConcat(o.outs), ld: o.logdet }; });
    const reported = (await r.ld.data64())[0]!;
    // The decode's own Jacobian at y = encode(x): its log|det| must be −(encode's).
    const outs = b.encode(ref.tensor(x0, full)).outs;
    const split = outs.map((o) => o.shape);
    const y0 = await r.y.data64();
    const dec = await jacobianLogAbsDet(ref, (yFlat) => {
      let off = 0;
      const parts = split.map((s) => {
        const n = s.reduce((a, v) => a * v, 1);
        const t = reshape(slice(yFlat, 1, off, n), s);
        off += n;
        return t;
      });
      return [b.decode(parts)];
    }, y0, [1, y0.length]);
    b.module.dispose();
    return { enc, dec, reported };
  })());
  return truth.get(key)!;
}

describe.each(engines)('layer contract on $name', ({ name, engine, skipReason }) => {
  if (!engine) {
    it.skip(`skipped: ${skipReason}`, () => {});
    return;
  }
  const f32 = name !== 'reference';

  describe.each(layerCases)('$name', (c) => {
    it.each(c.shapes)('round trip, log-det vs dense Jacobian, gradients at %i×%i×%i', async (...shape) => {
      const s = shape as [number, number, number];
      const b = c.make(engine);
      await perturb(b.module, c.scale ?? 0.05, 1);

      // Round trip on a batch of 2, log-det one value per image.
      const x2 = inputFor(c, s, 2);
      const x = engine.tensor(x2, [2, ...s]);
      const { rt, ld } = engine.scope(() => {
        const r = b.encode(x);
        return { rt: b.decode(r.outs), ld: r.logdet };
      });
      expect(ld.shape).toEqual([2]);
      const back = await rt.data64();
      const scaleOf = Math.max(1, ...Array.from(x2, Math.abs));
      expect(maxAbsDiff(back, x2)).toBeLessThan(f32 ? 1e-4 * scaleOf : 1e-9 * scaleOf);

      // Log-det of the first image against the reference's dense Jacobian.
      const t = await referenceLogdets(c, s);
      const mine = (await engine.scope(() => b.encode(engine.tensor(x2.subarray(0, x2.length / 2), [1, ...s])).logdet).data64())[0]!;
      if (!f32) {
        expect(Math.abs(t.reported - t.enc)).toBeLessThan(1e-6);
        expect(Math.abs(t.dec + t.enc)).toBeLessThan(1e-6);
        expect(Math.abs(mine - t.enc)).toBeLessThan(1e-6);
      } else {
        expect(Math.abs(mine - t.enc)).toBeLessThan(1e-3 * Math.max(1, Math.abs(t.enc)));
      }

      // Every parameter receives a (finite, nonzero) gradient; on reference they match differences.
      if (b.module.parameters().length) {
        const g = await paramGradients(engine, b, engine.tensor(x2.subarray(0, x2.length / 2), [1, ...s]), { fd: !f32 });
        expect(g.finite).toBe(true);
        expect(g.weakest, `parameter ${g.weakestName} got no gradient`).toBeGreaterThan(0);
        if (!f32) expect(g.maxErr, g.where).toBeLessThan(1e-5);
      }
      b.module.dispose();
    });
  });
});
