import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { diffusionModelFromBytes, DiffusionModel } from '../../src/models/diffusion/diffusion-model.js';
import { maskedImageCond } from '../../src/models/diffusion/inpaint-cond.js';
import { checkDiffusionConfig } from '../../src/models/diffusion/schema.js';
import { unetActivationBytes, unetParamCount, unetParamShapes } from '../../src/models/unet/shapes.js';
import { UNet } from '../../src/models/unet/unet.js';
import type { UNetConfig } from '../../src/models/unet/config.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { checkpointPath, defaultLoopOptions, runTraining, type LoopOptions } from '../../src/train/loop.js';
import { pairedTensorData } from '../../src/train/paired-data.js';
import { DiffusionTask } from '../../src/train/tasks/diffusion.js';
import { tensorData } from '../../src/train/tensor-data.js';
import { referenceAndWasm } from '../helpers/engine-pair.js';
import { condConfig, maxDiff, randomizeOutput, tinyConfig, values } from './diffusion-fixtures.js';

let ref: Engine, wasm: Engine;
beforeAll(async () => { ({ ref, wasm } = await referenceAndWasm()); });
afterAll(() => { ref.dispose(); wasm.dispose(); });


describe('UNet condChannels: the first convolution sees concat(x_t, cond)', () => {
  const configs: Array<Partial<UNetConfig>> = [
    { imageSize: 8, inChannels: 1, outChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, attentionResolutions: [4], heads: 2, groups: 4, classes: 0, condChannels: 1 },
    { imageSize: 8, inChannels: 3, outChannels: 3, baseChannels: 4, channelMults: [1, 2], resBlocks: 1, attentionResolutions: [], heads: 1, groups: 2, classes: 3, condChannels: 4 },
  ];
  it('the shapes from the config name every parameter the UNet builds; in_conv alone grows, by base · cond · 9 weights', () => {
    for (const c of configs) {
      const unet = new UNet(ref, c);
      const built = new Map([...unet.namedParams()].map(([k, p]) => [k, [...p.shape]]));
      expect(new Map([...unetParamShapes(unet.config)].sort()), JSON.stringify(c)).toEqual(new Map([...built].sort()));
      expect(built.get('in_conv.weight')).toEqual([c.baseChannels, c.inChannels! + c.condChannels!, 3, 3]);
      expect(unetParamCount(unet.config)).toBe(unet.paramCount());
      expect(unet.paramCount() - unetParamCount({ ...unet.config, condChannels: 0 })).toBe(c.baseChannels! * c.condChannels! * 9);
      expect(unetActivationBytes(unet.config)).toBeGreaterThan(unetActivationBytes({ ...unet.config, condChannels: 0 }));
      unet.dispose();
    }
  });

  it('the condition changes ε̂; a missing, extra or misshapen one is one line', () => {
    const c = configs[0]!;
    const unet = new UNet(ref, c, { seed: 2 });
    unet.outConv.weight.value = ref.tensor(new Rng(4).uniforms(unet.outConv.weight.size, -0.2, 0.2), unet.outConv.weight.shape);
    const x = ref.tensor(new Rng(5).uniforms(2 * 64, -1, 1), [2, 1, 8, 8]);
    const [c1, c2] = [ref.tensor(new Rng(6).uniforms(128, -1, 1), [2, 1, 8, 8]), ref.tensor(new Rng(7).uniforms(128, -1, 1), [2, 1, 8, 8])];
    const a = ref.noGrad(() => unet.forward(x, [3, 9], undefined, c1)).dataSync();
    const b = ref.noGrad(() => unet.forward(x, [3, 9], undefined, c2)).dataSync();
    expect(maxDiff(a, b)).toBeGreaterThan(1e-3);
    expect(() => unet.forward(x, [3, 9])).toThrow(/^unet: this UNet is image-conditioned: give cond \[2, 1, 8, 8\]$/);
    expect(() => unet.forward(x, [3, 9], undefined, ref.tensor(new Float32Array(64), [1, 1, 8, 8]))).toThrow(/^unet: cond must be \[2, 1, 8, 8\], got \[1, 1, 8, 8\]$/);
    const plain = new UNet(ref, { ...c, condChannels: 0 });
    expect(() => plain.forward(x, [3, 9], undefined, c1)).toThrow(/^unet: cond was given to a UNet without condChannels$/);
    plain.dispose();
    unet.dispose();
    for (const t of [x, c1, c2]) t.dispose();
  });
});

