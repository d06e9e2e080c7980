import { appendFileSync, mkdirSync, readFileSync, statSync, truncateSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../data/rng.js';
import { fail, InflowError } from '../engine/errors.js';
import type { Tensor } from '../engine/tensor.js';
import { cleanStaleTemps, kindOf } from '../io/atomic-write.js';
import { Dropout } from '../nn/dropout.js';
import type { Module, StateDict } from '../nn/module.js';
import type { Param } from '../nn/param.js';
import { saveCheckpoint, type Checkpoint, type TrainState } from './checkpoint.js';
import { applyGradients } from './clip.js';
import type { Ema } from './ema.js';
import type { Optimizer } from './optimizer.js';
import { learningRate } from './schedule.js';

/** What every training run takes, whatever the model kind. */
export interface LoopOptions {
  epochs: number;
  batch: number;
  /** Peak learning rate (each group may scale it). */
  lr: number;
  warmupSteps: number;
  /** Per-step multiplicative decay after warm-up. */
  decay: number;
  /** Global gradient-norm clip per update (0 = off; a group may set its own). */
  clip: number;
  seed: number;
  /** Folder for checkpoint.safetensors; none = no checkpoints. */
  checkpointDir?: string;
  checkpointEvery: number;
  /** Stop after this many non-finite steps in a row. */
  maxBadSteps: number;
  /** Stop after this many steps in total (for tests and quick runs); default: all epochs. */
  maxSteps?: number;
  /** JSONL log of every step's metrics. */
  logPath?: string;
  /** The task's held-out evaluation after every this many epochs (and after the last). */
  evalEvery: number;
}

export const defaultLoopOptions: LoopOptions = {
  epochs: 1, batch: 64, lr: 1e-3, warmupSteps: 100, decay: 1, clip: 50, seed: 0,
  checkpointEvery: 200, maxBadSteps: 10, evalEvery: 1,
};

/** The training set as the loop sees it: a number of examples, indexed 0…count−1 (the task reads them). */
export interface TrainData {
  readonly count: number;
}

/**
 * Parameters updated together by one optimizer. A task may have several (a GAN: generator and
 * discriminator), each with its own optimizer kind, learning-rate scale and clip.
 */
export interface ParamGroup {
  /** Names the group's optimizer state in checkpoints: '' for a task's only group, else unique and without '/'. */
  readonly name: string;
  readonly params: () => Param[];
  readonly optimizer: Optimizer;
  /** Multiplies the scheduled learning rate (default 1). */
  readonly lrScale?: number;
  /** Overrides the run's clip option for this group. */
  readonly clip?: number;
}

export interface UpdateResult {
  loss: number;
  gradNorm: number;
  /** false: the loss or a gradient was not finite, and nothing was changed. */
  applied: boolean;
}

/** What a task's step function gets: the batch, the schedule, the run's RNG and the update helper. */
export interface StepContext {
  /** 0-based index of this step in the whole run. */
  readonly step: number;
  readonly epoch: number;
  /** The scheduled learning rate of this step (before a group's lrScale). */
  readonly lr: number;
  /** The run's RNG (noise, augmentation, timesteps): saved in checkpoints, so a resumed run draws the same numbers. */
  readonly rng: Rng;
  /** Indices into the training set of this step's batch. */
  readonly indices: readonly number[];
  /**
   * Differentiates loss() (a scalar) with respect to the group's parameters, then: a non-finite loss
   * or gradient norm skips the update (the step counts as bad); otherwise the gradients are
   * clipped to the global norm and the group's optimizer takes a step at lr · lrScale.
   */
  update(group: ParamGroup, loss: () => Tensor): Promise<UpdateResult>;
  /**
   * update() for gradients computed elsewhere (e.g. summed over data-parallel shards, one per
   * parameter of the group in params() order): the same guard, clip and optimizer step. Takes
   * ownership of `grads`.
   */
  apply(group: ParamGroup, loss: number, grads: Tensor[]): Promise<UpdateResult>;
}

export interface StepOutcome {
  /** The step's headline loss (logged, shown, and a non-finite one marks the step bad). */
  loss: number;
  /** Default: the last update's gradient norm. */
  gradNorm?: number;
  /** More numbers for the JSONL log and callbacks (e.g. a GAN's discriminator loss). */
  metrics?: Record<string, number>;
}

/**
 * A model kind's part of training: the modules and optimizers, and one step. Every guarantee of
 * the loop (schedule, clipping, non-finite guard, logs, checkpoints, exact resume) holds for any
 * task. Examples: flow likelihood and classifier cross-entropy (one group), autoencoder MSE;
 * a GAN (groups 'generator' and 'discriminator'; its step calls update() n times on the
 * discriminator and once on the generator); diffusion ε-loss (one group, timesteps and noise from
 * ctx.rng, an Ema of the denoiser).
 */
export interface TrainingTask<D extends TrainData = TrainData> {
  /** 'flow', 'classifier', 'autoencoder', … (saved in checkpoints). */
  readonly kind: string;
  /** The root module: its state dict (parameters and buffers) is what checkpoints hold. */
  readonly model: Module;
  readonly groups: readonly ParamGroup[];
  /** Updated after every good step and saved in checkpoints. */
  readonly ema?: Ema | null;
  /** JSON that rebuilds the model (saved in checkpoints as the model config). */
  config(): Record<string, unknown>;
  /** Before the first step of a fresh run (not on resume): e.g. data-dependent initialisation from the first batch. */
  init?(data: D, first: readonly number[]): Promise<void>;
  step(data: D, ctx: StepContext): Promise<StepOutcome>;
  /** A held-out number after an epoch (null: none); the model is in eval mode meanwhile. */
  evaluate?(epoch: number): Promise<number | null>;
  /** Task state beyond tensors and the RNG (JSON), saved in checkpoints and given back on resume. */
  extraState?(): Record<string, unknown>;
  restoreExtraState?(state: Record<string, unknown>): void;
}

/** A task's checkpoint config: the one given, else the model's `config` property, else { kind }. */
export const taskConfig = (model: Module, kind: string, given?: Record<string, unknown>): Record<string, unknown> =>
  given ?? (model as { config?: Record<string, unknown> }).config ?? { kind };

export interface StepMetrics {
  step: number;
  epoch: number;
  loss: number;
  gradNorm: number;
  lr: number;
  skipped: boolean;
  imagesPerSecond: number;
  stepsPerSecond: number;
  totalSteps: number;
  /** The task's extra metrics, if any. */
  metrics?: Record<string, number>;
}

export interface EpochSummary {
  /** Mean loss of the epoch's good steps (NaN if none). */
  meanLoss: number;
}

export interface LoopCallbacks {
  onStep?: (m: StepMetrics) => void;
  onEpoch?: (epoch: number, heldOut: number | null, summary: EpochSummary) => void;
  onCheckpoint?: (path: string, step: number) => void;
  onBadStep?: (m: StepMetrics, consecutive: number) => void;
}

/** Not a bug but the run's numbers: an InflowError, so the CLI prints it as one line with what to do. */
export class TrainingDiverged extends InflowError {
  override name = 'TrainingDiverged';
}

export interface LoopResult {
  /** Steps taken by this call (a resumed run counts from where it resumed). */
  steps: number;
  finalLoss: number;
  heldOut: Array<{ epoch: number; value: number }>;
  seconds: number;
}

export const checkpointPath = (dir: string): string => join(dir, 'checkpoint.safetensors');

/**
 * The training loop of every model kind: epochs over a shuffled order of the data, linear warm-up
 * then exponential decay, global-norm clipping, a non-finite guard that skips a bad step and stops
 * after maxBadSteps in a row, progress callbacks, a JSONL log of every step, and atomic checkpoints
 * holding weights, buffers, optimizer state, EMA, step, data order and RNG, so a run resumed from
 * one continues exactly like an uninterrupted one on the same backend. The model is in train mode
 * during steps and in eval mode during evaluation; its mode is restored at the end.
 */
export async function runTraining<D extends TrainData, O extends LoopOptions>(task: TrainingTask<D>, data: D, opts: O,
  callbacks: LoopCallbacks = {}, resume?: Checkpoint): Promise<LoopResult> {
  validateLoopOptions(opts);
  checkGroups(task.groups);
  const stepsPerEpoch = Math.floor(data.count / opts.batch);
  if (stepsPerEpoch < 1) fail('train', `batch ${opts.batch} is more than the ${data.count} training examples; use a batch of ${data.count} or fewer`);
  // Temp files of checkpoints (and other atomic writes) that a killed run left in its folder.
  if (opts.checkpointDir) cleanStaleTemps(opts.checkpointDir);
  const totalSteps = Math.min(opts.maxSteps ?? Infinity, stepsPerEpoch * opts.epochs);
  const wasTraining = task.model.training;
  task.model.train();

  let state: TrainState;
  let rng: Rng;
  if (resume) {
    state = resume.state;
    rng = Rng.fromState(state.rng);
    // The model first (a checkpoint of another task says so), then the data it was trained on.
    restore(task, resume);
    checkResumable(state, data.count);
  } else {
    rng = new Rng(opts.seed);
    state = { step: 0, epoch: 0, cursor: 0, order: rng.shuffle([...Array(data.count).keys()]), rng: rng.state(),
      optimizerSteps: 0, consecutiveBad: 0, options: { ...opts } as unknown as Record<string, unknown> };
    await task.init?.(data, state.order.slice(0, opts.batch));
  }
  if (opts.logPath) {
    mkdirSync(join(opts.logPath, '..'), { recursive: true });
    // The log continues from the state the run starts in: a resumed run replays the steps after its
    // checkpoint, and a fresh run starts at step 0, so their earlier lines would be repeated.
    truncateLog(opts.logPath, state.step);
  }
  const heldOut: LoopResult['heldOut'] = [];
  const t0 = performance.now();
  let lastLoss = NaN, stepsThisRun = 0;
  const epochLoss = state.epochLoss ?? { sum: 0, count: 0 };
  try {
    while (state.step < totalSteps) {
      const tStep = performance.now();
      const indices = state.order.slice(state.cursor, state.cursor + opts.batch);
      const lr = learningRate(opts, state.step);
      const updates: UpdateResult[] = [];
      const engine = task.model.engine;
      const ctx: StepContext = {
        step: state.step, epoch: state.epoch, lr, rng, indices,
        apply: async (group, loss, grads) => {
          const r = await applyGradients(group.params(), grads, loss, { optimizer: group.optimizer, lr: lr * (group.lrScale ?? 1), clip: group.clip ?? opts.clip });
          updates.push(r);
          return r;
        },
        update: async (group, lossFn) => {
          const { value, grads } = engine.valueAndGrads(lossFn, group.params().map((p) => p.value));
          const loss = await value.item();
          value.dispose();
          return ctx.apply(group, loss, grads as Tensor[]);
        },
      };
      const outcome = await task.step(data, ctx);
      const loss = outcome.loss;
      const norm = outcome.gradNorm ?? updates.at(-1)?.gradNorm ?? NaN;
      const skipped = !Number.isFinite(loss) || updates.some((u) => !u.applied);
      if (!skipped) {
        task.ema?.update();
        state.consecutiveBad = 0;
        lastLoss = loss;
        epochLoss.sum += loss;
        epochLoss.count++;
      } else state.consecutiveBad++;
      state.step++;
      stepsThisRun++;
      state.cursor += opts.batch;
      const seconds = (performance.now() - tStep) / 1000;
      const metrics: StepMetrics = { step: state.step, epoch: state.epoch, loss, gradNorm: norm, lr, skipped,
        imagesPerSecond: indices.length / seconds, stepsPerSecond: 1 / seconds, totalSteps, ...(outcome.metrics ? { metrics: outcome.metrics } : {}) };
      if (opts.logPath) appendFileSync(opts.logPath, JSON.stringify({ ...metrics, time: new Date().toISOString() }) + '\n');
      if (skipped) {
        callbacks.onBadStep?.(metrics, state.consecutiveBad);
        if (state.consecutiveBad >= opts.maxBadSteps)
          throw new TrainingDiverged(`training stopped: ${state.consecutiveBad} steps in a row had a non-finite loss or gradient (step ${state.step}, lr ${lr.toExponential(2)}); lower --lr or raise --clip, then --resume from the last checkpoint`);
      } else callbacks.onStep?.(metrics);

      const epochDone = state.cursor + opts.batch > data.count;
      if (epochDone) {
        const lastEpoch = state.step >= totalSteps;
        const due = (state.epoch + 1) % opts.evalEvery === 0 || lastEpoch;
        let value: number | null = null;
        if (task.evaluate && due) {
          task.model.eval();
          try {
            value = await task.evaluate(state.epoch);
          } finally {
            task.model.train();
          }
        }
        if (value !== null) heldOut.push({ epoch: state.epoch, value });
        callbacks.onEpoch?.(state.epoch, value, { meanLoss: epochLoss.count ? epochLoss.sum / epochLoss.count : NaN });
        epochLoss.sum = 0;
        epochLoss.count = 0;
        state.epoch++;
        state.cursor = 0;
        state.order = rng.shuffle([...Array(data.count).keys()]);
      }
      if (opts.checkpointDir && (state.step % opts.checkpointEvery === 0 || state.step === totalSteps)) {
        // The counters and RNG that live outside `state` between checkpoints.
        state.optimizerSteps = task.groups[0]?.optimizer.t ?? 0;
        state.optimizers = Object.fromEntries(task.groups.map((g) => [g.name, g.optimizer.t]));
        if (task.ema) state.emaUpdates = task.ema.updates;
        state.epochLoss = { ...epochLoss };
        state.extra = task.extraState?.();
        state.dropoutCalls = Object.fromEntries(dropouts(task.model).map((d) => [d.path, d.calls]));
        state.rng = rng.state();
        await writeCheckpoint(task, state, opts.checkpointDir, callbacks);
      }
    }
  } finally {
    task.model.train(wasTraining);
  }
  return { steps: stepsThisRun, finalLoss: lastLoss, heldOut, seconds: (performance.now() - t0) / 1000 };
}

/** Optimizer state key of a group's entry: "<slot>/<param>" for the unnamed group, else "<group>/<slot>/<param>". */
const groupKey = (group: string, key: string): string => (group ? `${group}/${key}` : key);

async function writeCheckpoint<D extends TrainData>(task: TrainingTask<D>, state: TrainState, dir: string, callbacks: LoopCallbacks): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const optimizer: StateDict = new Map();
  for (const g of task.groups) for (const [k, v] of await g.optimizer.state()) optimizer.set(groupKey(g.name, k), v);
  const ckpt: Checkpoint = {
    modelConfig: task.config(), weights: await task.model.stateDict(), optimizer, state,
    ...(task.ema ? { ema: await task.ema.state() } : {}),
  };
  const path = checkpointPath(dir);
  saveCheckpoint(path, ckpt);
  callbacks.onCheckpoint?.(path, state.step);
}

