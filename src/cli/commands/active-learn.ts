/** `inflow active-learn`: active-learning experiments with a simulated oracle (docs/active-learning.md). */
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ACQUISITIONS, isAcquisition, type AcquisitionName } from '../../active/acquire.js';
import { BATCHBALD_DEFAULTS } from '../../active/batch-bald.js';
import { learningCurvePng, type CurveSeries } from '../../active/curve-plot.js';
import { activeLearningData, type ActiveData } from '../../active/data.js';
import { labelSchedule, runActiveLearning, type CurvePoint } from '../../active/experiment.js';
import { defaultRetrain } from '../../active/learner.js';
import { InflowError } from '../../engine/errors.js';
import { defaultSeedClassifier } from '../../models/seed-classifier/config.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { parseInteger, parseNonNegativeInt, parseNumber, parsePositiveInt } from '../options.js';
import { checkFolder, prepareOutput } from '../paths.js';
import { CountProgress } from '../progress.js';
import { serveAnnotationPage } from './active-learn-serve.js';
import { StagedWrites } from '../staged-writes.js';
import { UserError } from '../user-error.js';

export interface ActiveFlags extends EngineFlags {
  data: string;
  classes?: string;
  pool: number[];
  poolCopies: number;
  test: number;
  size: number;
  arch: 'basic' | 'resnet';
  acquisition: AcquisitionName[];
  initial: number;
  budgets?: number[];
  rounds?: number;
  batch?: number;
  mcSamples: number;
  jointSamples: number;
  steps: number;
  trainBatch: number;
  lr: number;
  seed: number;
  repeats: number;
  out: string;
  serve: boolean;
  host: string;
  port: number;
}

function parseList(value: string): string[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '')) throw new InvalidArgumentError(`expected names separated by commas, got '${value}'`);
  return parts;
}

const parseCounts = (value: string): number[] => parseList(value).map(parsePositiveInt);

function parseAcquisitions(value: string): AcquisitionName[] {
  const names = parseList(value);
  for (const n of names) if (!isAcquisition(n)) throw new InvalidArgumentError(`unknown acquisition '${n}'; expected ${ACQUISITIONS.join(', ')} (or a comma-separated list of them)`);
  if (new Set(names).size !== names.length) throw new InvalidArgumentError(`an acquisition is listed twice in '${value}'`);
  return names as AcquisitionName[];
}