describe('configs and files from before image conditioning', () => {
  it('no condChannels key builds the same UNet as condChannels 0 (same seeded weights, same ε̂)', () => {
    const old = tinyConfig().unet, zero = { ...old, condChannels: 0 };
    expect('condChannels' in old).toBe(false);
    const [a, b] = [new UNet(ref, old, { seed: 5 }), new UNet(ref, zero, { seed: 5 })];
    expect(a.config.condChannels).toBe(0);
    for (const [[ka, pa], [kb, pb]] of [...a.namedParams()].map((e, i) => [e, [...b.namedParams()][i]!] as const)) {
      expect(ka).toBe(kb);
      expect(Array.from(pa.value.dataSync()), ka).toEqual(Array.from(pb.value.dataSync()));
    }
    expect(a.inConv.weight.shape).toEqual([8, 1, 3, 3]);
    a.dispose();
    b.dispose();
  });

  it('a file without the key loads, samples as the model that wrote it, and writes back byte for byte', async () => {
    const model = new DiffusionModel(wasm, tinyConfig(), { seed: 3 });
    randomizeOutput(model);
    const bytes = await model.toBytes();
    const config = JSON.parse(decodeSafetensors(bytes).metadata['inflow.config']!) as Record<string, Record<string, unknown>>;
    expect('conditioning' in config).toBe(false);
    expect('condChannels' in config.unet!).toBe(false);
    const loaded = diffusionModelFromBytes(bytes, { engine: wasm });
    expect(loaded.conditioning).toBeNull();
    expect(loaded.condShape).toBeNull();
    expect(Array.from(await loaded.toBytes())).toEqual(Array.from(bytes));
    const opts = { steps: 4, eta: 0.5, guidance: 2.5, labels: [2, 0, 1], seed: 7, output: 'data' as const };
    expect(await values(await loaded.sample(3, opts))).toEqual(await values(await model.sample(3, opts)));
    model.dispose();
    loaded.dispose();
  });
});

describe('the conditioning entry of the model config', () => {
  const problem = (c: unknown) => {
    const r = checkDiffusionConfig(c);
    return r.ok ? null : r.problem;
  };
  it('unet.condChannels must equal conditioning.channels; inChannels stays the data\'s channels and outChannels equal to it', () => {
    const good = condConfig(2);
    expect(problem(good)).toBeNull();
    expect(problem({ ...good, unet: { ...good.unet, condChannels: 3 } })).toMatch(/^config unet.condChannels = 3 must equal conditioning.channels \(2\)/);
    const { conditioning: _c, ...bare } = good;
    expect(problem(bare)).toMatch(/^config unet.condChannels = 2 needs a conditioning entry/);
    const { condChannels: _u, ...noCond } = good.unet;
    expect(problem({ ...good, unet: noCond })).toMatch(/^config unet.condChannels is missing: it must equal conditioning.channels \(2\)/);
    expect(problem({ ...good, conditioning: { ...good.conditioning, task: 'colourise' } })).toMatch(/^config conditioning.task = "colourise" must be one of super-resolution, restoration, inpainting, image$/);
    expect(problem({ ...good, conditioning: { ...good.conditioning, channels: 0 } })).toMatch(/^config conditioning.channels = 0 must be an integer from 1 to 64$/);
    expect(problem({ ...good, conditioning: { ...good.conditioning, extra: 1 } })).toMatch(/^config conditioning has unknown key 'extra'/);
    expect(problem({ ...good, unet: { ...good.unet, outChannels: 3 } })).toMatch(/^config unet.outChannels = 3 must equal unet.inChannels \(1\)/);
    expect(problem({ ...good, unet: { ...good.unet, condChannels: -1 } })).toMatch(/^config unet.condChannels = -1 must be an integer from 0 to 64$/);
  });
});

