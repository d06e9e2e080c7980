import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng.js';
import { createEngine } from '../../src/engine/dispatcher.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { Dropout } from '../../src/nn/dropout.js';
import { Linear } from '../../src/nn/linear.js';
import { Module, type StateDict } from '../../src/nn/module.js';
import type { ModuleBuffer } from '../../src/nn/param.js';
import { add, mean, mul, relu, softplus, sub } from '../../src/ops/index.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { Ema } from '../../src/train/ema.js';
import { checkpointPath, defaultLoopOptions, runTraining, type LoopOptions, type ParamGroup, type StepContext, type StepOutcome, type TrainingTask } from '../../src/train/loop.js';
import { AdamW, SGD } from '../../src/train/optimizer.js';
import { AutoencoderTask, reconstructionError } from '../../src/train/tasks/autoencoder.js';
import { tensorData, type TensorData } from '../../src/train/tensor-data.js';

let reference: Engine, wasm: Engine;
beforeAll(async () => {
  reference = await createEngine({ backend: 'reference' });
  wasm = await createEngine({ backend: 'wasm', threads: 1 });
});
afterAll(() => { reference.dispose(); wasm.dispose(); });

/** 64 points in 8-D lying on a 2-D plane, plus a little noise: a 3-wide linear bottleneck can reconstruct them. */
function planeData(n = 64, seed = 1): TensorData {
  const rng = new Rng(seed);
  const basis = [rng.normals(8), rng.normals(8)];
  const values = new Float32Array(n * 8);
  for (let i = 0; i < n; i++) {
    const a = rng.normal(), b = rng.normal();
    for (let j = 0; j < 8; j++) values[i * 8 + j] = a * basis[0]![j]! + b * basis[1]![j]! + 0.01 * rng.normal();
  }
  return tensorData(values, [8]);
}

class LinearAutoencoder extends Module {
  readonly enc: Linear;
  readonly dec: Linear;
  readonly config = { kind: 'linear-autoencoder', features: 8, code: 3 };
  constructor(e: Engine, seed: number) {
    super(e);
    const rng = new Rng(seed);
    this.enc = this.child('enc', new Linear(e, 8, 3, { rng }));
    this.dec = this.child('dec', new Linear(e, 3, 8, { rng }));
  }
  encode(x: Tensor): Tensor { return this.enc.forward(x); }
  decode(z: Tensor): Tensor { return this.dec.forward(z); }
}

const opts = (o: Partial<LoopOptions>): LoopOptions => ({ ...defaultLoopOptions, warmupSteps: 0, ...o });

describe('autoencoder task', () => {
  it('lowers the reconstruction MSE of a tiny Linear autoencoder over 40 steps', async () => {
    const data = planeData();
    const model = new LinearAutoencoder(reference, 3);
    const before = await reconstructionError(model, data);
    const task = new AutoencoderTask(model, { test: data });
    const losses: number[] = [];
    const r = await runTraining(task, data, opts({ epochs: 100, maxSteps: 40, batch: 16, lr: 0.03, seed: 2 }), { onStep: (m) => losses.push(m.loss) });
    const after = await reconstructionError(model, data);
    expect(r.steps).toBe(40);
    expect(losses).toHaveLength(40);
    expect(after).toBeLessThan(before / 5);
    expect(r.heldOut.length).toBeGreaterThan(0);
    expect(r.heldOut.at(-1)!.value).toBeCloseTo(after, 6);
    task.dispose();
    model.dispose();
  });

  it('stops after N non-finite steps in a row, with the flow trainer\'s message', async () => {
    const data = planeData(32);
    const model = new LinearAutoencoder(wasm, 3);
    const task = new AutoencoderTask(model);
    const bad: number[] = [];
    await expect(runTraining(task, data, opts({ epochs: 100, maxSteps: 50, batch: 8, lr: 1e30, clip: 0, maxBadSteps: 3 }),
      { onBadStep: (_m, n) => bad.push(n) })).rejects.toThrow(/3 steps in a row had a non-finite loss or gradient/);
    expect(bad).toEqual([1, 2, 3]);
    task.dispose();
    model.dispose();
  });
});

