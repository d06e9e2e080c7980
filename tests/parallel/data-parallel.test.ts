import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, mean, square, sub, type Engine, type Tensor } from '../../src/index.js';
import { Rng } from '../../src/data/rng.js';
import type { FlowModel } from '../../src/models/index.js';
import { noiseSchedule } from '../../src/models/diffusion/schedule.js';
import { UNet } from '../../src/models/unet/unet.js';
import type { Module } from '../../src/nn/module.js';
import { DataParallel } from '../../src/parallel/data-parallel.js';
import { Optimizer } from '../../src/train/optimizer.js';
import { evaluateBitsPerDim, evaluateWithClasses } from '../../src/train/evaluate.js';
import type { ImageDataset } from '../../src/data/dataset.js';
import { build } from '../models/build.js';
import { DiffusionModel, type DiffusionSampleOptions } from '../../src/models/diffusion/diffusion-model.js';
import type { DiffusionModelConfig } from '../../src/models/diffusion/schema.js';
import { condConfig, randomizeOutput, tinyConfig } from '../models/diffusion-fixtures.js';

// Small models: a 3-class flow whose couplings see the label (so unlabelled scores run batched class
// passes) and a class-conditional UNet. Each replica runs a one-thread wasm engine.
const FLOW = { inputShape: [1, 8, 8] as [number, number, number], levels: 2, steps: 2, width: 8, classes: 3, classCouplings: true };
const UNET = { imageSize: 8, inChannels: 1, outChannels: 1, baseChannels: 8, channelMults: [1, 2], resBlocks: 1, attentionResolutions: [4], heads: 2, groups: 4, classes: 3 };

const engines: Engine[] = [];
async function engine(): Promise<Engine> {
  const e = await createEngine({ backend: 'wasm', threads: 1 });
  engines.push(e);
  return e;
}
afterAll(() => { for (const e of engines) e.dispose(); });

const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));
const pixels = (n: number, seed: number): Float32Array => Float32Array.from(new Rng(seed).uniforms(n * 64, 0, 256));
const adam = (e: Engine): Optimizer => new Optimizer(e, { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 });

async function read(t: Tensor): Promise<Float32Array> {
  const d = await t.data();
  t.dispose();
  return d;
}

async function weights(m: Module): Promise<Float32Array[]> {
  return [...(await m.stateDict()).values()].map((v) => v.data);
}

/**
 * A flow with initialised ActNorms (a first batch seen) and every weight moved off its
 * initialisation, so the classes score differently (zero-initialised outputs would hide the label).
 */
async function flow(seed = 1): Promise<FlowModel> {
  const m = build('finc', FLOW, await engine(), seed);
  m.initialize(m.engine.tensor(pixels(8, 99), [8, 1, 8, 8]));
  const rng = new Rng(seed + 100), state = await m.stateDict();
  for (const v of state.values()) v.data = v.data.map((w) => w + 0.05 * rng.normal());
  m.loadStateDict(state);
  return m;
}

