import { Command, Option } from 'commander';
import type { ImageDataset } from '../../data/dataset.js';
import { InflowError } from '../../engine/errors.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { writeImageGrid } from '../../io/png.js';
import { ModelFileError, type NamedArray } from '../../io/safetensors.js';
import { buildAutoencoder, type Autoencoder } from '../../models/autoencoder/autoencoder-bytes.js';
import { loadAutoencoder } from '../../models/autoencoder/autoencoder-file.js';
import { checkAutoencoderConfig, defaultConvVaeConfig, defaultCouplingConfig, latentShapeOf, type AutoencoderConfig } from '../../models/autoencoder/config.js';
import { encodeAutoencoder } from '../../models/autoencoder/format.js';
import { defaultLoopOptions, type LoopOptions } from '../../train/loop.js';
import { Adam } from '../../train/optimizer.js';
import { diffusionImageData } from '../../train/tasks/diffusion.js';
import { DEFAULT_REGULARIZER_WEIGHT, LatentAutoencoderTask, reconstructionQuality } from '../../train/tasks/latent-autoencoder.js';
import type { TensorData } from '../../train/tensor-data.js';
import { loadData, maxImagePixelsOption, type DataFlags } from '../data-source.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { addLoopOptions, dataLine, finishLoopOptions, loopOptionsFrom, prepareRun, requireBatchFits, resumedRun, totalSteps, trainWithProgress, writeModelFile, type LoopFlags } from '../loop-options.js';
import { parseNumber, parsePositiveInt } from '../options.js';
import { makeParent, prepareOutput } from '../paths.js';
import { CountProgress, RecentSteps } from '../progress.js';
import { UserError } from '../user-error.js';
import { parseIntList } from './diffuse-shared.js';

/** `inflow autoencoder train | eval`: Affine-StableSR's coupling-layer autoencoder and the conv VAE it is compared with (docs/affine-stablesr.md). */
export function autoencoderCommand(): Command {
  const cmd = new Command('autoencoder')
    .description("latent autoencoders for latent diffusion: Affine-StableSR's coupling-layer autoencoder and a conv VAE of Stable Diffusion's kind");
  for (const sub of [trainCommand(), evalCommand()]) cmd.addCommand(sub);
  return cmd;
}

type Kind = 'coupling' | 'vae';

const COUPLING_DEFAULTS = defaultCouplingConfig([1, 28, 28]);
const VAE_DEFAULTS = defaultConvVaeConfig([1, 28, 28]);

const COUPLING_FLAGS = { flowSteps: '--flow-steps', width: '--width', priorWidth: '--prior-width', likelihoodWeight: '--likelihood-weight' } as const;
const VAE_FLAGS = { baseChannels: '--base-channels', channelMults: '--channel-mults', resBlocks: '--res-blocks', groups: '--groups', klWeight: '--kl-weight' } as const;

interface AutoencoderTrainFlags extends EngineFlags, DataFlags, LoopFlags {
  kind?: Kind;
  imageSize?: number;
  latentChannels?: number;
  flowSteps?: number;
  width?: number;
  priorWidth?: number;
  likelihoodWeight?: number;
  baseChannels?: number;
  channelMults?: number[];
  resBlocks?: number;
  groups?: number;
  klWeight?: number;
}

/** What a run saves beside the loop's options, so --resume continues it unchanged. */
interface AutoencoderRunOptions extends LoopOptions {
  /** The likelihood weight λ (coupling) or KL weight β (VAE). */
  weight: number;
  imageSize: number;
}