describe('image-conditioned sampling', () => {
  it('checks cond: required, [n, c, H, W] (Tensor or numbers), finite — each a one-line error', async () => {
    const model = new DiffusionModel(ref, condConfig(2), { seed: 1 });
    const op = 'DiffusionModel.sample';
    await expect(model.sample(2, { steps: 2 })).rejects.toThrow(new RegExp(`^${op}: this model is image-conditioned \\(super-resolution\\): give cond, \\[2, 2, 8, 8\\] in the model's data units$`));
    await expect(model.sample(2, { steps: 2, cond: ref.tensor(new Float32Array(128), [1, 2, 8, 8]) })).rejects.toThrow(/^DiffusionModel.sample: cond must be \[2, 2, 8, 8\], got \[1, 2, 8, 8\]$/);
    await expect(model.sample(2, { steps: 2, cond: ref.tensor(new Float32Array(128), [2, 1, 8, 8]) })).rejects.toThrow(/cond must be \[2, 2, 8, 8\], got \[2, 1, 8, 8\]/);
    await expect(model.sample(2, { steps: 2, cond: new Float32Array(100) })).rejects.toThrow(/^DiffusionModel.sample: cond must be \[2, 2, 8, 8\]: 256 numbers, got 100$/);
    const nan = new Float32Array(256);
    nan[17] = NaN;
    await expect(model.sample(2, { steps: 2, cond: nan })).rejects.toThrow(/^DiffusionModel.sample: cond\[17\] = NaN is not a finite number$/);
    await expect(model.sample(2, { steps: 2, cond: 'bright' as never })).rejects.toThrow(/^DiffusionModel.sample: cond must be a Tensor \[2, 2, 8, 8\] or an array of numbers, got "bright"$/);
    model.dispose();
    const plain = new DiffusionModel(ref, tinyConfig(25, 0), { seed: 1 });
    await expect(plain.sample(1, { cond: new Float32Array(64) })).rejects.toThrow(/^DiffusionModel.sample: cond was given but the model is not image-conditioned/);
    plain.dispose();
  });

  it('the condition steers the samples; a Tensor and its numbers give the same images; save → load keeps both', async () => {
    const model = new DiffusionModel(ref, condConfig(2), { seed: 1 });
    randomizeOutput(model);
    expect(model.conditioning).toEqual({ kind: 'image', channels: 2, task: 'super-resolution' });
    expect(model.condShape).toEqual([2, 8, 8]);
    const c1 = new Rng(3).uniforms(256, -1, 1), c2 = new Rng(4).uniforms(256, -1, 1);
    const opts = { steps: 4, seed: 2, output: 'data' as const };
    const a = await values(await model.sample(2, { ...opts, cond: c1 }));
    const b = await values(await model.sample(2, { ...opts, cond: ref.tensor(c1, [2, 2, 8, 8]) }));
    const c = await values(await model.sample(2, { ...opts, cond: c2 }));
    expect(maxDiff(a, b)).toBe(0);
    expect(maxDiff(a, c)).toBeGreaterThan(1e-3);
    const loaded = diffusionModelFromBytes(await model.toBytes(), { engine: ref });
    expect(loaded.config).toEqual(model.config);
    expect(maxDiff(await values(await loaded.sample(2, { ...opts, cond: c1 })), a)).toBe(0);
    loaded.dispose();
    model.dispose();
  });

  it('with class labels too: guidance acts on the label, the condition goes to both passes', async () => {
    const model = new DiffusionModel(ref, condConfig(1, 3), { seed: 2 });
    randomizeOutput(model, 6);
    const cond = new Rng(8).uniforms(128, -1, 1), xT = new Rng(12).normals(128, 1);
    const one = async (guidance: number) => values(await model.sample(2, { steps: 1, clip: false, labels: [2, 0], cond, xT, guidance, output: 'data' }));
    const [w0, w1, w3] = [await one(0), await one(1), await one(3)];
    expect(maxDiff(w0, w1)).toBeGreaterThan(1e-3);
    // One unclipped step from x_T returns x̂_0, linear in ε̂: x̂_0(w) = x̂_0(0) + w (x̂_0(1) − x̂_0(0)).
    expect(maxDiff(w3, w0.map((v, i) => v + 3 * (w1[i]! - v)))).toBeLessThan(1e-9);
    model.dispose();
  });

  it('mask-conditioned inpainting (SD kind): cond = concat(masked image, mask) has C + 1 channels', async () => {
    const image = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => (i % 7) / 7 - 0.5);
    const mask = Float32Array.from({ length: 2 * 4 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const cond = maskedImageCond(image, mask, [2, 3, 2, 2]);
    expect(cond).toHaveLength(2 * 4 * 4);
    for (let b = 0; b < 2; b++)
      for (let p = 0; p < 4; p++) {
        const m = mask[b * 4 + p]!;
        expect(cond[(b * 4 + 3) * 4 + p]).toBe(m);
        for (let c = 0; c < 3; c++) expect(cond[(b * 4 + c) * 4 + p]).toBe(m ? 0 : image[(b * 3 + c) * 4 + p]);
      }
    expect(() => maskedImageCond(image, mask.map((v) => v * 0.5), [2, 3, 2, 2])).toThrow(/^maskedImageCond: mask\[0\] = 0.5 must be 0 \(keep\) or 1 \(fill\)$/);
    expect(() => maskedImageCond(image, mask, [2, 3, 2, 3])).toThrow(/image has 24 values, \[2, 3, 2, 3\] needs 36/);
    // A 1-channel model conditioned on its masked image and mask: 2 channels, task 'inpainting'.
    const config = condConfig(2);
    const model = new DiffusionModel(ref, { ...config, conditioning: { kind: 'image', channels: 2, task: 'inpainting' } });
    const x = await model.sample(1, { steps: 2, cond: maskedImageCond(new Float32Array(64).fill(0.5), new Float32Array(64).fill(1), [1, 1, 8, 8]) });
    expect(x.shape).toEqual([1, 1, 8, 8]);
    x.dispose();
    model.dispose();
  });
});

describe('DiffusionTask with image conditions (PairedTensorData)', () => {
  /** 32 images of a bright square at a random place; the condition is the image plus N(0, 0.1²) noise, so it tells where the square is. */
  const targets = (() => {
    const rng = new Rng(5), v = new Float32Array(32 * 64).fill(-1);
    for (let n = 0; n < 32; n++) {
      const y = rng.below(5), x = rng.below(5);
      for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) v[n * 64 + (y + i) * 8 + x + j] = 1;
    }
    return tensorData(v, [1, 8, 8]);
  })();
  const noisyCopy = pairedTensorData(targets, {
    shape: [1, 8, 8],
    make: (_indices, t, rng) => Float32Array.from(t, (v) => v + 0.1 * rng.normal()),
  });
  const opts = (o: Partial<LoopOptions>): LoopOptions => ({ ...defaultLoopOptions, epochs: 50, batch: 8, lr: 2e-3, warmupSteps: 5, clip: 1, seed: 3, ...o });
  const avg = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

  it('an informative condition: the ε-loss falls over 60 steps, and the trained UNet relies on it (its own condition beats another image\'s)', async () => {
    const model = new DiffusionModel(wasm, condConfig(1, 0, 100), { seed: 1 });
    const task = new DiffusionTask(model.unet, model.schedule);
    const losses: number[] = [];
    await runTraining(task, noisyCopy, opts({ maxSteps: 60 }), { onStep: (m) => losses.push(m.loss) });
    expect(avg(losses.slice(-10)), losses.map((v) => v.toFixed(2)).join(' ')).toBeLessThan(0.6 * avg(losses.slice(0, 10)));
    // The ε-loss on all 32 images at noise levels t = 10 … 39 (ᾱ from 0.9 to 0.2), where x_t alone leaves doubt about
    // where the square is: with each image's own condition, and with the next image's.
    const n = 32, idx = [...Array(n).keys()], rng = new Rng(21);
    const x0 = targets.values(idx), eps = rng.normals(n * 64, 1), t = idx.map((i) => 10 + ((i * 37) % 30));
    const xt = x0.map((v, k) => {
      const ab = model.schedule.alphaBars[t[Math.floor(k / 64)]!]!;
      return Math.sqrt(ab) * v + Math.sqrt(1 - ab) * eps[k]!;
    });
    const own = noisyCopy.cond(idx, x0, rng), other = noisyCopy.cond(idx.map((i) => (i + 1) % n), targets.values(idx.map((i) => (i + 1) % n)), rng);
    const loss = async (cond: Float32Array) => {
      const e = await values(wasm.noGrad(() => model.unet.forward(wasm.tensor(xt, [n, 1, 8, 8]), t, undefined, wasm.tensor(cond, [n, 1, 8, 8]))));
      return e.reduce((s, v, k) => s + (v - eps[k]!) ** 2, 0) / e.length;
    };
    const [lo, hi] = [await loss(own), await loss(other)];
    expect(lo, `own condition ${lo.toFixed(3)}, another image's ${hi.toFixed(3)}`).toBeLessThan(0.6 * hi);
    task.dispose();
    model.dispose();
  }, 300_000);

  it('condDropout zeroes whole conditions at its rate; data and denoiser must agree on conditioning', async () => {
    const seen = async (condDropout: number) => {
      const model = new DiffusionModel(wasm, condConfig(1, 0, 100), { seed: 1 });
      const zeroed: boolean[] = [];
      const forward = model.unet.forward.bind(model.unet);
      model.unet.forward = (x, t, y, c) => {
        const v = c!.dataSync();
        for (let i = 0; i < c!.shape[0]!; i++) zeroed.push(v.subarray(i * 64, (i + 1) * 64).every((e) => e === 0));
        return forward(x, t, y, c);
      };
      const task = new DiffusionTask(model.unet, model.schedule, { condDropout });
      await runTraining(task, noisyCopy, opts({ maxSteps: 10 }));
      task.dispose();
      model.dispose();
      return zeroed;
    };
    const none = await seen(0), half = await seen(0.5), all = await seen(1);
    expect(none).toHaveLength(80);
    expect(none.some((z) => z)).toBe(false);
    expect(all.every((z) => z)).toBe(true);
    const k = half.filter((z) => z).length;
    expect(k).toBeGreaterThan(25);
    expect(k).toBeLessThan(55);

    const cond = new DiffusionModel(wasm, condConfig(1, 0, 100)), plain = new DiffusionModel(wasm, tinyConfig(100, 0));
    expect(() => new DiffusionTask(cond.unet, cond.schedule, { condDropout: 1.5 })).toThrow(/^DiffusionTask: condDropout = 1.5 must be in \[0, 1\]$/);
    await expect(runTraining(new DiffusionTask(cond.unet, cond.schedule), targets, opts({ maxSteps: 1 })))
      .rejects.toThrow(/^DiffusionTask: the denoiser takes a 1-channel image condition: train it on paired data/);
    await expect(runTraining(new DiffusionTask(plain.unet, plain.schedule), noisyCopy, opts({ maxSteps: 1 })))
      .rejects.toThrow(/^DiffusionTask: the data carry image conditions, but the denoiser takes none/);
    expect(() => pairedTensorData(targets, tensorData(new Float32Array(64 * 3), [1, 8, 8]))).toThrow(/^pairedTensorData: 3 conditions for 32 targets/);
    cond.dispose();
    plain.dispose();
  }, 300_000);

  it('5 steps, checkpoint, resume, 5 more = 10 uninterrupted steps, bit for bit (conditions drawn from the run\'s RNG)', async () => {
    const run = async (o: Partial<LoopOptions>, resume?: ReturnType<typeof loadCheckpoint>) => {
      const model = new DiffusionModel(wasm, condConfig(1, 0, 100), { seed: resume ? 77 : 1 });
      const task = new DiffusionTask(model.unet, model.schedule, { condDropout: 0.3 });
      await runTraining(task, noisyCopy, opts(o), {}, resume);
      const state = [...(await model.unet.stateDict())].map(([k, v]) => [k, Array.from(v.data)]);
      task.dispose();
      model.dispose();
      return state;
    };
    const want = await run({ maxSteps: 10 });
    const dir = mkdtempSync(join(tmpdir(), 'inflow-cond-diffusion-'));
    await run({ maxSteps: 5, checkpointDir: dir, checkpointEvery: 5 });
    expect(await run({ maxSteps: 10, checkpointDir: dir }, loadCheckpoint(checkpointPath(dir)))).toEqual(want);
  }, 300_000);
});
