import { afterAll, describe, expect, it } from 'vitest';
import { batchValues, subset, type ImageDataset } from '../../src/data/dataset.js';
import { mnistSplit } from '../../src/data/mnist.js';
import { Rng } from '../../src/data/rng.js';
import { loadModel, saveModel } from '../../src/io/model-file.js';
import { ClassPrior } from '../../src/layers/class-prior.js';
import { paramCount, type FlowModel } from '../../src/models/index.js';
import { dequantize, EVAL_NOISE_SEED, evaluateBitsPerDim, evaluateWithClasses } from '../../src/train/evaluate.js';
import { fitClassPrior } from '../../src/train/fit-class-prior.js';
import { train } from '../../src/train/trainer.js';
import { enginesUnderTest } from '../helpers/engines.js';
import { gradCheck } from '../helpers/gradcheck.js';
import { maxAbsDiff, perturb } from '../layers/contract.js';
import { build } from './build.js';

// The class-conditional top prior: its density against a float64 formula on every backend, its
// gradients against finite differences, the marginal as the exact mixture, sampling by class,
// the maximum-likelihood fit, saving, and supervised training.
const engines = await enginesUnderTest();
afterAll(() => { for (const e of engines) e.engine?.dispose(); });
const reference = engines[0]!.engine!;

const K = 3, shape = [2, 2, 2] as const, D = 8;
const values = (n: number, seed: number, scale = 1) => Float64Array.from(new Rng(seed).normals(n, scale));

/** log N(z; μ_k, exp(s_k)) in float64, straight from the definition. */
function expected(z: Float64Array, mu: Float64Array, s: Float64Array, n: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: K }, (_, k) => {
    let lp = 0;
    for (let j = 0; j < D; j++) {
      const t = (z[i * D + j]! - mu[k * D + j]!) * Math.exp(-s[k * D + j]!);
      lp += -0.5 * t * t - s[k * D + j]! - 0.5 * Math.log(2 * Math.PI);
    }
    return lp;
  }));
}

describe('ClassPrior density', () => {
  const mu = values(K * D, 1), s = values(K * D, 2, 0.3), z = values(4 * D, 3, 1.5);
  const labels = [2, 0, 1, 2];
  for (const { name, engine, skipReason } of engines) {
    it.skipIf(!engine)(`per-class log N, conditional and marginal on ${name}${skipReason ? ' (skipped)' : ''}`, async () => {
      const e = engine!;
      const prior = new ClassPrior(e, K, shape);
      prior.mean.value = e.tensor(mu, [K, ...shape]);
      prior.logScale.value = e.tensor(s, [K, ...shape]);
      const zt = e.tensor(z, [4, ...shape]);
      const want = expected(z, mu, s, 4);
      const tol = name === 'reference' ? 1e-9 : 2e-4;
      const all = await prior.classLogProbs(zt).data64();
      expect(maxAbsDiff(all, Float64Array.from(want.flat()))).toBeLessThan(tol * 50);
      const cond = await prior.logProb(zt, labels).data64();
      expect(maxAbsDiff(cond, Float64Array.from(labels.map((y, i) => want[i]![y]!)))).toBeLessThan(tol * 50);
      const marginal = await prior.logProb(zt).data64();
      const mix = want.map((row) => { const m = Math.max(...row); return m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0) / K); });
      expect(maxAbsDiff(marginal, Float64Array.from(mix))).toBeLessThan(tol * 50);
      prior.dispose();
      zt.dispose();
    });
  }

  it('gradients of the marginal and the conditional match finite differences (reference, float64)', async () => {
    const prior = new ClassPrior(reference, K, shape);
    for (const labelled of [false, true]) {
      const { maxError, where } = await gradCheck(reference, ([m, ls, zz]) => {
        prior.mean.value = m!;
        prior.logScale.value = ls!;
        return prior.logProb(zz!, labelled ? [1, 2] : undefined);
      }, [{ shape: [K, ...shape], data: values(K * D, 4) }, { shape: [K, ...shape], data: values(K * D, 5, 0.3) },
        { shape: [2, ...shape], data: values(2 * D, 6) }]);
      expect(maxError, where).toBeLessThan(1e-6);
    }
    prior.dispose();
  });

  it('refuses labels outside its classes and latents of another shape, naming them', () => {
    const prior = new ClassPrior(reference, K, shape);
    const zt = reference.tensor(values(2 * D, 7), [2, ...shape]);
    expect(() => prior.logProb(zt, [0, 3])).toThrow(/label 3 \(image 1\) is not a class of this model \(0…2\)/);
    expect(() => prior.logProb(zt, [0])).toThrow(/1 labels for 2 images/);
    expect(() => prior.logProb(reference.tensor(values(2 * 4, 7), [2, 1, 2, 2]))).toThrow(/does not match the prior's \[N, 2, 2, 2\]/);
    prior.dispose();
    zt.dispose();
  });
});