/**
 * Has a buffer: the running mean of what it sees in train mode (as BatchNorm keeps), and a Dropout
 * whose per-call masks a resumed run must continue.
 */
class Critic extends Module {
  readonly lin: Linear;
  readonly drop: Dropout;
  readonly running: ModuleBuffer;
  constructor(e: Engine, rng: Rng) {
    super(e);
    this.lin = this.child('lin', new Linear(e, 2, 1, { rng }));
    this.drop = this.child('drop', new Dropout(e, 0.25, 5));
    this.running = this.buffer('running_mean', e.zeros([2]));
  }
  forward(x: Tensor): Tensor {
    if (this.training) this.running.value = this.engine.noGrad(() => this.engine.scope(() => add(mul(this.running.value, 0.9), mul(mean(x, [0]), 0.1))));
    return this.lin.forward(this.drop.forward(sub(x, this.running.value)));
  }
}

class Pair extends Module {
  readonly generator: Linear;
  readonly critic: Critic;
  constructor(e: Engine, seed: number) {
    super(e);
    const rng = new Rng(seed);
    this.generator = this.child('generator', new Linear(e, 2, 2, { rng }));
    this.critic = this.child('critic', new Critic(e, rng));
  }
}

/**
 * A GAN-shaped task: two groups with different optimizers, n critic updates per generator update,
 * noise from the run's RNG, an EMA of the generator, a buffer in the critic and a counter of its own.
 */
class ToyGan implements TrainingTask<TensorData> {
  readonly kind = 'toy-gan';
  readonly groups: readonly ParamGroup[];
  readonly ema: Ema;
  criticSteps = 0;
  evalModes: boolean[] = [];
  constructor(readonly model: Pair, readonly n = 2) {
    const e = model.engine;
    this.groups = [
      { name: 'critic', params: () => model.critic.parameters(), optimizer: new SGD(e, { momentum: 0.9, nesterov: true }), lrScale: 0.5 },
      { name: 'generator', params: () => model.generator.parameters(), optimizer: new AdamW(e), clip: 1 },
    ];
    this.ema = new Ema(model, 0.8);
  }
  config() { return { kind: 'toy-gan', n: this.n }; }
  private noise(ctx: StepContext): Tensor {
    return this.model.engine.tensor(Float32Array.from({ length: ctx.indices.length * 2 }, () => ctx.rng.normal()), [ctx.indices.length, 2]);
  }
  async step(data: TensorData, ctx: StepContext): Promise<StepOutcome> {
    const e = this.model.engine, { generator: g, critic: d } = this.model;
    const real = e.tensor(data.values(ctx.indices), [ctx.indices.length, 2]);
    let dLoss = 0;
    for (let i = 0; i < this.n; i++) {
      const z = this.noise(ctx);
      dLoss = (await ctx.update(this.groups[0]!, () => add(mean(softplus(mul(d.forward(real), -1))), mean(softplus(d.forward(g.forward(z))))))).loss;
      z.dispose();
      this.criticSteps++;
    }
    const z = this.noise(ctx);
    const { loss } = await ctx.update(this.groups[1]!, () => mean(softplus(mul(d.forward(relu(g.forward(z))), -1))));
    z.dispose();
    real.dispose();
    return { loss, metrics: { critic: dLoss } };
  }
  async evaluate(): Promise<number | null> {
    this.evalModes.push(this.model.training, this.model.critic.training);
    return this.criticSteps;
  }
  extraState() { return { criticSteps: this.criticSteps }; }
  restoreExtraState(s: Record<string, unknown>) { this.criticSteps = s.criticSteps as number; }
  dispose() { for (const g of this.groups) g.optimizer.dispose(); this.ema.dispose(); }
}

