import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import type { Engine } from '../../src/engine/engine.js';
import { InflowError } from '../../src/engine/errors.js';
import { Conv1x1LU } from '../../src/layers/conv1x1-lu.js';
import { CouplingAutoencoder } from '../../src/models/autoencoder/coupling-autoencoder.js';
import { trainableDecode } from '../../src/models/autoencoder/trainable-inverse.js';
import { mul, sum } from '../../src/ops/index.js';
import { referenceAndWasm } from '../helpers/engine-pair.js';
import { jacobianLogAbsDet, maxAbsDiff, perturb } from '../layers/contract.js';
import { blobBatch, tinyCoupling } from './autoencoder-fixtures.js';

let reference: Engine, wasm: Engine;
beforeAll(async () => { ({ ref: reference, wasm } = await referenceAndWasm()); });
afterAll(() => { reference.dispose(); wasm.dispose(); });

/**
 * A model whose every weight matters: fresh couplings and the prior start at zero output. The
 * perturbation keeps the flow's scales near a trained model's (whose float32 round trip on 100
 * MNIST digits errs by 3e-6).
 */
async function trainedLooking(engine: Engine, config = tinyCoupling(), seed = 5, scale = 0.05): Promise<CouplingAutoencoder> {
  const m = new CouplingAutoencoder(engine, config, { seed: 1 });
  await perturb(m, scale, seed);
  return m;
}

describe('the coupling autoencoder: its invertible part', () => {
  it('flowDecode(flowEncode(x)) = x to 1e-5, grey and colour, on reference and wasm', async () => {
    for (const engine of [reference, wasm])
      for (const [config, n] of [[tinyCoupling(), 3], [tinyCoupling({ imageShape: [3, 8, 8], latentChannels: 12, steps: 1 }), 2],
        [tinyCoupling({ latentChannels: 7 }), 2]] as const) {
        const m = await trainedLooking(engine, config);
        const x = blobBatch(engine, n, config.imageShape);
        const { z, rest, logdet } = m.flowEncode(x);
        const [C, H, W] = config.imageShape;
        expect(z.shape).toEqual([n, config.latentChannels, H / 4, W / 4]);
        expect(rest.shape).toEqual([n, 16 * C - config.latentChannels, H / 4, W / 4]);
        expect(logdet.shape).toEqual([n]);
        const back = m.flowDecode(z, rest);
        expect(maxAbsDiff(await back.data(), await x.data()), `${engine.name} ${JSON.stringify(config.imageShape)}`).toBeLessThan(1e-5);
        // The latent is the flow's first channels; encode returns exactly those.
        const e = m.encode(x);
        expect(maxAbsDiff(await e.data(), await z.data())).toBe(0);
        for (const t of [x, z, rest, logdet, back, e]) t.dispose();
        m.dispose();
      }
  });

  it("log|det| of the flow equals a brute-force Jacobian's (1×4×4 image, float64)", async () => {
    const config = tinyCoupling({ imageShape: [1, 4, 4], latentChannels: 5 });
    const m = await trainedLooking(reference, config, 9, 0.2);
    const rng = new Rng(2);
    const x0 = Float64Array.from({ length: 16 }, () => rng.uniform() * 2 - 1);
    const brute = await jacobianLogAbsDet(reference, (x) => {
      const r = m.flowEncode(x);
      return [r.z, r.rest];
    }, x0, [1, 1, 4, 4]);
    const { logdet } = m.flowEncode(reference.tensor(x0, [1, 1, 4, 4]));
    const got = (await logdet.data64())[0]!;
    expect(Math.abs(brute)).toBeGreaterThan(0.1);
    expect(Math.abs(got - brute)).toBeLessThan(1e-6 * Math.max(1, Math.abs(brute)));
    m.dispose();
  });
});

