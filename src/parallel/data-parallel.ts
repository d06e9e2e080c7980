/**
 * Data parallelism on the CPU: a model replicated on `threads` threads (the calling one and
 * threads − 1 workers, each with a one-thread wasm engine), every batch split into shards that run
 * whole on one replica. Unlike the threaded kernels, which wake the workers for every op, a
 * replica runs its shard from the first layer to the last without waiting for anyone, so small
 * per-layer shapes scale (docs/thread-scaling.md §6).
 *
 * Results do not depend on the thread count: inference shards are independent images (the kernels
 * give an image the same bits in any batch), every random draw is made once on the calling thread,
 * and a training step's gradients are summed in shard order over a fixed number of shards.
 */
import os from 'node:os';
import { MAX_THREADS } from '../engine/budget.js';
import { fail } from '../engine/errors.js';
import { ActNorm } from '../layers/actnorm.js';
import type { Tensor } from '../engine/tensor.js';
import { FlowModel, type SampleOptions, type ScoreOptions } from '../models/flow-model.js';
import { checkEnum, CORRUPT } from '../models/guards.js';
import type { NoiseSchedule } from '../models/diffusion/schedule.js';
import { UNet } from '../models/unet/unet.js';
import { applyGradients } from '../train/clip.js';
import type { Optimizer } from '../train/optimizer.js';
import { readAndFree, type FlowScore, type HostTensor, type ProgramArgs, type ProgramName } from './programs.js';
import { ReplicaPool } from './replica-pool.js';
import { concatShards, rows, shardRanges, sumShardGrads } from './shards.js';

export interface DataParallelOptions {
  /** Threads in all, the calling one included (default: the machine's cores, at most 16). */
  threads?: number;
  /**
   * Shards of a training batch (default: `threads`). A training step's bits depend on this number,
   * never on `threads`: keep it fixed to get the same run on any machine.
   */
  shards?: number;
}

export interface ParallelStepOptions {
  optimizer: Optimizer;
  lr: number;
  /** Global gradient-norm clip (0 or unset: off). */
  clip?: number;
}

export interface ParallelStepResult { loss: number; gradNorm: number; applied: boolean }

/** A batch's loss and its gradients, one tensor per parameter (in parameters() order) on the model's engine. */
export interface ParallelGradients { loss: number; grads: Tensor[] }

/** One diffusion training batch: x₀ in [−1, 1] and the draws the diffusion task makes per example. */
export interface DiffusionBatch {
  x0: Float32Array;
  /** [n, C, H, W]. */
  shape: readonly number[];
  t: readonly number[];
  noise: Float32Array;
  labels?: readonly number[];
  cond?: HostTensor;
}

export class DataParallel {
  private constructor(readonly model: FlowModel | UNet, private readonly pool: ReplicaPool, readonly shards: number) {}