describe('data-parallel flow', () => {
  let m: FlowModel;
  let dp: DataParallel;
  beforeAll(async () => {
    m = await flow();
    dp = await DataParallel.create(m, { threads: 2 });
  });
  afterAll(async () => { await dp.close(); m.dispose(); });

  it('scores a batch with the same bits as the model on one engine, labelled and not', async () => {
    const x = pixels(5, 1), dims = [5, 1, 8, 8];
    expect(dp.threads).toBe(2);
    const plain = await read(m.engine.noGrad(() => m.logProb(m.engine.tensor(x, dims))));
    const parallel = await dp.logProb(x, dims);
    expect(same(parallel, plain)).toBe(true);
    expect(dp.lastShardMs).toHaveLength(2);
    const labels = [0, 2, 1, 1, 0];
    const plainY = await read(m.engine.noGrad(() => m.logProb(m.engine.tensor(x, dims), { labels })));
    expect(same(await dp.logProb(x, dims, { labels }), plainY)).toBe(true);
    expect(same(plainY, plain)).toBe(false);
  });

  it('the batched class passes give each class the bits of its own labelled pass', async () => {
    const x = pixels(4, 2), t = m.engine.tensor(x, [4, 1, 8, 8]);
    const all = await read(m.engine.noGrad(() => m.classLogProbs(t)));
    for (let y = 0; y < 3; y++) {
      const one = await read(m.engine.noGrad(() => m.logProb(t, { labels: [y, y, y, y] })));
      expect(same(Array.from({ length: 4 }, (_, i) => all[i * 3 + y]!), one)).toBe(true);
    }
    t.dispose();
  });

  it('gives bits/dim and per-class scores, and an evaluation, the bits of one engine', async () => {
    const x = pixels(5, 6), dims = [5, 1, 8, 8], t = m.engine.tensor(x, dims);
    const bpd = await read(m.engine.noGrad(() => m.bitsPerDim(t, { range: 'pixels' })));
    expect(same(await dp.bitsPerDim(x, dims, { range: 'pixels' }), bpd)).toBe(true);
    const perClass = await read(m.engine.noGrad(() => m.classLogProbs(t, { range: 'pixels' })));
    expect(same(await dp.classLogProbs(x, dims, { range: 'pixels' }), perClass)).toBe(true);
    t.dispose();
    // 13 labelled images in batches of 4: the short last batch too.
    const rng = new Rng(8);
    const data: ImageDataset = { name: 'noise', images: Uint8Array.from({ length: 13 * 64 }, () => rng.below(256)), labels: Int32Array.from({ length: 13 }, () => rng.below(3)), count: 13, shape: [1, 8, 8] };
    const plain = await evaluateWithClasses(m, data, 4);
    const parallel = await evaluateWithClasses(m, data, 4, undefined, dp);
    expect(Object.is(parallel.bitsPerDim, plain.bitsPerDim)).toBe(true);
    expect(parallel.accuracy).toBe(plain.accuracy);
    expect(Object.is(await evaluateBitsPerDim(m, data, 4, undefined, dp), await evaluateBitsPerDim(m, data, 4))).toBe(true);
  });

  it('samples the images model.sample draws for the same seed', async () => {
    const plain = await read(await m.sample(7, { seed: 4, temperature: 0.8 }));
    expect(same(await dp.sample(7, { seed: 4, temperature: 0.8 }), plain)).toBe(true);
    const flowOut = await read(await m.sample(3, { seed: 5, labels: [2], output: 'flow' }));
    expect(same(await dp.sample(3, { seed: 5, labels: [2], output: 'flow' }), flowOut)).toBe(true);
  });

  it('follows the model: weights changed after create reach the replicas before the next call', async () => {
    const other = await flow(7);
    const x = pixels(4, 3), dims = [4, 1, 8, 8];
    const before = await dp.logProb(x, dims);
    const saved = await m.stateDict();
    m.loadStateDict(await other.stateDict());
    const plain = await read(m.engine.noGrad(() => m.logProb(m.engine.tensor(x, dims))));
    const after = await dp.logProb(x, dims);
    expect(same(after, plain)).toBe(true);
    expect(same(after, before)).toBe(false);
    m.loadStateDict(saved);
    expect(same(await dp.logProb(x, dims), before)).toBe(true);
    other.dispose();
  });

  it('refuses bad arguments with one line naming them', async () => {
    await expect(dp.logProb(pixels(2, 1), [3, 1, 8, 8])).rejects.toThrow(/shape \[3, 1, 8, 8\] holds 192 values but the batch has 128/);
    await expect(dp.logProb(pixels(2, 1), [2, 1, 8, 8], { labels: [0] })).rejects.toThrow(/1 labels for 2 images/);
    await expect(dp.logProb(new Float32Array(128).fill(0.5), [2, 1, 8, 8])).rejects.toThrow(/normalised/);
    await expect(dp.denoise(pixels(2, 1), [2, 1, 8, 8], [1, 2])).rejects.toThrow(/needs a UNet/);
    const fresh = build('finc', FLOW, await engine(), 3);
    const dpFresh = await DataParallel.create(fresh, { threads: 1 });
    await expect(dpFresh.flowStep(pixels(2, 1), [2, 1, 8, 8], { optimizer: adam(fresh.engine), lr: 1e-3 })).rejects.toThrow(/ActNorms are not initialised/);
    await dpFresh.close();
    await expect(dpFresh.logProb(pixels(2, 1), [2, 1, 8, 8])).rejects.toThrow(/was closed/);
    fresh.dispose();
    await expect(DataParallel.create(m, { threads: 0 })).rejects.toThrow(/threads = 0/);
    const ref = await createEngine({ backend: 'reference' });
    await expect(DataParallel.create(build('finc', FLOW, ref, 1), { threads: 2 })).rejects.toThrow(/replicates wasm models/);
    ref.dispose();
  });
});

