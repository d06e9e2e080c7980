import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Command } from 'commander';
import { writeImageGrid } from '../../io/png.js';
import { backendOption, engineFrom, threadsOption, type EngineFlags } from '../engine-option.js';
import { openModel } from '../open-model.js';
import { parsePositiveInt } from '../options.js';
import { UserError } from '../user-error.js';

/** `inflow sample`: draws images from a model file into a PNG grid. */
export function sampleCommand(): Command {
  return new Command('sample')
    .description('sample images from a model file into a PNG grid')
    .argument('<model>', 'model file (.safetensors)')
    .option('--n <count>', 'number of images', parsePositiveInt, 64)
    .option('--temperature <t>', 'scale of the latent Gaussian (lower = cleaner, less varied)', (v) => {
      const t = Number(v);
      if (!(t > 0) || !Number.isFinite(t)) throw new UserError(`--temperature must be a positive number, got '${v}'`);
      return t;
    }, 0.7)
    .option('--seed <n>', 'latent seed: the same seed gives the same images on every backend', (v) => Math.round(Number(v)), 0)
    .option('--label <classes>', "for a model with a class prior: the class of each image, e.g. '3', or '0,1,2,3,4,5,6,7,8,9' to cycle (default: drawn at random)", parseLabels)
    .option('--out <file>', 'PNG grid to write', 'samples.png')
    .option('--scale <n>', 'pixel magnification of the PNG', parsePositiveInt, 2)
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(async (file: string, flags: EngineFlags & { n: number; temperature: number; seed: number; out: string; scale: number; label?: number[] }) => {
      const engine = await engineFrom(flags);
      const model = await openModel(file, engine);
      if (flags.label) {
        if (!model.classes) throw new UserError(`--label: ${file} has no class prior (train one with --classes)`);
        const bad = flags.label.find((y) => y >= model.classes);
        if (bad !== undefined) throw new UserError(`--label ${bad}: ${file} has classes 0…${model.classes - 1}`);
      }
      const t0 = performance.now();
      const x = await model.sample(flags.n, { temperature: flags.temperature, seed: flags.seed, ...(flags.label ? { labels: flags.label } : {}) });
      const values = await x.data();
      const ms = performance.now() - t0;
      mkdirSync(dirname(flags.out) || '.', { recursive: true });
      await writeImageGrid(flags.out, values, x.shape as [number, number, number, number], undefined, flags.scale);
      const classes = flags.label ? `, classes ${flags.label.join(',')}` : model.classes ? `, classes drawn from ${model.classes}` : '';
      console.log(`${flags.n} samples at temperature ${flags.temperature} (seed ${flags.seed}${classes}) in ${ms.toFixed(0)} ms on ${engine.name} → ${flags.out}`);
      x.dispose();
      model.dispose();
      engine.dispose();
    });
}

function parseLabels(value: string): number[] {
  const labels = value.split(',').map((v) => Number(v.trim()));
  if (labels.some((y) => !Number.isInteger(y) || y < 0)) throw new UserError(`--label expects class numbers separated by commas (e.g. 3 or 0,1,2), got '${value}'`);
  return labels;
}