function trainCommand(): Command {
  return addEngineOptions(addLoopOptions(new Command('train')
    .description('train a latent autoencoder (reconstruction plus its likelihood or KL term); writes checkpoints and a model file')
    .addOption(new Option('--kind <kind>', "'coupling': the coupling-layer autoencoder; 'vae': the conv VAE (required, except with --resume)").choices(['coupling', 'vae']))
    .option('--data <name>', "built-in data set: 'mnist' (the 9000 training digits of the fixed split; the 1000 test digits are held out)")
    .option('--images <folder>', 'a folder of PNG/JPEG/WebP images, as colour images of --image-size (10% held out)')
    .addOption(new Option('--on-corrupt <what>', 'an unreadable or oversized image: skip it with a warning, or stop').choices(['skip', 'stop']).default('skip'))
    .addOption(maxImagePixelsOption())
    .option('--image-size <n>', 'side of the images from --images (default 32; divisible by 4)', parsePositiveInt)
    .option('--latent-channels <n>', 'channels of the latent (default 4 × the image channels: 4×7×7 for MNIST, 12×8×8 for 32×32 colour)', parsePositiveInt)
    .option('--flow-steps <K>', `coupling: flow steps per level (default ${COUPLING_DEFAULTS.steps})`, parsePositiveInt)
    .option('--width <n>', `coupling: hidden channels of the coupling networks (default ${COUPLING_DEFAULTS.width})`, parsePositiveInt)
    .option('--prior-width <n>', `coupling: hidden channels of the network predicting the factored channels (default ${COUPLING_DEFAULTS.priorWidth})`, parsePositiveInt)
    .option('--likelihood-weight <λ>', `coupling: weight λ of the likelihood term, ≥ 0 (default ${DEFAULT_REGULARIZER_WEIGHT['coupling-autoencoder']})`, parseNumber)
    .option('--base-channels <n>', `vae: channels of the first level (default ${VAE_DEFAULTS.baseChannels}; ${defaultConvVaeConfig([3, 32, 32]).baseChannels} for colour images)`, parsePositiveInt)
    .option('--channel-mults <list>', `vae: channel multiplier per level; each level but the last halves the side (default ${VAE_DEFAULTS.channelMults.join(',')})`, parseIntList)
    .option('--res-blocks <n>', `vae: residual blocks per encoder level, the decoder has one more (default ${VAE_DEFAULTS.resBlocks})`, parsePositiveInt)
    .option('--groups <n>', `vae: GroupNorm groups (default ${VAE_DEFAULTS.groups})`, parsePositiveInt)
    .option('--kl-weight <β>', `vae: weight β of the KL term, ≥ 0 (default ${DEFAULT_REGULARIZER_WEIGHT['conv-vae']})`, parseNumber), {
    defaults: { epochs: 50, batch: 32, lr: 1e-3, warmup: 200, clip: 10, out: 'autoencoder.safetensors' },
    help: { seed: 'seed of the initial weights, the data order and the noise', resume: 'architecture and options from the checkpoint', out: 'the model file' },
  }))
    .action(async (flags: AutoencoderTrainFlags, cmd: Command) => runAutoencoderTrain(flags, (name) => cmd.getOptionValueSource(name) === 'cli'));
}

/** The flag that sets each config field, so a schema message names what the user typed. */
const FLAG_OF: Record<string, string> = {
  latentChannels: '--latent-channels', steps: '--flow-steps', width: '--width', priorWidth: '--prior-width', baseChannels: '--base-channels',
  channelMults: '--channel-mults', resBlocks: '--res-blocks', groups: '--groups',
};

/** `config width = 0 must be …` → `--width 0 must be …`; the image shape (from the data) is named by its size. */
function flagProblem(problem: string): string {
  const shape = /^config imageShape = \[([\d, ]+)\] (.*)$/.exec(problem);
  if (shape) return `the ${shape[1]!.split(', ').join('×')} images ${shape[2]}`;
  const m = /^config ([a-zA-Z]+)((?:\[\d+\])?)(?: = (\[[^\]]*\]|\S+))? (.*)$/.exec(problem);
  const flag = m && FLAG_OF[m[1]!];
  if (!m || !flag) return problem.replace(/^config /, 'the model config: ');
  return `${flag}${m[2] ? ` entry ${Number(m[2].slice(1, -1)) + 1}` : ''}${m[3] !== undefined ? ` ${m[3]}` : ''} ${m[4]}`;
}