  /**
   * Replicates `model` (a FlowModel or a UNet) on `threads` threads. The model stays the caller's
   * and is replica 0; its weights are copied to the workers now and, whenever they change, before
   * the next call. Give it a model on a one-thread engine: a threaded engine would share the cores
   * with the replicas. Call close() when done.
   */
  static async create(model: FlowModel | UNet, opts: DataParallelOptions = {}): Promise<DataParallel> {
    if (!(model instanceof FlowModel) && !(model instanceof UNet)) fail('DataParallel.create', 'model must be a FlowModel or a UNet');
    if (model.isDisposed) fail('DataParallel.create', 'the model was disposed');
    const threads = opts.threads ?? Math.min(MAX_THREADS, os.availableParallelism());
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) fail('DataParallel.create', `threads = ${threads} must be an integer in 1…${MAX_THREADS}`);
    const shards = opts.shards ?? threads;
    if (!Number.isInteger(shards) || shards < 1 || shards > 1024) fail('DataParallel.create', `shards = ${shards} must be an integer in 1…1024`);
    // The replicas run wasm: a model on another backend would compute its own shards differently.
    if (model.engine.name !== 'wasm') fail('DataParallel.create', `the model is on ${model.engine.name}; data parallelism replicates wasm models (use createEngine({ backend: 'wasm', threads: 1 }))`);
    return new DataParallel(model, await ReplicaPool.start(model, threads), shards);
  }

  get threads(): number { return this.pool.threads; }

  /** Each shard's wall time on its thread in the last call, in shard order. */
  get lastShardMs(): readonly number[] { return this.pool.lastShardMs; }

  private flow(op: string): FlowModel {
    if (!(this.model instanceof FlowModel)) fail(op, 'needs a FlowModel');
    return this.model;
  }

  private unet(op: string): UNet {
    if (!(this.model instanceof UNet)) fail(op, 'needs a UNet');
    return this.model;
  }

  /** log p(x) per image of a batch of dequantised pixels (FlowModel.logProb's options). */
  logProb(x: Float32Array, shape: readonly number[], opts: ScoreOptions = {}): Promise<Float32Array> {
    return this.score('DataParallel.logProb', 'logProb', x, shape, opts);
  }

  /** bits/dim per image (FlowModel.bitsPerDim's options): the same bits as on one thread. */
  bitsPerDim(x: Float32Array, shape: readonly number[], opts: ScoreOptions = {}): Promise<Float32Array> {
    return this.score('DataParallel.bitsPerDim', 'bitsPerDim', x, shape, opts);
  }

  /** log p(x, y) per image and class, [n, K] row-major (FlowModel.classLogProbs). */
  classLogProbs(x: Float32Array, shape: readonly number[], opts: Omit<ScoreOptions, 'labels'> = {}): Promise<Float32Array> {
    const op = 'DataParallel.classLogProbs';
    if (!this.flow(op).classes) fail(op, 'the model has no class prior (train it with --classes)');
    return this.score(op, 'classLogProbs', x, shape, opts);
  }

  private async score(op: string, score: FlowScore, x: Float32Array, shape: readonly number[], opts: ScoreOptions): Promise<Float32Array> {
    this.flow(op);
    const n = batchOf(op, x, shape);
    // The all-in-[0, 1] heuristic looks at the whole batch: when it passes, the shards score as 'pixels' (still range-checked).
    const range = opts.range ?? (x.every((v) => v >= 0 && v <= 1) ? undefined : 'pixels');
    const labels = opts.labels === undefined ? null : Array.from(opts.labels);
    if (labels && labels.length !== n) fail(op, `${labels.length} labels for ${n} images`);
    const args = shardRanges(n, Math.min(this.threads, n)).map((r): ProgramArgs['flow.score'] =>
      ({ x: rowsOf(x, shape, r), labels: labels ? labels.slice(...r) : null, range, score }));
    return concatShards((await this.pool.run('flow.score', args)).map((s) => s.out!));
  }

  /**
   * n images, the same bits as model.sample(n, opts) on one thread: the latents are drawn here with
   * the model's seeded RNG, then decoded in shards.
   */
  async sample(n: number, opts: SampleOptions = {}): Promise<Float32Array> {
    const op = 'DataParallel.sample', model = this.flow(op);
    const output = checkEnum(op, 'output', (opts as { output?: unknown }).output, ['pixels', 'flow']) ?? 'pixels';
    const { output: _, ...drawOpts } = opts;
    await model.prepare();
    const { z, labels } = model.drawLatents(n, drawOpts);
    const latents: HostTensor[] = [];
    for (const t of z) latents.push({ shape: [...t.shape], data: await readAndFree(t) });
    const args = shardRanges(n, Math.min(this.threads, n)).map((r): ProgramArgs['flow.decode'] => ({
      z: latents.map((l) => rowsOf(l.data, l.shape, r)),
      labels: labels ? labels.slice(...r) : null, output,
    }));
    const shards = await this.pool.run('flow.decode', args);
    if (!shards.every((s) => Number.isFinite(s.total))) fail(op, `the model produced non-finite pixels: ${CORRUPT}`);
    return concatShards(shards.map((s) => s.out!));
  }

  /** The UNet's output for a batch x_t at timesteps t (one per image), with optional labels and image condition. */
  async denoise(x: Float32Array, shape: readonly number[], t: readonly number[], opts: { labels?: readonly number[]; cond?: HostTensor } = {}): Promise<Float32Array> {
    const op = 'DataParallel.denoise';
    this.unet(op);
    const n = batchOf(op, x, shape);
    perImage(op, 't', t, n);
    if (opts.labels) perImage(op, 'labels', opts.labels, n);
    const args = shardRanges(n, Math.min(this.threads, n)).map((r): ProgramArgs['unet.forward'] => ({
      x: rowsOf(x, shape, r), t: t.slice(...r),
      labels: opts.labels ? opts.labels.slice(...r) : null, cond: opts.cond ? shardOf(opts.cond, n, r) : null,
    }));
    return concatShards((await this.pool.run('unet.forward', args)).map((s) => s.out!));
  }

  /**
   * Gradients of the flow's mean bits/dim over a batch of dequantised pixels (−log p(x | y) with
   * labels), summed over `shards` shards: one tensor per parameter, the caller's to free.
   */
  async flowGradients(x: Float32Array, shape: readonly number[], labels?: readonly number[]): Promise<ParallelGradients> {
    const op = 'DataParallel.flowGradients', model = this.flow(op);
    const n = batchOf(op, x, shape);
    if (labels) perImage(op, 'labels', labels, n);
    if (model.modules().some((m) => m instanceof ActNorm && !m.initialized))
      fail(op, 'the flow\'s ActNorms are not initialised: call model.initialize(firstBatch) before the first step');
    return this.gradients('flow.grads', shardRanges(n, Math.min(this.shards, n)).map((r): ProgramArgs['flow.grads'] => ({
      x: rowsOf(x, shape, r), labels: labels ? labels.slice(...r) : null, scale: 1 / n,
    })));
  }

  /** flowGradients, then the training loop's update rule (skip if non-finite, clip, optimizer step). */
  async flowStep(x: Float32Array, shape: readonly number[], step: ParallelStepOptions & { labels?: readonly number[] }): Promise<ParallelStepResult> {
    const { loss, grads } = await this.flowGradients(x, shape, step.labels);
    return applyGradients(this.model.parameters(), grads, loss, { optimizer: step.optimizer, lr: step.lr, clip: step.clip ?? 0 });
  }

  /**
   * Gradients of the DDPM loss mean((ŷ − target)²) on a batch whose draws (t, noise, labels after
   * their dropout, image conditions) the caller made — as DiffusionTask draws them.
   */
  async diffusionGradients(batch: DiffusionBatch, schedule: NoiseSchedule, prediction: 'epsilon' | 'v' = 'epsilon'): Promise<ParallelGradients> {
    const op = 'DataParallel.diffusionGradients', model = this.unet(op);
    if (model.config.dropout > 0) fail(op, `the UNet has dropout ${model.config.dropout}: its masks would differ by thread; train it with dropout 0 or on one engine`);
    const n = batchOf(op, batch.x0, batch.shape);
    perImage(op, 't', batch.t, n);
    if (batch.noise.length !== batch.x0.length) fail(op, `noise has ${batch.noise.length} values, x0 ${batch.x0.length}`);
    if (batch.labels) perImage(op, 'labels', batch.labels, n);
    for (const ti of batch.t) if (!Number.isInteger(ti) || ti < 0 || ti >= schedule.steps) fail(op, `timestep ${ti} is outside 0…${schedule.steps - 1}`);
    return this.gradients('unet.grads', shardRanges(n, Math.min(this.shards, n)).map((r): ProgramArgs['unet.grads'] => ({
      x0: rowsOf(batch.x0, batch.shape, r),
      noise: rowsOf(batch.noise, batch.shape, r),
      t: batch.t.slice(...r), alphaBar: batch.t.slice(...r).map((ti) => schedule.alphaBars[ti]!),
      labels: batch.labels ? batch.labels.slice(...r) : null, cond: batch.cond ? shardOf(batch.cond, n, r) : null,
      prediction, scale: 1 / batch.x0.length,
    })));
  }

  /** diffusionGradients, then the training loop's update rule. */
  async diffusionStep(batch: DiffusionBatch, schedule: NoiseSchedule, step: ParallelStepOptions & { prediction?: 'epsilon' | 'v' }): Promise<ParallelStepResult> {
    const { loss, grads } = await this.diffusionGradients(batch, schedule, step.prediction);
    return applyGradients(this.model.parameters(), grads, loss, { optimizer: step.optimizer, lr: step.lr, clip: step.clip ?? 0 });
  }

  /** Shard gradients summed in shard order, as tensors of the model's engine (params() order), and the batch loss. */
  private async gradients<K extends ProgramName>(program: K, args: ReadonlyArray<ProgramArgs[K]>): Promise<ParallelGradients> {
    const engine = this.model.engine, params = this.model.parameters();
    const shards = await this.pool.run(program, args);
    let loss = 0;
    for (const s of shards) loss += s.loss!;
    const summed = sumShardGrads(shards.map((s) => s.grads!));
    return { loss, grads: summed.map((g, i) => engine.tensor(g, params[i]!.shape)) };
  }

  /** Stops the workers. The model stays usable (and the caller's to dispose). */
  close(): Promise<void> {
    return this.pool.close();
  }
}

