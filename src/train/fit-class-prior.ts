import type { ImageDataset } from '../data/dataset.js';
import { InflowError } from '../engine/errors.js';
import type { FlowModel } from '../models/flow-model.js';
import { forEachBatch } from './evaluate.js';

/**
 * Sets a model's class prior to its maximum-likelihood value for the flow as it is: the per-class
 * mean and standard deviation of the top latent over labelled data. This is how a class prior is
 * added to a flow trained without one, before training both together.
 */
export async function fitClassPrior(model: FlowModel, data: ImageDataset, batch = 100): Promise<{ perClass: number[] }> {
  const prior = model.prior;
  if (!prior) throw new InflowError('the model has no class prior to fit');
  if (!data.labels) throw new InflowError(`${data.name} has no labels: a class prior is fitted per class`);
  const engine = model.engine, K = prior.classes;
  const D = prior.shape[0] * prior.shape[1] * prior.shape[2];
  const s1 = new Float64Array(K * D), s2 = new Float64Array(K * D), count = new Array<number>(K).fill(0);
  await forEachBatch(model, data, batch, async (x, idx) => {
    const top = engine.noGrad(() => engine.scope(() => {
      const pre = model.preprocess.encode(x);
      return model.encode(pre.y, model.classCouplings ? idx.map((i) => data.labels![i]!) : undefined).z.at(-1)!;
    }));
    const z = await top.data();
    top.dispose();
    idx.forEach((src, n) => {
      const y = data.labels![src]!;
      if (y < 0 || y >= K) throw new InflowError(`${data.name}: image ${src} has label ${y}, outside the prior's 0…${K - 1}`);
      count[y]!++;
      for (let j = 0; j < D; j++) {
        const v = z[n * D + j]!;
        s1[y * D + j]! += v;
        s2[y * D + j]! += v * v;
      }
    });
  });
  const mean = new Float32Array(K * D), logScale = new Float32Array(K * D);
  for (let y = 0; y < K; y++) {
    // A class with under two images keeps the N(0, I) component it started with.
    if (count[y]! < 2) continue;
    for (let j = 0; j < D; j++) {
      const m = s1[y * D + j]! / count[y]!;
      const variance = Math.max(s2[y * D + j]! / count[y]! - m * m, 1e-6);
      mean[y * D + j] = m;
      logScale[y * D + j] = 0.5 * Math.log(variance);
    }
  }
  prior.mean.value = engine.tensor(mean, prior.mean.shape);
  prior.logScale.value = engine.tensor(logScale, prior.logScale.shape);
  return { perClass: count };
}