function configFromFlags(f: AutoencoderTrainFlags, kind: Kind, imageShape: [number, number, number]): AutoencoderConfig {
  const latentChannels = f.latentChannels ?? 4 * imageShape[0];
  let config: AutoencoderConfig;
  if (kind === 'coupling') {
    const d = defaultCouplingConfig(imageShape, latentChannels);
    config = { ...d, steps: f.flowSteps ?? d.steps, width: f.width ?? d.width, priorWidth: f.priorWidth ?? d.priorWidth };
  } else {
    const d = defaultConvVaeConfig(imageShape, latentChannels);
    config = { ...d, baseChannels: f.baseChannels ?? d.baseChannels, channelMults: f.channelMults ?? d.channelMults, resBlocks: f.resBlocks ?? d.resBlocks, groups: f.groups ?? d.groups };
  }
  const checked = checkAutoencoderConfig(config);
  if (!checked.ok) throw new UserError(flagProblem(checked.problem));
  return checked.value;
}

/** [−1, 1] images of a data set as the models take them. */
const asModelData = (d: ImageDataset): TensorData => diffusionImageData(d);

async function runAutoencoderTrain(flags: AutoencoderTrainFlags, given: (name: string) => boolean): Promise<void> {
  const run = prepareRun(flags);
  const { resume } = run;
  const archFlags = { ...COUPLING_FLAGS, ...VAE_FLAGS, latentChannels: '--latent-channels', imageSize: '--image-size', kind: '--kind' };
  if (resume) {
    const fixed = Object.entries(archFlags).filter(([k]) => given(k)).map(([, f]) => f);
    if (fixed.length) throw new UserError(`${fixed[0]}: a resumed run keeps the checkpoint's architecture and weights; drop it (only --max-steps may change)`);
  } else {
    if (!flags.kind) throw new UserError("--kind is required: 'coupling' (the coupling-layer autoencoder) or 'vae' (the conv VAE)");
    const other = flags.kind === 'coupling' ? VAE_FLAGS : COUPLING_FLAGS;
    const wrong = Object.entries(other).find(([k]) => given(k));
    if (wrong) throw new UserError(`${wrong[1]} is an option of --kind ${flags.kind === 'coupling' ? 'vae' : 'coupling'}, not of --kind ${flags.kind}`);
    if (flags.imageSize !== undefined && flags.images === undefined) throw new UserError('--image-size applies to --images only (MNIST digits are 28×28)');
  }

  let config: AutoencoderConfig;
  let opts: AutoencoderRunOptions;
  if (resume) {
    ({ config, opts } = resumedRun<AutoencoderConfig, AutoencoderRunOptions>(resume, run, flags.maxSteps, checkAutoencoderConfig, 'an autoencoder'));
  } else {
    const kind = flags.kind!;
    const imageSize = flags.imageSize ?? 32;
    const shape: [number, number, number] = flags.data !== undefined ? [1, 28, 28] : [3, imageSize, imageSize];
    config = configFromFlags(flags, kind, shape);
    const weight = (kind === 'coupling' ? flags.likelihoodWeight : flags.klWeight) ?? DEFAULT_REGULARIZER_WEIGHT[config.kind];
    if (!(weight >= 0)) throw new UserError(`${kind === 'coupling' ? '--likelihood-weight' : '--kl-weight'} ${weight} must be ≥ 0`);
    opts = { ...defaultLoopOptions, ...loopOptionsFrom(flags), weight, imageSize: shape[1] };
  }
  finishLoopOptions(opts, run);

  const [C, H, W] = config.imageShape;
  const split = await loadData(flags, [C, H, W]);
  if (split.train.shape.join() !== config.imageShape.join())
    throw new UserError(`the ${split.train.shape.join('×')} images of ${split.train.name} are not the model's ${config.imageShape.join('×')}`);
  requireBatchFits(opts, split.train.count);

  const engine = await engineFrom(flags);
  let model: Autoencoder;
  try {
    model = buildAutoencoder(engine, config, { seed: opts.seed });
  } catch (e) {
    if (e instanceof InflowError) throw new UserError(e.message);
    throw e;
  }
  // The built config (with the LU layers' permutations a new coupling model draws) is what checkpoints and the file record.
  config = model.config;
  const test = split.test ? asModelData(split.test) : null;
  const task = new LatentAutoencoderTask(model, { weight: opts.weight, optimizer: new Adam(engine), test, config: config as unknown as Record<string, unknown> });
  const total = totalSteps(split.train.count, opts);
  const [c, h, w] = latentShapeOf(config);
  const what = config.kind === 'coupling-autoencoder'
    ? `coupling autoencoder (${config.steps} flow steps per level, width ${config.width}, prior width ${config.priorWidth}; likelihood weight ${opts.weight})`
    : `conv VAE (base ${config.baseChannels} × [${config.channelMults.join(', ')}], ${config.resBlocks} res block(s), ${config.groups} groups; KL weight ${opts.weight})`;
  console.log(`inflow autoencoder train: ${what}: ${C}×${H}×${W} → ${c}×${h}×${w}, ${model.paramCount().toLocaleString('en')} parameters`);
  console.log(dataLine(split.description, engine, opts, resume));

  const writeModel = (weights: ReadonlyMap<string, NamedArray>) => writeModelFile(flags.out, encodeAutoencoder(config, weights));
  const bar = new CountProgress('train', total, 'steps', undefined, 30_000, (line) => console.error(line));
  bar.begin();
  const recent = new RecentSteps();
  const result = await trainWithProgress(task, asModelData(split.train), opts, resume, {
    bar,
    onStep: (m) => {
      recent.push(m);
      bar.update(m.step);
    },
    onEpoch: (epoch, heldOut) => {
      const terms = Object.keys(recent.last?.metrics ?? {}).filter((k) => k !== 'recPsnr').map((k) => `${k} ${recent.mean((m) => m.metrics?.[k]).toExponential(3)}`);
      console.log(`epoch ${epoch + 1}: ${heldOut !== null ? `held-out reconstruction PSNR ${heldOut.toFixed(2)} dB; ` : ''}last ${recent.length} steps: loss ${recent.mean((m) => m.loss).toExponential(3)}${terms.length ? `, ${terms.join(', ')}` : ''}`);
    },
    writeModel: (ckpt) => writeModel(ckpt.weights),
  });
  const weights = new Map<string, NamedArray>();
  for (const [k, v] of await model.stateDict()) weights.set(k, v);
  writeModel(weights);
  console.log(`done: ${result.steps} steps in ${result.seconds.toFixed(1)} s; model written to ${flags.out}`);
  task.dispose();
  model.dispose();
  engine.dispose();
}

