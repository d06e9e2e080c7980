import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Engine } from '../../engine/engine.js';
import { InflowError } from '../../engine/errors.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { loadClassifier } from '../../io/classifier-file.js';
import { checkImageGrid, writeImageGrid } from '../../io/png.js';
import { ModelFileError, type NamedArray } from '../../io/safetensors.js';
import { loadDiffusionModel } from '../../models/diffusion/diffusion-file.js';
import { diffusionBytes, DiffusionModel } from '../../models/diffusion/diffusion-model.js';
import { digitFeatureStats, judgeSamples } from '../../models/diffusion/judge.js';
import { frechetDistance } from '../../models/frechet.js';
import { mnistSplit } from '../../data/mnist.js';
import { subset } from '../../data/dataset.js';
import { checkDiffusionConfig, type DiffusionModelConfig, type SamplerKind, type ScheduleKind } from '../../models/diffusion/schema.js';
import { loadCheckpoint, type Checkpoint } from '../../train/checkpoint.js';
import { Ema } from '../../train/ema.js';
import { checkpointPath, defaultLoopOptions, runTraining, validateLoopOptions, type LoopOptions, type StepMetrics } from '../../train/loop.js';
import { Adam } from '../../train/optimizer.js';
import { DEFAULT_LABEL_DROPOUT, diffusionImageData, DiffusionTask, WarmEma } from '../../train/tasks/diffusion.js';
import { loadData, maxImagePixelsOption, type DataFlags } from '../data-source.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { parseInteger, parseNonNegativeInt, parseNumber, parsePositiveInt } from '../options.js';
import { checkFolder, makeParent, prepareOutput } from '../paths.js';
import { UserError } from '../user-error.js';

/** The digit classifier that judges MNIST samples (models/mnist-classifier.safetensors). */
const BUNDLED_CLASSIFIER = fileURLToPath(new URL('../../../models/mnist-classifier.safetensors', import.meta.url));

/** `inflow diffuse train | sample | eval`: DDPM / DDIM diffusion models with a UNet (docs/diffusion.md). */
export function diffuseCommand(): Command {
  const cmd = new Command('diffuse')
    .description('diffusion models: train a UNet denoiser, sample with DDIM / DDPM and classifier-free guidance, judge samples');
  for (const sub of [trainCommand(), sampleCommand(), evalCommand()]) {
    // main.ts sets these on the top-level commands only; a subcommand needs its own, or commander
    // would exit by itself (code 1, "error: …") instead of throwing to main's one-line handler.
    sub.exitOverride().configureOutput({ outputError: (str, write) => write(`inflow: ${str.replace(/^error: /, '')}`) });
    cmd.addCommand(sub);
  }
  return cmd;
}

/** Progress over denoiser steps (or training steps): a bar on a terminal; otherwise a line per tenth, or every `every` steps. */
class StepBar {
  private bar: cliProgress.SingleBar | null = null;
  private lastLine = -1;
  constructor(private readonly label: string, private readonly total: number, private readonly every = Math.max(1, Math.ceil(total / 10)),
    private readonly tty = !!process.stderr.isTTY) {}

  update(done: number, fields: Record<string, string> = {}): void {
    if (this.tty) {
      if (!this.bar) {
        const extra = Object.keys(fields).map((k) => `${k} {${k}}`).join(' | ');
        this.bar = new cliProgress.SingleBar({
          format: `${this.label} |{bar}| {value}/{total}${extra ? ` | ${extra}` : ''} | ETA {eta_formatted}`, hideCursor: true, stream: process.stderr,
        }, cliProgress.Presets.shades_classic);
        this.bar.start(this.total, 0, fields);
      }
      this.bar.update(done, fields);
      return;
    }
    const line = Math.floor(done / this.every);
    if (line > this.lastLine || done === this.total) {
      this.lastLine = line;
      const extra = Object.entries(fields).map(([k, v]) => `  ${k} ${v}`).join('');
      console.error(`${this.label} ${done}/${this.total}${extra}`);
    }
  }

