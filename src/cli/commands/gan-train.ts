/**
 * `inflow gan train`: a class-conditional BigGAN-style GAN (docs/gan.md §8) on the procedural seeds,
 * imbalanced MNIST or a folder of class folders; checkpoints with --resume like `diffuse train`, a
 * generator file of the EMA weights rewritten at every checkpoint, and a sample grid at the end.
 */
import { extname } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Engine } from '../../engine/engine.js';
import { InflowError } from '../../engine/errors.js';
import { writeImageGrid } from '../../io/png.js';
import { ConditionalGan } from '../../models/gan/conditional-gan.js';
import { checkGanConfig, ganPreset, type GanConfig, type GanLossKind } from '../../models/gan/config.js';
import { ganGeneratorFromBytes } from '../../models/gan/gan-file.js';
import { generatorFileBytes, generatorStateOf } from '../../models/gan/generator-state.js';
import { sampleGan } from '../../models/gan/sample.js';
import type { Checkpoint } from '../../train/checkpoint.js';
import { defaultLoopOptions, type LoopOptions, type StepMetrics } from '../../train/loop.js';
import { Adam } from '../../train/optimizer.js';
import { ConditionalGanTask } from '../../train/tasks/conditional-gan.js';
import { WarmEma } from '../../train/tasks/diffusion.js';
import { tensorData } from '../../train/tensor-data.js';
import { DEFAULT_MAX_IMAGE_PIXELS } from '../../data/image-folder.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { dataLine, finishLoopOptions, prepareRun, requireBatchFits, resumedRun, trainWithProgress, writeModelFile } from '../loop-options.js';
import { RecentSteps } from '../progress.js';
import { parseInteger, parseNumber, parsePositiveInt } from '../options.js';
import { makeParent, prepareOutput } from '../paths.js';
import { UserError } from '../user-error.js';
import { StepBar } from './diffuse-shared.js';
import { loadGanImages, type GanDataSpec } from './gan-data.js';

interface GanTrainFlags extends EngineFlags {
  data: string;
  ratio?: number[];
  count?: number;
  size?: number;
  onCorrupt: 'skip' | 'stop';
  maxImagePixels?: number;
  preset?: number;
  ch: number;
  zDim: number;
  sharedDim: number;
  loss: GanLossKind;
  dSteps: number;
  multiHingeWeight: number;
  batch: number;
  lrG: number;
  lrD: number;
  beta1: number;
  beta2: number;
  ema: number;
  maxSteps?: number;
  seed: number;
  checkpointDir: string;
  checkpointEvery: number;
  resume?: boolean;
  out: string;
  log?: string;
  samples?: string;
}

/** What a GAN run saves beside the loop's options, so --resume continues it unchanged. */
interface GanRunOptions extends LoopOptions {
  gan: { data: GanDataSpec; classNames: string[]; lrD: number; beta1: number; beta2: number; dSteps: number; multiHingeWeight: number; emaDecay: number };
}

/** Steps when --max-steps is not given. */
const DEFAULT_STEPS = 2000;
/** Images per class in the grid written at the end. */
const GRID_PER_CLASS = 8;

function parseRatio(value: string): number[] {
  const parts = value.split(':').map((v) => (/^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN));
  if (parts.length < 2 || parts.some((r) => !Number.isFinite(r))) throw new InvalidArgumentError(`expected class shares separated by colons (e.g. 9:7:6:1), got '${value}'`);
  return parts;
}

function parseSide(value: string): number {
  if (value !== '32' && value !== '64') throw new InvalidArgumentError(`expected 32 or 64, got '${value}'`);
  return Number(value);
}

