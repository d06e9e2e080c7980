/** `inflow upscale`: super-resolution of one image with a diffusion model (docs/pipelines.md). */
import { Command } from 'commander';
import { upscale } from '../../models/diffusion/pipelines.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { parsePositiveInt } from '../options.js';
import { makeParent, prepareOutput } from '../paths.js';
import { bundledModel, defaultOut, modelKind, openTaskModel, readImageFile, refuseModel, runWithProgress, writePng } from '../task-images.js';
import { addSamplingOptions, samplingOptions, type SamplingFlags } from './diffuse-shared.js';

const DEFAULT_MODEL = 'sr-mnist.safetensors';

interface UpscaleFlags extends EngineFlags, SamplingFlags {
  out?: string;
  model?: string;
  scale?: number;
}

export function upscaleCommand(): Command {
  return addEngineOptions(addSamplingOptions(new Command('upscale')
    .description('super-resolution with a diffusion model: a low-resolution image in, the model\'s high-resolution image out (a PNG)')
    .argument('<image>', 'the low-resolution image (PNG, JPEG or WebP), exactly the model\'s input size — 7×7 for the bundled 28×28 ×4 MNIST model; grey or colour, converted to the model\'s channels')
    .option('--out <file>', 'PNG to write (default: <image>-upscaled.png beside the input)')
    .option('--model <file>', `super-resolution model file, pixel or latent (default: the bundled models/${DEFAULT_MODEL})`)
    .option('--scale <n>', 'the factor expected: refused if the model enlarges by another (the model decides the factor)', parsePositiveInt))
    .addHelpText('after', '\nThe condition is made as in training: the image resized by bicubic interpolation to the side the model denoises\n(a latent model whose latent has the image\'s side takes it as it is). --seed fixes the result.'))
    .action(async (file: string, flags: UpscaleFlags) => {
      const out = flags.out ?? defaultOut(file, 'upscaled');
      prepareOutput('--out', out);
      const image = await readImageFile(file);
      const model = await openTaskModel(flags.model, bundledModel(DEFAULT_MODEL), 'a super-resolution model (`inflow diffuse train --task super-resolution`)', () => engineFrom(flags));
      const name = flags.model ?? `models/${DEFAULT_MODEL}`;
      const c = model.config.conditioning;
      refuseModel(model, c?.task !== 'super-resolution' && `${name} is ${modelKind(model)}; upscale takes a super-resolution model (--model)`);
      refuseModel(model, flags.scale !== undefined && flags.scale !== c!.scale && `--scale ${flags.scale}: ${name} enlarges ×${c!.scale}`);
      const opts = samplingOptions(flags);
      const backend = model.engine.name;
      const { result, seconds } = await runWithProgress('upscale', model, (onStep) => upscale(model, image, { ...opts, seed: flags.seed, onStep }));
      makeParent(out);
      await writePng(out, result.data, result.shape);
      const s = model.config.sampler, method = opts.method ?? s.method;
      const [, , h, w] = image.shape, [, , H, W] = result.shape;
      console.log(`${w}×${h} → ${W}×${H} (×${c!.scale}, ${method} ${opts.steps ?? s.steps} steps${method === 'ddim' ? `, eta ${opts.eta ?? s.eta}` : ''}; seed ${flags.seed}) in ${seconds.toFixed(1)} s on ${backend} → ${out}`);
    });
}
