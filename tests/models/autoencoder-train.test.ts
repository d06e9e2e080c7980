import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { buildAutoencoder, type Autoencoder } from '../../src/models/autoencoder/autoencoder-bytes.js';
import type { AutoencoderConfig } from '../../src/models/autoencoder/config.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { checkpointPath, defaultLoopOptions, runTraining, type LoopOptions } from '../../src/train/loop.js';
import { LatentAutoencoderTask, reconstructionQuality } from '../../src/train/tasks/latent-autoencoder.js';
import { maxAbsDiff } from '../layers/contract.js';
import { blobData, tinyCoupling, tinyVae } from './autoencoder-fixtures.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose());

const train = blobData(64, [1, 8, 8], 3), heldOut = blobData(16, [1, 8, 8], 99);
const opts = (o: Partial<LoopOptions> = {}): LoopOptions => ({ ...defaultLoopOptions, epochs: 10, batch: 8, lr: 3e-3, warmupSteps: 0, seed: 3, ...o });

/** Each loss term on a fixed batch of held-out images with fixed noise: what training should lower. */
async function terms(m: Autoencoder, weight: number): Promise<Record<string, number>> {
  const x = engine.tensor(heldOut.values([...Array(16).keys()]), [16, 1, 8, 8]);
  const noise = m.drawNoise(16, new Rng(42));
  const r = engine.noGrad(() => m.trainingLoss(x, noise, weight));
  const out: Record<string, number> = { total: await r.total.item() };
  for (const [k, t] of Object.entries(r.terms)) out[k] = await t.item();
  for (const t of [x, noise, r.total, ...Object.values(r.terms)] as Tensor[]) t?.dispose();
  return out;
}

async function trainFor(config: AutoencoderConfig, weight: number, steps: number): Promise<{ before: Record<string, number>; after: Record<string, number>; psnr: [number, number] }> {
  const m = buildAutoencoder(engine, config, { seed: 1 });
  // The actnorms' data-dependent start, as a fresh run makes it, so "before" is the model step 1 sees.
  const first = engine.tensor(train.values([...Array(8).keys()]), [8, 1, 8, 8]);
  m.initialize?.(first);
  first.dispose();
  const before = await terms(m, weight), psnr0 = (await reconstructionQuality(m, heldOut)).psnr;
  const task = new LatentAutoencoderTask(m, { weight, test: heldOut });
  await runTraining(task, train, opts({ maxSteps: steps }));
  const after = await terms(m, weight), psnr1 = (await reconstructionQuality(m, heldOut)).psnr;
  task.dispose();
  m.dispose();
  return { before, after, psnr: [psnr0, psnr1] };
}

describe('training the autoencoders lowers each loss (a few dozen steps on 8×8 blobs)', () => {
  it('coupling: the reconstruction and the likelihood term; held-out PSNR rises', async () => {
    const { before, after, psnr } = await trainFor(tinyCoupling(), 0.05, 30);
    expect(after.rec, JSON.stringify({ before, after })).toBeLessThan(0.7 * before.rec!);
    expect(after.nll).toBeLessThan(before.nll! - 0.1);
    expect(psnr[1]).toBeGreaterThan(psnr[0] + 1);
    // λ = 0: reconstruction alone (the loss is then its only term).
    const plain = await trainFor(tinyCoupling(), 0, 5);
    expect(plain.after.rec).toBeLessThan(plain.before.rec!);
    expect(plain.after.nll).toBeUndefined();
  });

  it('conv VAE: the reconstruction and the total; with a heavy KL weight the KL term too', async () => {
    const light = await trainFor(tinyVae(), 1e-3, 30);
    expect(light.after.rec, JSON.stringify(light)).toBeLessThan(0.7 * light.before.rec!);
    expect(light.after.total).toBeLessThan(light.before.total!);
    expect(light.psnr[1]).toBeGreaterThan(light.psnr[0] + 1);
    const heavy = await trainFor(tinyVae(), 10, 20);
    expect(heavy.after.kl, JSON.stringify(heavy)).toBeLessThan(0.5 * heavy.before.kl!);
    expect(heavy.after.total).toBeLessThan(heavy.before.total!);
  });
});

describe('checkpoints', () => {
  it('a run resumed from its checkpoint ends with the weights of an uninterrupted one (the actnorms are not re-initialised)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inflow-ae-resume-'));
    const run = async (config: AutoencoderConfig, steps: number, resume: boolean) => {
      const m = buildAutoencoder(engine, config, { seed: 1 });
      const task = new LatentAutoencoderTask(m, { weight: 0.05 });
      await runTraining(task, train, opts({ maxSteps: steps, checkpointDir: join(dir, config.kind), checkpointEvery: 3 }), {},
        resume ? loadCheckpoint(checkpointPath(join(dir, config.kind))) : undefined);
      const state = await m.stateDict();
      task.dispose();
      m.dispose();
      return state;
    };
    for (const config of [tinyCoupling(), tinyVae()]) {
      const straight = await run(config, 6, false);
      await run(config, 3, false);
      const resumed = await run(config, 6, true);
      for (const [k, v] of straight) expect(maxAbsDiff(resumed.get(k)!.data, v.data), `${config.kind} ${k}`).toBe(0);
    }
  });
});
