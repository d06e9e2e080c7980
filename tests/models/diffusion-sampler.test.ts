import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { DiffusionModel } from '../../src/models/diffusion/diffusion-model.js';
import {
  alphaBarAt, ddimMean, ddpmMean, posteriorCoefficients, posteriorVariance, predictX0, sampleLoop, timestepSequence,
} from '../../src/models/diffusion/sampler.js';
import { noiseSchedule } from '../../src/models/diffusion/schedule.js';
import { maxDiff, randomizeOutput, tinyConfig, values } from './diffusion-fixtures.js';

let ref: Engine;
beforeAll(async () => { ref = await createEngine({ backend: 'reference' }); });
afterAll(() => ref.dispose());


/** toBeCloseTo's digits for a relative error of 1e-10 at this magnitude. */
const rel = (v: number): number => Math.floor(10 - Math.log10(Math.abs(v)));

describe('schedule identities', () => {
  for (const kind of ['linear', 'cosine'] as const) {
    it(`${kind}: ᾱ_t = Π_{s ≤ t} (1 − β_s), and DDPM's posterior q(x_{t−1} | x_t, x_0) is consistent with the forward process`, () => {
      const s = noiseSchedule(kind, 1000);
      let prod = 1;
      for (let t = 0; t < s.steps; t++) {
        prod *= 1 - s.betas[t]!;
        expect(Math.abs(s.alphaBars[t]! - prod)).toBeLessThanOrEqual(1e-15 * prod);
      }
      for (const t of [1, 2, 10, 500, 998, 999]) {
        const abT = s.alphaBars[t]!, abP = s.alphaBars[t - 1]!, beta = s.betas[t]!, alpha = 1 - beta;
        const { c0, ct, variance } = posteriorCoefficients(abT, abP);
        // β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t, and the mean coefficients of Ho et al. (eq. 7).
        // The sampler derives β from ᾱ_t/ᾱ_{t−1} (it also steps between non-adjacent timesteps), so
        // these agree to float64 rounding of that ratio, relative 1e-10.
        expect(variance).toBeCloseTo(((1 - abP) / (1 - abT)) * beta, rel(variance));
        expect(c0).toBeCloseTo((Math.sqrt(abP) * beta) / (1 - abT), rel(c0));
        expect(ct).toBeCloseTo((Math.sqrt(alpha) * (1 - abP)) / (1 - abT), rel(ct));
        // With x_t = √ᾱ_t x_0 exactly, the posterior mean is √ᾱ_{t−1} x_0; and averaging the
        // posterior over x_t ~ q(x_t | x_0) gives q(x_{t−1} | x_0)'s variance 1 − ᾱ_{t−1}. (At
        // t = 1, 1 − ᾱ_t ≈ 4e-5 loses five digits to cancellation, hence 1e-11.)
        expect(c0 + ct * Math.sqrt(abT)).toBeCloseTo(Math.sqrt(abP), 11);
        expect(ct * ct * (1 - abT) + variance).toBeCloseTo(1 - abP, 11);
      }
      // The last step (to ᾱ = 1) has no variance and returns x̂_0.
      expect(posteriorVariance(s.alphaBars[0]!, alphaBarAt(s, -1))).toBe(0);
      expect(posteriorCoefficients(s.alphaBars[0]!, 1).c0).toBeCloseTo(1, 14);
    });
  }

  it('timestep sub-sequences: every step for steps = T, evenly spaced and ending at T − 1 otherwise', () => {
    expect(timestepSequence(20, 20)).toEqual([...Array(20).keys()]);
    const seq = timestepSequence(1000, 50);
    expect(seq).toHaveLength(50);
    expect(seq[0]).toBe(19);
    expect(seq.at(-1)).toBe(999);
    for (const [T, S] of [[1000, 7], [1000, 999], [10, 3], [5, 1]]) {
      const q = timestepSequence(T!, S!);
      expect(q).toHaveLength(S!);
      expect(q.at(-1)).toBe(T! - 1);
      for (let i = 1; i < q.length; i++) expect(q[i]!).toBeGreaterThan(q[i - 1]!);
    }
    expect(() => timestepSequence(10, 0)).toThrow(/steps = 0 must be an integer from 1 to 10/);
    expect(() => timestepSequence(10, 11)).toThrow(/steps = 11/);
  });
});

