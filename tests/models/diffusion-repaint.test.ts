import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import type { Engine } from '../../src/engine/engine.js';
import { DiffusionModel } from '../../src/models/diffusion/diffusion-model.js';
import { knownNoiseRng, repaintDenoiserSteps, repaintSchedule } from '../../src/models/diffusion/repaint.js';
import { alphaBarAt, GuidedDenoiser, reverseStep, timestepSequence } from '../../src/models/diffusion/sampler.js';
import { referenceAndWasm } from '../helpers/engine-pair.js';
import { condConfig, randomizeOutput, tinyConfig, values } from './diffusion-fixtures.js';

let ref: Engine, wasm: Engine;
beforeAll(async () => { ({ ref, wasm } = await referenceAndWasm()); });
afterAll(() => { ref.dispose(); wasm.dispose(); });


/** Two 8×8 images in [−1, 1] (a bright square on a ramp), and masks filling a 4×4 hole in each (1 = fill). */
const image = Float32Array.from({ length: 128 }, (_, k) => {
  const y = (k >> 3) & 7, x = k & 7;
  return y >= 2 && y < 6 && x >= 1 && x < 5 ? 0.9 : (x - 3.5) / 4;
});
const mask = Float32Array.from({ length: 128 }, (_, k) => {
  const b = k >> 6, y = (k >> 3) & 7, x = k & 7;
  return y >= 2 + b && y < 6 + b && x >= 3 && x < 7 ? 1 : 0;
});

/** The largest |a − b| over the pixels where `keep` says so (mask 0 = known), and over the rest. */
function regions(a: ArrayLike<number>, b: ArrayLike<number>, fill: ArrayLike<number>): { known: number; unknown: number } {
  let known = 0, unknown = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (fill[i]) unknown = Math.max(unknown, d);
    else known = Math.max(known, d);
  }
  return { known, unknown };
}

/** The RePaint schedule as Lugmayr et al.'s code writes it, in timestep indices (−1 = the clean image). */
function paperSchedule(T: number, jumpLength: number, jumpN: number): number[] {
  const jumps = new Map<number, number>();
  for (let j = 0; j < T - jumpLength; j += jumpLength) jumps.set(j, jumpN - 1);
  let t = T;
  const ts: number[] = [];
  while (t >= 1) {
    t -= 1;
    ts.push(t);
    if ((jumps.get(t) ?? 0) > 0) {
      jumps.set(t, jumps.get(t)! - 1);
      for (let i = 0; i < jumpLength; i++) ts.push(++t);
    }
  }
  ts.push(-1);
  return ts;
}

describe('the RePaint jump schedule', () => {
  it('is the paper\'s schedule (position = timestep index + 1); r = 1 is the plain descent', () => {
    for (const [S, j, r] of [[250, 10, 10], [50, 10, 5], [20, 3, 2], [10, 9, 4], [7, 1, 3], [5, 5, 3], [12, 4, 1]] as const)
      expect(repaintSchedule(S, j, r), `${S} ${j} ${r}`).toEqual(paperSchedule(S, j, r).map((t) => t + 1));
    expect(repaintSchedule(6, 2, 1)).toEqual([6, 5, 4, 3, 2, 1, 0]);
  });

  it('moves by one, stays within [0, S], reaches every jump point r times, and costs S + (r − 1) · j per jump point', () => {
    for (const [S, j, r] of [[50, 10, 10], [20, 3, 2], [9, 2, 5]] as const) {
      const path = repaintSchedule(S, j, r);
      expect(path[0]).toBe(S);
      expect(path.at(-1)).toBe(0);
      for (let i = 1; i < path.length; i++) expect(Math.abs(path[i]! - path[i - 1]!)).toBe(1);
      expect(Math.max(...path)).toBe(S);
      const points = [...Array(S).keys()].map((k) => 1 + k * j).filter((p) => p + j <= S);
      for (const p of points) expect(path.filter((q, i) => q === p && path[i - 1] === p + 1).length, `${S} ${j} ${r} at ${p}`).toBe(r);
      expect(repaintDenoiserSteps(path)).toBe(S + (r - 1) * j * points.length);
    }
    expect(repaintDenoiserSteps(repaintSchedule(250, 10, 10))).toBe(250 + 9 * 10 * 24);
    expect(() => repaintSchedule(10, 0, 2)).toThrow(/jumpLength = 0 must be a positive integer/);
  });
});

