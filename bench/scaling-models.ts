// Whole-model rows of the `scaling` suite: the bundled flow (models/finc-mnist.safetensors) and the
// bundled diffusion UNet (models/diffusion-mnist.safetensors) — forward, sampling and a training
// step — on 1 thread, on all threads through the threaded kernels, and on all threads as data
// parallelism (src/parallel), timed in alternating rounds in one process.
import { fileURLToPath } from 'node:url';
import { add, createEngine, mean, mul, square, sub, type Engine, type Tensor } from '../src/index.js';
import { loadModel } from '../src/io/model-file.js';
import { loadDiffusionModel } from '../src/models/diffusion/diffusion-file.js';
import type { NoiseSchedule } from '../src/models/diffusion/schedule.js';
import type { FlowModel } from '../src/models/index.js';
import type { UNet } from '../src/models/unet/unet.js';
import type { Module, StateDict } from '../src/nn/module.js';
import { DataParallel } from '../src/parallel/data-parallel.js';
import { Rng } from '../src/data/rng.js';
import { Optimizer } from '../src/train/optimizer.js';
import { sig } from './lib/compare.js';
import type { SuiteContext } from './lib/suite.js';
import { inBlocks, median, sideBySide, type TimingPlan } from './lib/timing.js';
import { pixels } from './peers/flow-pair.js';

const FLOW = fileURLToPath(new URL('../models/finc-mnist.safetensors', import.meta.url));
const DIFFUSION = fileURLToPath(new URL('../models/diffusion-mnist.safetensors', import.meta.url));
/** Unlabelled, a 10-class flow's training step holds 10 passes' activations: batch 32 needs more than wasm32's 2 GiB on one engine. */
const FLOW_TRAIN_MAX = 16;

const SUSTAINED = { block: 4, rounds: 4 };

const PLANS: Record<'model' | 'train' | 'quick', TimingPlan> = {
  // Short calls get many repetitions (the machine's noise is milliseconds), long ones stop at the budget.
  model: { warmup: 2, reps: 25, minReps: 9, budgetMs: 20000 },
  train: { warmup: 1, reps: 9, minReps: 5, budgetMs: 40000 },
  quick: { warmup: 0, reps: 2, minReps: 1, budgetMs: 0 },
};

type Task = 'forward' | 'sample' | 'train';
/** one: 1 thread; kernels: all threads inside each op; parallel: all threads, one shard each (src/parallel); parallelOne: the same shards on 1 thread. */
type Contender = 'one' | 'kernels' | 'parallel' | 'parallelOne';

export interface ModelRow {
  model: 'flow' | 'unet';
  task: Task;
  batch: number;
  medianMs: Partial<Record<Contender, number>>;
  /** Every timed call, per contender, in the order they ran. */
  samplesMs: Partial<Record<Contender, number[]>>;
  /** Samples per contender (they alternate, so every contender ran the same number of calls). */
  reps: number;
  kernelsOverOne: number;
  parallelOverOne: number;
  /** Each replica's shard time in the last data-parallel call: how balanced the threads were. */
  shardMs: number[];
  /**
   * Batch ≥ 16 (full runs): 1 thread and data-parallel in blocks of SUSTAINED.block calls, the
   * first of each block dropped (bench/lib/timing.ts inBlocks): the rate of a loop that keeps calling.
   */
  sustained: { oneMs: number; parallelMs: number; parallelOverOne: number; samples: number } | null;
  /** forward / sample: data-parallel and threaded outputs equal the 1-thread output bit for bit; train: data-parallel on all threads left the same weights as on 1 thread. */
  identical: boolean;
}

interface Replicas<M extends Module> { models: Record<Contender, M>; parallel: DataParallel; parallelOne: DataParallel; engines: Engine[] }

async function replicas<M extends Module & (FlowModel | UNet)>(threads: number, load: (e: Engine) => Promise<M>): Promise<Replicas<M>> {
  const engines = await Promise.all([1, threads, 1, 1].map((t) => createEngine({ backend: 'wasm', threads: t })));
  const [one, kernels, parallel, parallelOne] = await Promise.all(engines.map(load));
  return {
    models: { one: one!, kernels: kernels!, parallel: parallel!, parallelOne: parallelOne! }, engines,
    parallel: await DataParallel.create(parallel!, { threads, shards: threads }),
    parallelOne: await DataParallel.create(parallelOne!, { threads: 1, shards: threads }),
  };
}

async function closeAll<M extends Module>(r: Replicas<M>): Promise<void> {
  await r.parallel.close();
  await r.parallelOne.close();
  for (const m of Object.values(r.models)) m.dispose();
  for (const e of r.engines) e.dispose();
}

const adam = (e: Engine): Optimizer => new Optimizer(e, { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 });
const same = (a: Float32Array, b: Float32Array): boolean => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