describe('samplers (reference backend, float64)', () => {
  it('DDIM with η = 1 takes the DDPM posterior mean and variance at every step (one step checked against the formula)', async () => {
    const model = new DiffusionModel(ref, tinyConfig(), { seed: 1 });
    randomizeOutput(model);
    const s = model.schedule;
    const rng = new Rng(9);
    const xt = Float64Array.from(rng.normals(2 * 64, 1));
    for (const t of [24, 7, 1]) {
      const eps = await values(ref.noGrad(() => model.unet.forward(ref.tensor(xt, [2, 1, 8, 8]), [t, t], [0, 2])));
      const [x0, e] = predictX0(xt, eps, s.alphaBars[t]!, false);
      const ddim = ddimMean(x0, e, s.alphaBars[t]!, s.alphaBars[t - 1]!, 1);
      // Ho et al. eq. 7 with β_t and α_t from the schedule itself.
      const beta = s.betas[t]!, alpha = 1 - beta, abT = s.alphaBars[t]!, abP = s.alphaBars[t - 1]!;
      const want = x0.map((v, i) => ((Math.sqrt(abP) * beta) / (1 - abT)) * v + ((Math.sqrt(alpha) * (1 - abP)) / (1 - abT)) * xt[i]!);
      expect(maxDiff(ddim.mean, want)).toBeLessThan(1e-12);
      expect(ddim.sigma ** 2).toBeCloseTo(((1 - abP) / (1 - abT)) * beta, rel(ddim.sigma ** 2));
      const ddpm = ddpmMean(x0, xt, abT, abP);
      expect(maxDiff(ddpm.mean, want)).toBeLessThan(1e-12);
      expect(ddpm.sigma).toBe(ddim.sigma);
    }
    model.dispose();
  });

  it('DDIM with η = 1 over all T = 25 steps samples what DDPM ancestral sampling does, from the same seed', async () => {
    const model = new DiffusionModel(ref, tinyConfig(), { seed: 1 });
    randomizeOutput(model);
    const common = { steps: 25, seed: 3, labels: [0, 1, 2], guidance: 1, output: 'data' as const };
    const ddim = await values(await model.sample(3, { ...common, method: 'ddim', eta: 1 }));
    const ddpm = await values(await model.sample(3, { ...common, method: 'ddpm' }));
    expect(maxDiff(ddim, ddpm)).toBeLessThan(1e-9);
    // And they are not trivially equal: η = 0 from the same seed differs.
    const det = await values(await model.sample(3, { ...common, method: 'ddim', eta: 0 }));
    expect(maxDiff(ddim, det)).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('DDIM with η = 0 is deterministic: the same seed gives the same images, and with x_T given the seed changes nothing', async () => {
    const model = new DiffusionModel(ref, tinyConfig(), { seed: 1 });
    randomizeOutput(model);
    const opts = { steps: 5, eta: 0, labels: [1], output: 'data' as const };
    const a = await values(await model.sample(2, { ...opts, seed: 5 }));
    const b = await values(await model.sample(2, { ...opts, seed: 5 }));
    expect(maxDiff(a, b)).toBe(0);
    const xT = new Rng(11).normals(2 * 64, 1);
    const c = await values(await model.sample(2, { ...opts, seed: 1, xT }));
    const d = await values(await model.sample(2, { ...opts, seed: 2, xT }));
    expect(maxDiff(c, d)).toBe(0);
    // With η > 0 the steps draw noise from the seed, so there it matters.
    const e = await values(await model.sample(2, { ...opts, eta: 0.5, seed: 1, xT }));
    const f = await values(await model.sample(2, { ...opts, eta: 0.5, seed: 2, xT }));
    expect(maxDiff(e, f)).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('classifier-free guidance: w = 1 is the conditional model alone, w = 0 the unconditional alone, w = 3 extrapolates ε̂', async () => {
    const model = new DiffusionModel(ref, tinyConfig(), { seed: 2 });
    randomizeOutput(model, 6);
    const labels = [2, 0];
    const xT = new Rng(12).normals(2 * 64, 1);
    const loop = (fixed: number[]) => sampleLoop({ engine: ref, forward: (x, t) => model.unet.forward(x, t, fixed) }, model.schedule, [2, 1, 8, 8],
      { method: 'ddim', steps: 6, eta: 0, guidance: 1, labels: null, nullLabel: 3, seed: 0, xT });
    const conditional = await loop(labels), unconditional = await loop([3, 3]);
    const opts = { steps: 6, eta: 0, labels, xT, output: 'data' as const };
    expect(maxDiff(await values(await model.sample(2, { ...opts, guidance: 1 })), conditional)).toBe(0);
    expect(maxDiff(await values(await model.sample(2, { ...opts, guidance: 0 })), unconditional)).toBe(0);
    expect(maxDiff(conditional, unconditional)).toBeGreaterThan(1e-3);
    // One unclipped step from x_T returns x̂_0, linear in ε̂: so x̂_0(w) = x̂_0(0) + w (x̂_0(1) − x̂_0(0)).
    const one = async (guidance: number) => values(await model.sample(2, { ...opts, steps: 1, clip: false, guidance }));
    const [w0, w1, w3] = [await one(0), await one(1), await one(3)];
    expect(maxDiff(w3, w0.map((v, i) => v + 3 * (w1[i]! - v)))).toBeLessThan(1e-9);
    model.dispose();
  });

  it('with the exact ε̂ of Gaussian data, DDPM and DDIM (η = 0, 1) draw that Gaussian: the samplers match the training convention', async () => {
    // Data x_0 ~ N(μ, s²) per pixel: x_t ~ N(√ᾱ_t μ, ᾱ_t s² + 1 − ᾱ_t), and the ε̂ minimising the
    // training loss is E[ε | x_t] = √(1 − ᾱ_t) (x_t − √ᾱ_t μ) / (ᾱ_t s² + 1 − ᾱ_t).
    const mu = 0.3, sd = 0.2, schedule = noiseSchedule('linear', 1000);
    const oracle = {
      engine: ref,
      forward: (x: Tensor, t: ArrayLike<number>) => {
        const ab = schedule.alphaBars[t[0]!]!, v = x.dataSync();
        return ref.tensor(Float64Array.from(v, (xi) => (Math.sqrt(1 - ab) * (xi - Math.sqrt(ab) * mu)) / (ab * sd * sd + 1 - ab)), x.shape);
      },
    };
    const stats = (x: Float64Array): [number, number] => {
      const m = x.reduce((a, b) => a + b, 0) / x.length;
      return [m, Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / x.length)];
    };
    // What each sampler must give, from the step formulas applied to y = x − √ᾱ μ, which they map
    // to a · y + σ z: mean and variance of y carried down the sequence, starting from x_T ~ N(0, I).
    const predicted = (method: 'ddpm' | 'ddim', steps: number, eta: number): [number, number] => {
      const seq = timestepSequence(1000, steps);
      let my = -Math.sqrt(schedule.alphaBars[999]!) * mu, vy = 1;
      for (let k = seq.length - 1; k >= 0; k--) {
        const abT = schedule.alphaBars[seq[k]!]!, abS = k > 0 ? schedule.alphaBars[seq[k - 1]!]! : 1;
        const v = abT * sd * sd + 1 - abT, x0 = (Math.sqrt(abT) * sd * sd) / v, e = Math.sqrt(1 - abT) / v;
        const varS = ((1 - abS) / (1 - abT)) * (1 - abT / abS);
        let a: number, sigma2: number;
        if (method === 'ddpm') {
          const beta = 1 - abT / abS;
          a = ((Math.sqrt(abS) * beta) / (1 - abT)) * x0 + (Math.sqrt(abT / abS) * (1 - abS)) / (1 - abT);
          sigma2 = varS;
        } else {
          sigma2 = eta * eta * varS;
          a = Math.sqrt(abS) * x0 + Math.sqrt(1 - abS - sigma2) * e;
        }
        my *= a;
        vy = a * a * vy + sigma2;
      }
      return [mu + my, Math.sqrt(vy)];
    };
    for (const [method, steps, eta] of [['ddpm', 1000, 1], ['ddim', 1000, 1], ['ddim', 50, 0], ['ddim', 20, 0.5], ['ddpm', 25, 1]] as const) {
      const x = await sampleLoop(oracle, schedule, [4, 1, 25, 25], { method, steps, eta, guidance: 1, labels: null, nullLabel: 0, clip: false, seed: 1 });
      const [m, s] = stats(x), [pm, ps] = predicted(method, steps, eta);
      const what = `${method} ${steps} steps η ${eta}: mean ${m.toFixed(4)} (predicted ${pm.toFixed(4)}), sd ${s.toFixed(4)} (predicted ${ps.toFixed(4)})`;
      // 2 500 values: the standard errors are ≈ 0.004 (mean) and 0.003 (sd).
      expect(Math.abs(m - pm), what).toBeLessThan(0.015);
      expect(Math.abs(s - ps), what).toBeLessThan(0.012);
      // Fine ancestral sampling recovers the data distribution itself; coarse deterministic DDIM
      // contracts it (each step's factor is at most the exact flow's, by Cauchy–Schwarz).
      if (steps === 1000) expect(Math.abs(ps - sd), what).toBeLessThan(0.005);
    }
  });

  it('refuses bad sampling arguments in one line naming the argument', async () => {
    const model = new DiffusionModel(ref, tinyConfig(), { seed: 1 });
    await expect(model.sample(1, { steps: 0 })).rejects.toThrow(/steps = 0 must be an integer from 1 to 25/);
    await expect(model.sample(1, { steps: 26 })).rejects.toThrow(/steps = 26/);
    await expect(model.sample(1, { guidance: NaN })).rejects.toThrow(/guidance = NaN must be a number from 0 to 100/);
    await expect(model.sample(1, { eta: -0.1 })).rejects.toThrow(/eta = -0.1 must be a number from 0 to 1/);
    await expect(model.sample(1, { labels: [3] })).rejects.toThrow(/label 3 \(image 0\) is not a class of this model \(0…2\)/);
    await expect(model.sample(1, { labels: [0, 1] })).rejects.toThrow(/2 labels for 1 images/);
    await expect(model.sample(0)).rejects.toThrow(/n = 0 must be a positive integer/);
    await expect(model.sample(1, { seed: -1 })).rejects.toThrow(/seed = -1 must be an integer/);
    await expect(model.sample(1, { xT: [1, 2] })).rejects.toThrow(/xT must be 64 numbers/);
    await expect(model.sample(1, { method: 'euler' as never })).rejects.toThrow(/method = "euler" must be 'ddim' or 'ddpm'/);
    await expect(model.sample(1, { temperature: 1 } as never)).rejects.toThrow(/unknown option "temperature"/);
    model.dispose();
    const uncond = new DiffusionModel(ref, tinyConfig(25, 0), { seed: 1 });
    await expect(uncond.sample(1, { labels: [0] })).rejects.toThrow(/labels were given but the model is unconditional/);
    await expect(uncond.sample(1, { guidance: 2 })).rejects.toThrow(/guidance = 2 needs a class-conditional model/);
    const x = await uncond.sample(2, { steps: 2 });
    expect(x.shape).toEqual([2, 1, 8, 8]);
    const px = await values(x);
    expect(px.every((v) => v >= 0 && v <= 255)).toBe(true);
    uncond.dispose();
  });
});
