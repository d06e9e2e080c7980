import { Command, Option } from 'commander';
import type { Engine } from '../../engine/engine.js';
import { InflowError } from '../../engine/errors.js';
import { loadModel, saveModel } from '../../io/model-file.js';
import { replanKeeping } from '../../models/plan.js';
import { fromConfig, presetNames, resolveConfig, type FlowModelConfig, type ModelConfig, type ModelKind } from '../../models/index.js';
import { FlowModel } from '../../models/flow-model.js';
import { checkShape } from '../../train/evaluate.js';
import { fitClassPrior } from '../../train/fit-class-prior.js';
import type { OptimizerKind } from '../../train/optimizer.js';
import { defaultTrainOptions, train, validateTrainOptions, type TrainOptions } from '../../train/trainer.js';
import { loadData, maxImagePixelsOption, type DataFlags } from '../data-source.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { checkDataParallel, replicaEngineFlags } from '../data-parallel-option.js';
import { addLoopOptions, badStepLine, prepareRun, type LoopFlags } from '../loop-options.js';
import { parseNumber, parsePositiveInt } from '../options.js';
import { makeParent } from '../paths.js';
import { TrainProgress } from '../progress.js';
import { UserError } from '../user-error.js';

interface TrainFlags extends EngineFlags, DataFlags, LoopFlags {
  model: ModelKind;
  preset?: string;
  levels?: number;
  steps?: number;
  width?: number;
  kernelSize?: number;
  coupling?: ModelConfig['coupling'];
  split?: ModelConfig['split'];
  classes?: number;
  classCouplings?: boolean;
  optimizer: OptimizerKind;
  weightDecay?: number;
  momentum?: number;
  evalEvery: number;
  init?: string;
  dataParallel?: number;
  /** --model was typed, not defaulted (with --init it must then match the file). */
  modelGiven?: boolean;
}

/** `inflow train`: maximum-likelihood training with checkpoints, resume and a progress display. */
export function trainCommand(): Command {
  return addEngineOptions(addLoopOptions(new Command('train')
    .description('train a flow model on MNIST, a folder of images or CIFAR-10 batch files')
    .addOption(new Option('--model <kind>', 'model family').choices(['finc', 'cinc', 'inverse', 'glow']).default('finc'))
    .addOption(new Option('--preset <name>', `architecture preset (${presetNames().join(', ')})`))
    .option('--levels <L>', 'levels (overrides the preset)', parsePositiveInt)
    .option('--steps <K>', 'flow steps per level', parsePositiveInt)
    .option('--width <n>', 'coupling network width', parsePositiveInt)
    .option('--kernel-size <k>', 'k of the invertible k×k convolutions', parsePositiveInt)
    .addOption(new Option('--coupling <kind>', 'coupling layer').choices(['affine', 'quad', 'additive']))
    .addOption(new Option('--split <kind>', 'split between levels').choices(['prior', 'glow']))
    .option('--classes <n>', 'class-conditional Gaussian on the top latent (a mixture over n classes; labelled data trains one component each, `sample --label` picks one)', parsePositiveInt)
    .option('--class-couplings', 'with --classes: every coupling network sees the label too (a conditional flow; p(x) costs one pass per class)')
    .option('--data <name>', "built-in data set: 'mnist' (9000 train / 1000 test, fixed split)")
    .option('--images <folder>', 'a folder of PNG/JPEG/WebP images (resized to the model input; 10% held out)')
    .option('--cifar <files...>', 'CIFAR-10 binary batch files (data_batch_*.bin)')
    .option('--cifar-test <files...>', 'CIFAR-10 test batch file(s) for held-out bits/dim')
    .addOption(new Option('--on-corrupt <what>', 'an unreadable or oversized image: skip it with a warning, or stop').choices(['skip', 'stop']).default('skip'))
    .addOption(maxImagePixelsOption()), {
    defaults: { epochs: 10, batch: 64, lr: 1e-3, warmup: 200, clip: defaultTrainOptions.clip, out: 'model.safetensors' },
    help: {
      batch: 'images per step; at most the number of training images, and the memory budget caps it', lr: 'peak learning rate',
      seed: 'seed (an integer) of initial weights, data order and dequantisation noise', checkpointEvery: 'checkpoint interval',
      resume: 'the log is cut back to its step', out: 'the trained model file',
      log: 'JSONL log of every step (default: <checkpoint-dir>/train.jsonl; a fresh run starts it over, --resume keeps the steps up to the checkpoint)',
    },
    after: {
      decay: (c) => c
        .addOption(new Option('--optimizer <name>', 'optimizer').choices(['adam', 'adamw', 'adamax', 'sgd']).default('adam'))
        .option('--weight-decay <x>', 'weight decay (adamw: decoupled, default 0.01; others: L2 added to the gradient, default 0)', parseNumber)
        .option('--momentum <x>', 'sgd momentum (default 0)', parseNumber),
      maxSteps: (c) => c.option('--eval-every <epochs>', 'held-out bits/dim after every this many epochs (and the last)', parsePositiveInt, 1)
        .option('--data-parallel <threads>', 'split every batch across this many threads, each running the whole model on its own one-thread wasm engine (scales whole models better than --threads; the run depends on this number, not on the machine; --resume keeps it)', parsePositiveInt),
      resume: (c) => c.option('--init <model>', 'start from the weights of this model file (fine-tuning); its architecture is used (--classes may add a class prior)'),
    },
  }))
    .action(async (flags: TrainFlags, cmd: Command) => runTrain({ ...flags, modelGiven: cmd.getOptionValueSource('model') !== 'default' }));
}

