/**
 * `inflow diffuse train`: a diffusion UNet for generation (unconditional or class-conditional) or
 * for one of the image-conditioned tasks — super-resolution (in pixels, or in an autoencoder's
 * latent space), restoration, mask-conditioned inpainting (docs/diffusion.md, "Training the tasks").
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { InflowError } from '../../engine/errors.js';
import type { Engine } from '../../engine/engine.js';
import { DEGRADATION_KINDS, type DegradationKind } from '../../image/degrade/degrade.js';
import { crc32, type NamedArray } from '../../io/safetensors.js';
import type { Autoencoder } from '../../models/autoencoder/autoencoder-bytes.js';
import { loadAutoencoder } from '../../models/autoencoder/autoencoder-file.js';
import { diffusionBytes, DiffusionModel } from '../../models/diffusion/diffusion-model.js';
import { autoencoderTensors, canonicalJson, encodeImages, latentScaleOf, withAutoencoderTensors } from '../../models/diffusion/latent.js';
import { checkDiffusionConfig, type ConditioningTask, type DiffusionModelConfig, type ImageConditioning, type PredictionKind, type ScheduleKind } from '../../models/diffusion/schema.js';
import type { Checkpoint } from '../../train/checkpoint.js';
import { inpaintingConditioner, lowResolutionConditions, restorationConditioner, superResolutionConditioner } from '../../train/conditioners/index.js';
import { Ema } from '../../train/ema.js';
import { defaultLoopOptions, type LoopOptions, type StepMetrics } from '../../train/loop.js';
import { Adam } from '../../train/optimizer.js';
import { pairedTensorData } from '../../train/paired-data.js';
import { DEFAULT_LABEL_DROPOUT, diffusionImageData, DiffusionTask, WarmEma } from '../../train/tasks/diffusion.js';
import { DataParallel } from '../../parallel/data-parallel.js';
import { tensorData, type TensorData } from '../../train/tensor-data.js';
import { loadData, maxImagePixelsOption, type DataFlags, type DataSplit } from '../data-source.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { checkDataParallel, replicaEngineFlags } from '../data-parallel-option.js';
import { addLoopOptions, dataLine, finishLoopOptions, loopOptionsFrom, prepareRun, requireBatchFits, resumedRun, totalSteps, trainWithProgress, writeModelFile, type LoopFlags } from '../loop-options.js';
import { parseNonNegativeInt, parseNumber, parsePositiveInt } from '../options.js';
import { CountProgress, RecentSteps } from '../progress.js';
import { UserError } from '../user-error.js';
import { parseDegradationKinds, parseIntList, StepBar } from './diffuse-shared.js';

/** What `--task` trains: 'generation' is the plain (class-conditional) model; the rest are image-conditioned. */
export const TRAIN_TASKS = ['generation', 'super-resolution', 'restoration', 'inpainting'] as const;
type TrainTask = (typeof TRAIN_TASKS)[number];

/** The super-resolution factor when --scale is not given (MNIST 28 → 7). */
const DEFAULT_SCALE = 4;
/** Images per autoencoder call when a latent run encodes its training set. */
const ENCODE_BATCH = 100;

interface DiffuseTrainFlags extends EngineFlags, DataFlags, LoopFlags {
  task: TrainTask;
  scale?: number;
  autoencoder?: string;
  degradations?: DegradationKind[];
  condDropout: number;
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
  prediction: PredictionKind;
  timesteps: number;
  ema: number;
  sampleSteps: number;
  sampleGuidance: number;
  sampleMethod?: 'ddim' | 'ddpm';
  dataParallel?: number;
}

/** What a diffusion run saves beside the loop's options, so --resume continues it unchanged. */
interface DiffuseRunOptions extends LoopOptions {
  labelDropout: number;
  emaDecay: number;
  imageSize: number;
  /** Warm the EMA up (absent in checkpoints of runs started before it existed: they resume without). */
  emaWarmup?: boolean;
  /** Share of examples trained with a zero condition (image-conditioned tasks; absent = 0). */
  condDropout?: number;
  /** A latent run's autoencoder file (absolute) and the CRC-32 of its bytes: a resume must encode with the very same one. */
  autoencoderFile?: string;
  autoencoderCrc?: number;
  /** --data-parallel: replicas (and shards of every batch); the run's numbers depend on it. */
  dataParallel?: number;
}

