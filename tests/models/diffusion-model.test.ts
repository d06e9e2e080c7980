import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { saveModel } from '../../src/io/model-file.js';
import { loadDiffusionModel, saveDiffusionModel } from '../../src/models/diffusion/diffusion-file.js';
import { checkDiffusionBytes, DiffusionModel, diffusionBytes } from '../../src/models/diffusion/diffusion-model.js';
import { checkDiffusionConfig, type DiffusionModelConfig } from '../../src/models/diffusion/schema.js';
import { fincFlow } from '../../src/models/index.js';
import { unetActivationBytes, unetParamShapes } from '../../src/models/unet/shapes.js';
import { UNet } from '../../src/models/unet/unet.js';
import type { UNetConfig } from '../../src/models/unet/config.js';
import { randomizeOutput, tinyConfig } from './diffusion-fixtures.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose());

const dir = mkdtempSync(join(tmpdir(), 'inflow-diffusion-file-'));

describe('UNet parameters from the config alone', () => {
  const configs: Array<Partial<UNetConfig>> = [
    { imageSize: 8, inChannels: 1, outChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, attentionResolutions: [4], heads: 2, groups: 4, classes: 3 },
    { imageSize: 28, inChannels: 1, outChannels: 1, baseChannels: 8, channelMults: [1, 2, 2], resBlocks: 2, attentionResolutions: [7, 14], heads: 4, groups: 8, classes: 10 },
    { imageSize: 16, inChannels: 3, outChannels: 3, baseChannels: 4, channelMults: [1, 1, 3, 2], resBlocks: 1, attentionResolutions: [], heads: 1, groups: 2, classes: 0 },
  ];
  it('name and shape every parameter the UNet builds, and nothing else', () => {
    for (const c of configs) {
      const unet = new UNet(engine, c);
      const built = new Map([...unet.namedParams()].map(([k, p]) => [k, [...p.shape]]));
      expect(new Map([...unetParamShapes(unet.config)].sort()), JSON.stringify(c)).toEqual(new Map([...built].sort()));
      unet.dispose();
    }
  });

  it('the activation estimate stays above what a sampling forward pass keeps alive', () => {
    for (const c of configs) {
      const unet = new UNet(engine, c);
      const u = unet.config, N = 4;
      const x = engine.tensor(new Float32Array(N * u.inChannels * u.imageSize ** 2).fill(0.5), [N, u.inChannels, u.imageSize, u.imageSize]);
      const before = engine.memory().bytes;
      let live = 0;
      // Everything a scope creates stays alive until it ends: the most a pass can hold at once.
      engine.noGrad(() => engine.scope(() => {
        unet.forward(x, [1, 2, 3, 4], u.classes ? [0, 1, u.classes, 2] : undefined);
        live = engine.memory().bytes - before;
      }));
      expect(live).toBeGreaterThan(0);
      expect(unetActivationBytes(u) * N, JSON.stringify(c)).toBeGreaterThan(live);
      x.dispose();
      unet.dispose();
    }
  });
});

