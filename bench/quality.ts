import { fileURLToPath } from 'node:url';
import { subset } from '../src/data/dataset.js';
import { mnistSplit } from '../src/data/mnist.js';
import { createEngine } from '../src/engine/dispatcher.js';
import { loadClassifier } from '../src/io/classifier-file.js';
import { loadModel } from '../src/io/model-file.js';
import { loadDiffusionModel } from '../src/models/diffusion/diffusion-file.js';
import { digitFeatureStats, judgeSamples, type JudgeResult, type LabelledSampler } from '../src/models/diffusion/judge.js';
import { frechetDistance } from '../src/models/frechet.js';
import type { Suite } from './lib/suite.js';

const file = (name: string) => fileURLToPath(new URL(`../models/${name}`, import.meta.url));

/**
 * The bundled generators judged side by side by the same code (src/models/diffusion/judge.ts):
 * n class-conditional samples, the classes cycled, the share the digit classifier names as their
 * class with p ≥ 0.9, and the FID proxy (Fréchet distance in the classifier's feature space)
 * against the held-out digits, with training digits as its floor. Wasm on all threads; sampling is
 * bit-identical across thread counts, so the numbers do not depend on the machine.
 */
export const qualityBench: Suite = {
  name: 'quality',
  about: 'bundled flow vs bundled diffusion model: classifier-judged samples and the FID proxy (about 45 min; --quick 2 min)',
  async run({ quick }) {
    const engine = await createEngine({ backend: 'wasm' });
    const { model: classifier } = loadClassifier(file('mnist-classifier.safetensors'), engine);
    const { train, test } = mnistSplit();
    const heldOut = await digitFeatureStats(classifier, test);
    const floor = frechetDistance(await digitFeatureStats(classifier, subset(train, [...Array(test.count).keys()])), heldOut);
    const n = quick ? 50 : 1000, nGuidance1 = quick ? 50 : 300;

    const flow = await loadModel(file('finc-mnist.safetensors'), { engine });
    const flowSampler: LabelledSampler = {
      engine, classes: 10, imageShape: [1, 28, 28],
      sample: (count, o) => flow.sample(count, { temperature: 0.7, seed: o.seed, labels: Array.from(o.labels) }),
    };
    const diffusion = loadDiffusionModel(file('diffusion-mnist.safetensors'), { engine });
    const rows: Array<{ model: string; sampler: string; result: JudgeResult; fid: number }> = [];
    const judge = async (model: string, sampler: string, s: LabelledSampler, opts: Parameters<typeof judgeSamples>[2]) => {
      const t0 = Date.now();
      const result = await judgeSamples(s, classifier, opts);
      const fid = frechetDistance(result.features, heldOut);
      rows.push({ model, sampler, result, fid });
      console.log(`${model} (${sampler}): ${result.right}/${result.n} right, FID proxy ${fid.toFixed(3)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    };
    await judge('finc-mnist (flow, 1.3 MB)', 'temperature 0.7', flowSampler, { n, batch: 100 });
    await judge('diffusion-mnist (UNet, 4.5 MB)', 'DDIM 50 steps, guidance 2', diffusion, { n, steps: 50, eta: 0, guidance: 2 });
    await judge('diffusion-mnist (UNet, 4.5 MB)', 'DDIM 50 steps, guidance 1', diffusion, { n: nGuidance1, steps: 50, eta: 0, guidance: 1 });
    flow.dispose();
    diffusion.dispose();
    classifier.dispose();
    engine.dispose();

    const pct = (k: number, of: number) => `${((100 * k) / of).toFixed(1)} %`;
    return {
      tables: [{
        title: `Class-conditional MNIST samples judged by the bundled digit classifier (classes cycled; held-out digits: ${test.count})`,
        header: ['model', 'sampler', 'samples', 'own class, p ≥ 0.9', 'any class, p ≥ 0.9', 'FID proxy'],
        rows: [
          ...rows.map((r) => [r.model, r.sampler, r.result.n, pct(r.result.right, r.result.n), pct(r.result.confident, r.result.n), r.fid]),
          ['training digits (the floor)', '–', test.count, null, null, floor],
        ],
        notes: ['FID proxy: Fréchet distance of Gaussians fitted to the classifier\'s 32 pooled last-stage features — not Inception\'s, not comparable to published FIDs.'],
      }],
      data: {
        heldOut: test.count, fidProxyTrainingDigits: floor,
        rows: rows.map((r) => ({ model: r.model, sampler: r.sampler, n: r.result.n, right: r.result.right, confident: r.result.confident,
          perClass: r.result.perClass, fidProxy: r.fid, seconds: r.result.seconds })),
      },
    };
  },
};
