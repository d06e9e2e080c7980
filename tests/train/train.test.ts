import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subset } from '../../src/data/dataset.js';
import { mnistSplit } from '../../src/data/mnist.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import { fincFlow } from '../../src/models/index.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { evaluateBitsPerDim } from '../../src/train/evaluate.js';
import { checkpointPath, train, type TrainOptions } from '../../src/train/trainer.js';
import { enginesUnderTest } from '../helpers/engines.js';

const { train: fullTrain, test: fullTest } = mnistSplit();
const trainSet = subset(fullTrain, [...Array(256).keys()]);
const testSet = subset(fullTest, [...Array(100).keys()]);
const small = { inputShape: [1, 28, 28] as [number, number, number], levels: 2, steps: 2, width: 16 };

let wasm: Engine;
beforeAll(async () => { wasm = await createEngine({ backend: 'wasm', threads: 1 }); });
afterAll(() => wasm.dispose());

describe('training on real MNIST digits', () => {
  it('50 steps on 256 digits lower held-out bits/dim (wasm, fixed seed)', async () => {
    const model = fincFlow(small, { engine: wasm, seed: 1 });
    const before = await evaluateBitsPerDim(model, testSet);
    const result = await train(model, trainSet, testSet, { epochs: 100, maxSteps: 50, batch: 32, lr: 2e-3, warmupSteps: 5, seed: 3 });
    const after = await evaluateBitsPerDim(model, testSet);
    expect(result.steps).toBe(50);
    expect(Number.isFinite(after)).toBe(true);
    expect(after).toBeLessThan(before - 0.3);
    model.dispose();
  });

  it('evaluates held-out bits/dim every N epochs and after the last', async () => {
    const model = fincFlow({ ...small, steps: 1, width: 8 }, { engine: wasm, seed: 1 });
    const tiny = subset(trainSet, [...Array(64).keys()]);
    const seen: Array<number | null> = [];
    const result = await train(model, tiny, testSet, { epochs: 5, batch: 32, evalEvery: 2, seed: 1 }, { onEpoch: (_e, bpd) => seen.push(bpd) });
    expect(result.heldOut.map((h) => h.epoch)).toEqual([1, 3, 4]);
    expect(seen.map((v) => v !== null)).toEqual([false, true, false, true, true]);
    await expect(train(model, tiny, testSet, { evalEvery: 0 })).rejects.toThrow(/evalEvery = 0 must be a positive integer/);
    model.dispose();
  });

  it('a few steps on webgpu lower the loss', async (ctx) => {
    const engines = await enginesUnderTest();
    const gpu = engines.find((e) => e.name === 'webgpu')!;
    for (const e of engines) if (e !== gpu) e.engine?.dispose();
    if (!gpu.engine) return ctx.skip(gpu.skipReason);
    const model = fincFlow({ ...small, steps: 1, width: 8 }, { engine: gpu.engine, seed: 1 });
    const losses: number[] = [];
    await train(model, subset(trainSet, [...Array(16).keys()]), null,
      { epochs: 100, maxSteps: 6, batch: 16, lr: 5e-3, warmupSteps: 1, seed: 3 }, { onStep: (m) => losses.push(m.loss) });
    expect(losses.length).toBe(6);
    expect(losses[5]!).toBeLessThan(losses[0]!);
    model.dispose();
    gpu.engine.dispose();
  });
});

describe('checkpoint and resume', () => {
  const opts: Partial<TrainOptions> = { epochs: 100, batch: 32, lr: 2e-3, warmupSteps: 3, seed: 9, checkpointEvery: 10 };
  const weightsOf = async (model: ReturnType<typeof fincFlow>) =>
    Promise.all([...model.namedParams().values()].map((p) => p.value.data()));

  it('10 steps, a crash with a torn temp file, resume, 10 more = 20 uninterrupted steps, bit for bit', async () => {
    const straight = fincFlow(small, { engine: wasm, seed: 5 });
    await train(straight, trainSet, null, { ...opts, maxSteps: 20 });
    const want = await weightsOf(straight);
    straight.dispose();

    const dir = mkdtempSync(join(tmpdir(), 'inflow-resume-'));
    const first = fincFlow(small, { engine: wasm, seed: 5 });
    await train(first, trainSet, null, { ...opts, maxSteps: 10, checkpointDir: dir });
    first.dispose();
    // The crash: a half-written temp checkpoint beside the good one must not replace it.
    const good = readFileSync(checkpointPath(dir));
    writeFileSync(join(dir, '.checkpoint.safetensors.999.1.tmp'), good.subarray(0, good.length >> 1));
    const ckpt = loadCheckpoint(checkpointPath(dir));
    expect(ckpt.state.step).toBe(10);

    const resumed = fincFlow(small, { engine: wasm, seed: 77 });
    const r = await train(resumed, trainSet, null, { ...opts, maxSteps: 20, checkpointDir: dir }, {}, ckpt);
    expect(r.steps).toBe(10);
    const got = await weightsOf(resumed);
    got.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(want[i]!)));
    expect(readdirSync(dir).filter((f) => f === 'checkpoint.safetensors')).toHaveLength(1);
    resumed.dispose();
  });

  it('stops with a clear message after N non-finite steps in a row', async () => {
    const model = fincFlow(small, { engine: wasm, seed: 5 });
    const bad = subset(trainSet, [...Array(64).keys()]);
    const skipped: number[] = [];
    await expect(train(model, bad, null, { epochs: 100, maxSteps: 50, batch: 32, lr: 1e30, warmupSteps: 0, clip: 0, maxBadSteps: 3 },
      { onBadStep: (_m, n) => skipped.push(n) })).rejects.toThrow(/3 steps in a row had a non-finite loss or gradient/);
    expect(skipped).toEqual([1, 2, 3]);
    model.dispose();
  });
});
