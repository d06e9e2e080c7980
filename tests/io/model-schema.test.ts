/**
 * The config schema, the parameter shapes planned from a config, and the cost bound
 * (src/models/schema.ts, plan.ts, cost.ts): what a model file is checked against before anything
 * is built must agree with what building it gives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import * as models from '../../src/models/index.js';
import { activationBytes, checkBatchBudget, maxBatch, modelCost } from '../../src/models/cost.js';
import { checkFlowModelConfig, checkModelConfig } from '../../src/models/schema.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose());

const base = { inputShape: [1, 8, 8] as [number, number, number], levels: 2, steps: 1, width: 8 };
const variants: Array<[models.ModelKind, Partial<models.ModelConfig>]> = [
  ['finc', {}], ['finc', { classes: 3, classCouplings: true }], ['finc', { coupling: 'quad', conv1x1: 'lu', split: 'glow', classes: 3 }],
  ['inverse', {}], ['inverse', { inverseUnit: 'chained', coupling: 'additive' }], ['cinc', {}], ['emerging', { kernelSize: 5 }], ['glow', { split: 'prior' }],
  ['finc', { inputShape: [3, 16, 16], levels: 3 }],
];
const builders = { finc: models.fincFlow, cinc: models.cincFlow, inverse: models.inverseFlow, glow: models.glow, emerging: models.emerging };

describe('a config describes its model exactly, before it is built', () => {
  it.each(variants)('%s %j: planned parameter shapes and count = the built model; its own config passes the schema', (kind, v) => {
    const m = builders[kind]({ ...base, ...v }, { engine });
    const planned = models.planParamShapes(m.config.model, m.config.architecture);
    expect(new Map([...planned].map(([k, s]) => [k, s.join()]))).toEqual(new Map([...m.namedParams()].map(([k, p]) => [k, p.shape.join()])));
    expect(modelCost(m.config.model).params).toBe(m.paramCount());
    const checked = checkFlowModelConfig(JSON.parse(JSON.stringify(m.config)));
    expect(checked.ok && checked.value).toEqual(JSON.parse(JSON.stringify(m.config)));
    m.dispose();
  });

  it('every preset passes the schema (imagenet64 included) and fits the default budget with one image', () => {
    for (const name of models.presetNames()) {
      const cfg = models.resolveConfig('finc', name);
      expect(checkModelConfig(cfg).ok).toBe(true);
      const cost = modelCost(cfg);
      expect(cost.params * 4 + cost.activationBytesPerImage).toBeLessThan(2 ** 31);
    }
  });

  it('the one-line messages name the field, the value and the rule', () => {
    const ok = models.resolveConfig('finc', 'tiny');
    const problem = (v: unknown) => { const r = checkModelConfig(v); return r.ok ? null : r.problem; };
    expect(problem({ ...ok, width: 1e9 })).toBe('config width = 1000000000 must be an integer from 1 to 8192');
    expect(problem({ ...ok, steps: 2.5 })).toBe('config steps = 2.5 must be an integer from 1 to 256');
    expect(problem({ ...ok, coupling: 'teleport' })).toBe('config coupling = "teleport" must be one of affine, quad, additive');
    expect(problem({ ...ok, alpha: 0.7 })).toBe('config alpha = 0.7 must be a number above 0 and below 0.5');
    expect(problem({ ...ok, inputShape: [1, 8] })).toMatch(/^config inputShape = \[1, 8\] must be \[C, H, W\]/);
    const { levels: _, ...noLevels } = ok;
    expect(problem(noLevels)).toBe('config levels is missing');
    expect(problem({ ...ok, classCouplings: true })).toBe('config: classCouplings needs classes (the number of labels the couplings see)');
  });

  it('fromConfig checks the config as a model file is checked', () => {
    const m = models.fincFlow(base, { engine });
    const cfg = JSON.parse(JSON.stringify(m.config));
    cfg.architecture.levels[1].steps[0].layers[3].layer.width = 80;
    expect(() => models.fromConfig(engine, cfg)).toThrow(
      /^fromConfig: config architecture\.levels\[1\]\.steps\[0\]\.layers\[3\]\.layer\.width = 80 does not match the model config, which implies 8$/);
    expect(() => models.fromConfig(engine, null as never)).toThrow(/^fromConfig: config = null must be an object$/);
    m.dispose();
  });
});

describe('the cost bound', () => {
  it('the activation estimate stays above the bytes a forward and a decode pass keep alive', async () => {
    for (const [kind, v] of variants.slice(0, 6)) {
      const m = builders[kind]({ ...base, ...v }, { engine });
      const N = 4;
      const x = engine.tensor(Float32Array.from({ length: N * 64 * base.inputShape[0] }, (_, i) => (i * 37) % 256 + 0.5), [N, ...base.inputShape]);
      m.initialize(x);
      await m.prepare();
      const before = engine.memory().bytes;
      let live = 0;
      engine.scope(() => { m.bitsPerDim(x); live = Math.max(live, engine.memory().bytes - before); });
      engine.scope(() => { m.decode(m.sampleLatents(N, { labels: m.classes ? [0, 1, 2, 0] : undefined }), m.classes ? [0, 1, 2, 0] : undefined); live = Math.max(live, engine.memory().bytes - before); });
      expect(modelCost(m.config.model).activationBytesPerImage * N).toBeGreaterThan(live);
      x.dispose();
      m.dispose();
    }
  });

  it('checkBatchBudget names the batch and the largest one that fits', async () => {
    const cfg = models.resolveConfig('finc', 'mnist-small');
    const cost = modelCost(cfg);
    const budget = cost.params * 4 + 10.5 * cost.activationBytesPerImage;
    const small = await createEngine({ backend: 'reference', memoryBudget: Math.floor(budget) });
    expect(maxBatch(cost, small.memoryBudget)).toBe(10);
    expect(() => checkBatchBudget('sample', small, cfg, 10)).not.toThrow();
    expect(() => checkBatchBudget('sample', small, cfg, 64)).toThrow(
      /^sample: a batch of 64 images of 1×28×28 with [\d,]+ parameters \(use a batch of at most 10\) needs .* over the memory budget of/);
    small.dispose();
  });

  it('more passes (one per class for label-aware couplings) cost more', () => {
    const arch = models.planModel(models.resolveConfig('finc', 'tiny'));
    expect(activationBytes(arch, 10)).toBeGreaterThan(5 * activationBytes(arch, 1));
  });
});