async function sameWeights(a: Module, b: Module): Promise<boolean> {
  const [sa, sb] = [await a.stateDict(), await b.stateDict()];
  return [...sa].every(([k, v]) => same(v.data, sb.get(k)!.data));
}

async function read(t: Tensor): Promise<Float32Array> {
  try {
    return await t.data();
  } finally {
    t.dispose();
  }
}

/** Times `calls` side by side; `outputs` are compared for forward and sampling rows. */
async function row(ctx: SuiteContext, model: ModelRow['model'], task: Task, batch: number, calls: Partial<Record<Contender, () => Promise<Float32Array | null>>>,
  shardMs: () => readonly number[], identical: (outs: Partial<Record<Contender, Float32Array | null>>) => Promise<boolean>): Promise<ModelRow> {
  process.stderr.write(`scaling: ${model} ${task}, batch ${batch}\n`);
  const names = Object.keys(calls) as Contender[];
  const outs: Partial<Record<Contender, Float32Array | null>> = {};
  const plan = ctx.quick ? PLANS.quick : task === 'train' ? PLANS.train : PLANS.model;
  const { timings } = await sideBySide(names.map((c) => async () => { outs[c] = await calls[c]!(); }), plan);
  const medianMs = Object.fromEntries(names.map((c, i) => [c, sig(timings[i]!.medianMs, 4)])) as ModelRow['medianMs'];
  ctx.peak.sample(1);
  const samplesMs = Object.fromEntries(names.map((c, i) => [c, timings[i]!.samplesMs.map((v) => sig(v, 4))])) as ModelRow['samplesMs'];
  // Before the sustained blocks, which train one contender further than its twin.
  const identicalOutputs = await identical(outs);
  let sustained: ModelRow['sustained'] = null;
  if (!ctx.quick && batch >= 16) {
    const [one, parallel] = await inBlocks([calls.one!, calls.parallel!], SUSTAINED);
    const [a, b] = [median(one!), median(parallel!)];
    sustained = { oneMs: sig(a, 4), parallelMs: sig(b, 4), parallelOverOne: sig(a / b, 3), samples: one!.length };
  }
  return {
    model, task, batch, medianMs, samplesMs, reps: timings[0]!.samplesMs.length,
    kernelsOverOne: sig(medianMs.one! / medianMs.kernels!, 3), parallelOverOne: sig(medianMs.one! / medianMs.parallel!, 3),
    shardMs: shardMs().map((v) => sig(v, 4)), identical: identicalOutputs, sustained,
  };
}

export async function flowRows(ctx: SuiteContext, threads: number): Promise<ModelRow[]> {
  const r = await replicas(threads, (engine) => loadModel(FLOW, { engine }));
  const m = r.models, shape = m.one.config.model.inputShape;
  const initial = await m.one.stateDict();
  const rows: ModelRow[] = [];
  const outputsMatch = async (o: Partial<Record<Contender, Float32Array | null>>) => same(o.one!, o.parallel!) && same(o.one!, o.kernels!);
  const shards = () => r.parallel.lastShardMs;
  for (const n of ctx.quick ? [1, 8] : [1, 8, 16, 32, 128]) {
    const x = pixels(n, shape, 1), dims = [n, ...shape];
    const logProb = (f: FlowModel) => () => read(f.engine.noGrad(() => f.engine.scope(() => f.logProb(f.engine.tensor(x, dims)))));
    rows.push(await row(ctx, 'flow', 'forward', n, { one: logProb(m.one), kernels: logProb(m.kernels), parallel: () => r.parallel.logProb(x, dims) }, shards, outputsMatch));
    const sample = (f: FlowModel) => async () => read(await f.sample(n, { seed: 3 }));
    rows.push(await row(ctx, 'flow', 'sample', n, { one: sample(m.one), kernels: sample(m.kernels), parallel: () => r.parallel.sample(n, { seed: 3 }) }, shards, outputsMatch));
    if (n > FLOW_TRAIN_MAX) continue;
    const opts = { one: adam(m.one.engine), kernels: adam(m.kernels.engine), parallel: adam(m.parallel.engine), parallelOne: adam(m.parallelOne.engine) };
    const plain = (f: FlowModel, o: Optimizer) => async () => {
      const params = f.parameters();
      const { value, grads } = f.engine.valueAndGrads(() => mean(f.bitsPerDim(f.engine.tensor(x, dims))), params.map((p) => p.value));
      await read(value);
      o.step(params, grads as Tensor[], 1e-4);
      for (const g of grads) g.dispose();
      return null;
    };
    rows.push(await row(ctx, 'flow', 'train', n, {
      one: plain(m.one, opts.one), kernels: plain(m.kernels, opts.kernels),
      parallel: async () => { await r.parallel.flowStep(x, dims, { optimizer: opts.parallel, lr: 1e-4 }); return null; },
      parallelOne: async () => { await r.parallelOne.flowStep(x, dims, { optimizer: opts.parallelOne, lr: 1e-4 }); return null; },
    }, shards, () => sameWeights(m.parallel, m.parallelOne)));
    for (const o of Object.values(opts)) o.dispose();
    restore(r, initial);
  }
  await closeAll(r);
  return rows;
}