function parseDegradations(value: string): DegradationKind[] {
  const kinds = parseDegradationKinds(value);
  if (new Set(kinds).size !== kinds.length) throw new InvalidArgumentError(`a kind is listed twice in '${value}'`);
  // The trainer applies them in DEGRADATION_KINDS' order whatever the order given; the config records that order.
  return DEGRADATION_KINDS.filter((k) => kinds.includes(k));
}

export function trainCommand(): Command {
  return addEngineOptions(addLoopOptions(new Command('train')
    .description('train a diffusion UNet with the ε-loss — for generation (class-conditional with --classes) or, with --task, super-resolution, restoration or inpainting; writes checkpoints and a model file of the EMA weights')
    .addOption(new Option('--task <name>', 'what the model learns: generation (of the data, optionally class-conditional), super-resolution (from the low-resolution image), restoration (from a degraded image), inpainting (from the image with a masked region and the mask)').choices(TRAIN_TASKS).default('generation'))
    .option('--scale <n>', `super-resolution: the factor between the low- and high-resolution images (the LR image is the mean of each n × n block; default ${DEFAULT_SCALE})`, parsePositiveInt)
    .option('--autoencoder <file>', 'super-resolution in this autoencoder\'s latent space (a file of `inflow autoencoder train`): the UNet denoises its latents, conditioned on the low-resolution image at the latent\'s size; the model file carries the autoencoder')
    .option('--degradations <kinds>', `restoration: the degradations drawn at random (1 to 3 per image) from, comma-separated (default all: ${DEGRADATION_KINDS.join(',')}); one kind trains a specialist`, parseDegradations)
    .option('--cond-dropout <p>', 'image-conditioned tasks: share of examples trained with the condition replaced by zeros', parseNumber, 0)
    .option('--data <name>', "built-in data set: 'mnist' (the 9000 training digits of the fixed split) or 'photos'")
    .option('--images <folder>', 'a folder of PNG/JPEG/WebP images (resized to --image-size; 10% held out)')
    .addOption(new Option('--on-corrupt <what>', 'an unreadable or oversized image: skip it with a warning, or stop').choices(['skip', 'stop']).default('skip'))
    .addOption(maxImagePixelsOption())
    .option('--image-size <n>', 'side of the UNet input; MNIST digits are padded with black to it for generation (default: 28 for MNIST, 32 for folders)', parsePositiveInt)
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
    .addOption(new Option('--prediction <kind>', "what the UNet learns to output: the noise (epsilon) or the velocity v = √ᾱ ε − √(1−ᾱ) x₀, whose errors at high noise reach the image far less (docs/diffusion.md, \"v-prediction\")").choices(['epsilon', 'v']).default('epsilon'))
    .option('--ema <decay>', 'decay of the weight average the model file holds', parseNumber, 0.999)
    .option('--sample-steps <n>', 'default sampler steps saved in the model file', parsePositiveInt, 50)
    .addOption(new Option('--sample-method <name>', 'default sampler saved in the model file (default: ddim for generation, ddpm for the image tasks, whose small models measured 2-8 dB better with it: docs/diffusion.md)').choices(['ddim', 'ddpm']))
    .option('--sample-guidance <w>', 'default guidance scale saved in the model file (class-conditional)', parseNumber, 2)
    .option('--data-parallel <threads>', 'split every batch across this many threads, each running the whole UNet on its own one-thread wasm engine (scales better than --threads; the run depends on this number, not on the machine; --resume keeps it)', parsePositiveInt), {
    defaults: { epochs: 100, batch: 32, lr: 5e-4, warmup: 500, clip: 1, out: 'diffusion.safetensors' },
    help: {
      seed: 'seed of the initial weights, data order, timesteps, noise, label dropout and the tasks\' random conditions',
      resume: 'architecture, task and options from the checkpoint', out: 'the model file (EMA weights)',
    },
  }))
    .action(async (flags: DiffuseTrainFlags) => runDiffuseTrain(flags));
}