export function ganTrainCommand(): Command {
  return addEngineOptions(new Command('train')
    .description('train a class-conditional GAN (BigGAN-style: conditional BatchNorm, spectral norm, projection discriminator, hinge or multi-hinge loss, EMA generator); writes checkpoints, the EMA generator file and a sample grid')
    .option('--data <source>', "'seeds' (procedural corn seeds, 4 classes), 'mnist-imbalanced' (digits 0-3 as 4 classes, padded to 32×32) or a folder with one sub-folder of images per class", 'seeds')
    .option('--ratio <shares>', 'seeds and mnist-imbalanced: images per class in this proportion, e.g. 9:7:6:1 (default 1:1:1:1)', parseRatio)
    .option('--count <n>', 'seeds and mnist-imbalanced: total training images (default 4000 seeds, 2300 digits)', parsePositiveInt)
    .option('--size <side>', 'seeds and class folders: image side, 32 or 64 (default: the preset; MNIST is 32)', parseSide)
    .addOption(new Option('--on-corrupt <what>', 'class folders: an unreadable or oversized image: skip it with a warning, or stop').choices(['skip', 'stop']).default('skip'))
    .addOption(new Option('--max-image-pixels <n>', 'class folders: an image whose header says it has more pixels (width × height) is skipped with a warning (or stops the run with --on-corrupt stop)').argParser(parsePositiveInt).default(DEFAULT_MAX_IMAGE_PIXELS))
    .option('--preset <side>', 'network layout for 32×32 or 64×64 images (docs/gan.md §6; default: the image size)', parseSide)
    .option('--ch <n>', 'base width: every layer is ch × the preset\'s multiplier', parsePositiveInt, 32)
    .option('--z-dim <n>', 'noise dimensions', parsePositiveInt, 64)
    .option('--shared-dim <n>', '0: condition the generator on the one-hot class; else on a learned class embedding this wide', parseInteger, 0)
    .addOption(new Option('--loss <kind>', 'hinge (K-output projection head) or multi-hinge (K + 1 outputs, Crammer-Singer terms)').choices(['hinge', 'multi-hinge']).default('multi-hinge'))
    .option('--multi-hinge-weight <w>', 'weight of the Crammer-Singer terms with --loss multi-hinge', parseNumber, 0.05)
    .option('--d-steps <n>', 'discriminator updates per generator update', parsePositiveInt, 2)
    .option('--batch <n>', 'images per update (real ones for D, fakes for both)', parsePositiveInt, 32)
    .option('--lr-g <x>', 'generator learning rate (Adam)', parseNumber, 2e-4)
    .option('--lr-d <x>', 'discriminator learning rate (Adam)', parseNumber, 2e-4)
    .option('--beta1 <x>', 'Adam β₁ of both networks (BigGAN: 0)', parseNumber, 0)
    .option('--beta2 <x>', 'Adam β₂ of both networks', parseNumber, 0.999)
    .option('--ema <decay>', 'decay of the generator weight average the generator file holds (warmed up: min(decay, (1+k)/(10+k)) at update k)', parseNumber, 0.999)
    .option('--max-steps <n>', `generator updates in total (default ${DEFAULT_STEPS}); with --resume, a new total to continue to`, parsePositiveInt)
    .option('--seed <n>', 'seed of the initial weights, data order and noise', parseInteger, 0)
    .option('--checkpoint-dir <dir>', 'where checkpoint.safetensors (both networks, optimisers, EMA) is kept', 'checkpoints')
    .option('--checkpoint-every <steps>', 'checkpoint interval (the generator file --out is rewritten at every checkpoint)', parsePositiveInt, 200)
    .option('--resume', 'continue from <checkpoint-dir>/checkpoint.safetensors exactly where it stopped (data, networks and options from the checkpoint; only --max-steps may change)')
    .option('--out <file>', 'the generator file (EMA weights), read by `inflow gan sample`', 'gan.safetensors')
    .option('--samples <png>', `grid of ${GRID_PER_CLASS} samples per class (one row each) written at the end (default: --out with .png)`)
    .option('--log <file>', 'JSONL log of every step (default: <checkpoint-dir>/train.jsonl)'))
    .action(async (flags: GanTrainFlags) => runGanTrain(flags));
}