/** Training moved each contender's weights its own way: every model starts the next rows from the file's weights again. */
function restore<M extends Module>(r: Replicas<M>, initial: StateDict): void {
  for (const model of Object.values(r.models)) model.loadStateDict(initial);
}

export async function unetRows(ctx: SuiteContext, threads: number): Promise<ModelRow[]> {
  let schedule: NoiseSchedule | null = null;
  const r = await replicas(threads, async (engine) => {
    const d = loadDiffusionModel(DIFFUSION, { engine });
    schedule = d.schedule;
    return d.unet;
  });
  const m = r.models, c = m.one.config, per = c.inChannels * c.imageSize * c.imageSize;
  const initial = await m.one.stateDict();
  const rows: ModelRow[] = [];
  const shards = () => r.parallel.lastShardMs;
  const outputsMatch = async (o: Partial<Record<Contender, Float32Array | null>>) => same(o.one!, o.parallel!) && same(o.one!, o.kernels!);
  for (const n of ctx.quick ? [1, 8] : [1, 8, 32]) {
    const rng = new Rng(n);
    const dims = [n, c.inChannels, c.imageSize, c.imageSize];
    const x0 = Float32Array.from({ length: n * per }, () => rng.uniform() * 2 - 1);
    const noise = Float32Array.from({ length: n * per }, () => rng.normal());
    const t = Array.from({ length: n }, () => rng.below(schedule!.steps));
    const labels = c.classes > 0 ? Array.from({ length: n }, () => rng.below(c.classes + 1)) : undefined;
    // A module's forward frees nothing itself: the scope frees its intermediates.
    const forward = (u: UNet) => () => read(u.engine.noGrad(() => u.engine.scope(() => u.forward(u.engine.tensor(noise, dims), t, labels))));
    rows.push(await row(ctx, 'unet', 'forward', n, { one: forward(m.one), kernels: forward(m.kernels), parallel: () => r.parallel.denoise(noise, dims, t, { ...(labels ? { labels } : {}) }) }, shards, outputsMatch));
    const opts = { one: adam(m.one.engine), kernels: adam(m.kernels.engine), parallel: adam(m.parallel.engine), parallelOne: adam(m.parallelOne.engine) };
    const batch = { x0, shape: dims, t, noise, ...(labels ? { labels } : {}) };
    rows.push(await row(ctx, 'unet', 'train', n, {
      one: plainDiffusionStep(m.one, opts.one, batch, schedule!), kernels: plainDiffusionStep(m.kernels, opts.kernels, batch, schedule!),
      parallel: async () => { await r.parallel.diffusionStep(batch, schedule!, { optimizer: opts.parallel, lr: 1e-4 }); return null; },
      parallelOne: async () => { await r.parallelOne.diffusionStep(batch, schedule!, { optimizer: opts.parallelOne, lr: 1e-4 }); return null; },
    }, shards, () => sameWeights(m.parallel, m.parallelOne)));
    for (const o of Object.values(opts)) o.dispose();
    restore(r, initial);
  }
  await closeAll(r);
  return rows;
}

/** The diffusion task's step on one engine (src/train/tasks/diffusion.ts), with the same draws every call. */
function plainDiffusionStep(u: UNet, o: Optimizer, b: { x0: Float32Array; shape: number[]; t: number[]; noise: Float32Array; labels?: number[] }, schedule: NoiseSchedule) {
  return async (): Promise<null> => {
    const e = u.engine, n = b.t.length, coef = [n, 1, 1, 1];
    const params = u.parameters();
    const { value, grads } = e.valueAndGrads(() => {
      const ab = b.t.map((ti) => schedule.alphaBars[ti]!);
      const x0 = e.tensor(b.x0, b.shape), eps = e.tensor(b.noise, b.shape);
      const xt = e.noGrad(() => add(mul(x0, e.tensor(Float64Array.from(ab, Math.sqrt), coef)), mul(eps, e.tensor(Float64Array.from(ab, (a) => Math.sqrt(1 - a)), coef))));
      return mean(square(sub(u.forward(xt, b.t, b.labels), eps)));
    }, params.map((p) => p.value));
    await read(value);
    o.step(params, grads as Tensor[], 1e-4);
    for (const g of grads) g.dispose();
    return null;
  };
}