  end(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

// ---- sample ----------------------------------------------------------------------------------

interface SamplingFlags {
  steps?: number;
  eta?: number;
  guidance?: number;
  method?: SamplerKind;
  seed: number;
}

/** The sampler flags of `sample` and `eval` (defaults: the model file's). */
const addSamplingOptions = (cmd: Command): Command => cmd
  .option('--steps <n>', "denoiser steps (default: the model file's, e.g. 50); DDIM and DDPM both run on an evenly spaced sub-sequence of the schedule", parsePositiveInt)
  .option('--eta <x>', "DDIM noise scale from 0 (deterministic given the seed's starting noise) to 1 (DDPM's variance); default: the model file's", parseNumber)
  .option('--guidance <w>', "classifier-free guidance scale w ≥ 0: 1 = the conditional model alone, 0 = unconditional, > 1 sharper classes (default: the model file's)", parseNumber)
  .addOption(new Option('--method <name>', "sampler (default: the model file's)").choices(['ddim', 'ddpm']))
  .option('--seed <n>', 'seed (an integer 0…2³²−1) of the starting noise and of the steps\' noise', parseInteger, 0);

const samplingOptions = (f: SamplingFlags) => ({
  ...(f.steps !== undefined ? { steps: f.steps } : {}), ...(f.eta !== undefined ? { eta: f.eta } : {}),
  ...(f.guidance !== undefined ? { guidance: f.guidance } : {}), ...(f.method ? { method: f.method } : {}),
});

function openDiffusionModel(path: string, engine: Engine): DiffusionModel {
  try {
    return loadDiffusionModel(path, { engine });
  } catch (e) {
    throw new UserError(e instanceof Error ? e.message : String(e));
  }
}

function parseLabels(value: string): number[] {
  const labels = value.split(',').map((v) => (/^\s*\d+\s*$/.test(v) ? Number(v) : NaN));
  if (labels.some((y) => !Number.isSafeInteger(y))) throw new InvalidArgumentError(`expected class numbers separated by commas (e.g. 3 or 0,1,2), got '${value}'`);
  return labels;
}

function sampleCommand(): Command {
  return addEngineOptions(addSamplingOptions(new Command('sample')
    .description('draw images from a diffusion model file into a PNG grid')
    .argument('<model>', 'diffusion model file (.safetensors, written by `inflow diffuse train`)')
    .option('--n <count>', 'number of images', parsePositiveInt, 64))
    .option('--label <classes>', "class of each image for a class-conditional model, e.g. '3', or '0,1,2' to cycle (default: 0,1,…,classes−1 cycled)", parseLabels)
    .option('--out <file>', 'PNG grid to write', 'samples.png')
    .option('--scale <n>', 'pixel magnification of the PNG', parsePositiveInt, 2))
    .action(async (file: string, flags: EngineFlags & SamplingFlags & { n: number; label?: number[]; out: string; scale: number }) => {
      prepareOutput('--out', flags.out);
      const engine = await engineFrom(flags);
      const model = openDiffusionModel(file, engine);
      checkImageGrid([flags.n, ...model.imageShape], undefined, flags.scale);
      const opts = samplingOptions(flags);
      const steps = opts.steps ?? model.config.sampler.steps;
      const bar = new StepBar('sample', steps);
      const t0 = performance.now();
      let x;
      try {
        // The library checks steps, eta, guidance, labels and seed against the model (one-line InflowErrors).
        x = await model.sample(flags.n, { ...opts, seed: flags.seed, ...(flags.label ? { labels: flags.label } : {}), onStep: (d) => bar.update(d) });
      } finally {
        bar.end();
      }
      const values = await x.data();
      const ms = performance.now() - t0;
      makeParent(flags.out);
      await writeImageGrid(flags.out, values, x.shape as [number, number, number, number], undefined, flags.scale);
      const s = model.config.sampler;
      const method = opts.method ?? s.method;
      const how = `${method} ${steps} steps${method === 'ddim' ? `, eta ${opts.eta ?? s.eta}` : ''}${model.classes ? `, guidance ${opts.guidance ?? s.guidance}, classes ${(flags.label ?? [...Array(model.classes).keys()]).join(',')}` : ''}`;
      console.log(`${flags.n} samples (${how}; seed ${flags.seed}) in ${(ms / 1000).toFixed(1)} s on ${engine.name} → ${flags.out}`);
      x.dispose();
      model.dispose();
      engine.dispose();
    });
}

// ---- eval ------------------------------------------------------------------------------------

function evalCommand(): Command {
  return addEngineOptions(addSamplingOptions(new Command('eval')
    .description('judge class-conditional samples with the digit classifier: the share drawn for a class that it names with p ≥ 0.9')
    .argument('<model>', 'class-conditional diffusion model file')
    .option('--n <count>', 'samples in all, the classes cycled (1000 = 100 per digit)', parsePositiveInt, 1000)
    .option('--batch <n>', 'samples drawn at once (guidance doubles the denoiser batch; the memory budget caps it)', parsePositiveInt, 50)
    .option('--threshold <p>', 'probability the classifier must give the class', parseNumber, 0.9)
    .option('--classifier <file>', 'digit classifier file (default: the bundled models/mnist-classifier.safetensors)')
    .option('--json <file>', 'also write the result as JSON')))
    .action(async (file: string, flags: EngineFlags & SamplingFlags & { n: number; batch: number; threshold: number; classifier?: string; json?: string }) => {
      if (!(flags.threshold > 0 && flags.threshold <= 1)) throw new UserError(`--threshold ${flags.threshold} must be in (0, 1]`);
      if (flags.json) prepareOutput('--json', flags.json);
      const engine = await engineFrom(flags);
      const model = openDiffusionModel(file, engine);
      let classifier;
      try {
        ({ model: classifier } = loadClassifier(flags.classifier ?? BUNDLED_CLASSIFIER, engine));
      } catch (e) {
        throw new UserError(`--classifier: ${e instanceof Error ? e.message : String(e)}`);
      }
      const opts = samplingOptions(flags);
      const s = model.config.sampler;
      const steps = opts.steps ?? s.steps;
      const bar = new StepBar('eval', flags.n);
      let result;
      try {
        result = await judgeSamples(model, classifier, { ...opts, n: flags.n, batch: flags.batch, seed: flags.seed, threshold: flags.threshold,
          onBatch: (d) => bar.update(d) });
      } catch (e) {
        if (e instanceof InflowError && !(e instanceof ModelFileError)) throw new UserError(e.message);
        throw e;
      } finally {
        bar.end();
      }
      const method = opts.method ?? s.method;
      const how = `${method} ${steps} steps${method === 'ddim' ? `, eta ${opts.eta ?? s.eta}` : ''}, guidance ${opts.guidance ?? s.guidance}, seed ${flags.seed}`;
      const pct = (k: number) => `${((100 * k) / result.n).toFixed(1)}%`;
      console.log(`${result.right}/${result.n} (${pct(result.right)}) samples classified as their class with p ≥ ${flags.threshold}; ${result.confident} (${pct(result.confident)}) as some class (${how}; ${result.seconds.toFixed(0)} s on ${engine.name})`);
      console.log(`per class: ${result.perClass.map(([r, d], y) => `${y}: ${r}/${d}`).join(', ')}`);
      // The FID proxy: Inception is not available offline, so the Fréchet distance is taken in the
      // digit classifier's feature space; training digits against held-out digits give its floor.
      const { train, test } = mnistSplit();
      const heldOut = await digitFeatureStats(classifier, test);
      const floorStats = await digitFeatureStats(classifier, subset(train, [...Array(Math.min(test.count, train.count)).keys()]));
      const fid = frechetDistance(result.features, heldOut), fidFloor = frechetDistance(floorStats, heldOut);
      console.log(`FID proxy (Fréchet distance in the digit classifier's ${heldOut.dim}-d feature space, not Inception's) against the ${test.count} held-out digits: ${fid.toFixed(3)}; ${floorStats.n} training digits score ${fidFloor.toFixed(3)}`);
      if (flags.json) {
        makeParent(flags.json);
        const { features: _features, ...counts } = result;
        writeFileAtomic(flags.json, JSON.stringify({ model: file, ...counts, fidProxy: fid, fidProxyTrainingDigits: fidFloor, sampler: { method, steps, eta: opts.eta ?? s.eta, guidance: opts.guidance ?? s.guidance, seed: flags.seed }, threshold: flags.threshold }, null, 2) + '\n');
      }
      classifier.dispose();
      model.dispose();
      engine.dispose();
    });
}

// ---- train -----------------------------------------------------------------------------------

interface DiffuseTrainFlags extends EngineFlags, DataFlags {
  imageSize?: number;
  baseChannels: number;
  channelMults: number[];
  resBlocks: number;
  attention: number[];
  heads: number;
  groups: number;
  dropout: number;
  classes: number;
  labelDropout: number;
  schedule: ScheduleKind;
  timesteps: number;
  ema: number;
  sampleSteps: number;
  sampleGuidance: number;
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

/** What a diffusion run saves beside the loop's options, so --resume continues it unchanged. */
interface DiffuseRunOptions extends LoopOptions {
  labelDropout: number;
  emaDecay: number;
  imageSize: number;
  /** Warm the EMA up (absent in checkpoints of runs started before it existed: they resume without). */
  emaWarmup?: boolean;
}


function parseIntList(value: string): number[] {
  const list = value.split(',').map((v) => (/^\s*\d+\s*$/.test(v) ? Number(v) : NaN));
  if (list.some((v) => !Number.isSafeInteger(v) || v < 1)) throw new InvalidArgumentError(`expected positive integers separated by commas (e.g. 1,2,2), got '${value}'`);
  return list;
}

function trainCommand(): Command {
  return addEngineOptions(new Command('train')
    .description('train a (class-conditional) diffusion UNet with the ε-loss; writes checkpoints and a model file of the EMA weights')
    .option('--data <name>', "built-in data set: 'mnist' (the 9000 training digits of the fixed split)")
    .option('--images <folder>', 'a folder of PNG/JPEG/WebP images (resized to --image-size; 10% held out)')
    .addOption(new Option('--on-corrupt <what>', 'an unreadable or oversized image: skip it with a warning, or stop').choices(['skip', 'stop']).default('skip'))
    .addOption(maxImagePixelsOption())
    .option('--image-size <n>', 'side of the UNet input; MNIST digits are padded with black to it (default: 28 for MNIST, 32 for folders)', parsePositiveInt)
    .option('--base-channels <n>', 'channels of the first level', parsePositiveInt, 32)
    .option('--channel-mults <list>', 'channel multiplier of each level (each level but the last halves the size)', parseIntList, [1, 2, 2])
    .option('--res-blocks <n>', 'residual blocks per level', parsePositiveInt, 1)
    .option('--attention <sizes>', 'feature-map sizes with self-attention (e.g. 7 for 28 → 14 → 7)', parseIntList, [7])
    .option('--heads <n>', 'attention heads', parsePositiveInt, 4)
    .option('--groups <n>', 'GroupNorm groups (must divide every level\'s channels)', parsePositiveInt, 8)
    .option('--dropout <p>', 'dropout in the residual blocks', parseNumber, 0)
    .option('--classes <n>', 'class-conditional on the data\'s labels (0: unconditional); MNIST has 10', parseNonNegativeInt, 0)
    .option('--label-dropout <p>', 'share of examples trained without their label (classifier-free guidance)', parseNumber, DEFAULT_LABEL_DROPOUT)
    .addOption(new Option('--schedule <kind>', 'noise schedule').choices(['linear', 'cosine']).default('linear'))
    .option('--timesteps <T>', 'diffusion steps of the schedule', parsePositiveInt, 1000)
    .option('--ema <decay>', 'decay of the weight average the model file holds', parseNumber, 0.999)
    .option('--sample-steps <n>', 'default sampler steps saved in the model file', parsePositiveInt, 50)
    .option('--sample-guidance <w>', 'default guidance scale saved in the model file (class-conditional)', parseNumber, 2)
    .option('--epochs <n>', 'passes over the training set', parsePositiveInt, 100)
    .option('--batch <n>', 'images per step', parsePositiveInt, 32)
    .option('--lr <x>', 'peak learning rate (Adam)', parseNumber, 5e-4)
    .option('--warmup <steps>', 'linear warm-up steps', parseNonNegativeInt, 500)
    .option('--decay <x>', 'learning-rate decay per step after warm-up', parseNumber, 1)
    .option('--clip <norm>', 'clip gradients to this global norm (0 = off)', parseNumber, 1)
    .option('--seed <n>', 'seed of the initial weights, data order, timesteps, noise and label dropout', parseInteger, 0)
    .option('--max-steps <n>', 'stop after this many steps in total', parsePositiveInt)
    .option('--checkpoint-dir <dir>', 'where checkpoint.safetensors is kept', 'checkpoints')
    .option('--checkpoint-every <steps>', 'checkpoint interval (the model file --out is rewritten at every checkpoint)', parsePositiveInt, 200)
    .option('--resume', 'continue from <checkpoint-dir>/checkpoint.safetensors exactly where it stopped (architecture and options from the checkpoint)')
    .option('--out <file>', 'the model file (EMA weights)', 'diffusion.safetensors')
    .option('--log <file>', 'JSONL log of every step (default: <checkpoint-dir>/train.jsonl)'))
    .action(async (flags: DiffuseTrainFlags) => runDiffuseTrain(flags));
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

/** The model config the flags describe, checked by the model files' schema (so a bad flag fails like a bad file would, naming the field). */
function configFromFlags(f: DiffuseTrainFlags, imageSize: number, channels: number): DiffusionModelConfig {
  const config = {
    kind: 'diffusion-model',
    unet: {
      kind: 'unet', imageSize, inChannels: channels, outChannels: channels, baseChannels: f.baseChannels, channelMults: f.channelMults,
      resBlocks: f.resBlocks, attentionResolutions: f.attention, heads: f.heads, groups: f.groups, dropout: f.dropout, classes: f.classes,
    },
    schedule: { kind: f.schedule, steps: f.timesteps },
    sampler: { method: 'ddim', steps: f.sampleSteps, eta: 0, guidance: f.classes ? f.sampleGuidance : 1 },
  };
  const checked = checkDiffusionConfig(config, 'config');
  if (!checked.ok) throw new UserError(flagProblem(checked.problem));
  return checked.value;
}

/** The flag that sets each config field, so a schema message names what the user typed. */
const FLAG_OF: Record<string, string> = {
  'unet.imageSize': '--image-size', 'unet.baseChannels': '--base-channels', 'unet.channelMults': '--channel-mults', 'unet.resBlocks': '--res-blocks',
  'unet.attentionResolutions': '--attention', 'unet.heads': '--heads', 'unet.groups': '--groups', 'unet.dropout': '--dropout', 'unet.classes': '--classes',
  'schedule.kind': '--schedule', 'schedule.steps': '--timesteps', 'sampler.steps': '--sample-steps', 'sampler.guidance': '--sample-guidance',
};

/** `config unet.groups = 12 must divide …` → `--groups 12 must divide …`; a list entry is named by its place (`--attention entry 1 5 …`). */
function flagProblem(problem: string): string {
  const m = /^config ([a-zA-Z]+\.[a-zA-Z]+)((?:\[\d+\])?)(?: = (\S+))? (.*)$/.exec(problem);
  const flag = m && FLAG_OF[m[1]!];
  if (!m || !flag) return problem.replace(/^config /, 'the model config: ');
  return `${flag}${m[2] ? ` entry ${Number(m[2].slice(1, -1)) + 1}` : ''}${m[3] !== undefined ? ` ${m[3]}` : ''} ${m[4]}`;
}

async function runDiffuseTrain(flags: DiffuseTrainFlags): Promise<void> {
  checkFolder('--checkpoint-dir', flags.checkpointDir);
  const logPath = flags.log ?? join(flags.checkpointDir, 'train.jsonl');
  prepareOutput('--log', logPath);
  prepareOutput('--out', flags.out);
  const ckptFile = checkpointPath(flags.checkpointDir);
  const resume = flags.resume ? readResume(ckptFile) : undefined;
  if (!(flags.labelDropout >= 0 && flags.labelDropout <= 1)) throw new UserError(`--label-dropout ${flags.labelDropout} must be in [0, 1]`);
  if (!(flags.ema >= 0 && flags.ema < 1)) throw new UserError(`--ema ${flags.ema} must be in [0, 1)`);

  let config: DiffusionModelConfig;
  let opts: DiffuseRunOptions;
  if (resume) {
    const checked = checkDiffusionConfig(resume.modelConfig);
    if (!checked.ok) throw new UserError(`--resume: ${ckptFile}: not a diffusion checkpoint (${checked.problem})`);
    config = checked.value;
    opts = { ...defaultLoopOptions, ...(resume.state.options as Partial<DiffuseRunOptions>) } as DiffuseRunOptions;
    if (flags.maxSteps) opts.maxSteps = flags.maxSteps;
  } else {
    const imageSize = flags.imageSize ?? (flags.data ? 28 : 32);
    config = configFromFlags(flags, imageSize, flags.data ? 1 : 3);
    opts = {
      ...defaultLoopOptions, epochs: flags.epochs, batch: flags.batch, lr: flags.lr, warmupSteps: flags.warmup, decay: flags.decay, clip: flags.clip,
      seed: flags.seed, checkpointEvery: flags.checkpointEvery, ...(flags.maxSteps ? { maxSteps: flags.maxSteps } : {}),
      labelDropout: flags.labelDropout, emaDecay: flags.ema, emaWarmup: true, imageSize,
    };
  }
  opts.checkpointDir = flags.checkpointDir;
  opts.logPath = logPath;
  try {
    validateLoopOptions(opts);
  } catch (e) {
    if (!(e instanceof InflowError)) throw e;
    const LOOP_FLAGS: Record<string, string> = { lr: '--lr', batch: '--batch', epochs: '--epochs', clip: '--clip', decay: '--decay', warmupSteps: '--warmup', checkpointEvery: '--checkpoint-every', maxSteps: '--max-steps', seed: '--seed' };
    const msg = e.message.replace(/^train: /, '');
    const named = resume ? msg : msg.replace(/^(\w+) = /, (all, k: string) => (LOOP_FLAGS[k] ? `${LOOP_FLAGS[k]} ` : all));
    throw new UserError(`${resume ? `--resume: ${ckptFile}: its options: ` : ''}${named}`);
  }

  const u = config.unet;
  const split = await loadData(flags, [u.inChannels, u.imageSize, u.imageSize]);
  const train = split.train;
  if (train.shape[0] !== u.inChannels || train.shape[1] > u.imageSize || train.shape[2] > u.imageSize)
    throw new UserError(`the ${train.shape.join('×')} images of ${train.name} do not fit the UNet's ${u.inChannels}×${u.imageSize}×${u.imageSize} input`);
  if (u.classes) {
    if (!train.labels) throw new UserError(`--classes ${u.classes} trains on the data's labels, but ${train.name} has none`);
    const top = train.labels.reduce((a, b) => Math.max(a, b), 0);
    if (top >= u.classes) throw new UserError(`${train.name} has labels up to ${top}: use --classes ${top + 1}`);
  }
  if (opts.batch > train.count) throw new UserError(`--batch ${opts.batch} is more than the ${train.count} training images`);

  const engine = await engineFrom(flags);
  let model: DiffusionModel;
  try {
    model = new DiffusionModel(engine, config, { seed: opts.seed });
  } catch (e) {
    if (e instanceof InflowError) throw new UserError(e.message);
    throw e;
  }
  const ema = opts.emaWarmup ? new WarmEma(model.unet, opts.emaDecay) : new Ema(model.unet, opts.emaDecay);
  const task = new DiffusionTask(model.unet, model.schedule, {
    ema, optimizer: new Adam(engine), config: config as unknown as Record<string, unknown>,
    ...(u.classes ? { conditioning: { labels: train.labels!, classes: u.classes, labelDropout: opts.labelDropout } } : {}),
  });
  const data = diffusionImageData(train, u.imageSize);
  const total = Math.min(opts.maxSteps ?? Infinity, Math.floor(train.count / opts.batch) * opts.epochs);
  const s = config.schedule;
  console.log(`inflow diffuse train: UNet ${u.inChannels}×${u.imageSize}×${u.imageSize}, base ${u.baseChannels} × [${u.channelMults.join(', ')}], ${u.resBlocks} res block(s), attention at ${u.attentionResolutions.join(', ') || 'none'}, ${(model.paramCount() / 1e6).toFixed(3)}M parameters${u.classes ? `, ${u.classes} classes (label dropout ${opts.labelDropout})` : ''}; ${s.kind} schedule, T ${s.steps}; EMA ${opts.emaDecay}`);
  console.log(`data: ${split.description}; backend ${engine.name} (${engine.info().why}); batch ${opts.batch}, lr ${opts.lr}${resume ? `; resuming at step ${resume.state.step}` : ''}`);

  // The model file is rebuilt from each checkpoint's EMA weights as it is written (synchronously,
  // while the loop waits), so a running job always leaves a file `diffuse sample` and `eval` can read.
  const writeModel = (ckpt: Checkpoint) => {
    const weights = new Map<string, NamedArray>(ckpt.ema ?? ckpt.weights);
    makeParent(flags.out);
    writeFileAtomic(flags.out, diffusionBytes(config, weights));
  };
  const bar = new StepBar('train', total, 100);
  const recent: number[] = [];
  const onStep = (m: StepMetrics) => {
    recent.push(m.loss);
    if (recent.length > 50) recent.shift();
    const avg = recent.reduce((a, b) => a + b, 0) / recent.length;
    bar.update(m.step, { loss: avg.toFixed(4), 'img/s': m.imagesPerSecond.toFixed(1) });
  };
  let result;
  try {
    result = await runTraining(task, data, opts, {
      onStep,
      onBadStep: (m, n) => console.error(`step ${m.step}: non-finite loss or gradient, skipped (${n} in a row)`),
      onCheckpoint: (path) => writeModel(loadCheckpoint(path)),
    }, resume);
  } finally {
    bar.end();
  }
  const weights = new Map<string, NamedArray>();
  for (const [k, v] of await ema.state()) weights.set(k, { shape: [...v.shape], data: Float32Array.from(v.data) });
  makeParent(flags.out);
  writeFileAtomic(flags.out, diffusionBytes(config, weights));
  const avg = recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : NaN;
  console.log(`done: ${result.steps} steps in ${result.seconds.toFixed(1)} s; mean loss of the last ${recent.length} steps ${avg.toFixed(4)}; model (EMA weights) written to ${flags.out}`);
  task.dispose();
  ema.dispose();
  model.dispose();
  engine.dispose();
}