describe('diffusion model files', () => {
  it('save → load gives the same samples, bit for bit, and the same weights', async () => {
    const model = new DiffusionModel(engine, tinyConfig(), { seed: 3 });
    randomizeOutput(model);
    const path = join(dir, 'tiny.safetensors');
    await saveDiffusionModel(model, path);
    const loaded = loadDiffusionModel(path, { engine });
    expect(loaded.config).toEqual(model.config);
    const opts = { steps: 4, eta: 0.5, guidance: 2.5, labels: [2, 0, 1], seed: 7 };
    const [a, b] = [await model.sample(3, opts), await loaded.sample(3, opts)];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    const ws = await model.unet.stateDict(), wl = await loaded.unet.stateDict();
    for (const [k, v] of ws) expect(Array.from(wl.get(k)!.data), k).toEqual(Array.from(v.data));
    for (const t of [a, b]) t.dispose();
    model.dispose();
    loaded.dispose();
  });

  it('refuses files that break the model-file rules, in one line naming the file and the problem', async () => {
    const model = new DiffusionModel(engine, tinyConfig(), { seed: 3 });
    const bytes = await model.toBytes();
    const { tensors, metadata } = decodeSafetensors(bytes);
    const config = JSON.parse(metadata['inflow.config']!) as DiffusionModelConfig;
    const file = (name: string, b: Uint8Array) => {
      const p = join(dir, name);
      writeFileSync(p, b);
      return p;
    };
    const load = (p: string) => () => loadDiffusionModel(p, { engine });

    const missing = new Map(tensors);
    missing.delete('out_conv.bias');
    expect(load(file('missing.safetensors', diffusionBytes(config, missing)))).toThrow(/missing.safetensors: the config declares .* parameters but the file carries .* \(parameter 'out_conv.bias' is missing\)/);
    const extra = new Map(tensors).set('extra.weight', { shape: [1], data: new Float32Array(1) });
    expect(load(file('extra.safetensors', diffusionBytes(config, extra)))).toThrow(/tensor 'extra.weight' is not a parameter of this diffusion model/);
    const nan = new Map(tensors);
    const w = nan.get('in_conv.weight')!;
    nan.set('in_conv.weight', { shape: w.shape, data: w.data.map((v, i) => (i === 5 ? NaN : v)) });
    expect(load(file('nan.safetensors', diffusionBytes(config, nan)))).toThrow(/tensor 'in_conv.weight' holds NaN at index 5/);
    const badGroups = { ...config, unet: { ...config.unet, groups: 3 } };
    expect(load(file('groups.safetensors', diffusionBytes(badGroups, tensors)))).toThrow(/config unet.groups = 3 must divide every level's channels \(level 0 has 8\)/);
    const unknownKey = { ...config, temperature: 1 };
    expect(load(file('key.safetensors', encodeSafetensors(tensors, { 'inflow.format': 'inflow-diffusion-1', 'inflow.config': JSON.stringify(unknownKey) })))).toThrow(/config has unknown key 'temperature'/);
    const corrupt = bytes.slice();
    corrupt[corrupt.length - 3]! ^= 0x40;
    expect(load(file('corrupt.safetensors', corrupt))).toThrow(/corrupt.safetensors: .*(checksum|CRC)/i);
    const flow = fincFlow({ inputShape: [1, 8, 8], levels: 1, steps: 1, width: 4 }, { engine });
    await saveModel(flow, join(dir, 'flow.safetensors'));
    flow.dispose();
    expect(load(join(dir, 'flow.safetensors'))).toThrow(/flow.safetensors: not an inflow diffusion model file \(format "inflow-model-1"\) \(a flow model: use `inflow sample`\)/);
    expect(load(dir)).toThrow(/is a folder, not a model file/);
    expect(() => checkDiffusionBytes(bytes, 'tiny', { memoryBudget: 1000 })).toThrow(/tiny: .*memory budget/);
    model.dispose();
  });

  it('checks configs with the model-file schema: ranges, divisibility, attention sizes, the schedule', () => {
    const good = tinyConfig();
    expect(checkDiffusionConfig(good).ok).toBe(true);
    const problem = (c: unknown) => {
      const r = checkDiffusionConfig(c);
      return r.ok ? null : r.problem;
    };
    expect(problem({ ...good, unet: { ...good.unet, imageSize: 10, channelMults: [1, 2, 2] } })).toMatch(/config unet.imageSize = 10 must divide by 2\^2 for 3 levels/);
    expect(problem({ ...good, unet: { ...good.unet, attentionResolutions: [3] } })).toMatch(/config unet.attentionResolutions\[0\] = 3 is not a feature-map size of this UNet \(8, 4\)/);
    expect(problem({ ...good, unet: { ...good.unet, baseChannels: 1e9 } })).toMatch(/config unet.baseChannels = 1000000000 must be an integer from 1 to 1024/);
    expect(problem({ ...good, unet: { ...good.unet, outChannels: 3 } })).toMatch(/config unet.outChannels = 3 must equal unet.inChannels/);
    expect(problem({ ...good, schedule: { kind: 'linear', steps: 20 } })).toMatch(/config schedule.steps = 20 is too few for the linear schedule/);
    expect(problem({ ...good, sampler: { ...good.sampler, steps: 26 } })).toMatch(/config sampler.steps = 26 must be at most schedule.steps \(25\)/);
    expect(problem({ ...good, sampler: { ...good.sampler, eta: 1.5 } })).toMatch(/config sampler.eta = 1.5 must be a number from 0 to 1/);
    expect(problem({ ...good, unet: { ...good.unet, classes: 0 } })).toMatch(/config sampler.guidance = 2 must be 1 for an unconditional UNet/);
    expect(problem({ ...good, schedule: { kind: 'quadratic', steps: 25 } })).toMatch(/config schedule.kind = "quadratic" must be one of linear, cosine/);
    expect(() => new DiffusionModel(engine, { ...good, unet: { ...good.unet, groups: 5 } })).toThrow(/DiffusionModel: config unet.groups = 5 must divide/);
  });
});