/** The flag that sets each config field, so a schema message names what the user typed. */
const FLAG_OF: Record<string, string> = {
  'unet.imageSize': '--image-size', 'unet.baseChannels': '--base-channels', 'unet.channelMults': '--channel-mults', 'unet.resBlocks': '--res-blocks',
  'unet.attentionResolutions': '--attention', 'unet.heads': '--heads', 'unet.groups': '--groups', 'unet.dropout': '--dropout', 'unet.classes': '--classes',
  'unet.condChannels': '--task', 'conditioning.scale': '--scale', 'conditioning.degradations': '--degradations',
  'schedule.kind': '--schedule', 'prediction': '--prediction', 'schedule.steps': '--timesteps', 'sampler.steps': '--sample-steps', 'sampler.method': '--sample-method', 'sampler.guidance': '--sample-guidance',
};

/** `config unet.groups = 12 must divide …` → `--groups 12 must divide …`; a list entry is named by its place (`--attention entry 1 5 …`). */
function flagProblem(problem: string, latent: boolean): string {
  const m = /^config ([a-zA-Z]+\.[a-zA-Z]+)((?:\[\d+\])?)(?: = (\S+))? (.*)$/.exec(problem);
  // A latent UNet's side is the autoencoder's latent side, not a flag.
  if (m && latent && m[1] === 'unet.imageSize') return `the autoencoder's latent side ${m[3]} ${m[4]}: use fewer --channel-mults levels (e.g. --channel-mults 1 --attention ${m[3]})`;
  const flag = m && FLAG_OF[m[1]!];
  if (!m || !flag) return problem.replace(/^config /, 'the model config: ');
  return `${flag}${m[2] ? ` entry ${Number(m[2].slice(1, -1)) + 1}` : ''}${m[3] !== undefined ? ` ${m[3]}` : ''} ${m[4]}`;
}

/** What the image-conditioned task makes the UNet see, besides x_t. */
interface TaskPlan {
  task: TrainTask;
  /** [C, H, W] of the training images (the high-resolution ones, for super-resolution). */
  imageShape: [number, number, number];
  /** The UNet's input [c, S, S] (a latent's for latent super-resolution). */
  unetShape: [number, number, number];
  conditioning?: ImageConditioning;
  autoencoder?: { model: Autoencoder; file: string; crc: number };
}

/** The model config the flags describe, checked by the model files' schema (so a bad flag fails like a bad file would, naming the field). */
function configFromFlags(f: DiffuseTrainFlags, plan: TaskPlan, latentScale: number): DiffusionModelConfig {
  const [channels, imageSize] = plan.unetShape;
  const config = {
    kind: 'diffusion-model',
    unet: {
      kind: 'unet', imageSize, inChannels: channels, outChannels: channels, baseChannels: f.baseChannels, channelMults: f.channelMults,
      resBlocks: f.resBlocks, attentionResolutions: f.attention, heads: f.heads, groups: f.groups, dropout: f.dropout, classes: f.classes,
      ...(plan.conditioning ? { condChannels: plan.conditioning.channels } : {}),
    },
    ...(plan.conditioning ? { conditioning: plan.conditioning } : {}),
    ...(plan.autoencoder ? { autoencoder: { config: plan.autoencoder.model.config, latentScale } } : {}),
    schedule: { kind: f.schedule, steps: f.timesteps },
    ...(f.prediction === 'v' ? { prediction: 'v' } : {}),
    sampler: { method: f.sampleMethod ?? (plan.conditioning ? 'ddpm' : 'ddim'), steps: f.sampleSteps, eta: 0, guidance: f.classes ? f.sampleGuidance : 1 },
  };
  const checked = checkDiffusionConfig(config, 'config');
  if (!checked.ok) throw new UserError(flagProblem(checked.problem, !!plan.autoencoder));
  return checked.value;
}