describe('a replica that dies', () => {
  it('fails the call in one line naming the replica, and close() still returns', async () => {
    const m = await flow(2);
    const dp = await DataParallel.create(m, { threads: 2 });
    const worker = (dp as unknown as { pool: { workers: Array<{ worker: { terminate(): Promise<number> } }> } }).pool.workers[0]!.worker;
    await worker.terminate();
    await expect(dp.logProb(pixels(4, 1), [4, 1, 8, 8])).rejects.toThrow(/dataParallel: replica 1 stopped \(exited with code 1\)/);
    await dp.close();
    m.dispose();
  });

  it('a replica that cannot take new weights stops rather than answer with stale ones', async () => {
    const m = await flow(3);
    const dp = await DataParallel.create(m, { threads: 2 });
    const pool = (dp as unknown as { pool: { workers: Array<{ send(msg: unknown): void }> } }).pool;
    const name = [...m.namedState().keys()][0]!;
    pool.workers[0]!.send({ type: 'state', state: [[name, { data: new Float32Array(3), shape: [3] }]] });
    await expect(dp.logProb(pixels(4, 1), [4, 1, 8, 8])).rejects.toThrow(/replica 1 stopped \(could not take the model's new weights: .*has shape \[3\]/);
    await dp.close();
    m.dispose();
  });
});

describe('data-parallel training', () => {
  it('a flow step on 2 threads leaves the same weights as its shards on 1 thread, and the loss of one engine', async () => {
    const [a, b, c] = [await flow(), await flow(), await flow()];
    const dpA = await DataParallel.create(a, { threads: 2, shards: 2 });
    const dpB = await DataParallel.create(b, { threads: 1, shards: 2 });
    const [oa, ob, oc] = [adam(a.engine), adam(b.engine), adam(c.engine)];
    const live = a.engine.memory().tensors;
    const losses: number[][] = [[], [], []];
    const x = pixels(6, 10), dims = [6, 1, 8, 8];
    for (let s = 0; s < 3; s++) {
      const ra = await dpA.flowStep(x, dims, { optimizer: oa, lr: 3e-3, clip: 100 });
      const rb = await dpB.flowStep(x, dims, { optimizer: ob, lr: 3e-3, clip: 100 });
      expect(ra.applied).toBe(true);
      losses[0]!.push(ra.loss);
      losses[1]!.push(rb.loss);
      const params = c.parameters();
      const { value, grads } = c.engine.valueAndGrads(() => mean(c.bitsPerDim(c.engine.tensor(x, dims))), params.map((p) => p.value));
      losses[2]!.push((await read(value))[0]!);
      oc.step(params, grads as Tensor[], 3e-3);
      for (const g of grads) g.dispose();
    }
    expect(losses[0]).toEqual(losses[1]);
    const [wa, wb] = [await weights(a), await weights(b)];
    expect(wa.every((w, i) => same(w, wb[i]!))).toBe(true);
    // The shard sum reorders float32 additions: equal to one engine's step up to rounding.
    for (let s = 0; s < 3; s++) expect(Math.abs(losses[0]![s]! - losses[2]![s]!)).toBeLessThan(1e-4 * Math.abs(losses[2]![s]!));
    expect(losses[0]![2]).toBeLessThan(losses[0]![0]!);
    // The optimizer's moments are the only tensors a step adds (two per parameter, made on the first step).
    expect(a.engine.memory().tensors).toBe(live + 2 * a.parameters().length);
    await dpA.close();
    await dpB.close();
    for (const m of [a, b, c]) m.dispose();
  });

  it('a UNet step matches across thread counts, and its forward matches one engine', async () => {
    const schedule = noiseSchedule('cosine', 100);
    const nets = [new UNet(await engine(), UNET, { seed: 2 }), new UNet(await engine(), UNET, { seed: 2 }), new UNet(await engine(), UNET, { seed: 2 })];
    const [dpA, dpB] = [await DataParallel.create(nets[0]!, { threads: 2, shards: 3 }), await DataParallel.create(nets[1]!, { threads: 1, shards: 3 })];
    const rng = new Rng(3), n = 5, dims = [n, 1, 8, 8];
    const x0 = Float32Array.from(rng.uniforms(n * 64, -1, 1)), noise = Float32Array.from(rng.normals(n * 64, 1));
    const t = [3, 50, 99, 0, 20], labels = [0, 1, 2, 3, 1];
    const plain = await read(nets[2]!.engine.noGrad(() => nets[2]!.forward(nets[2]!.engine.tensor(x0, dims), t, labels)));
    expect(same(await dpA.denoise(x0, dims, t, { labels }), plain)).toBe(true);
    const [oa, ob] = [adam(nets[0]!.engine), adam(nets[1]!.engine)];
    const batch = { x0, shape: dims, t, noise, labels };
    const la: number[] = [], lb: number[] = [];
    for (let s = 0; s < 3; s++) {
      la.push((await dpA.diffusionStep(batch, schedule, { optimizer: oa, lr: 1e-2, prediction: 'v' })).loss);
      lb.push((await dpB.diffusionStep(batch, schedule, { optimizer: ob, lr: 1e-2, prediction: 'v' })).loss);
    }
    expect(la).toEqual(lb);
    expect(la[2]).toBeLessThan(la[0]!);
    const [wa, wb] = [await weights(nets[0]!), await weights(nets[1]!)];
    expect(wa.every((w, i) => same(w, wb[i]!))).toBe(true);
    await expect(dpA.diffusionStep({ ...batch, t: [1, 2, 3, 4, 100] }, schedule, { optimizer: oa, lr: 1e-2 })).rejects.toThrow(/timestep 100 is outside 0…99/);
    await dpA.close();
    await dpB.close();
    const dropout = new UNet(await engine(), { ...UNET, dropout: 0.1 }, { seed: 2 });
    const dpD = await DataParallel.create(dropout, { threads: 1 });
    await expect(dpD.diffusionStep(batch, schedule, { optimizer: adam(dropout.engine), lr: 1e-2 })).rejects.toThrow(/dropout 0.1/);
    await dpD.close();
    for (const u of [...nets, dropout]) u.dispose();
  });

  it('the loss it minimises is the diffusion task\'s ε-loss: mean squared error to the noise', async () => {
    const schedule = noiseSchedule('cosine', 100);
    const u = new UNet(await engine(), UNET, { seed: 4 });
    const dp = await DataParallel.create(u, { threads: 2 });
    const rng = new Rng(5), n = 4, dims = [n, 1, 8, 8];
    const x0 = Float32Array.from(rng.uniforms(n * 64, -1, 1)), noise = Float32Array.from(rng.normals(n * 64, 1));
    const t = [5, 40, 70, 90], labels = [3, 3, 0, 1];
    // lr 0: the step computes the loss and changes nothing.
    const { loss } = await dp.diffusionStep({ x0, shape: dims, t, noise, labels }, schedule, { optimizer: adam(u.engine), lr: 0, prediction: 'epsilon' });
    const e = u.engine, ab = t.map((ti) => schedule.alphaBars[ti]!);
    const xt = Float32Array.from(x0, (v, i) => Math.sqrt(ab[Math.floor(i / 64)]!) * v + Math.sqrt(1 - ab[Math.floor(i / 64)]!) * noise[i]!);
    const expected = await read(e.noGrad(() => mean(square(sub(u.forward(e.tensor(xt, dims), t, labels), e.tensor(noise, dims))))));
    expect(Math.abs(loss - expected[0]!)).toBeLessThan(1e-5 * expected[0]!);
    await dp.close();
    u.dispose();
  });
});

describe('data-parallel diffusion sampling', () => {
  it('samples the images of one engine, guided, image-conditioned and v-predicting alike', async () => {
    const e = await engine();
    const cases: Array<[string, DiffusionModelConfig, DiffusionSampleOptions]> = [
      ['guided, 3 classes', tinyConfig(25, 3), { labels: [0, 1, 2, 1, 0], guidance: 2, method: 'ddpm' }],
      ['v-prediction, image condition', { ...condConfig(1, 0), prediction: 'v' }, { cond: Float64Array.from(new Rng(3).uniforms(5 * 64, -1, 1)) }],
    ];
    for (const [what, config, opts] of cases) {
      const m = new DiffusionModel(e, config, { seed: 2 });
      randomizeOutput(m);
      const dp = await DataParallel.create(m.unet, { threads: 2 });
      try {
        const plain = await read(await m.sample(5, { ...opts, seed: 7, steps: 4 }));
        const parallel = await read(await m.sample(5, { ...opts, seed: 7, steps: 4, replicas: dp }));
        expect(same(parallel, plain), what).toBe(true);
        expect(dp.lastShardMs, what).toHaveLength(2);
        await expect(m.sample(2, { replicas: { model: {}, denoise: dp.denoise.bind(dp) } } as DiffusionSampleOptions)).rejects.toThrow(/replicas must be DataParallel.create\(model.unet/);
      } finally {
        await dp.close();
        m.dispose();
      }
    }
  });
});