/** The data spec of a new run, checked against the flags that only some sources take. */
function dataSpec(f: GanTrainFlags): GanDataSpec {
  const source = f.data === 'seeds' || f.data === 'mnist-imbalanced' ? f.data : 'folder';
  if (source === 'folder' && (f.ratio || f.count !== undefined)) throw new UserError(`--ratio and --count apply to --data seeds and mnist-imbalanced, not to a class folder (${f.data})`);
  if (source === 'mnist-imbalanced' && ((f.size ?? 32) !== 32 || (f.preset ?? 32) !== 32)) throw new UserError('--data mnist-imbalanced: the digits are padded to 32×32; use --size 32 / --preset 32');
  const size = f.size ?? f.preset ?? 32;
  if (f.preset !== undefined && f.preset !== size) throw new UserError(`--preset ${f.preset} does not match the ${size}×${size} images (--size ${size})`);
  if (f.ratio && f.ratio.length !== 4) throw new UserError(`--ratio ${f.ratio.join(':')}: give 4 shares, one per class`);
  return {
    source, size,
    ...(source === 'folder' ? { folder: f.data, onCorrupt: f.onCorrupt, ...(f.maxImagePixels !== undefined ? { maxImagePixels: f.maxImagePixels } : {}) }
      : { ratio: f.ratio ?? [1, 1, 1, 1], count: f.count ?? (source === 'seeds' ? 4000 : 2300) }),
  };
}

/** The GAN config the flags describe; a field the schema refuses is named by its flag. */
function configFrom(f: GanTrainFlags, classes: number, channels: number, size: number): GanConfig {
  try {
    return ganPreset(size as 32 | 64, { classes, imageChannels: channels, loss: f.loss, ch: f.ch, zDim: f.zDim, sharedDim: f.sharedDim });
  } catch (e) {
    if (!(e instanceof InflowError)) throw e;
    const flag: Record<string, string> = { ch: '--ch', zDim: '--z-dim', sharedDim: '--shared-dim', classes: 'the number of classes' };
    throw new UserError(e.message.replace(/^ganPreset: config (\w+)/, (all, k: string) => flag[k] ?? all));
  }
}

function checkNumbers(f: GanTrainFlags): void {
  const bad = (flag: string, v: number, want: string) => { throw new UserError(`${flag} ${v} must be ${want}`); };
  if (!(f.lrG > 0)) bad('--lr-g', f.lrG, '> 0');
  if (!(f.lrD > 0)) bad('--lr-d', f.lrD, '> 0');
  if (!(f.beta1 >= 0 && f.beta1 < 1)) bad('--beta1', f.beta1, 'in [0, 1)');
  if (!(f.beta2 >= 0 && f.beta2 < 1)) bad('--beta2', f.beta2, 'in [0, 1)');
  if (!(f.ema >= 0 && f.ema < 1)) bad('--ema', f.ema, 'in [0, 1)');
  if (!(f.multiHingeWeight >= 0)) bad('--multi-hinge-weight', f.multiHingeWeight, '≥ 0');
}

const samplesPath = (f: GanTrainFlags): string => f.samples ?? `${extname(f.out) ? f.out.slice(0, -extname(f.out).length) : f.out}.png`;