describe('a flow model with a class prior', () => {
  const cfg = { inputShape: [1, 8, 8] as [number, number, number], levels: 2, steps: 2, width: 8, classes: 4 };
  const pixels = (n: number, seed: number) => Float32Array.from(new Rng(seed).uniforms(n * 64, 0, 256));

  async function trainedLooking(): Promise<FlowModel> {
    const m = build('finc', cfg, reference, 1);
    await perturb(m, 0.05, 2);
    const p = m.prior!;
    p.mean.value = reference.tensor(values(p.mean.size, 8), p.mean.shape);
    p.logScale.value = reference.tensor(values(p.mean.size, 9, 0.2), p.mean.shape);
    m.markInitialized();
    return m;
  }

  it('counts, saves and reloads the prior with the model', async () => {
    const m = await trainedLooking();
    expect(m.classes).toBe(4);
    expect(m.paramCount()).toBe(paramCount('finc', cfg));
    expect(paramCount('finc', cfg) - paramCount('finc', { ...cfg, classes: undefined })).toBe(2 * 4 * 8 * 2 * 2);
    const loaded = await loadModel(await saveModel(m), { engine: reference });
    expect(loaded.classes).toBe(4);
    const x = reference.tensor(pixels(2, 1), [2, 1, 8, 8]);
    expect(maxAbsDiff(await loaded.logProb(x).data64(), await m.logProb(x).data64())).toBe(0);
    m.dispose();
    loaded.dispose();
  });

  it('p(x) is the equal-weight mixture of p(x | y)', async () => {
    const m = await trainedLooking();
    const x = reference.tensor(pixels(2, 2), [2, 1, 8, 8]);
    const marginal = await m.logProb(x).data64();
    const perClass = await Promise.all([0, 1, 2, 3].map((y) => m.logProb(x, [y, y]).data64()));
    for (let i = 0; i < 2; i++) {
      const terms = perClass.map((c) => c[i]!);
      const top = Math.max(...terms);
      expect(marginal[i]).toBeCloseTo(top + Math.log(terms.reduce((a, v) => a + Math.exp(v - top), 0) / 4), 9);
    }
    m.dispose();
  });

  it('samples the requested class: at temperature 0 the top latent is that class mean', async () => {
    const m = await trainedLooking();
    const labels = [3, 1];
    const z = m.sampleLatents(5, { temperature: 0, labels });
    const top = await z.at(-1)!.data64();
    const mu = await m.prior!.mean.value.data64();
    const per = top.length / 5;
    for (let i = 0; i < 5; i++) {
      const y = labels[i % 2]!;
      expect(maxAbsDiff(top.subarray(i * per, (i + 1) * per), mu.subarray(y * per, (y + 1) * per))).toBe(0);
    }
    // Decoded and encoded again, the class mean comes back (the flow is exact).
    const x = m.decode(z);
    const back = await m.encode(x).z.at(-1)!.data64();
    expect(maxAbsDiff(back, top)).toBeLessThan(1e-8);
    // Without labels, classes are drawn with the seed: the same seed gives the same images.
    const a = await (await m.sample(6, { seed: 4 })).data64();
    const b = await (await m.sample(6, { seed: 4 })).data64();
    expect(maxAbsDiff(a, b)).toBe(0);
    m.dispose();
  });

  it('refuses labels on a model without a prior, and an out-of-range class, in one line', async () => {
    const plain = build('finc', { ...cfg, classes: undefined }, reference);
    expect(() => plain.sampleLatents(2, { labels: [1] })).toThrow(/no class prior \(train it with --classes\)/);
    expect(() => plain.logProb(reference.tensor(pixels(1, 3), [1, 1, 8, 8]), [0])).toThrow(/no class prior/);
    const m = build('finc', cfg, reference);
    expect(() => m.sampleLatents(2, { labels: [9] })).toThrow(/label 9 \(image 0\) is not a class of this model \(0…3\)/);
    expect(() => build('finc', { ...cfg, classes: 1 }, reference)).toThrow(/classes = 1 must be an integer from 2 to 1000/);
    plain.dispose();
    m.dispose();
  });
});