// ---- eval ------------------------------------------------------------------------------------

interface AutoencoderEvalFlags extends EngineFlags, DataFlags {
  imageSize?: number;
  n?: number;
  batch: number;
  grid?: string;
  json?: string;
}

function evalCommand(): Command {
  return addEngineOptions(new Command('eval')
    .description('reconstruction PSNR of an autoencoder file on held-out images, its parameters, latent statistics and encode/decode time')
    .argument('<model>', 'autoencoder file (.safetensors, written by `inflow autoencoder train`)')
    .option('--data <name>', "held-out data: 'mnist' (the 1000 test digits of the fixed split; the default)")
    .option('--images <folder>', 'a folder of images: its held-out 10% (the split `train --images` used)')
    .addOption(new Option('--on-corrupt <what>', 'an unreadable or oversized image: skip it with a warning, or stop').choices(['skip', 'stop']).default('skip'))
    .addOption(maxImagePixelsOption())
    .option('--n <count>', 'evaluate only the first n held-out images', parsePositiveInt)
    .option('--batch <n>', 'images per encode/decode call', parsePositiveInt, 100)
    .option('--grid <file>', 'also write a PNG of the first 16 held-out images (top) and their reconstructions (bottom)')
    .option('--json <file>', 'also write the result as JSON'))
    .action(async (file: string, flags: AutoencoderEvalFlags) => runAutoencoderEval(file, flags));
}