describe('the coupling autoencoder: encode, decode, reconstruct', () => {
  it('decode sets the factored channels to their predicted mean: reconstruct(x) = flowDecode(z, μ(z)) ≠ x', async () => {
    const m = await trainedLooking(wasm);
    const x = blobBatch(wasm, 2, [1, 8, 8]);
    const z = m.encode(x);
    const { mean, logScale } = m.predictFactored(z);
    expect(mean.shape).toEqual([2, 12, 2, 2]);
    expect(logScale.shape).toEqual([2, 12, 2, 2]);
    const viaMean = m.flowDecode(z, mean), decoded = m.decode(z), recon = m.reconstruct(x);
    expect(maxAbsDiff(await decoded.data(), await viaMean.data())).toBe(0);
    expect(maxAbsDiff(await recon.data(), await decoded.data())).toBe(0);
    expect(maxAbsDiff(await recon.data(), await x.data())).toBeGreaterThan(1e-3);
    m.dispose();
  });

  it('the config records the LU layers, so building from it gives the same flow', async () => {
    const a = new CouplingAutoencoder(wasm, tinyCoupling(), { seed: 3 });
    expect(a.config.lu).toHaveLength(4);
    expect(a.config.lu![2]!.perm).toHaveLength(16);
    const b = new CouplingAutoencoder(wasm, a.config, { seed: 3 });
    expect(b.config).toEqual(a.config);
    const c = new CouplingAutoencoder(wasm, tinyCoupling(), { seed: 4 });
    expect(c.config.lu).not.toEqual(a.config.lu);
    for (const m of [a, b, c]) m.dispose();
  });

  it('its inverse used in training has the exact inverse\'s value and gradient (the LU 1×1s included)', async () => {
    const m = await trainedLooking(reference, tinyCoupling(), 5, 0.2);
    const rng = new Rng(8);
    const y = reference.tensor(Float64Array.from({ length: 2 * 64 }, () => rng.normal()), [2, 16, 2, 2]);
    const R = reference.tensor(Float64Array.from({ length: 2 * 64 }, () => rng.normal()), [2, 1, 8, 8]);
    const plain = m.flow.decode(y), trainable = trainableDecode(m.flow, y);
    expect(maxAbsDiff(await plain.data64(), await trainable.data64())).toBeLessThan(1e-12);
    const lu = m.modules().filter((l): l is Conv1x1LU => l instanceof Conv1x1LU)[3]!;
    for (const p of [lu.lower, lu.logs]) {
      const dir = Float64Array.from({ length: p.size }, () => rng.normal());
      const { value, grads } = reference.valueAndGrads(() => sum(mul(trainableDecode(m.flow, y), R)), [p.value]);
      const g = await grads[0]!.data64();
      let analytic = 0;
      for (let i = 0; i < dir.length; i++) analytic += g[i]! * dir[i]!;
      const base = await p.value.data64(), eps = 1e-6;
      const lossAt = async (s: number) => {
        p.value = reference.tensor(base.map((v, i) => v + s * eps * dir[i]!), p.shape);
        const l = reference.scope(() => sum(mul(m.flow.decode(y), R)));
        const v = (await l.data64())[0]!;
        l.dispose();
        return v;
      };
      const numeric = ((await lossAt(1)) - (await lossAt(-1))) / (2 * eps);
      p.value = reference.tensor(base, p.shape);
      expect(Math.abs(analytic)).toBeGreaterThan(1e-3);
      expect(Math.abs(analytic - numeric), `${p.name}: ${analytic} vs ${numeric}`).toBeLessThan(1e-5 * Math.max(1, Math.abs(numeric)));
      value.dispose();
      grads[0]!.dispose();
    }
    m.dispose();
  });

  it('the likelihood term is −log N(rest; μ, σ²) − log N(z; 0, I) − log|det| per dimension', async () => {
    const m = await trainedLooking(reference);
    const x = blobBatch(reference, 2, [1, 8, 8]);
    const { z, rest, logdet } = m.flowEncode(x);
    const { mean, logScale } = m.predictFactored(z);
    const [zv, rv, mv, sv, ld] = (await Promise.all([z, rest, mean, logScale, logdet].map((t) => t.data64()))) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
    let nll = 0;
    const half = 0.5 * Math.log(2 * Math.PI);
    for (let i = 0; i < rv.length; i++) nll += 0.5 * ((rv[i]! - mv[i]!) * Math.exp(-sv[i]!)) ** 2 + sv[i]! + half;
    for (const v of zv) nll += 0.5 * v * v + half;
    nll = (nll - ld[0]! - ld[1]!) / 2 / 64;
    const { terms } = m.trainingLoss(x, null, 0.5);
    expect((await terms.nll!.data64())[0]).toBeCloseTo(nll, 10);
    // λ = 0: reconstruction only.
    expect(Object.keys(m.trainingLoss(x, null, 0).terms)).toEqual(['rec']);
    const recon = m.reconstruct(x), xv = await x.data64(), rec = await recon.data64();
    let mse = 0;
    for (let i = 0; i < xv.length; i++) mse += (rec[i]! - xv[i]!) ** 2;
    expect((await terms.rec!.data64())[0]).toBeCloseTo(mse / xv.length, 12);
    m.dispose();
  });
});

describe('the coupling autoencoder refuses bad configs and arguments in one line', () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ latentChannels: 16 }, /config latentChannels = 16 must be below the 16 channels at H\/4 × W\/4 \(16 × 1\)/],
    [{ imageShape: [1, 6, 8] }, /config imageShape = \[1, 6, 8\] must have H and W divisible by 4/],
    [{ width: 0 }, /config width = 0 must be an integer from 1 to 4096/],
    [{ steps: 1.5 }, /config steps = 1.5 must be an integer from 1 to 64/],
    [{ lu: [] }, /config lu = \[\] must hold one entry per 1×1 layer \(2 × steps = 4\), got 0/],
    [{ lu: Array.from({ length: 4 }, (_, i) => ({ perm: [...Array(i < 2 ? 4 : 16).keys()].fill(0, 0, 2), sign: new Array(i < 2 ? 4 : 16).fill(1) })) },
      /config lu\[0\].perm = \[0, 0, 2, 3\] must be a permutation of 0…3/],
    [{ kind: 'conv-vae' }, /config has unknown keys|config baseChannels is missing/],
    [{ extra: 1 }, /config has unknown key 'extra'/],
  ];
  it.each(bad)('%j', (over, message) => {
    let err: unknown;
    try {
      new CouplingAutoencoder(wasm, { ...tinyCoupling(), ...over } as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InflowError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('encode, decode and flowDecode name a tensor of the wrong shape; a disposed model says so', async () => {
    const m = new CouplingAutoencoder(wasm, tinyCoupling());
    const img = wasm.zeros([2, 1, 8, 4]), z = wasm.zeros([2, 5, 2, 2]);
    expect(() => m.encode(img)).toThrow(/CouplingAutoencoder.encode: x \[2, 1, 8, 4\] must be images \[N, 1, 8, 8\]/);
    expect(() => m.decode(z)).toThrow(/CouplingAutoencoder.decode: z \[2, 5, 2, 2\] must be latents \[N, 4, 2, 2\]/);
    expect(() => m.flowDecode(wasm.zeros([2, 4, 2, 2]), wasm.zeros([2, 4, 2, 2]))).toThrow(/rest \[2, 4, 2, 2\] must be factored channels \[N, 12, 2, 2\]/);
    expect(() => m.encode([1, 2] as never)).toThrow(/x must be a tensor/);
    m.dispose();
    expect(() => m.encode(wasm.zeros([1, 1, 8, 8]))).toThrow(/the CouplingAutoencoder was disposed/);
    img.dispose();
    z.dispose();
  });
});