describe('a flow whose coupling networks see the label', () => {
  const cfg = { inputShape: [1, 8, 8] as [number, number, number], levels: 2, steps: 2, width: 8, classes: 3, classCouplings: true };
  const pixels = (n: number, seed: number) => Float32Array.from(new Rng(seed).uniforms(n * 64, 0, 256));

  async function conditioned(engine = reference): Promise<FlowModel> {
    const m = build('finc', cfg, engine, 1);
    await perturb(m, 0.05, 2);
    m.markInitialized();
    return m;
  }

  it('adds a label offset to every coupling network (counted), and each label gives another bijection', async () => {
    const m = await conditioned();
    expect(m.classCouplings).toBe(true);
    const offsets = [...m.namedParams().keys()].filter((k) => k.endsWith('class.weight'));
    // 2 levels × 2 steps of couplings plus the SplitPrior's coupling
    expect(offsets).toHaveLength(5);
    expect(m.paramCount()).toBe(paramCount('finc', cfg));
    expect(paramCount('finc', cfg) - paramCount('finc', { ...cfg, classCouplings: false })).toBe(5 * 3 * 8);
    const x = reference.tensor(values(2 * 64, 10), [2, 1, 8, 8]);
    const z0 = m.encode(x, [0, 0]).z, z2 = m.encode(x, [2, 2]).z;
    expect(maxAbsDiff(await z0.at(-1)!.data64(), await z2.at(-1)!.data64())).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(await m.decode(z2, [2, 2]).data64(), await x.data64())).toBeLessThan(1e-9);
    m.dispose();
  });

  it('p(x) is the mixture of one pass per label; p(x | y) matches its pass', async () => {
    const m = await conditioned();
    const x = reference.tensor(pixels(2, 5), [2, 1, 8, 8]);
    const perClass = await m.classLogProbs(x).data64();
    const given = await Promise.all([0, 1, 2].map((y) => m.logProb(x, [y, y]).data64()));
    for (let i = 0; i < 2; i++) for (let y = 0; y < 3; y++) expect(perClass[i * 3 + y]).toBeCloseTo(given[y]![i]!, 9);
    const marginal = await m.logProb(x).data64();
    for (let i = 0; i < 2; i++) {
      const t = given.map((g) => g[i]!), top = Math.max(...t);
      expect(marginal[i]).toBeCloseTo(top + Math.log(t.reduce((a, v) => a + Math.exp(v - top), 0) / 3), 9);
    }
    expect(maxAbsDiff(await m.bitsPerDimFromClasses(m.classLogProbs(x)).data64(), await m.bitsPerDim(x).data64())).toBeLessThan(1e-12);
    m.dispose();
  });

  it('samples decode with their labels, identically on every backend', async () => {
    const saved = await saveModel(await conditioned());
    const out: Float64Array[] = [];
    for (const { engine } of engines) {
      if (!engine) continue;
      const m = await loadModel(saved, { engine });
      out.push(await (await m.sample(3, { seed: 2, temperature: 0.7, output: 'flow', labels: [0, 1, 2] })).data64());
      m.dispose();
    }
    for (const o of out.slice(1)) expect(maxAbsDiff(o, out[0]!)).toBeLessThan(2e-3);
  });

  it('encode and decode without labels say what is missing', async () => {
    const m = await conditioned();
    const x = reference.tensor(values(64, 11), [1, 1, 8, 8]);
    expect(() => m.encode(x)).toThrow(/coupling networks of this model see the label: pass labels \(0…2\) for the 1 images/);
    expect(() => build('finc', { ...cfg, classes: undefined }, reference)).toThrow(/classCouplings needs classes/);
    m.dispose();
  });
});