/** The flags that only one task takes, given to another: one line naming both. */
function checkTaskFlags(f: DiffuseTrainFlags): void {
  const only: Array<[keyof DiffuseTrainFlags, string, TrainTask]> = [
    ['scale', '--scale', 'super-resolution'], ['autoencoder', '--autoencoder', 'super-resolution'], ['degradations', '--degradations', 'restoration'],
  ];
  for (const [key, flag, task] of only)
    if (f[key] !== undefined && f.task !== task) throw new UserError(`${flag} applies to --task ${task} (this run's task is ${f.task})`);
  if (!(f.condDropout >= 0 && f.condDropout <= 1)) throw new UserError(`--cond-dropout ${f.condDropout} must be in [0, 1]`);
  if (f.condDropout > 0 && f.task === 'generation') throw new UserError('--cond-dropout applies to the image-conditioned tasks (--task super-resolution, restoration or inpainting)');
}

/** Reads an autoencoder file for a latent run; `crc` (on resume) must match the bytes. */
async function openAutoencoder(path: string, engine: Engine, crc?: number): Promise<{ model: Autoencoder; file: string; crc: number }> {
  const file = resolve(path);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new UserError(`--autoencoder: ${path}: model file not found or not readable`);
  }
  const sum = crc32(bytes);
  if (crc !== undefined && sum !== crc)
    throw new UserError(`--autoencoder: ${path} is not the autoencoder this run started with (its bytes differ); a resumed latent run must encode with the same file`);
  try {
    return { model: await loadAutoencoder(file, { engine }), file, crc: sum };
  } catch (e) {
    if (e instanceof InflowError) throw new UserError(`--autoencoder: ${e.message}`);
    throw e;
  }
}

/**
 * The task's shapes and condition from the flags (a new run) or the checkpoint's config (a resume),
 * checked before any data are read: a scale that does not divide the images, an autoencoder whose
 * images are not the data's.
 */
async function planTask(f: DiffuseTrainFlags, engine: () => Promise<Engine>, resumed?: { config: DiffusionModelConfig; opts: DiffuseRunOptions }): Promise<TaskPlan> {
  const cond = resumed ? resumed.config.conditioning : undefined;
  const task: TrainTask = resumed ? (cond?.task as TrainTask | undefined) ?? 'generation' : f.task;
  if (resumed && cond && !TRAIN_TASKS.includes(task)) throw new UserError(`--resume: the checkpoint's task '${task}' is not one this command trains`);
  const mnist = f.data === 'mnist' || f.data === 'mnist-test';
  if (!resumed && task !== 'generation' && mnist && f.imageSize !== undefined && f.imageSize !== 28)
    throw new UserError(`--image-size ${f.imageSize}: --task ${task} trains on the 28×28 digits as they are (no padding)`);
  if (task === 'generation') {
    const u = resumed?.config.unet;
    const side = u ? u.imageSize : f.imageSize ?? (f.data ? 28 : 32), C = u ? u.inChannels : f.data === 'photos' ? 3 : f.data ? 1 : 3;
    return { task, imageShape: [C, side, side], unetShape: [C, side, side] };
  }
  const aePath = f.autoencoder ?? resumed?.opts.autoencoderFile;
  if (aePath !== undefined) {
    const ae = await openAutoencoder(aePath, await engine(), resumed?.opts.autoencoderCrc);
    const [C, H, W] = ae.model.imageShape, [c, h, w] = ae.model.latentShape;
    if (resumed && canonicalJson(ae.model.config) !== canonicalJson(resumed.config.autoencoder?.config))
      throw new UserError(`--autoencoder: ${aePath} is not the autoencoder of this checkpoint (its config differs)`);
    if (mnist && (C !== 1 || H !== 28 || W !== 28)) throw new UserError(`--autoencoder: ${aePath} takes ${C}×${H}×${W} images, MNIST digits are 1×28×28`);
    if (h !== w) throw new UserError(`--autoencoder: ${aePath} makes ${c}×${h}×${w} latents; the UNet needs a square one`);
    const scale = resumed ? cond!.scale! : f.scale ?? DEFAULT_SCALE;
    if (H % scale || W % scale) throw new UserError(`--scale ${scale} must divide the autoencoder's ${H}×${W} images`);
    return { task, imageShape: [C, H, W], unetShape: [c, h, w], conditioning: { kind: 'image', channels: C, task, scale }, autoencoder: ae };
  }
  const side = resumed ? resumed.config.unet.imageSize : f.imageSize ?? (f.data ? 28 : 32);
  const C = resumed ? resumed.config.unet.inChannels : f.data === 'photos' ? 3 : f.data ? 1 : 3;
  const shape: [number, number, number] = [C, side, side];
  let conditioning: ImageConditioning;
  if (task === 'super-resolution') {
    const scale = resumed ? cond!.scale! : f.scale ?? DEFAULT_SCALE;
    if (scale < 2 || side % scale) throw new UserError(`--scale ${scale} must be at least 2 and divide the image size ${side}`);
    conditioning = { kind: 'image', channels: C, task, scale };
  } else if (task === 'restoration') {
    conditioning = { kind: 'image', channels: C, task, degradations: resumed ? cond!.degradations ?? [...DEGRADATION_KINDS] : f.degradations ?? [...DEGRADATION_KINDS] };
  } else conditioning = { kind: 'image', channels: C + 1, task: task as ConditioningTask };
  return { task, imageShape: shape, unetShape: shape, conditioning };
}

