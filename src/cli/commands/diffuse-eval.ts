/**
 * `inflow diffuse eval <model>`: what is measured depends on the model (docs/diffusion.md,
 * "Evaluating the tasks") — class-conditional samples judged by the digit classifier; a
 * super-resolution, restoration or mask-conditioned inpainting model on held-out images; with
 * --inpaint, RePaint with an unconditional or class-conditional model. The measuring is in the
 * library (src/models/diffusion/eval-*.ts); this prints it.
 */
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { subset, type ImageDataset } from '../../data/dataset.js';
import { mnistSplit } from '../../data/mnist.js';
import type { Engine } from '../../engine/engine.js';
import { DEGRADATION_KINDS, type DegradationKind } from '../../image/degrade/degrade.js';
import { datasetBatch } from '../../image/range.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { loadClassifier } from '../../io/classifier-file.js';
import type { DiffusionModel } from '../../models/diffusion/diffusion-model.js';
import { evalInpainting, type InpaintingEval } from '../../models/diffusion/eval-inpaint.js';
import type { ImageScore } from '../../models/diffusion/eval-metrics.js';
import { evalRestoration, type RestorationEval } from '../../models/diffusion/eval-restoration.js';
import { evalSuperResolution, type SuperResolutionEval } from '../../models/diffusion/eval-sr.js';
import { digitFeatureStats, judgeSamples } from '../../models/diffusion/judge.js';
import { frechetDistance } from '../../models/frechet.js';
import { loadEvalData, maxImagePixelsOption, type DataFlags } from '../data-source.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { parseNumber, parsePositiveInt } from '../options.js';
import { makeParent, prepareOutput } from '../paths.js';
import { UserError } from '../user-error.js';
import { addSamplingOptions, asUserError, openDiffusionModel, parseDegradationKinds, samplingOptions, StepBar, type SamplingFlags } from './diffuse-shared.js';

/** The digit classifier that judges MNIST samples (models/mnist-classifier.safetensors). */
const BUNDLED_CLASSIFIER = fileURLToPath(new URL('../../../models/mnist-classifier.safetensors', import.meta.url));

/** Samples judged by default (100 per digit) and held-out images measured by default for the image tasks. */
const JUDGE_N = 1000, TASK_N = 200;

interface EvalFlags extends EngineFlags, SamplingFlags, DataFlags {
  n?: number;
  batch: number;
  threshold: number;
  classifier?: string;
  json?: string;
  inpaint?: boolean;
  kinds?: DegradationKind[];
  strength: number;
  mixture: boolean;
  jumpLength?: number;
  resample?: number;
}

export function evalCommand(): Command {
  return addEngineOptions(addSamplingOptions(new Command('eval')
    .description('measure a diffusion model: class-conditional samples judged by the digit classifier; super-resolution, restoration or inpainting models on held-out images (PSNR/SSIM against the classical baseline); --inpaint: RePaint with a generation model')
    .argument('<model>', 'diffusion model file')
    .option('--n <count>', `samples (class-conditional: ${JUDGE_N}, the classes cycled) or held-out images (image tasks: ${TASK_N})`, parsePositiveInt)
    .option('--batch <n>', 'images sampled at once (guidance doubles the denoiser batch; the memory budget caps it)', parsePositiveInt, 50)
    .option('--threshold <p>', 'class-conditional: probability the classifier must give the class', parseNumber, 0.9)
    .option('--classifier <file>', 'class-conditional: digit classifier file (default: the bundled models/mnist-classifier.safetensors)')
    .option('--data <name>', "image tasks: held-out images of a built-in set, 'mnist' (default) or 'photos'")
    .option('--images <folder>', 'image tasks: the held-out 10% of an image folder')
    .addOption(maxImagePixelsOption())
    .option('--inpaint', 'measure RePaint inpainting with this unconditional or class-conditional model (random masks of 10–50 % of each held-out image)')
    .option('--jump-length <n>', 'RePaint: positions each resampling jump climbs (default min(10, steps − 1))', parsePositiveInt)
    .option('--resample <r>', 'RePaint: passes through each jump point (1 = no resampling; default 10)', parsePositiveInt)
    .option('--kinds <list>', 'restoration: the degradation kinds measured one by one (default: the model\'s)', parseDegradationKinds)
    .option('--strength <s>', 'restoration: strength of each kind alone, in (0, 1]', parseNumber, 0.5)
    .option('--no-mixture', 'restoration: skip the random mixture of the model\'s kinds')
    .option('--json <file>', 'also write the result as JSON')))
    .action(async (file: string, flags: EvalFlags) => runEval(file, flags));
}