/** Weights, buffers, optimizer state, EMA and the task's own state from a checkpoint. */
function restore<D extends TrainData>(task: TrainingTask<D>, ckpt: Checkpoint): void {
  const { state } = ckpt;
  task.model.loadStateDict(ckpt.weights);
  // Each Dropout seeds call i with seed + i: the count resumes so the masks continue the run's.
  for (const d of dropouts(task.model)) d.calls = state.dropoutCalls?.[d.path] ?? 0;
  const named = task.groups.length === 1 && task.groups[0]!.name === '' ? null : new Set(task.groups.map((g) => g.name));
  const perGroup = new Map<string, StateDict>(task.groups.map((g) => [g.name, new Map()]));
  for (const [key, v] of ckpt.optimizer) {
    const slash = key.indexOf('/');
    const group = named ? key.slice(0, slash) : '';
    if (named && (slash < 0 || !named.has(group)))
      fail('train', `checkpoint has optimizer state '${key}' of no optimizer group of this ${task.kind} task (groups: ${[...named].join(', ')})`);
    perGroup.get(group)!.set(named ? key.slice(slash + 1) : key, v);
  }
  for (const g of task.groups) {
    const t = state.optimizers?.[g.name] ?? (g === task.groups[0] ? state.optimizerSteps : undefined);
    if (t === undefined) fail('train', `checkpoint has no step count for optimizer group '${g.name}' of this ${task.kind} task`);
    g.optimizer.load(t, perGroup.get(g.name)!);
  }
  task.ema?.load(state.emaUpdates ?? 0, ckpt.ema ?? new Map());
  if (state.extra) task.restoreExtraState?.(state.extra);
}

