import { Command } from 'commander';
import { checkImageGrid, writeImageGrid } from '../../io/png.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { checkDataParallel, dataParallelOption, replicaEngineFlags, where, withReplicas } from '../data-parallel-option.js';
import { parsePositiveInt } from '../options.js';
import { makeParent, prepareOutput } from '../paths.js';
import { UserError } from '../user-error.js';
import { evalCommand } from './diffuse-eval.js';
import { addSamplingOptions, openDiffusionModel, parseLabels, samplingOptions, StepBar, type SamplingFlags } from './diffuse-shared.js';
import { trainCommand } from './diffuse-train.js';

/**
 * `inflow diffuse train | sample | eval`: DDPM / DDIM diffusion models with a UNet, for generation
 * and for the image-conditioned tasks (docs/diffusion.md).
 */
export function diffuseCommand(): Command {
  const cmd = new Command('diffuse')
    .description('diffusion models: train a UNet denoiser (generation, super-resolution, restoration, inpainting), sample with DDIM / DDPM and classifier-free guidance, measure models');
  for (const sub of [trainCommand(), sampleCommand(), evalCommand()]) cmd.addCommand(sub);
  return cmd;
}

// ---- sample ----------------------------------------------------------------------------------

function sampleCommand(): Command {
  return addEngineOptions(addSamplingOptions(new Command('sample')
    .description('draw images from a diffusion model file into a PNG grid')
    .argument('<model>', 'diffusion model file (.safetensors, written by `inflow diffuse train`)')
    .option('--n <count>', 'number of images', parsePositiveInt, 64))
    .option('--label <classes>', "class of each image for a class-conditional model, e.g. '3', or '0,1,2' to cycle (default: 0,1,…,classes−1 cycled)", parseLabels)
    .option('--out <file>', 'PNG grid to write', 'samples.png')
    .option('--scale <n>', 'pixel magnification of the PNG', parsePositiveInt, 2)
    .addOption(dataParallelOption('run every denoiser step')))
    .action(async (file: string, flags: EngineFlags & SamplingFlags & { n: number; label?: number[]; out: string; scale: number; dataParallel?: number }) => {
      checkDataParallel(flags);
      prepareOutput('--out', flags.out);
      const engine = await engineFrom(replicaEngineFlags(flags, flags.dataParallel));
      const model = await openDiffusionModel(file, engine);
      const task = model.conditioning?.task;
      if (task) throw new UserError(`${file} is a ${task} model: it makes images from a condition image, not from noise alone (measure it with \`inflow diffuse eval\`)`);
      checkImageGrid([flags.n, ...model.imageShape], undefined, flags.scale);
      const opts = samplingOptions(flags);
      const steps = opts.steps ?? model.config.sampler.steps;
      const bar = new StepBar('sample', steps);
      const t0 = performance.now();
      let x;
      try {
        // The library checks steps, eta, guidance, labels and seed against the model (one-line InflowErrors).
        x = await withReplicas(model.unet, flags.dataParallel, (dp) =>
          model.sample(flags.n, { ...opts, seed: flags.seed, ...(flags.label ? { labels: flags.label } : {}), onStep: (d) => bar.update(d), ...(dp ? { replicas: dp } : {}) }));
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
      console.log(`${flags.n} samples (${how}; seed ${flags.seed}) in ${(ms / 1000).toFixed(1)} s on ${where(engine.name, flags.dataParallel)} → ${flags.out}`);
      x.dispose();
      model.dispose();
      engine.dispose();
    });
}