/** The training pairs of the task: targets (images, or scaled latents) and their conditions. */
async function taskData(plan: TaskPlan, split: DataSplit, latentScale: number | null): Promise<{ data: TensorData; latentScale: number | null }> {
  const train = split.train, [C, H, W] = plan.imageShape;
  const images = diffusionImageData(train, H);
  if (plan.task === 'generation') return { data: images, latentScale: null };
  if (plan.task === 'restoration') return { data: pairedTensorData(images, restorationConditioner([C, H, W], plan.conditioning!.degradations!)), latentScale: null };
  if (plan.task === 'inpainting') return { data: pairedTensorData(images, inpaintingConditioner([C, H, W])), latentScale: null };
  const scale = plan.conditioning!.scale!;
  if (!plan.autoencoder) return { data: pairedTensorData(images, superResolutionConditioner([C, H, W], scale)), latentScale: null };
  // Latent super-resolution: the frozen autoencoder's latents of every training image, computed once.
  const ae = plan.autoencoder.model;
  const hr = diffusionImageData(train, H).values([...Array(train.count).keys()]);
  const progress = new CountProgress('encode', train.count, 'images', undefined, undefined, (line) => console.error(line));
  progress.begin();
  let latents: Float32Array;
  try {
    latents = await encodeImages(ae, hr, { batch: ENCODE_BATCH, onBatch: (d) => progress.update(d) });
  } finally {
    progress.end();
  }
  const s = latentScale ?? latentScaleOf(latents);
  for (let i = 0; i < latents.length; i++) latents[i]! *= s;
  const [c, h] = plan.unetShape;
  return { data: pairedTensorData(tensorData(latents, [c, h, h]), lowResolutionConditions(hr, [C, H, W], scale, h)), latentScale: s };
}

