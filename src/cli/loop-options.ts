/**
 * What the training commands (`inflow train`, `diffuse train`, `autoencoder train`, `gan train`) share about the
 * training loop: its flags (each command gives its defaults and the help text that is its own), the
 * run's files checked before anything starts (--checkpoint-dir, --log, --out, --resume), and the
 * loop's own option checks as one line naming the flag.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Engine } from '../engine/engine.js';
import { InflowError } from '../engine/errors.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { ModelFileError } from '../io/safetensors.js';
import { loadCheckpoint, type Checkpoint } from '../train/checkpoint.js';
import type { Checked } from '../models/schema.js';
import { checkpointPath, defaultLoopOptions, runTraining, validateLoopOptions, type LoopCallbacks, type LoopOptions, type LoopResult, type StepMetrics, type TrainData, type TrainingTask } from '../train/loop.js';
import { parseInteger, parseNonNegativeInt, parseNumber, parsePositiveInt } from './options.js';
import { checkFolder, makeParent, prepareOutput } from './paths.js';
import { UserError } from './user-error.js';

export interface LoopFlags {
  epochs: number;
  batch: number;
  lr: number;
  warmup: number;
  decay: number;
  clip: number;
  seed: number;
  maxSteps?: number;
  checkpointDir: string;
  checkpointEvery: number;
  resume?: boolean;
  out: string;
  log?: string;
}

/** A command's defaults and help texts for the loop flags; the help a command leaves out is the common one. */
export interface LoopOptionSpec {
  defaults: { epochs: number; batch: number; lr: number; warmup: number; clip: number; out: string };
  help: {
    seed: string;
    /** What --resume restores, in the parentheses after 'exactly where it stopped'. */
    resume: string;
    out: string;
    batch?: string;
    lr?: string;
    checkpointEvery?: string;
    log?: string;
  };
  /** The command's own options that --help lists among the loop's: after --decay, --max-steps or --resume. */
  after?: { decay?: (cmd: Command) => void; maxSteps?: (cmd: Command) => void; resume?: (cmd: Command) => void };
}

/** Adds the loop flags to `cmd`, in the order every training command lists them. */
export function addLoopOptions(cmd: Command, s: LoopOptionSpec): Command {
  const d = s.defaults, h = s.help;
  cmd.option('--epochs <n>', 'passes over the training set', parsePositiveInt, d.epochs)
    .option('--batch <n>', h.batch ?? 'images per step', parsePositiveInt, d.batch)
    .option('--lr <x>', h.lr ?? 'peak learning rate (Adam)', parseNumber, d.lr)
    .option('--warmup <steps>', 'linear warm-up steps', parseNonNegativeInt, d.warmup)
    .option('--decay <x>', 'learning-rate decay per step after warm-up', parseNumber, 1);
  s.after?.decay?.(cmd);
  cmd.option('--clip <norm>', 'clip gradients to this global norm (0 = off)', parseNumber, d.clip)
    .option('--seed <n>', h.seed, parseInteger, 0)
    .option('--max-steps <n>', 'stop after this many steps in total', parsePositiveInt);
  s.after?.maxSteps?.(cmd);
  cmd.option('--checkpoint-dir <dir>', 'where checkpoint.safetensors is kept', 'checkpoints')
    .option('--checkpoint-every <steps>', h.checkpointEvery ?? 'checkpoint interval (the model file --out is rewritten at every checkpoint)', parsePositiveInt, 200)
    .option('--resume', `continue from <checkpoint-dir>/checkpoint.safetensors exactly where it stopped (${h.resume})`);
  s.after?.resume?.(cmd);
  return cmd.option('--out <file>', h.out, d.out)
    .option('--log <file>', h.log ?? 'JSONL log of every step (default: <checkpoint-dir>/train.jsonl)');
}

/** A run's files, checked before the engine starts and the data load, and the checkpoint --resume continues from. */
export interface RunFiles {
  checkpointDir: string;
  logPath: string;
  /** <checkpoint-dir>/checkpoint.safetensors */
  ckptFile: string;
  resume: Checkpoint | undefined;
}

export function prepareRun(flags: LoopFlags): RunFiles {
  checkFolder('--checkpoint-dir', flags.checkpointDir);
  const logPath = flags.log ?? join(flags.checkpointDir, 'train.jsonl');
  prepareOutput('--log', logPath);
  prepareOutput('--out', flags.out);
  const ckptFile = checkpointPath(flags.checkpointDir);
  return { checkpointDir: flags.checkpointDir, logPath, ckptFile, resume: flags.resume ? readResume(ckptFile) : undefined };
}

function readResume(path: string): Checkpoint {
  if (!existsSync(path)) throw new UserError(`--resume: no checkpoint at ${path} (use --checkpoint-dir to point at it)`);
  try {
    return loadCheckpoint(path);
  } catch (e) {
    if (e instanceof ModelFileError || e instanceof InflowError) throw new UserError(`--resume: ${e.message}`);
    throw e;
  }
}