function checkGroups(groups: readonly ParamGroup[]): void {
  if (groups.length === 0) fail('train', 'a training task needs at least one parameter group');
  const names = groups.map((g) => g.name);
  if (groups.length > 1 && names.some((n) => !n || n.includes('/')))
    fail('train', `parameter groups of a task with several must have names without '/' (got ${names.map((n) => JSON.stringify(n)).join(', ')})`);
  if (new Set(names).size !== names.length) fail('train', `parameter group names must be unique (got ${names.join(', ')})`);
}

export const positiveInt = (name: string, v: number): void => {
  if (!Number.isInteger(v) || v < 1) fail('train', `${name} = ${String(v)} must be a positive integer`);
};

export function validateLoopOptions(o: LoopOptions): void {
  positiveInt('epochs', o.epochs);
  positiveInt('batch', o.batch);
  positiveInt('checkpointEvery', o.checkpointEvery);
  positiveInt('maxBadSteps', o.maxBadSteps);
  positiveInt('evalEvery', o.evalEvery);
  if (!(o.lr > 0) || !Number.isFinite(o.lr)) fail('train', `lr = ${String(o.lr)} must be a positive number`);
  if (!(o.decay > 0 && o.decay <= 1)) fail('train', `decay = ${String(o.decay)} must be in (0, 1]`);
  if (!(o.clip >= 0) || !Number.isFinite(o.clip)) fail('train', `clip = ${String(o.clip)} must be a finite number ≥ 0 (0 disables clipping)`);
  if (!Number.isInteger(o.warmupSteps) || o.warmupSteps < 0) fail('train', `warmupSteps = ${String(o.warmupSteps)} must be a non-negative integer`);
  if (!Number.isInteger(o.seed)) fail('train', `seed = ${String(o.seed)} must be an integer`);
  if (o.maxSteps !== undefined) positiveInt('maxSteps', o.maxSteps);
}

