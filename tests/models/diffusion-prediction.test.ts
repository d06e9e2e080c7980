import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { DiffusionModel, diffusionModelFromBytes, resolveDiffusionConfig } from '../../src/models/diffusion/diffusion-model.js';
import { asEpsilonModel, epsilonFromV, predictionTarget } from '../../src/models/diffusion/prediction.js';
import { predictX0 } from '../../src/models/diffusion/sampler.js';
import { noiseSchedule } from '../../src/models/diffusion/schedule.js';
import { UNet } from '../../src/models/unet/unet.js';
import { defaultLoopOptions, runTraining } from '../../src/train/loop.js';
import { DiffusionTask } from '../../src/train/tasks/diffusion.js';
import { tensorData } from '../../src/train/tensor-data.js';
import { maxDiff, randomizeOutput, tinyConfig, values } from './diffusion-fixtures.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose());

const schedule = noiseSchedule('linear', 1000);
const normals = (rng: Rng, n: number) => Float64Array.from({ length: n }, () => rng.normal());

describe('v-prediction algebra', () => {
  it('the v target is √ᾱ ε − √(1−ᾱ) x₀ per example, and ε-prediction keeps ε itself', async () => {
    const rng = new Rng(1), n = 3, per = 2 * 4 * 4, ts = [0, 500, 999];
    const x0v = normals(rng, n * per), epsv = normals(rng, n * per);
    const shape = [n, 2, 4, 4];
    const x0 = engine.tensor(x0v, shape), eps = engine.tensor(epsv, shape);
    const a = engine.tensor(ts.map((t) => Math.sqrt(schedule.alphaBars[t]!)), [n, 1, 1, 1]);
    const b = engine.tensor(ts.map((t) => Math.sqrt(1 - schedule.alphaBars[t]!)), [n, 1, 1, 1]);
    expect(predictionTarget('epsilon', x0, eps, a, b)).toBe(eps);
    const got = await values(predictionTarget('v', x0, eps, a, b));
    const want = Float64Array.from(x0v, (x, i) => {
      const ab = schedule.alphaBars[ts[Math.floor(i / per)]!]!;
      return Math.sqrt(ab) * epsv[i]! - Math.sqrt(1 - ab) * x;
    });
    expect(maxDiff(got, want)).toBeLessThan(1e-5);
    for (const v of [x0, eps, a, b]) v.dispose();
  });

  it('the true v at x_t gives back the true ε, and x̂₀ = √ᾱ x_t − √(1−ᾱ) v̂ through the ε samplers', () => {
    const rng = new Rng(2);
    for (const t of [0, 300, 700, 999]) {
      const ab = schedule.alphaBars[t]!, a = Math.sqrt(ab), b = Math.sqrt(1 - ab);
      const x0 = normals(rng, 64), eps = normals(rng, 64);
      const xt = x0.map((x, i) => a * x + b * eps[i]!), v = x0.map((x, i) => a * eps[i]! - b * x);
      expect(maxDiff(epsilonFromV(xt, v, ab), eps)).toBeLessThan(1e-12);
      const vHat = normals(rng, 64);   // any output, not only the true v
      const [x0Hat] = predictX0(xt, epsilonFromV(xt, vHat, ab), ab, false);
      // Through ε the division by √ᾱ (≈ 0.006 at t = 999) loses a little of float64's precision.
      expect(maxDiff(x0Hat, xt.map((x, i) => a * x - b * vHat[i]!))).toBeLessThan(1e-9);
    }
  });

  it("the samplers' view of a v-model is √(1−ᾱ_t) x_t + √ᾱ_t v̂ with each example's own t; an ε-model is passed through", async () => {
    const rng = new Rng(3), n = 3, per = 16, ts = [10, 400, 990];
    const vv = normals(rng, n * per), xv = normals(rng, n * per);
    const fake = { engine, forward: (): Tensor => engine.tensor(vv, [n, 1, 4, 4]) };
    expect(asEpsilonModel(fake, schedule, 'epsilon')).toBe(fake);
    const x = engine.tensor(xv, [n, 1, 4, 4]);
    const got = await values(asEpsilonModel(fake, schedule, 'v').forward(x, ts));
    x.dispose();
    for (let k = 0; k < n; k++) {
      const want = epsilonFromV(xv.subarray(k * per, (k + 1) * per), vv.subarray(k * per, (k + 1) * per), schedule.alphaBars[ts[k]!]!);
      expect(maxDiff(got.subarray(k * per, (k + 1) * per), want)).toBeLessThan(1e-5);
    }
  });
});

describe('v-prediction models', () => {
  it('the config field is optional (ε), checked, and kept by the model file', async () => {
    expect(resolveDiffusionConfig(tinyConfig()).prediction).toBeUndefined();
    expect(() => resolveDiffusionConfig({ ...tinyConfig(), prediction: 'x0' })).toThrow(/prediction .*must be one of epsilon, v/);
    const model = new DiffusionModel(engine, { ...tinyConfig(), prediction: 'v' }, { seed: 1 });
    expect(model.prediction).toBe('v');
    const back = diffusionModelFromBytes(await model.toBytes(), { engine });
    expect(back.prediction).toBe('v');
    expect(new DiffusionModel(engine, tinyConfig()).prediction).toBe('epsilon');
    model.dispose();
    back.dispose();
  });

  it('the same weights sample differently as an ε- and as a v-model (the config decides what the output means)', async () => {
    const eps = new DiffusionModel(engine, tinyConfig(25, 0), { seed: 1 });
    randomizeOutput(eps);
    const v = diffusionModelFromBytes(await eps.toBytes(), { engine });
    const vModel = new DiffusionModel(engine, { ...tinyConfig(25, 0), prediction: 'v' }, { seed: 1 });
    vModel.unet.loadStateDict(await v.unet.stateDict());
    const a = await values(await eps.sample(2, { seed: 5, output: 'data' }));
    const b = await values(await vModel.sample(2, { seed: 5, output: 'data' }));
    expect(a.every(Number.isFinite) && b.every(Number.isFinite)).toBe(true);
    expect(maxDiff(a, b)).toBeGreaterThan(0.05);
    for (const m of [eps, v, vModel]) m.dispose();
  });

  it('DiffusionTask with prediction v: a fresh UNet (zero output) on zero images costs mean(ᾱ ε²), not mean(ε²); training lowers it', async () => {
    // x₀ = 0 makes v = √ᾱ ε, so the first loss is about the mean ᾱ of the drawn t (≈ 0.3 on the linear schedule).
    const zeros = tensorData(new Float32Array(64 * 64), [1, 8, 8]);
    const first = async (prediction: 'epsilon' | 'v') => {
      const unet = new UNet(engine, tinyConfig(25, 0).unet, { seed: 1 });
      const task = new DiffusionTask(unet, noiseSchedule('linear', 100), { prediction });
      const losses: number[] = [];
      await runTraining(task, zeros, { ...defaultLoopOptions, batch: 64, maxSteps: 1, seed: 4 }, { onStep: (m) => losses.push(m.loss) });
      task.dispose();
      unet.dispose();
      return losses[0]!;
    };
    const lossEps = await first('epsilon'), lossV = await first('v');
    expect(lossEps).toBeGreaterThan(0.9);
    expect(lossV).toBeLessThan(0.6);
    expect(() => new DiffusionTask(new UNet(engine, tinyConfig(25, 0).unet), schedule, { prediction: 'x0' as 'v' })).toThrow(/prediction = x0 must be 'epsilon' or 'v'/);
  }, 120_000);
});