async function runEval(file: string, flags: EvalFlags): Promise<void> {
  if (!(flags.threshold > 0 && flags.threshold <= 1)) throw new UserError(`--threshold ${flags.threshold} must be in (0, 1]`);
  if (flags.json) prepareOutput('--json', flags.json);
  if (!flags.inpaint && (flags.jumpLength !== undefined || flags.resample !== undefined)) throw new UserError('--jump-length and --resample apply to --inpaint (RePaint)');
  const engine = await engineFrom(flags);
  const model = await openDiffusionModel(file, engine);
  const task = model.conditioning?.task;
  if (task !== 'restoration' && (flags.kinds !== undefined || !flags.mixture)) throw new UserError('--kinds and --no-mixture apply to restoration models');
  if (flags.inpaint && task) throw new UserError(`--inpaint measures RePaint with a generation model; this is a ${task} model${task === 'inpainting' ? ' (eval measures it without --inpaint)' : ''}`);
  let json: Record<string, unknown>;
  try {
    if (task === 'super-resolution' || task === 'restoration' || task === 'inpainting' || flags.inpaint) json = await runTaskEval(file, model, engine, flags);
    else if (task) throw new UserError(`${file}: a model with an image condition of task '${task}' has no measure here`);
    else if (!model.classes) throw new UserError(`${file} is an unconditional model: give --inpaint to measure RePaint inpainting with it (samples are judged for class-conditional models only)`);
    else json = await runJudge(file, model, engine, flags);
  } catch (e) {
    throw asUserError(e);
  }
  if (flags.json) {
    makeParent(flags.json);
    writeFileAtomic(flags.json, JSON.stringify(json, null, 2) + '\n');
  }
  model.dispose();
  engine.dispose();
}