describe('fitting and training a class prior on MNIST digits', () => {
  const wasm = engines[1]!.engine!;
  const { train: all, test: allTest } = mnistSplit();
  const trainSet: ImageDataset = subset(all, [...Array(256).keys()]);
  const testSet: ImageDataset = subset(allTest, [...Array(100).keys()]);
  const cfg = { inputShape: [1, 28, 28] as [number, number, number], levels: 2, steps: 2, width: 16, classes: 10 };

  it('the maximum-likelihood fit is the per-class mean and spread of the top latent, and raises p(x | y)', async () => {
    const m = build('finc', cfg, wasm, 3);
    await train(m, trainSet, null, { epochs: 1, batch: 32, maxSteps: 4, seed: 1 });
    const x = Float32Array.from(trainSet.images.subarray(0, 32 * 784), (v) => v + 0.5);
    const labels = [...trainSet.labels!.subarray(0, 32)];
    const before = await wasm.scope(() => m.bitsPerDim(wasm.tensor(x, [32, 1, 28, 28]), labels)).data64();
    const fit = await fitClassPrior(m, trainSet);
    expect(fit.perClass.reduce((a, b) => a + b, 0)).toBe(256);
    // The same dequantisation noise, encoded in one batch: class y's mean and spread by hand.
    const xs = dequantize(batchValues(trainSet, [...Array(256).keys()]), new Rng(EVAL_NOISE_SEED));
    const top = await wasm.scope(() => m.flow.encode(m.preprocess.encode(wasm.tensor(xs, [256, 1, 28, 28])).y).z.at(-1)!).data64();
    const Dtop = top.length / 256, y = 7;
    const rows = [...Array(256).keys()].filter((i) => trainSet.labels![i] === y);
    const mu = await m.prior!.mean.value.data64(), ls = await m.prior!.logScale.value.data64();
    for (const j of [0, 5, Dtop - 1]) {
      const v = rows.map((i) => top[i * Dtop + j]!);
      const avg = v.reduce((a, b) => a + b, 0) / v.length;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - avg) ** 2, 0) / v.length);
      expect(mu[y * Dtop + j]).toBeCloseTo(avg, 4);
      expect(Math.exp(ls[y * Dtop + j]!)).toBeCloseTo(sd, 3);
    }
    const after = await wasm.scope(() => m.bitsPerDim(wasm.tensor(x, [32, 1, 28, 28]), labels)).data64();
    const mean = (v: Float64Array) => v.reduce((a, b) => a + b, 0) / v.length;
    console.log(`class prior fit: conditional bits/dim ${mean(before).toFixed(4)} → ${mean(after).toFixed(4)}`);
    expect(mean(after)).toBeLessThan(mean(before) - 0.01);
    m.dispose();
  });

  it('supervised training with labels lowers the held-out marginal bits/dim', async () => {
    const m = build('finc', cfg, wasm, 4);
    const result = await train(m, trainSet, testSet, { epochs: 5, batch: 32, lr: 3e-3, warmupSteps: 5, seed: 2 });
    const [first, last] = [result.heldOut[0]!.bitsPerDim, result.heldOut.at(-1)!.bitsPerDim];
    console.log(`class-prior training: held-out marginal bits/dim ${first.toFixed(3)} → ${last.toFixed(3)} over ${result.steps} steps`);
    expect(last).toBeLessThan(first - 0.1);
    expect(await evaluateBitsPerDim(m, testSet)).toBeCloseTo(last, 6);
    // The same passes give the flow's Bayes classifier: after 40 steps on 256 digits it beats chance (10 %) clearly.
    const { bitsPerDim, accuracy } = await evaluateWithClasses(m, testSet);
    console.log(`the flow as a classifier after ${result.steps} steps: ${(accuracy! * 100).toFixed(0)}% of 100 held-out digits`);
    expect(bitsPerDim).toBeCloseTo(last, 5);
    expect(accuracy).toBeGreaterThan(0.3);
    m.dispose();
  });

  it('label-aware couplings learn from the labels: held-out marginal bits/dim falls', async () => {
    const m = build('finc', { ...cfg, classCouplings: true }, wasm, 4);
    const result = await train(m, trainSet, testSet, { epochs: 3, batch: 32, lr: 3e-3, warmupSteps: 5, seed: 2 });
    const [first, last] = [result.heldOut[0]!.bitsPerDim, result.heldOut.at(-1)!.bitsPerDim];
    console.log(`class-coupling training: held-out marginal bits/dim ${first.toFixed(3)} → ${last.toFixed(3)} over ${result.steps} steps`);
    expect(last).toBeLessThan(first - 0.05);
    m.dispose();
  });

  it('a label beyond the prior stops training with a message naming the image', async () => {
    const m = build('finc', { ...cfg, classes: 5 }, wasm);
    await expect(train(m, trainSet, null, { epochs: 1, batch: 32, maxSteps: 1 })).rejects.toThrow(/image \d+ has label [5-9], but the model's class prior has 5 classes/);
    m.dispose();
  });
});