function describeTask(plan: TaskPlan, config: DiffusionModelConfig): string {
  const c = config.conditioning;
  if (!c) return 'generation';
  if (c.task === 'super-resolution') {
    const [C, H] = plan.imageShape;
    const lr = `${C}×${H / c.scale!}×${H / c.scale!}`;
    return config.autoencoder
      ? `latent super-resolution ×${c.scale} (${config.autoencoder.config.kind} latent ${plan.unetShape.join('×')}, latent scale ${config.autoencoder.latentScale.toPrecision(4)}; condition: the ${lr} LR image at the latent's size)`
      : `super-resolution ×${c.scale} (condition: the ${lr} LR image, bicubic to ${H}×${H})`;
  }
  if (c.task === 'restoration') return `restoration from ${c.degradations!.length === DEGRADATION_KINDS.length ? 'all degradations (unified)' : c.degradations!.join(', ')}`;
  return 'mask-conditioned inpainting (random rectangles and brush strokes over 10–50 %)';
}

async function runDiffuseTrain(flags: DiffuseTrainFlags): Promise<void> {
  const run = prepareRun(flags);
  const { resume } = run;
  if (!resume) checkTaskFlags(flags);
  if (!(flags.labelDropout >= 0 && flags.labelDropout <= 1)) throw new UserError(`--label-dropout ${flags.labelDropout} must be in [0, 1]`);
  if (!(flags.ema >= 0 && flags.ema < 1)) throw new UserError(`--ema ${flags.ema} must be in [0, 1)`);
  checkDataParallel(flags);
  if (flags.dataParallel !== undefined && !resume && flags.dropout > 0)
    throw new UserError(`--data-parallel needs --dropout 0: dropout masks would differ between the threads (got --dropout ${flags.dropout})`);

  let engine: Engine | null = null;
  // A data-parallel run (asked now or by the checkpoint) keeps its main replica on a one-thread wasm engine.
  const dataParallel = flags.dataParallel ?? (resume?.state.options as { dataParallel?: number } | undefined)?.dataParallel;
  const getEngine = async () => (engine ??= await engineFrom(replicaEngineFlags(flags, dataParallel)));
  let config: DiffusionModelConfig;
  let opts: DiffuseRunOptions;
  let plan: TaskPlan;
  if (resume) {
    ({ config, opts } = resumedRun<DiffusionModelConfig, DiffuseRunOptions>(resume, run, flags.maxSteps, checkDiffusionConfig, 'a diffusion'));
    plan = await planTask(flags, getEngine, { config, opts });
    if (flags.autoencoder !== undefined) opts.autoencoderFile = plan.autoencoder!.file;
  } else {
    plan = await planTask(flags, getEngine);
    config = configFromFlags(flags, plan, 1);
    opts = {
      ...defaultLoopOptions, ...loopOptionsFrom(flags),
      labelDropout: flags.labelDropout, emaDecay: flags.ema, emaWarmup: true, imageSize: plan.unetShape[1],
      ...(plan.conditioning ? { condDropout: flags.condDropout } : {}),
      ...(plan.autoencoder ? { autoencoderFile: plan.autoencoder.file, autoencoderCrc: plan.autoencoder.crc } : {}),
      ...(flags.dataParallel !== undefined ? { dataParallel: flags.dataParallel } : {}),
    };
  }
  finishLoopOptions(opts, run);

  const u = config.unet;
  const split = await loadData(flags, plan.imageShape);
  const train = split.train;
  const [C, H, W] = plan.imageShape;
  const fits = plan.task === 'generation' ? train.shape[1] <= H && train.shape[2] <= W : train.shape[1] === H && train.shape[2] === W;
  if (train.shape[0] !== C || !fits)
    throw new UserError(`the ${train.shape.join('×')} images of ${train.name} do not fit the ${plan.task === 'generation' ? "UNet's" : "task's"} ${C}×${H}×${W} input`);
  if (u.classes) {
    if (!train.labels) throw new UserError(`--classes ${u.classes} trains on the data's labels, but ${train.name} has none`);
    const top = train.labels.reduce((a, b) => Math.max(a, b), 0);
    if (top >= u.classes) throw new UserError(`${train.name} has labels up to ${top}: use --classes ${top + 1}`);
  }
  requireBatchFits(opts, train.count);

  const eng = await getEngine();
  const { data, latentScale } = await taskData(plan, split, config.autoencoder ? (resume ? config.autoencoder.latentScale : null) : null);
  if (config.autoencoder && !resume) config = configFromFlags(flags, plan, latentScale!);
  let model: DiffusionModel;
  try {
    model = new DiffusionModel(eng, config, { seed: opts.seed, ...(plan.autoencoder ? { autoencoder: plan.autoencoder.model } : {}) });
  } catch (e) {
    if (e instanceof InflowError) throw new UserError(e.message);
    throw e;
  }
  const aeWeights = model.autoencoder ? await autoencoderTensors(model.autoencoder) : null;
  const ema = opts.emaWarmup ? new WarmEma(model.unet, opts.emaDecay) : new Ema(model.unet, opts.emaDecay);
  // The checkpoint's model config is the whole config (a latent run's autoencoder entry included), so --resume rebuilds the same model.
  const parallel = opts.dataParallel !== undefined ? await DataParallel.create(model.unet, { threads: opts.dataParallel, shards: opts.dataParallel }) : null;
  const task = new DiffusionTask(model.unet, model.schedule, {
    ema, optimizer: new Adam(eng), config: config as unknown as Record<string, unknown>, parallel,
    ...(u.classes ? { conditioning: { labels: train.labels!, classes: u.classes, labelDropout: opts.labelDropout } } : {}),
    ...(opts.condDropout ? { condDropout: opts.condDropout } : {}),
    prediction: model.prediction,
  });
  const total = totalSteps(train.count, opts);
  const s = config.schedule;
  console.log(`inflow diffuse train: ${describeTask(plan, config)}; UNet ${u.inChannels}×${u.imageSize}×${u.imageSize}${u.condChannels ? ` + ${u.condChannels}-channel condition` : ''}, base ${u.baseChannels} × [${u.channelMults.join(', ')}], ${u.resBlocks} res block(s), attention at ${u.attentionResolutions.join(', ') || 'none'}, ${(model.unet.paramCount() / 1e6).toFixed(3)}M parameters${model.autoencoder ? ` (+ ${(model.autoencoder.paramCount() / 1e6).toFixed(3)}M frozen in the autoencoder)` : ''}${u.classes ? `, ${u.classes} classes (label dropout ${opts.labelDropout})` : ''}; ${s.kind} schedule, T ${s.steps}, predicting ${model.prediction === 'v' ? 'v' : 'ε'}; EMA ${opts.emaDecay}`);
  console.log(dataLine(split.description, eng, opts, resume));

  const modelBytes = (weights: Map<string, NamedArray>) => diffusionBytes(config, aeWeights ? withAutoencoderTensors(weights, aeWeights) : weights);
  // The model file is rebuilt from each checkpoint's EMA weights as it is written (synchronously,
  // while the loop waits), so a running job always leaves a file `diffuse sample` and `eval` can read.
  const writeModel = (ckpt: Checkpoint) => writeModelFile(flags.out, modelBytes(new Map<string, NamedArray>(ckpt.ema ?? ckpt.weights)));
  const bar = new StepBar('train', total, 100);
  const recent = new RecentSteps();
  const onStep = (m: StepMetrics) => {
    recent.push(m);
    bar.update(m.step, { loss: recent.mean((s) => s.loss).toFixed(4), 'img/s': m.imagesPerSecond.toFixed(1) });
  };
  let result;
  try {
    result = await trainWithProgress(task, data, opts, resume, { bar, onStep, writeModel });
  } finally {
    await parallel?.close();
  }
  const weights = new Map<string, NamedArray>();
  for (const [k, v] of await ema.state()) weights.set(k, { shape: [...v.shape], data: Float32Array.from(v.data) });
  writeModelFile(flags.out, modelBytes(weights));
  const avg = recent.mean((s) => s.loss);
  console.log(`done: ${result.steps} steps in ${result.seconds.toFixed(1)} s; mean loss of the last ${recent.length} steps ${avg.toFixed(4)}; model (EMA weights) written to ${flags.out}`);
  task.dispose();
  ema.dispose();
  model.dispose();
  eng.dispose();
}