async function runGanTrain(flags: GanTrainFlags): Promise<void> {
  const run = prepareRun({ ...flags, epochs: 1, lr: flags.lrG, warmup: 0, decay: 1, clip: 0 });
  const { resume } = run;
  const gridPath = samplesPath(flags);
  prepareOutput('--samples', gridPath);
  let config: GanConfig | undefined;
  let opts: GanRunOptions;
  if (resume) {
    ({ config, opts } = resumedRun<GanConfig, GanRunOptions>(resume, run, flags.maxSteps, (c) => checkGanConfig((c as { ganConfig?: unknown } | null)?.ganConfig), 'a conditional-GAN'));
    if (!opts.gan) throw new UserError(`--resume: ${run.ckptFile}: not a checkpoint of \`inflow gan train\` (no GAN run options)`);
  } else {
    checkNumbers(flags);
    const spec = dataSpec(flags);
    opts = {
      ...defaultLoopOptions,
      // The loop's epochs only bound the run; --max-steps is what ends it.
      epochs: 1_000_000, batch: flags.batch, lr: flags.lrG, warmupSteps: 0, decay: 1, clip: 0, seed: flags.seed,
      checkpointEvery: flags.checkpointEvery, maxSteps: flags.maxSteps ?? DEFAULT_STEPS,
      gan: { data: spec, classNames: [], lrD: flags.lrD, beta1: flags.beta1, beta2: flags.beta2, dSteps: flags.dSteps, multiHingeWeight: flags.multiHingeWeight, emaDecay: flags.ema },
    };
  }
  finishLoopOptions(opts, run);
  const g = opts.gan;

  const images = await loadGanImages(g.data);
  if (config) {
    if (images.classNames.length !== config.classes || images.shape[0] !== config.imageChannels)
      throw new UserError(`--resume: the data (${images.description}) no longer fit the checkpoint's ${config.classes}-class, ${config.imageChannels}-channel GAN`);
  } else {
    config = configFrom(flags, images.classNames.length, images.shape[0], g.data.size);
    g.classNames = images.classNames;
  }
  requireBatchFits(opts, images.labels.length);

  const engine: Engine = await engineFrom(flags);
  const gan = new ConditionalGan(engine, config, opts.seed);
  const ema = new WarmEma(gan.generator, g.emaDecay);
  const adam = () => new Adam(engine, { beta1: g.beta1, beta2: g.beta2 });
  const gOpt = adam(), dOpt = adam();
  const task = new ConditionalGanTask(gan, {
    labels: images.labels, discriminatorSteps: g.dSteps, multiHingeWeight: g.multiHingeWeight, ema,
    generatorOptimizer: gOpt, discriminatorOptimizer: dOpt, discriminatorLrScale: g.lrD / opts.lr,
  });
  const total = opts.maxSteps!;
  console.log(`inflow gan train: ${config.resolution}×${config.resolution} preset, ch ${config.ch}, ${config.classes} classes (${g.classNames.join(', ')}); G ${gan.generator.paramCount().toLocaleString('en')} / D ${gan.discriminator.paramCount().toLocaleString('en')} parameters; ${config.loss}${config.loss === 'multi-hinge' ? ` (weight ${g.multiHingeWeight})` : ''}, ${g.dSteps} D step(s) per G step; Adam β ${g.beta1}, ${g.beta2}, lr G ${opts.lr} D ${g.lrD}; EMA ${g.emaDecay}`);
  console.log(dataLine(images.description, engine, opts, resume));

  // Each checkpoint's EMA generator, written while the loop waits: a running job always leaves a file `gan sample` reads.
  const writeGenerator = (ckpt: Checkpoint) => writeModelFile(flags.out, generatorFileBytes(config, generatorStateOf(ckpt.weights, ckpt.ema), g.classNames));
  const bar = new StepBar('train', total, 100);
  const recent = new RecentSteps();
  const onStep = (m: StepMetrics) => {
    recent.push(m);
    const [G, D, caught] = [recent.mean((s) => s.loss), recent.mean((s) => s.metrics?.discriminator), recent.mean((s) => s.metrics?.fakesCaught)];
    bar.update(m.step + 1, { G: G.toFixed(3), D: D.toFixed(3), caught: `${(100 * caught).toFixed(0)}%`, 'img/s': m.imagesPerSecond.toFixed(1) });
  };
  const result = await trainWithProgress(task, tensorData(images.values, images.shape), opts, resume, { bar, onStep, writeModel: writeGenerator });
  const bytes = generatorFileBytes(config, generatorStateOf(await gan.stateDict(), await ema.state()), g.classNames);
  writeModelFile(flags.out, bytes);
  // The grid is drawn from the file just written, so it shows exactly what `gan sample` will.
  const G = ganGeneratorFromBytes(bytes, { engine, name: flags.out });
  const labels = g.classNames.flatMap((_, k) => Array<number>(GRID_PER_CLASS).fill(k));
  const x = sampleGan(G, { labels, seed: opts.seed });
  makeParent(gridPath);
  await writeImageGrid(gridPath, (await x.data()).map((v) => (v + 1) * 127.5), x.shape as [number, number, number, number], GRID_PER_CLASS, 2);
  const last = recent.mean((s) => s.metrics?.fakesCaught);
  console.log(`done: ${result.steps} steps in ${result.seconds.toFixed(1)} s; D caught ${(100 * last).toFixed(0)} % of the fakes over the last ${recent.length} steps; generator (EMA weights) written to ${flags.out}, samples (a row per class) to ${gridPath}`);
  x.dispose();
  G.dispose();
  task.dispose();
  gOpt.dispose();
  dOpt.dispose();
  ema.dispose();
  gan.dispose();
  engine.dispose();
}