/** The label counts the flags ask for: --budgets as given, or --rounds of --batch after the initial set. */
function budgetsOf(flags: ActiveFlags): { budgets: number[]; batch?: number } {
  if (flags.budgets !== undefined && flags.rounds !== undefined) throw new UserError('--budgets and --rounds exclude each other: give the label counts, or a number of rounds of --batch');
  if (flags.budgets !== undefined) return { budgets: flags.budgets, ...(flags.batch !== undefined ? { batch: flags.batch } : {}) };
  const rounds = flags.rounds ?? 5, batch = flags.batch ?? 10;
  return { budgets: Array.from({ length: rounds }, (_, r) => flags.initial + batch * (r + 1)), batch };
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/** Mean of each point over repeats (every repeat has the same label counts). */
function meanSeries(name: string, curves: CurvePoint[][]): CurveSeries {
  const avg = (key: 'accuracy' | 'macroF1', j: number) => curves.reduce((s, c) => s + c[j]![key], 0) / curves.length;
  return { name, labels: curves[0]!.map((p) => p.labels), accuracy: curves[0]!.map((_, j) => avg('accuracy', j)), macroF1: curves[0]!.map((_, j) => avg('macroF1', j)) };
}

/** The pool and held-out set the data flags ask for; a bad one is a one-line UserError. */
async function loadData(flags: ActiveFlags): Promise<ActiveData> {
  // Any names parse; whether they are classes is for the data to say (an unknown one is named there).
  let classList: string[] | undefined;
  try {
    classList = flags.classes === undefined ? undefined : parseList(flags.classes);
  } catch (e) {
    throw new UserError(`--classes ${flags.classes}: ${(e as Error).message}`);
  }
  try {
    return await activeLearningData({ data: flags.data, ...(classList ? { classes: classList } : {}), pool: flags.pool, copies: flags.poolCopies, test: flags.test, size: flags.size, seed: flags.seed, warn: (m) => console.warn(`inflow: warning: ${m}`) });
  } catch (e) {
    if (e instanceof InflowError) throw new UserError(`--data ${flags.data}: ${e.message}`);
    throw e;
  }
}

export function activeLearnCommand(): Command {
  return addEngineOptions(new Command('active-learn')
    .description('active-learning experiment with a simulated oracle: from a small labelled set, acquire batches by BatchBALD, BALD, max-entropy or at random, retrain the seed classifier, and record held-out accuracy and macro-F1 against the number of labels; with --serve, an annotation page where a person labels each acquired batch')
    .option('--data <seeds|mnist|dir>', 'seeds (procedural corn seeds), mnist (digits), or a folder with one sub-folder of images per class', 'seeds')
    .option('--classes <list>', 'classes to use, in label order: seed grades (pure, discoloured, broken, silkcut), digits (default 0,1,2,3) or class-folder names (default all)')
    .addOption(new Option('--pool <n|list>', 'seeds/mnist: unlabelled pool images per class, one number or one per class (e.g. 200,150,100,50)').argParser(parseCounts).default([150], '150'))
    .option('--pool-copies <n>', 'every pool image this many times, 1…100 (the repeated-MNIST test of the BatchBALD paper: top-b BALD takes copies, BatchBALD should not)', parsePositiveInt, 1)
    .option('--test <n>', 'held-out images per class (from a class folder: taken out of each class before acquiring)', parsePositiveInt, 50)
    .option('--size <n>', 'image side: seeds 32 or 64, class folders a multiple of 8 (MNIST is padded to 32)', parsePositiveInt, 32)
    .addOption(new Option('--arch <name>', 'the seed classifier: basic (3 conv + 1 fully connected) or resnet').choices(['basic', 'resnet']).default('basic'))
    .addOption(new Option('--acquisition <list>', `acquisition function, or a comma-separated list to compare: ${ACQUISITIONS.join(', ')}`).argParser(parseAcquisitions).default([...ACQUISITIONS], 'all four'))
    .option('--initial <n>', 'labelled images before the first acquisition, drawn balanced over the classes', parsePositiveInt, 20)
    .option('--budgets <list>', 'label counts at which the curve is measured, increasing, e.g. 40,60,80,100,120 (excludes --rounds)', parseCounts)
    .option('--rounds <n>', 'acquisition rounds of --batch images each (default 5 when --budgets is not given)', parsePositiveInt)
    .option('--batch <n>', 'images acquired per round (default 10 with --rounds; with --budgets, default the whole step between budgets)', parsePositiveInt)
    .option('--mc-samples <n>', 'MC-dropout passes K per acquisition (consistent masks: one weight sample per pass)', parsePositiveInt, 20)
    .option('--joint-samples <n>', `BatchBALD: label configurations M sampled once the exact joint entropy (at most ${BATCHBALD_DEFAULTS.maxConfigurations} configurations) is too large`, parsePositiveInt, BATCHBALD_DEFAULTS.samples)
    .option('--steps <n>', 'training steps per round (the classifier is retrained from scratch on all labels)', parsePositiveInt, defaultRetrain.steps)
    .option('--train-batch <n>', 'images per training step', parsePositiveInt, defaultRetrain.batch)
    .option('--lr <x>', 'peak learning rate', parseNumber, defaultRetrain.lr)
    .option('--seed <n>', 'seed of the initial set, model initialisation, MC masks and random draws (0…2³²−1)', parseInteger, 0)
    .option('--repeats <n>', 'repeat every run with seeds seed, seed + 1, …; the plot shows the mean', parsePositiveInt, 1)
    .option('--out <dir>', 'folder for curves.json (every point of every run) and curves.png (mean curves); with --serve, for labels.json', 'active-learning')
    .option('--serve', 'instead of an experiment, serve the annotation page: a person labels each acquired batch (the first, of --initial images, at random), the classifier retrains in a worker after every submit and the page shows held-out accuracy; labels go to --out/labels.json after every submit, and a later --serve with the same data resumes from it')
    .option('--host <address>', 'with --serve: address to listen on', '127.0.0.1')
    .option('--port <n>', 'with --serve: port to listen on (0 = any free port; the printed line says which)', parseNonNegativeInt, 8090))
    .addHelpText('after', `
Example: BatchBALD against random on procedural seeds, 20 initial labels, 5 rounds of 10:
  inflow active-learn --data seeds --acquisition batchbald,random --rounds 5 --batch 10 --out al-seeds
The pool's own labels answer the queries (a simulated oracle). Outputs are written only when the
whole run succeeded. An annotation page drives the same loop with a person as the oracle
(src/active/learner.ts: acquire → addLabels → retrain → evaluate): --serve.

Annotation page: one acquisition function (default batchbald), batches of --batch (default 10):
  inflow active-learn --serve --data seeds --acquisition batchbald --initial 8 --batch 8 --steps 200 --out al-labels
  then open http://127.0.0.1:8090/ ; stop with Ctrl-C and run the same command again to go on.`)
    .action(async (flags: ActiveFlags, cmd: Command) => {
      if (flags.lr <= 0) throw new UserError(`--lr ${flags.lr}: must be above 0`);
      if (flags.poolCopies > 100) throw new UserError(`--pool-copies ${flags.poolCopies}: at most 100`);
      if (flags.seed < 0 || flags.seed + flags.repeats - 1 > 0xffffffff) throw new UserError(`--seed ${flags.seed}: must be an integer from 0 to 4294967295 (with --repeats, the last seed too)`);
      if (flags.serve) return serveAnnotationPage(flags, cmd.getOptionValueSource('acquisition') === 'default', loadData);
      const { budgets, batch } = budgetsOf(flags);
      let schedule: number[];
      try {
        schedule = labelSchedule(flags.initial, budgets, batch);
      } catch (e) {
        throw new UserError(`--budgets ${budgets.join(',')}: ${(e as Error).message.replace(/^active learning: /, '')}`);
      }
      checkFolder('--out', flags.out);
      const jsonPath = join(flags.out, 'curves.json'), pngPath = join(flags.out, 'curves.png');
      prepareOutput('--out', jsonPath);
      prepareOutput('--out', pngPath);
      const data = await loadData(flags);
      const { pool, test, classNames } = data;
      const last = schedule.at(-1)!;
      if (last > pool.count) throw new UserError(`budget ${last} is more than the ${pool.count} images of the pool (${data.description}); lower --budgets/--rounds or enlarge --pool`);
      const classes = classNames.length;
      const classifier = { ...defaultSeedClassifier, arch: flags.arch, inputShape: [...pool.shape] as [number, number, number], classes };
      const engine = await engineFrom(flags);
      const runs: { acquisition: AcquisitionName; seed: number; curve: CurvePoint[] }[] = [];
      const totalSteps = flags.acquisition.length * flags.repeats * (schedule.length + 1) * flags.steps;
      const bar = new CountProgress('active-learn', totalSteps, 'steps');
      const tty = !!process.stderr.isTTY;
      const t0 = performance.now();
      console.log(`${data.description}: pool ${pool.count}, held-out ${test.count}, classes ${classNames.join(', ')}; label counts ${flags.initial}, ${schedule.join(', ')}; ${engine.name}`);
      bar.begin();
      let done = 0;
      try {
        // Seed-major: a run stopped early still has every acquisition function for its first seeds.
        for (let r = 0; r < flags.repeats; r++)
          for (const acquisition of flags.acquisition) {
            const seed = flags.seed + r;
            const curve = await runActiveLearning(engine, pool, test, {
              acquisition, classifier, initial: flags.initial, budgets, ...(batch !== undefined ? { batch } : {}), seed, mcPasses: flags.mcSamples,
              retrain: { steps: flags.steps, batch: flags.trainBatch, lr: flags.lr }, batchBald: { samples: flags.jointSamples },
            }, {
              onStep: ({ done: d }) => bar.update(done + d),
              onRound: ({ point }) => {
                done += flags.steps;
                if (!tty) console.log(`${acquisition} seed ${seed}: ${point.labels} labels → accuracy ${pct(point.accuracy)}, macro-F1 ${point.macroF1.toFixed(3)} (${point.seconds.toFixed(1)} s)`);
              },
            });
            runs.push({ acquisition, seed, curve });
          }
      } finally {
        bar.end();
        engine.dispose();
      }
      const series = flags.acquisition.map((a) => meanSeries(a, runs.filter((r) => r.acquisition === a).map((r) => r.curve)));
      const report = {
        data: { source: flags.data, description: data.description, classNames, pool: pool.count, poolCopies: flags.poolCopies, test: test.count, size: flags.size },
        settings: {
          arch: flags.arch, acquisitions: flags.acquisition, initial: flags.initial, labelCounts: [flags.initial, ...schedule], mcSamples: flags.mcSamples,
          jointSamples: flags.jointSamples, maxConfigurations: BATCHBALD_DEFAULTS.maxConfigurations, steps: flags.steps, trainBatch: flags.trainBatch, lr: flags.lr,
          seeds: Array.from({ length: flags.repeats }, (_, r) => flags.seed + r),
        },
        mean: series,
        runs,
        seconds: (performance.now() - t0) / 1000,
      };
      const staged = new StagedWrites();
      try {
        staged.write(jsonPath, `${JSON.stringify(report, null, 1)}\n`);
        staged.write(pngPath, await learningCurvePng(series, `${data.description}, ${flags.repeats} seed${flags.repeats > 1 ? 's' : ''}`));
        staged.commit();
      } catch (e) {
        staged.abort();
        throw e;
      }
      const counts = series[0]!.labels;
      const width = Math.max(...series.map((s) => s.name.length));
      console.log(`held-out accuracy (mean of ${flags.repeats}) at ${counts.join(', ')} labels:`);
      for (const s of series) console.log(`  ${s.name.padEnd(width)}  ${s.accuracy.map(pct).join('  ')}`);
      console.log(`→ ${jsonPath}, ${pngPath} in ${report.seconds.toFixed(0)} s`);
    });
}
