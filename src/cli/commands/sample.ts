import { Command, InvalidArgumentError } from 'commander';
import { checkImageGrid, writeImageGrid } from '../../io/png.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { checkDataParallel, dataParallelOption, replicaEngineFlags, where, withReplicas } from '../data-parallel-option.js';
import { openModel } from '../open-model.js';
import { parseInteger, parseNumber, parsePositiveInt } from '../options.js';
import { makeParent, prepareOutput } from '../paths.js';
import { readAndFree } from '../../parallel/programs.js';

/** `inflow sample`: draws images from a model file into a PNG grid. */
export function sampleCommand(): Command {
  return addEngineOptions(new Command('sample')
    .description('sample images from a model file into a PNG grid')
    .argument('<model>', 'model file (.safetensors)')
    .option('--n <count>', 'number of images', parsePositiveInt, 64)
    .option('--temperature <t>', 'scale of the latent Gaussian, > 0 (lower = cleaner, less varied)', parseNumber, 0.7)
    .option('--seed <n>', 'latent seed (an integer): the same seed gives the same images on every backend', parseInteger, 0)
    .option('--label <classes>', "for a model with a class prior: the class of each image, e.g. '3', or '0,1,2,3,4,5,6,7,8,9' to cycle (default: drawn at random)", parseLabels)
    .option('--out <file>', 'PNG grid to write', 'samples.png')
    .option('--scale <n>', 'pixel magnification of the PNG', parsePositiveInt, 2)
    .addOption(dataParallelOption('decode the images')))
    .action(async (file: string, flags: EngineFlags & { n: number; temperature: number; seed: number; out: string; scale: number; label?: number[]; dataParallel?: number }) => {
      checkDataParallel(flags);
      prepareOutput('--out', flags.out);
      const engine = await engineFrom(replicaEngineFlags(flags, flags.dataParallel));
      const model = await openModel(file, engine);
      // Before sampling: a grid too large to write fails now, not after the work.
      checkImageGrid([flags.n, ...model.config.model.inputShape], undefined, flags.scale);
      // The library checks temperature, seed, n and labels against the model (one-line InflowErrors).
      const opts = { temperature: flags.temperature, seed: flags.seed, ...(flags.label ? { labels: flags.label } : {}) };
      let ms = 0;
      const values = await withReplicas(model, flags.dataParallel, async (dp) => {
        // Timed without the replicas' start-up. They give the one-thread images bit for bit (docs/thread-scaling.md §6).
        const t0 = performance.now();
        const v = dp ? await dp.sample(flags.n, opts) : await readAndFree(await model.sample(flags.n, opts));
        ms = performance.now() - t0;
        return v;
      });
      makeParent(flags.out);
      await writeImageGrid(flags.out, values, [flags.n, ...model.config.model.inputShape] as [number, number, number, number], undefined, flags.scale);
      const classes = flags.label ? `, classes ${flags.label.join(',')}` : model.classes ? `, classes drawn from ${model.classes}` : '';
      console.log(`${flags.n} samples at temperature ${flags.temperature} (seed ${flags.seed}${classes}) in ${ms.toFixed(0)} ms on ${where(engine.name, flags.dataParallel)} → ${flags.out}`);
      model.dispose();
      engine.dispose();
    });
}

function parseLabels(value: string): number[] {
  const labels = value.split(',').map((v) => (/^\s*\d+\s*$/.test(v) ? Number(v) : NaN));
  if (labels.some((y) => !Number.isSafeInteger(y))) throw new InvalidArgumentError(`expected class numbers separated by commas (e.g. 3 or 0,1,2), got '${value}'`);
  return labels;
}
