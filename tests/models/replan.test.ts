import { afterAll, beforeAll, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { fromConfig, glow, resolveConfig } from '../../src/models/index.js';
import { replanKeeping } from '../../src/models/plan.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'reference' }); });
afterAll(() => engine.dispose());

// `inflow train --init model --classes K` rebuilds the flow with class conditioning; the LU 1×1
// layers' permutations are drawn at random, so they must come from the trained flow's architecture.
it('adding class couplings keeps every LU 1×1 permutation and sign of the trained flow', async () => {
  const tiny = { inputShape: [1, 8, 8] as [number, number, number], levels: 2, steps: 2, width: 8 };
  const trained = glow(tiny, { engine, seed: 7 });
  const next = resolveConfig('glow', { ...tiny, classes: 3, classCouplings: true });
  const arch = replanKeeping(next, trained.config.architecture);
  const lu = (a: typeof arch) => JSON.stringify(a.levels.map((l) => l.steps.map((s) => (s as unknown as { layers: Array<{ layer: { perm?: number[]; sign?: number[] } }> }).layers.map((x) => [x.layer.perm, x.layer.sign]))));
  expect(lu(arch)).toBe(lu(trained.config.architecture));
  // The drawn fields exist (a fresh plan would leave them out and the loader would refuse it)…
  expect(lu(arch)).toMatch(/\[\d/);
  // …and the config passes the same checks as a model file's, with the couplings now conditioned.
  const extended = fromConfig(engine, { kind: 'flow-model', model: next, architecture: arch });
  expect(extended.classCouplings).toBe(true);
  expect(extended.config.architecture.levels[0]!.steps[0]).toMatchObject({ layers: expect.arrayContaining([expect.objectContaining({ name: 'coupling', layer: expect.objectContaining({ classes: 3 }) })]) });
  trained.dispose();
  extended.dispose();
});