function batchOf(op: string, x: unknown, shape: readonly number[]): number {
  if (!(x instanceof Float32Array)) fail(op, 'the batch must be a Float32Array');
  if (!Array.isArray(shape) || shape.length < 2 || !shape.every((d) => Number.isInteger(d) && d > 0)) fail(op, `shape ${JSON.stringify(shape)} must be [n, …] of positive integers`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== x.length) fail(op, `shape [${shape.join(', ')}] holds ${size} values but the batch has ${x.length}`);
  return shape[0]!;
}

function perImage(op: string, name: string, v: readonly number[], n: number): void {
  if (!Array.isArray(v) || v.length !== n) fail(op, `${name} must have one entry per image (${n}), not ${Array.isArray(v) ? v.length : typeof v}`);
}

/** Images [start, end) of a row-major batch of the given shape, as a host tensor (a view, no copy). */
function rowsOf(data: Float32Array, shape: readonly number[], r: [number, number]): HostTensor {
  return { data: rows(data, data.length / shape[0]!, r), shape: [r[1] - r[0], ...shape.slice(1)] };
}

function shardOf(h: HostTensor, n: number, r: [number, number]): HostTensor {
  if (h.shape[0] !== n) fail('dataParallel', `the image condition has ${h.shape[0]} images for a batch of ${n}`);
  return rowsOf(h.data, h.shape, r);
}
