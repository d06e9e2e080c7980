import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { Linear } from '../../src/nn/linear.js';
import { Module } from '../../src/nn/module.js';
import { Sequential } from '../../src/nn/sequential.js';
import { leakyRelu, mean } from '../../src/ops/index.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { checkpointPath, defaultLoopOptions, runTraining, type LoopOptions } from '../../src/train/loop.js';
import { GanTask, type GanLoss } from '../../src/train/tasks/gan.js';
import { tensorData } from '../../src/train/tensor-data.js';

let engine: Engine;
beforeAll(async () => { engine = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => engine.dispose());

/** A 2-D GAN: a linear generator from 2-D noise and a small MLP critic. */
class Toy extends Module {
  readonly generator: Linear;
  readonly discriminator: Sequential;
  constructor(e: Engine, seed: number) {
    super(e);
    const rng = new Rng(seed);
    this.generator = this.child('generator', new Linear(e, 2, 2, { rng }));
    this.discriminator = this.child('discriminator', new Sequential(e, [new Linear(e, 2, 16, { rng }), (x: Tensor) => leakyRelu(x, 0.2), new Linear(e, 16, 1, { rng })]));
  }
}

/** 256 points around (2, −1). */
const points = (() => {
  const rng = new Rng(9), v = new Float32Array(512);
  for (let i = 0; i < 256; i++) { v[2 * i] = 2 + 0.3 * rng.normal(); v[2 * i + 1] = -1 + 0.3 * rng.normal(); }
  return tensorData(v, [2]);
})();

const opts = (o: Partial<LoopOptions>): LoopOptions => ({ ...defaultLoopOptions, epochs: 100, batch: 32, lr: 0.02, warmupSteps: 0, clip: 10, seed: 2, ...o });

async function generatedMean(toy: Toy): Promise<number[]> {
  const z = engine.tensor(new Rng(4).normals(2 * 512, 1), [512, 2]);
  const m = engine.scope(() => mean(toy.generator.forward(z), [0]));
  const out = Array.from(await m.data());
  z.dispose();
  m.dispose();
  return out;
}

describe('GanTask', () => {
  it.each(['hinge', 'non-saturating'] as GanLoss[])('%s: n discriminator updates per generator update; the samples move to the data', async (loss) => {
    const toy = new Toy(engine, 1);
    const task = new GanTask(toy, { latentDim: 2, discriminatorSteps: 2, loss });
    const before = await generatedMean(toy);
    const seen: number[] = [];
    await runTraining(task, points, opts({ maxSteps: 150 }), { onStep: (m) => seen.push(m.metrics!.discriminator!) });
    expect(task.groups.map((g) => g.optimizer.t)).toEqual([300, 150]);
    expect(seen.every(Number.isFinite)).toBe(true);
    const after = await generatedMean(toy);
    const dist = (m: number[]) => Math.hypot(m[0]! - 2, m[1]! + 1);
    expect(dist(after), `mean before ${before}, after ${after}`).toBeLessThan(0.5 * dist(before));
    task.dispose();
    toy.dispose();
  }, 120_000);

  it('4 steps, checkpoint, resume, 4 more = 8 uninterrupted steps, bit for bit', async () => {
    const run = async (o: Partial<LoopOptions>, resume?: ReturnType<typeof loadCheckpoint>) => {
      const toy = new Toy(engine, resume ? 50 : 1);
      const task = new GanTask(toy, { latentDim: 2, discriminatorSteps: 3 });
      await runTraining(task, points, opts(o), {}, resume);
      const state = [...(await toy.stateDict())].map(([k, v]) => [k, Array.from(v.data)]);
      const steps = task.groups.map((g) => g.optimizer.t);
      task.dispose();
      toy.dispose();
      return { state, steps };
    };
    const want = await run({ maxSteps: 8 });
    const dir = mkdtempSync(join(tmpdir(), 'inflow-gan-'));
    await run({ maxSteps: 4, checkpointDir: dir, checkpointEvery: 4 });
    expect(await run({ maxSteps: 8, checkpointDir: dir }, loadCheckpoint(checkpointPath(dir)))).toEqual(want);
  });
});