/**
 * A checkpoint's data position fits this training set: its order is a permutation of the
 * examples. Resuming on other data would index past the end of it or silently train on a
 * different order.
 */
function checkResumable(state: TrainState, count: number): void {
  if (state.order.length !== count)
    fail('train', `the checkpoint was written for a training set of ${state.order.length} examples, this one has ${count}: resume with the same data`);
  const seen = new Uint8Array(count);
  for (const i of state.order) {
    if (i >= count || seen[i]) fail('train', `the checkpoint's data order is not a permutation of its ${count} examples (entry ${i}): the checkpoint is damaged`);
    seen[i] = 1;
  }
  if (state.cursor > count) fail('train', `the checkpoint's position ${state.cursor} is past the end of its ${count} examples`);
}

/**
 * Cuts the JSONL log after the last line of a step ≤ `step`: the lines of steps a resumed run
 * takes again, and a torn last line of a run killed mid-write, go; lines without a step (a header)
 * and earlier steps stay. A log that is not a regular file (a folder, a named pipe) is refused
 * before anything is written to it.
 */
export function truncateLog(path: string, step: number): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    return;
  }
  if (!st.isFile()) fail('train', `${path}: the training log is ${kindOf(st)}, not a file`);
  const bytes = readFileSync(path);
  let keep = 0;
  for (let start = 0; start < bytes.length;) {
    const end = bytes.indexOf(10, start);
    if (end < 0) break;
    let lineStep: unknown;
    try {
      lineStep = (JSON.parse(bytes.subarray(start, end).toString('utf8')) as { step?: unknown } | null)?.step;
    } catch {
      lineStep = undefined;
    }
    if (typeof lineStep === 'number' && lineStep > step) break;
    keep = start = end + 1;
  }
  if (keep < bytes.length) truncateSync(path, keep);
}

/** The Dropout modules of a model, whose call counts a checkpoint keeps. */
const dropouts = (model: Module): Dropout[] => model.modules().filter((m): m is Dropout => m instanceof Dropout);