async function runTrain(flags: TrainFlags): Promise<void> {
  if (flags.init && flags.resume) throw new UserError('--init and --resume do not mix: --resume already restores the weights of the checkpoint');
  checkDataParallel(flags);
  if (flags.momentum !== undefined && flags.optimizer !== 'sgd')
    throw new UserError(`--momentum applies to --optimizer sgd, not ${flags.optimizer}`);
  // Every file and option is checked before the engine starts and the data loads.
  const { logPath, ckptFile, resume } = prepareRun(flags);
  const opts: Partial<TrainOptions> = resume ? { ...(resume.state.options as Partial<TrainOptions>) } : {
    epochs: flags.epochs, batch: flags.batch, lr: flags.lr, warmupSteps: flags.warmup, decay: flags.decay, optimizer: flags.optimizer,
    ...(flags.weightDecay !== undefined ? { weightDecay: flags.weightDecay } : {}), ...(flags.momentum !== undefined ? { momentum: flags.momentum } : {}),
    clip: flags.clip, seed: flags.seed, checkpointEvery: flags.checkpointEvery, evalEvery: flags.evalEvery, ...(flags.maxSteps ? { maxSteps: flags.maxSteps } : {}),
    ...(flags.dataParallel !== undefined ? { dataParallel: flags.dataParallel } : {}),
  };
  opts.checkpointDir = flags.checkpointDir;
  opts.logPath = logPath;
  if (flags.resume && flags.maxSteps) opts.maxSteps = flags.maxSteps;
  try {
    // The library's own checks (lr > 0, decay in (0, 1], …), so they fail before the data loads.
    validateTrainOptions({ ...defaultTrainOptions, ...opts });
  } catch (e) {
    if (!(e instanceof InflowError)) throw e;
    throw new UserError(`${resume ? `--resume: ${ckptFile}: its options: ` : ''}${e.message}`);
  }
  const engine = await engineFrom(replicaEngineFlags(flags, opts.dataParallel));
  let model: FlowModel;
  let fitPrior = false;
  if (resume) {
    try {
      model = fromConfig(engine, resume.modelConfig as unknown as FlowModelConfig);
    } catch (e) {
      throw new UserError(`--resume: ${ckptFile}: cannot build the model it holds (${e instanceof Error ? e.message : String(e)})`);
    }
  } else if (flags.init) ({ model, fitPrior } = await initialModel(engine, flags));
  else {
    const overrides: Partial<ModelConfig> = {};
    for (const k of architectureFlags.filter((f) => f !== 'preset'))
      if (flags[k] !== undefined) (overrides as Record<string, unknown>)[k] = flags[k];
    let cfg: ModelConfig;
    try {
      cfg = resolveConfig(flags.model, { ...(flags.preset ? resolveConfig(flags.model, flags.preset) : defaultShapeFor(flags)), ...overrides, kind: flags.model });
    } catch (e) {
      throw new UserError(e instanceof Error ? e.message : String(e));
    }
    model = new FlowModel(engine, cfg, undefined, flags.seed);
  }
  const shape = model.config.model.inputShape;
  const data = await loadData(flags, shape);
  try {
    checkShape(model, data.train);
  } catch (e) {
    throw new UserError(`${e instanceof Error ? e.message : String(e)}; pick a preset or --levels/--width for this data`);
  }
  // Refused rather than clamped: a smaller batch changes the run (its noise, steps per epoch and
  // learning-rate schedule), so the user picks it.
  const batch = opts.batch ?? defaultTrainOptions.batch;
  if (batch > data.train.count)
    throw new UserError(`${resume ? `the checkpoint's batch ${batch}` : `--batch ${batch}`} is more than the ${data.train.count} training images (${data.description}); ${resume ? 'resume with the data it was trained on' : `use --batch ${data.train.count} or fewer, or add images`}`);
  if (model.classes && !data.train.labels) console.log(`note: ${data.train.name} has no labels; the ${model.classes}-class prior is trained as an unsupervised mixture`);
  if (fitPrior) {
    if (!data.train.labels) throw new UserError(`--classes with --init fits the new class prior per class, but ${data.train.name} has no labels`);
    const fit = await fitClassPrior(model, data.train);
    console.log(`class prior fitted to the top latent of ${flags.init} (images per class: ${fit.perClass.join(', ')})`);
  }
  const stepsPerEpoch = Math.floor(data.train.count / batch);
  const total = Math.min(opts.maxSteps ?? Infinity, stepsPerEpoch * opts.epochs!);
  console.log(`inflow train: ${model.config.model.kind} ${shape.join('×')}, L ${model.config.model.levels} K ${model.config.model.steps} width ${model.config.model.width}${model.classes ? `, ${model.classes}-class prior${model.classCouplings ? ' and label-aware couplings' : ''}` : ''}, ${(model.paramCount() / 1e6).toFixed(3)}M parameters`);
  console.log(`data: ${data.description}; backend ${engine.name} (${engine.info().why})${resume ? `; resuming at step ${resume.state.step}` : ''}`);
  const progress = new TrainProgress(total, resume?.state.step ?? 0);
  progress.begin();
  let result;
  try {
    result = await train(model, data.train, data.test, opts, {
      onStep: (m) => progress.step(m),
      onBadStep: (m, n) => progress.note(badStepLine(m, n)),
      onEpoch: (e, bpd) => progress.heldOut(e, bpd),
    }, resume);
  } finally {
    progress.end();
  }
  makeParent(flags.out);
  await saveModel(model, flags.out);
  const last = result.heldOut.at(-1);
  console.log(`done: ${result.steps} steps in ${result.seconds.toFixed(1)} s; final training loss ${result.finalLoss.toFixed(4)} bits/dim${last ? `; held-out ${last.bitsPerDim.toFixed(4)} bits/dim` : ''}`);
  console.log(`model written to ${flags.out}`);
  model.dispose();
  engine.dispose();
}

const architectureFlags = ['preset', 'levels', 'steps', 'width', 'kernelSize', 'coupling', 'split', 'classes', 'classCouplings'] as const;
/** What --init may add to a saved flow: new parameters start at values that leave it unchanged. */
const addableFlags: ReadonlyArray<(typeof architectureFlags)[number]> = ['classes', 'classCouplings'];

/**
 * --init: a saved model to fine-tune; the file fixes the architecture, so flags that would change it
 * are refused, except --classes on a model without a class prior: that adds one (fitted before training).
 */
async function initialModel(engine: Engine, flags: TrainFlags): Promise<{ model: FlowModel; fitPrior: boolean }> {
  const clash = architectureFlags.filter((k) => !addableFlags.includes(k) && flags[k] !== undefined);
  if (clash.length) throw new UserError(`--init takes the architecture from ${flags.init}; drop ${clash.map((k) => `--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`).join(', ')}`);
  let model: FlowModel;
  try {
    model = await loadModel(flags.init!, { engine });
  } catch (e) {
    throw new UserError(`--init: ${e instanceof Error ? e.message : String(e)}`);
  }
  const kind = model.config.model.kind;
  if (flags.modelGiven && kind !== flags.model) {
    model.dispose();
    throw new UserError(`--init: ${flags.init} is a ${kind} model, not --model ${flags.model}`);
  }
  if (flags.classes !== undefined && model.classes && flags.classes !== model.classes) {
    model.dispose();
    throw new UserError(`--init: ${flags.init} already has a ${model.classes}-class prior; drop --classes ${flags.classes}`);
  }
  const classes = flags.classes ?? model.classes;
  const classCouplings = !!flags.classCouplings || model.classCouplings;
  if (classes === model.classes && classCouplings === model.classCouplings) return { model, fitPrior: false };
  if (!classes) {
    model.dispose();
    throw new UserError('--class-couplings needs --classes (the number of labels)');
  }
  const fitPrior = !model.classes;
  return { model: await extended(model, { classes, classCouplings }), fitPrior };
}

/**
 * The same flow with class conditioning added: the saved weights, plus new parameters at zero (a
 * class prior of N(0, I) per class until fitted, label offsets of 0 in every coupling network).
 */
async function extended(model: FlowModel, change: Pick<ModelConfig, 'classes' | 'classCouplings'>): Promise<FlowModel> {
  const { model: config, architecture } = model.config;
  let out: FlowModel;
  try {
    const next = resolveConfig(config.kind, { ...config, ...change });
    // The new config's plan, with the 1×1 permutations and signs of the trained flow kept.
    out = fromConfig(model.engine, { kind: 'flow-model', model: next, architecture: replanKeeping(next, architecture) });
  } catch (e) {
    model.dispose();
    throw new UserError(e instanceof Error ? e.message : String(e));
  }
  const values = new Map<string, Float32Array>();
  const saved = model.namedParams();
  for (const [name, p] of out.namedParams()) {
    const old = saved.get(name);
    values.set(name, old ? await old.value.data() : new Float32Array(p.size));
  }
  model.dispose();
  out.loadParameters(values);
  return out;
}

/** Without a preset, the input shape follows the data: MNIST 1×28×28, CIFAR 3×32×32, folders 3×32×32. */
function defaultShapeFor(flags: TrainFlags): Partial<ModelConfig> {
  const inputShape: [number, number, number] = flags.data ? [1, 28, 28] : [3, 32, 32];
  return { inputShape, levels: 2, steps: 4, width: 64 };
}