async function runJudge(file: string, model: DiffusionModel, engine: Engine, flags: EvalFlags): Promise<Record<string, unknown>> {
  let classifier;
  try {
    ({ model: classifier } = loadClassifier(flags.classifier ?? BUNDLED_CLASSIFIER, engine));
  } catch (e) {
    throw new UserError(`--classifier: ${e instanceof Error ? e.message : String(e)}`);
  }
  const n = flags.n ?? JUDGE_N;
  const opts = samplingOptions(flags);
  const s = model.config.sampler;
  const steps = opts.steps ?? s.steps;
  const bar = new StepBar('eval', n);
  let result;
  try {
    result = await judgeSamples(model, classifier, { ...opts, n, batch: flags.batch, seed: flags.seed, threshold: flags.threshold, onBatch: (d) => bar.update(d) });
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
  classifier.dispose();
  const { features: _features, ...counts } = result;
  return { model: file, ...counts, fidProxy: fid, fidProxyTrainingDigits: fidFloor, sampler: { method, steps, eta: opts.eta ?? s.eta, guidance: opts.guidance ?? s.guidance, seed: flags.seed }, threshold: flags.threshold };
}

/** The held-out images at the model's image shape: MNIST's 1 000 test digits by default. */
async function heldOutImages(model: DiffusionModel, flags: EvalFlags): Promise<ImageDataset> {
  const shape = model.imageShape;
  const data = flags.data === undefined && flags.images === undefined && flags.cifar === undefined ? { ...flags, data: 'mnist' } : flags;
  const set = await loadEvalData(data, shape);
  if (set.shape.some((d, i) => d !== shape[i]))
    throw new UserError(`the model makes ${shape.join('×')} images; ${set.name} holds ${set.shape.join('×')} (use --images with a folder of such images)`);
  return set;
}

const score = (s: ImageScore) => `PSNR ${s.psnr.toFixed(2)} dB  SSIM ${s.ssim.toFixed(4)}`;

async function runTaskEval(file: string, model: DiffusionModel, engine: Engine, flags: EvalFlags): Promise<Record<string, unknown>> {
  const set = await heldOutImages(model, flags);
  const n = flags.n ?? Math.min(TASK_N, set.count);
  if (n > set.count) throw new UserError(`--n ${n} is more than the ${set.count} held-out images of ${set.name}`);
  const indices = [...Array(n).keys()];
  const images = datasetBatch(set, indices);
  const opts = samplingOptions(flags);
  const s = model.config.sampler;
  const method = opts.method ?? (flags.inpaint ? 'ddpm' : s.method), steps = opts.steps ?? s.steps;
  const sampler = { method, steps, ...(method === 'ddim' ? { eta: opts.eta ?? s.eta } : {}), seed: flags.seed, batch: flags.batch };
  const how = `${method} ${steps} steps${method === 'ddim' ? `, eta ${opts.eta ?? s.eta}` : ''}, seed ${flags.seed}, batch ${flags.batch}`;
  const common = { ...opts, n, batch: flags.batch, seed: flags.seed };
  const task = model.conditioning?.task;
  const passes = task === 'restoration' ? (flags.kinds ?? model.conditioning!.degradations ?? DEGRADATION_KINDS).length + (flags.mixture && (model.conditioning!.degradations ?? DEGRADATION_KINDS).length > 1 ? 1 : 0) : 1;
  const bar = new StepBar('eval', n * passes);
  const onBatch = (d: number) => bar.update(d);
  const where = `${n} held-out images of ${set.name}`;
  const secs = (t: number) => `${t.toFixed(3)} s per image on ${engine.name}`;
  try {
    if (task === 'super-resolution') {
      const r: SuperResolutionEval = await evalSuperResolution(model, images, { ...common, onBatch });
      bar.end();
      console.log(`${model.autoencoder ? 'latent ' : ''}super-resolution ×${r.scale} on ${where} (${how}; ${secs(r.secondsPerImage)}):`);
      console.log(`  bicubic      ${score(r.bicubic)}`);
      console.log(`  model        ${score(r.model)}`);
      if (r.autoencoder) console.log(`  autoencoder  ${score(r.autoencoder)}  (decode(encode(HR)): what the latent model can reach at best)`);
      return { file, task, ...r, sampler, params: model.paramCount() };
    }
    if (task === 'restoration') {
      const r: RestorationEval = await evalRestoration(model, images, { ...common, onBatch, strength: flags.strength, ...(flags.mixture ? {} : { mixture: false }), ...(flags.kinds ? { kinds: flags.kinds } : {}) });
      bar.end();
      console.log(`restoration on ${where}, each kind alone at strength ${r.strength}${flags.mixture && r.rows.some((x) => x.degradation === 'mixture') ? ', and a random mixture' : ''} (${how}; ${secs(r.secondsPerImage)}):`);
      console.log(`  ${'degradation'.padEnd(15)} ${'input PSNR'.padStart(10)} ${'SSIM'.padStart(7)}   ${'model PSNR'.padStart(10)} ${'SSIM'.padStart(7)}`);
      for (const row of r.rows)
        console.log(`  ${row.degradation.padEnd(15)} ${row.input.psnr.toFixed(2).padStart(10)} ${row.input.ssim.toFixed(4).padStart(7)}   ${row.model.psnr.toFixed(2).padStart(10)} ${row.model.ssim.toFixed(4).padStart(7)}`);
      return { file, task, ...r, sampler, params: model.paramCount() };
    }
    const labels = model.classes && set.labels ? Array.from(indices, (i) => set.labels![i]!) : undefined;
    const r: InpaintingEval = await evalInpainting(model, images, {
      ...common, onBatch, ...(labels ? { labels } : {}),
      ...(flags.jumpLength !== undefined ? { jumpLength: flags.jumpLength } : {}), ...(flags.resample !== undefined ? { resampleCount: flags.resample } : {}),
    });
    bar.end();
    const what = r.method === 'repaint'
      ? `RePaint (jump length ${flags.jumpLength ?? Math.max(1, Math.min(10, steps - 1))}, resample ${flags.resample ?? 10}${labels ? `; labels: the held-out digits' own, guidance ${opts.guidance ?? s.guidance}` : ''})`
      : 'mask-conditioned inpainting';
    console.log(`${what} on ${where}, random masks covering ${(100 * r.coverage).toFixed(1)} % on average (${how}; ${secs(r.secondsPerImage)}):`);
    console.log(`  inside the mask: model PSNR ${r.model.psnr.toFixed(2)} dB, blur fill ${r.blurFill.psnr.toFixed(2)} dB`);
    console.log(`  known region: largest change ${r.model.knownMaxChange.toExponential(2)} (in [−1, 1] units)`);
    return { file, task: task ?? 'repaint', ...r, sampler, params: model.paramCount() };
  } finally {
    bar.end();
  }
}