async function runAutoencoderEval(file: string, flags: AutoencoderEvalFlags): Promise<void> {
  if (flags.grid) prepareOutput('--grid', flags.grid);
  if (flags.json) prepareOutput('--json', flags.json);
  const engine = await engineFrom(flags);
  let model: Autoencoder;
  try {
    model = await loadAutoencoder(file, { engine });
  } catch (e) {
    throw new UserError(e instanceof Error ? e.message : String(e));
  }
  const shape = model.imageShape;
  const source: DataFlags = flags.data === undefined && flags.images === undefined && flags.cifar === undefined ? { ...flags, data: 'mnist' } : flags;
  const split = await loadData(source, shape);
  const held = split.test;
  if (!held) throw new UserError(`${split.description}: too few images to hold any out`);
  if (held.shape.join() !== shape.join()) throw new UserError(`${file}: the model takes ${shape.join('×')} images, ${held.name} has ${held.shape.join('×')}`);
  const data = asModelData(held);
  const count = Math.min(flags.n ?? data.count, data.count);
  const bar = new CountProgress('eval', count, 'images', undefined, 5000, (line) => console.error(line));
  bar.begin();
  let q;
  try {
    q = await reconstructionQuality(model, data, { batch: flags.batch, count, onBatch: (d) => bar.update(d) });
  } catch (e) {
    if (e instanceof InflowError && !(e instanceof ModelFileError)) throw new UserError(e.message);
    throw e;
  } finally {
    bar.end();
  }
  const latent = model.latentShape, per = (s: number) => (1000 * s) / count;
  const threads = engine.name === 'wasm' ? `, ${flags.threads ?? 'all'} thread(s)` : '';
  console.log(`${model.config.kind} ${shape.join('×')} → ${latent.join('×')} (${(shape.reduce((a, b) => a * b, 1) / latent.reduce((a, b) => a * b, 1)).toFixed(1)}× fewer values): ${model.paramCount().toLocaleString('en')} parameters`);
  console.log(`held-out reconstruction PSNR ${q.psnr.toFixed(2)} dB (mean over ${count} images of ${held.name}; ${q.psnrOfMeanMse.toFixed(2)} dB of the mean squared error)`);
  console.log(`latent values: mean ${q.latentMean.toFixed(3)}, std ${q.latentStd.toFixed(3)}`);
  console.log(`encode ${per(q.encodeSeconds).toFixed(2)} ms/image, decode ${per(q.decodeSeconds).toFixed(2)} ms/image on ${engine.name}${threads} (batches of ${flags.batch})`);
  if (flags.grid) {
    const k = Math.min(16, count), idx = [...Array(k).keys()];
    const x = engine.tensor(data.values(idx), [k, ...shape]);
    const r = engine.noGrad(() => model.reconstruct(x));
    const both = new Float32Array(2 * x.size);
    both.set(await x.data());
    both.set(await r.data(), x.size);
    for (let i = 0; i < both.length; i++) both[i] = Math.min(255, Math.max(0, (both[i]! + 1) * 127.5));
    makeParent(flags.grid);
    await writeImageGrid(flags.grid, both, [2 * k, ...shape], k, 2);
    x.dispose();
    r.dispose();
    console.log(`originals (top) and reconstructions (bottom) → ${flags.grid}`);
  }
  if (flags.json) {
    makeParent(flags.json);
    writeFileAtomic(flags.json, JSON.stringify({ model: file, kind: model.config.kind, params: model.paramCount(), imageShape: shape, latentShape: latent, data: held.name, ...q,
      backend: engine.name, threads: flags.threads ?? null }, null, 2) + '\n');
  }
  model.dispose();
  engine.dispose();
}