/**
 * A resumed run's model config, checked by the command's schema (`kind`: 'an autoencoder' names a
 * checkpoint of another command), and the options it started with: only --max-steps may change them.
 */
export function resumedRun<C, O extends LoopOptions>(resume: Checkpoint, run: RunFiles, maxSteps: number | undefined,
  check: (config: unknown) => Checked<C>, kind: string): { config: C; opts: O } {
  const checked = check(resume.modelConfig);
  if (!checked.ok) throw new UserError(`--resume: ${run.ckptFile}: not ${kind} checkpoint (${checked.problem})`);
  const opts = { ...defaultLoopOptions, ...(resume.state.options as Partial<O>) } as O;
  if (maxSteps) opts.maxSteps = maxSteps;
  return { config: checked.value, opts };
}

/** A new run's loop options from its flags (a resumed run keeps the checkpoint's). */
export const loopOptionsFrom = (f: LoopFlags) => ({
  epochs: f.epochs, batch: f.batch, lr: f.lr, warmupSteps: f.warmup, decay: f.decay, clip: f.clip,
  seed: f.seed, checkpointEvery: f.checkpointEvery, ...(f.maxSteps ? { maxSteps: f.maxSteps } : {}),
});

/** The loop option each flag sets, so the loop's messages (`train: lr = 0 …`) name what the user typed. */
const LOOP_FLAGS: Record<string, string> = {
  lr: '--lr', batch: '--batch', epochs: '--epochs', clip: '--clip', decay: '--decay', warmupSteps: '--warmup', checkpointEvery: '--checkpoint-every', maxSteps: '--max-steps', seed: '--seed',
};

/**
 * Points the loop at the run's files and runs its own checks (lr > 0, decay in (0, 1], …) before the
 * data load: a bad flag fails naming the flag; a resumed run's bad options are the checkpoint's.
 */
export function finishLoopOptions(opts: LoopOptions, run: RunFiles): void {
  opts.checkpointDir = run.checkpointDir;
  opts.logPath = run.logPath;
  try {
    validateLoopOptions(opts);
  } catch (e) {
    if (!(e instanceof InflowError)) throw e;
    const msg = e.message.replace(/^train: /, '');
    const named = run.resume ? msg : msg.replace(/^(\w+) = /, (all, k: string) => (LOOP_FLAGS[k] ? `${LOOP_FLAGS[k]} ` : all));
    throw new UserError(`${run.resume ? `--resume: ${run.ckptFile}: its options: ` : ''}${named}`);
  }
}

/** Refused rather than clamped: a smaller batch would change the run, so the user picks it. */
export function requireBatchFits(opts: LoopOptions, count: number): void {
  if (opts.batch > count) throw new UserError(`--batch ${opts.batch} is more than the ${count} training images`);
}

/** Steps the run will take: whole batches per epoch, at most --max-steps. */
export const totalSteps = (count: number, opts: LoopOptions): number => Math.min(opts.maxSteps ?? Infinity, Math.floor(count / opts.batch) * opts.epochs);

/** The line under the model's: the data, the backend and why, the batch and rate, and where a resume starts. */
export const dataLine = (description: string, engine: Engine, opts: LoopOptions, resume: Checkpoint | undefined): string =>
  `data: ${description}; backend ${engine.name} (${engine.info().why}); batch ${opts.batch}, lr ${opts.lr}${resume ? `; resuming at step ${resume.state.step}` : ''}`;

export const badStepLine = (m: StepMetrics, n: number): string => `step ${m.step}: non-finite loss or gradient, skipped (${n} in a row)`;

/**
 * The loop as the model commands run it (gan train, diffuse train, autoencoder train): each skipped
 * step reported in one line, the model file rewritten from every checkpoint as it lands (so a running
 * job always leaves a file the other commands read), and the progress display closed whatever happens.
 */
export async function trainWithProgress<D extends TrainData, O extends LoopOptions>(task: TrainingTask<D>, data: D, opts: O, resume: Checkpoint | undefined,
  run: { bar: { end(): void }; onStep: LoopCallbacks['onStep']; onEpoch?: LoopCallbacks['onEpoch']; writeModel(ckpt: Checkpoint): void }): Promise<LoopResult> {
  try {
    return await runTraining(task, data, opts, {
      onStep: run.onStep,
      ...(run.onEpoch ? { onEpoch: run.onEpoch } : {}),
      onBadStep: (m, n) => console.error(badStepLine(m, n)),
      onCheckpoint: (path) => run.writeModel(loadCheckpoint(path)),
    }, resume);
  } finally {
    run.bar.end();
  }
}

/** Writes the model file whole (atomically), its folder made first: a running job always leaves a readable file. */
export function writeModelFile(path: string, bytes: Uint8Array): void {
  makeParent(path);
  writeFileAtomic(path, bytes);
}
