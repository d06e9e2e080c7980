/** `inflow restore`: one degraded image restored by a diffusion restoration model (docs/pipelines.md). */
import { Command } from 'commander';
import { restore } from '../../models/diffusion/pipelines.js';
import { addEngineOptions, engineFrom, type EngineFlags } from '../engine-option.js';
import { makeParent, prepareOutput } from '../paths.js';
import { bundledModel, defaultOut, modelKind, openTaskModel, readImageFile, refuseModel, runWithProgress, writePng } from '../task-images.js';
import { addSamplingOptions, samplingOptions, type SamplingFlags } from './diffuse-shared.js';

const DEFAULT_MODEL = 'restore-mnist.safetensors';

interface RestoreFlags extends EngineFlags, SamplingFlags {
  out?: string;
  model?: string;
}

export function restoreCommand(): Command {
  return addEngineOptions(addSamplingOptions(new Command('restore')
    .description('restoration with a diffusion model: a degraded image (noise, blur, scratches, cracks, fading, JPEG, lost resolution) in, the restored image out (a PNG)')
    .argument('<image>', 'the degraded image (PNG, JPEG or WebP), exactly the model\'s size — 28×28 for the bundled MNIST model; grey or colour, converted to the model\'s channels')
    .option('--out <file>', 'PNG to write (default: <image>-restored.png beside the input)')
    .option('--model <file>', `restoration model file (default: the bundled models/${DEFAULT_MODEL})`))
    .addHelpText('after', '\nThe degraded image is the model\'s condition, as in training; --seed fixes the result.'))
    .action(async (file: string, flags: RestoreFlags) => {
      const out = flags.out ?? defaultOut(file, 'restored');
      prepareOutput('--out', out);
      const image = await readImageFile(file);
      const model = await openTaskModel(flags.model, bundledModel(DEFAULT_MODEL), 'a restoration model (`inflow diffuse train --task restoration`)', () => engineFrom(flags));
      const name = flags.model ?? `models/${DEFAULT_MODEL}`;
      const c = model.config.conditioning;
      refuseModel(model, c?.task !== 'restoration' && `${name} is ${modelKind(model)}; restore takes a restoration model (--model)`);
      const opts = samplingOptions(flags);
      const backend = model.engine.name;
      const { result, seconds } = await runWithProgress('restore', model, (onStep) => restore(model, image, { ...opts, seed: flags.seed, onStep }));
      makeParent(out);
      await writePng(out, result.data, result.shape);
      const s = model.config.sampler, method = opts.method ?? s.method;
      const [, , H, W] = result.shape;
      const kinds = c!.degradations ? `trained on ${c!.degradations.join(', ')}` : 'restoration';
      console.log(`${W}×${H} restored (${kinds}; ${method} ${opts.steps ?? s.steps} steps${method === 'ddim' ? `, eta ${opts.eta ?? s.eta}` : ''}; seed ${flags.seed}) in ${seconds.toFixed(1)} s on ${backend} → ${out}`);
    });
}
