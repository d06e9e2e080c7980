/** `inflow inpaint`: fills the white region of a mask in one image (docs/pipelines.md). */
import { Command } from 'commander';
import { inpaint, toChannels } from '../../models/diffusion/pipelines.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { parsePositiveInt } from '../options.js';
import { makeParent, prepareOutput } from '../paths.js';
import { bundledModel, defaultOut, modelKind, openTaskModel, readImageFile, refuseModel, runWithProgress, writePng } from '../task-images.js';
import { addSamplingOptions, parseLabels, samplingOptions, type SamplingFlags } from './diffuse-shared.js';

const DEFAULT_MODEL = 'diffusion-mnist.safetensors';

interface InpaintFlags extends EngineFlags, SamplingFlags {
  mask: string;
  out?: string;
  model?: string;
  jumpLength?: number;
  resample?: number;
  label?: number[];
}

export function inpaintCommand(): Command {
  return addEngineOptions(addSamplingOptions(new Command('inpaint')
    .description('inpainting with a diffusion model: the white region of a mask is filled so that it fits the rest of the image, which is kept exactly (a PNG)')
    .argument('<image>', 'the image (PNG, JPEG or WebP), exactly the model\'s size — 28×28 for the bundled MNIST model; grey or colour, converted to the model\'s channels')
    .requiredOption('--mask <file>', 'the mask, an image of the same size: white (≥ 128) = fill, black = keep')
    .option('--out <file>', 'PNG to write (default: <image>-inpainted.png beside the input)')
    .option('--model <file>', `a mask-conditioned inpainting model, or any pixel generation model for RePaint (default: the bundled models/${DEFAULT_MODEL}, by RePaint)`)
    .option('--jump-length <n>', 'RePaint: positions each resampling jump climbs (default min(10, steps − 1))', parsePositiveInt)
    .option('--resample <r>', 'RePaint: passes through each jump point (1 = no resampling; default 10)', parsePositiveInt)
    .option('--label <class>', 'RePaint with a class-conditional model: the class to fill towards (default: none, the model unconditioned)', parseLabels))
    .addHelpText('after', '\nA model trained for inpainting (`inflow diffuse train --task inpainting`) fills in one pass of --steps; any other\npixel model fills by RePaint: steps + (resample − 1) · jump-length · ⌊(steps − 1)/jump-length⌋ denoiser calls\n(410 with the defaults at 50 steps), DDPM steps unless --method ddim.'))
    .action(async (file: string, flags: InpaintFlags) => {
      const out = flags.out ?? defaultOut(file, 'inpainted');
      prepareOutput('--out', out);
      const image = await readImageFile(file);
      const mask = toChannels('inpaint', await readImageFile(flags.mask, `--mask ${flags.mask}`), 1);
      const model = await openTaskModel(flags.model, bundledModel(DEFAULT_MODEL), 'an inpainting model or a generation model for RePaint (`inflow diffuse train`)', () => engineFrom(flags));
      const name = flags.model ?? `models/${DEFAULT_MODEL}`;
      const task = model.config.conditioning?.task;
      const repaint = task !== 'inpainting';
      refuseModel(model, repaint && (!!task || !!model.autoencoder) && `${name} is ${modelKind(model)}; inpaint takes a mask-conditioned inpainting model or a pixel generation model (RePaint)`);
      refuseModel(model, !repaint && (flags.jumpLength !== undefined || flags.resample !== undefined) && `--jump-length and --resample are for RePaint; ${name} is trained for inpainting and fills in one pass`);
      const opts = {
        ...samplingOptions(flags), seed: flags.seed,
        ...(flags.jumpLength !== undefined ? { jumpLength: flags.jumpLength } : {}), ...(flags.resample !== undefined ? { resampleCount: flags.resample } : {}),
        ...(flags.label ? { labels: flags.label } : {}),
      };
      const backend = model.engine.name;
      const { result, seconds, calls } = await runWithProgress('inpaint', model, (onStep) => inpaint(model, image, mask, { ...opts, onStep }));
      makeParent(out);
      await writePng(out, result.data, result.shape);
      const s = model.config.sampler, method = opts.method ?? (repaint ? 'ddpm' : s.method), steps = opts.steps ?? s.steps;
      const [, , H, W] = result.shape;
      const share = Array.from(mask.data).filter((v) => v >= 128).length / (H * W);
      const how = repaint
        ? `RePaint, ${method} ${steps} steps, jump length ${flags.jumpLength ?? Math.max(1, Math.min(10, steps - 1))}, resample ${flags.resample ?? 10}: ${calls} denoiser calls`
        : `mask-conditioned, ${method} ${steps} steps`;
      console.log(`filled ${(100 * share).toFixed(1)} % of ${W}×${H} (${how}; seed ${flags.seed}) in ${seconds.toFixed(1)} s on ${backend} → ${out}`);
    });
}
