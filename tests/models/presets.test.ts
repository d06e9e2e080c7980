import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import { solveKernelMask } from '../../src/ops/index.js';
import * as models from '../../src/models/index.js';
import { build, kinds } from './build.js';

describe('parameter counts (docs/flows.md §17)', () => {
  // Counted from the config: a 67M-parameter model is never allocated just to be counted.
  it.each([
    ['mnist', 10.04], ['cifar10-k28', 39.42], ['cifar10-k32', 44.94], ['cifar10', 44.94], ['imagenet32', 67.03],
  ] as const)('FInC %s = %fM', (preset, millions) => {
    expect(Math.abs(models.paramCount('finc', preset) / 1e6 - millions)).toBeLessThanOrEqual(0.01);
  });

  it('L2 K16 on RGB 32×32 gives the repo timing script 12.79M', () => {
    expect(models.paramCount('finc', { inputShape: [3, 32, 32], levels: 2, steps: 16 }) / 1e6).toBeCloseTo(12.79, 2);
  });

  it('a PCB has Cg²k² − Cg(Cg+1)/2 free parameters (the mask by construction)', () => {
    for (const k of [2, 3, 5]) for (const cg of [1, 2, 3, 6]) {
      const free = solveKernelMask(cg, cg, k, true).reduce((s, v) => s + v, 0);
      expect(free).toBe(cg * cg * k * k - (cg * (cg + 1)) / 2);
    }
  });

  it('the count from the config equals the allocated model for every kind', async () => {
    const engine = await createEngine({ backend: 'reference' });
    for (const kind of kinds) for (const preset of ['tiny', 'mnist-small'] as const) {
      const m = build(kind, preset, engine);
      expect(m.paramCount()).toBe(models.paramCount(kind, preset));
      m.dispose();
    }
    expect(engine.memory().tensors).toBe(0);
    engine.dispose();
  });

  it('rejects unknown presets and impossible configs with a clear error', async () => {
    const engine = await createEngine({ backend: 'reference' });
    expect(() => models.fincFlow('nope', { engine })).toThrow(/unknown preset 'nope'/);
    expect(() => models.fincFlow({ inputShape: [1, 28, 28], levels: 3, steps: 1 }, { engine })).toThrow(/divisible by 2\^levels/);
    expect(() => models.fincFlow('tiny', undefined as never)).toThrow(/needs \{ engine \}/);
    engine.dispose();
  });
});