describe('DiffusionModel.inpaint (RePaint)', () => {
  it('keeps the known region exactly (≤ 1e-6, on wasm and the float64 reference), changes the unknown one, and is deterministic under its seed', async () => {
    for (const engine of [wasm, ref]) {
      const model = new DiffusionModel(engine, tinyConfig(25, 0), { seed: 1 });
      randomizeOutput(model);
      const opts = { steps: 10, jumpLength: 3, resampleCount: 3, output: 'data' as const };
      const a = await values(await model.inpaint(image, mask, { ...opts, seed: 4 }));
      const b = await values(await model.inpaint(engine.tensor(image, [2, 1, 8, 8]), engine.tensor(mask, [2, 1, 8, 8]), { ...opts, seed: 4 }));
      const c = await values(await model.inpaint(image, mask, { ...opts, seed: 5 }));
      const r = regions(a, image, mask);
      expect(r.known, engine.name).toBeLessThanOrEqual(1e-6);
      expect(r.unknown, engine.name).toBeGreaterThan(0.05);
      expect(a).toEqual(b);
      expect(regions(a, c, mask).known).toBeLessThanOrEqual(1e-6);
      expect(regions(a, c, mask).unknown).toBeGreaterThan(1e-3);
      // Pixels out: the known region is the image's pixels.
      const px = await values(await model.inpaint(image, mask, { ...opts, seed: 4, output: 'pixels' }));
      expect(regions(px, Float64Array.from(image, (v) => (v + 1) * 127.5), mask).known).toBeLessThan(1e-4);
      model.dispose();
    }
  });

  it('with nothing known and r = 1 it is the plain sampler (same seed, same images); with r = 1 it is sampling with known-region replacement', async () => {
    const model = new DiffusionModel(ref, tinyConfig(25, 0), { seed: 1 });
    randomizeOutput(model);
    const all = new Float32Array(128).fill(1);
    for (const o of [{ method: 'ddpm' as const }, { method: 'ddim' as const, eta: 0.5 }]) {
      const common = { ...o, steps: 8, seed: 6, output: 'data' as const };
      const plain = await values(await model.sample(2, common));
      expect(await values(await model.inpaint(image, all, { ...common, resampleCount: 1 }))).toEqual(plain);
      // r > 1 jumps back with fresh noise: a different image.
      const jumped = await values(await model.inpaint(image, all, { ...common, resampleCount: 2, jumpLength: 2 }));
      expect(regions(jumped, plain, all).unknown).toBeGreaterThan(1e-3);
    }
    // The same chain written out: x_T, then per step the sampler's step and the known pixels
    // replaced by q(x_s | x_0) (x_0 itself after the last step), the known noise on its own stream.
    const steps = 8, seed = 2, rng = new Rng(seed), known = knownNoiseRng(seed), s = model.schedule;
    let x: Float64Array = Float64Array.from({ length: 128 }, () => rng.normal());
    const seq = timestepSequence(s.steps, steps);
    const denoiser = new GuidedDenoiser(model.unet, [2, 1, 8, 8], { guidance: 1, labels: null, nullLabel: 0 });
    for (let k = seq.length - 1; k >= 0; k--) {
      const abS = alphaBarAt(s, k > 0 ? seq[k - 1]! : -1);
      x = reverseStep(x, await denoiser.epsilon(x, seq[k]!), alphaBarAt(s, seq[k]!), abS, rng, { method: 'ddpm', eta: 1, clip: true });
      for (let i = 0; i < 128; i++) if (!mask[i]) x[i] = k === 0 ? image[i]! : Math.sqrt(abS) * image[i]! + Math.sqrt(1 - abS) * known.normal();
    }
    denoiser.dispose();
    expect(await values(await model.inpaint(image, mask, { steps, seed, resampleCount: 1, jumpLength: 1, output: 'data' }))).toEqual(x);
    model.dispose();
  });

  it('works with class-conditional (labels, guidance) and image-conditioned models; reports every denoiser step', async () => {
    const classy = new DiffusionModel(ref, tinyConfig(25, 3), { seed: 2 });
    randomizeOutput(classy);
    const progress: Array<[number, number]> = [];
    const opts = { steps: 6, jumpLength: 2, resampleCount: 2, seed: 3, output: 'data' as const };
    const a = await values(await classy.inpaint(image, mask, { ...opts, labels: [0, 2], guidance: 2, onStep: (d, t) => progress.push([d, t]) }));
    const b = await values(await classy.inpaint(image, mask, { ...opts, labels: [1, 1], guidance: 2 }));
    const total = repaintDenoiserSteps(repaintSchedule(6, 2, 2));
    expect(progress).toEqual(Array.from({ length: total }, (_, i) => [i + 1, total]));
    expect(regions(a, image, mask).known).toBe(0);
    expect(regions(a, b, mask).unknown).toBeGreaterThan(1e-3);
    classy.dispose();

    const conditioned = new DiffusionModel(ref, condConfig(1), { seed: 2 });
    randomizeOutput(conditioned);
    const cond = new Rng(9).uniforms(128, -1, 1);
    const c = await values(await conditioned.inpaint(image, mask, { ...opts, cond }));
    expect(regions(c, image, mask).known).toBe(0);
    await expect(conditioned.inpaint(image, mask, opts)).rejects.toThrow(/^DiffusionModel.inpaint: this model is image-conditioned \(super-resolution\): give cond, \[2, 1, 8, 8\]/);
    conditioned.dispose();
  });

  it('a per-channel mask fills only the masked channels', async () => {
    const rgb = new DiffusionModel(ref, { ...tinyConfig(25, 0), unet: { ...tinyConfig(25, 0).unet, inChannels: 3, outChannels: 3 } }, { seed: 2 });
    randomizeOutput(rgb);
    const img = Float32Array.from({ length: 192 }, (_, k) => Math.sin(k) * 0.8);
    const shared = Float32Array.from({ length: 64 }, (_, k) => (k % 8 < 4 ? 1 : 0));
    const perChannel = Float32Array.from({ length: 192 }, (_, k) => (k < 64 ? shared[k]! : 0));
    const wide = Float32Array.from({ length: 192 }, (_, k) => shared[k % 64]!);
    const opts = { steps: 4, resampleCount: 1, seed: 1, output: 'data' as const };
    expect(regions(await values(await rgb.inpaint(img, shared, opts)), img, wide).known).toBe(0);
    const one = await values(await rgb.inpaint(img, perChannel, opts));
    expect(regions(one, img, perChannel)).toMatchObject({ known: 0 });
    expect(regions(one, img, perChannel).unknown).toBeGreaterThan(1e-3);
    rgb.dispose();
  });

  it('refuses bad arguments in one line naming them', async () => {
    const model = new DiffusionModel(ref, tinyConfig(25, 0), { seed: 1 });
    const op = 'DiffusionModel.inpaint';
    const bad = async (img: unknown, m: unknown, o: object, re: RegExp) => expect(model.inpaint(img as never, m as never, o)).rejects.toThrow(re);
    await bad(image, new Float32Array(100), {}, new RegExp(`^${op}: mask must be \\[2, 1, 8, 8\\]: 128 numbers, got 100$`));
    await bad(image, ref.tensor(new Float32Array(64), [1, 1, 8, 8]), {}, /^DiffusionModel.inpaint: mask must be \[2, 1, 8, 8\], got \[1, 1, 8, 8\]$/);
    await bad(image, mask.map((v, i) => (i === 9 ? 0.5 : v)), {}, /^DiffusionModel.inpaint: mask\[9\] = 0.5 must be 0 \(keep\) or 1 \(fill\)$/);
    await bad(image, mask.map((v, i) => (i === 3 ? NaN : v)), {}, /^DiffusionModel.inpaint: mask\[3\] = NaN is not a finite number$/);
    await bad(image, mask, { steps: 0 }, /^DiffusionModel.inpaint: steps = 0 must be an integer from 1 to 25/);
    await bad(image, mask, { steps: -3 }, /steps = -3 must be an integer from 1 to 25/);
    await bad(image, mask, { resampleCount: 0 }, /^DiffusionModel.inpaint: resampleCount = 0 must be an integer from 1 to 100/);
    await bad(image, mask, { jumpLength: 1.5 }, /^DiffusionModel.inpaint: jumpLength = 1.5 must be an integer from 1 to steps \(10\)$/);
    await bad(image, mask, { steps: 5, jumpLength: 5, resampleCount: 2 }, /^DiffusionModel.inpaint: jumpLength = 5 must be below steps \(5\) to resample/);
    await bad(image.map((v) => (v + 1) * 127.5), mask, {}, /^DiffusionModel.inpaint: image\[0\] = 15.9375 is outside \[-1, 1\], the model's data units \(pixel p is p \/ 127.5 − 1\)$/);
    await bad(new Float32Array(100), mask, {}, /^DiffusionModel.inpaint: image must be \[n, 1, 8, 8\]: a multiple of 64 numbers, got 100$/);
    await bad(ref.tensor(new Float32Array(192), [1, 3, 8, 8]), mask, {}, /^DiffusionModel.inpaint: image must be \[n, 1, 8, 8\], got \[1, 3, 8, 8\]$/);
    await bad(image, mask, { cond: new Float32Array(128) }, /^DiffusionModel.inpaint: cond was given but the model is not image-conditioned/);
    await bad(image, mask, { temperature: 1 }, /^DiffusionModel.inpaint: unknown option "temperature"/);
    model.dispose();
  });
});