/** Two blobs in 2-D, 40 points: 5 steps per epoch at batch 8. */
const blobs = (() => {
  const rng = new Rng(11), v = new Float32Array(80);
  for (let i = 0; i < 40; i++) { v[2 * i] = (i % 2 ? 2 : -2) + 0.3 * rng.normal(); v[2 * i + 1] = 1 + 0.3 * rng.normal(); }
  return tensorData(v, [2]);
})();

const plain = (m: StateDict) => [...m].map(([k, v]) => [k, Array.from(v.data)]);

async function everything(task: ToyGan) {
  const groups = await Promise.all(task.groups.map(async (g) => [g.name, g.optimizer.t, plain(await g.optimizer.state())]));
  return {
    model: plain(await task.model.stateDict()),
    ema: plain(await task.ema.state()),
    emaUpdates: task.ema.updates, groups, criticSteps: task.criticSteps, dropoutCalls: task.model.critic.drop.calls,
  };
}

describe('the generic loop with a non-flow task (two optimizers, EMA, a buffer)', () => {
  const runOpts = opts({ epochs: 10, batch: 8, lr: 0.05, warmupSteps: 2, decay: 0.99, seed: 4, checkpointEvery: 4, evalEvery: 1 });

  it('7 steps, checkpoint, resume, 6 more = 13 uninterrupted steps, bit for bit (wasm)', async () => {
    const straight = new ToyGan(new Pair(wasm, 1));
    await runTraining(straight, blobs, { ...runOpts, maxSteps: 13 });
    const want = await everything(straight);
    straight.dispose();

    const dir = mkdtempSync(join(tmpdir(), 'inflow-loop-'));
    const log = join(dir, 'log.jsonl');
    const first = new ToyGan(new Pair(wasm, 1));
    const checkpoints: number[] = [];
    await runTraining(first, blobs, { ...runOpts, maxSteps: 7, checkpointDir: dir, logPath: log }, { onCheckpoint: (_p, s) => checkpoints.push(s) });
    expect(checkpoints).toEqual([4, 7]);
    expect(first.evalModes).toEqual([false, false]);     // evaluated (epoch 1 ends at step 5) in eval mode
    expect(first.model.training).toBe(true);
    first.dispose();
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; metrics: { critic: number } });
    expect(lines.map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(Number.isFinite(lines[0]!.metrics.critic)).toBe(true);

    const ckpt = loadCheckpoint(checkpointPath(dir));
    expect(ckpt.state.step).toBe(7);
    expect(ckpt.modelConfig).toEqual({ kind: 'toy-gan', n: 2 });
    expect([...ckpt.weights.keys()]).toContain('critic.running_mean');
    expect([...ckpt.optimizer.keys()].sort()).toEqual(['critic/momentum/critic.lin.bias', 'critic/momentum/critic.lin.weight',
      'generator/m/generator.bias', 'generator/m/generator.weight', 'generator/v/generator.bias', 'generator/v/generator.weight']);
    expect(ckpt.state.optimizers).toEqual({ critic: 14, generator: 7 });

    const resumed = new ToyGan(new Pair(wasm, 99));
    const r = await runTraining(resumed, blobs, { ...runOpts, maxSteps: 13, checkpointDir: dir }, {}, ckpt);
    expect(r.steps).toBe(6);
    expect(await everything(resumed)).toEqual(want);
    resumed.dispose();
  });

  it('a checkpoint of another task shape is refused in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inflow-loop-'));
    const model = new LinearAutoencoder(wasm, 1);
    const ae = new AutoencoderTask(model);
    await runTraining(ae, planeData(16), opts({ batch: 8, maxSteps: 1, checkpointDir: dir }));
    ae.dispose();
    model.dispose();
    const gan = new ToyGan(new Pair(wasm, 1));
    await expect(runTraining(gan, blobs, runOpts, {}, loadCheckpoint(checkpointPath(dir)))).rejects.toThrow(/loadStateDict: missing 'generator\.weight'.*unexpected 'enc\.weight'/);
    gan.dispose();
  });
});
